import { parseHostPort } from '../../config/values.js';
import { UsageError } from '../../errors.js';
import { sendRaw } from '../../smtp-send.js';
import { forEachMessage, headerFromAddress, parse, type Command, type Out } from '../command.js';

/** phishx send: raw messages over SMTP, the answers printed. */

const HELP = `Usage: phishx send [options] FILE.eml...

Send raw messages unchanged (line endings made CRLF) to an SMTP server, one session per
message, and print each final answer, e.g. "250 ... (PhishX id ...)" or "550 5.7.1 ...". A
mailbox file (mbox) is each of its messages, FILE#1, FILE#2, … Exit code 0 when every
message got an answer (any code), 1 otherwise.

Options:
  --server HOST:PORT   SMTP server (default: 127.0.0.1:2525)
  --from ADDR          envelope MAIL FROM (default: the address of the message's From
                       header, as the sender's server would use; sender@example.com
                       when it has none an SMTP server would take, e.g. a domain
                       with characters no domain has)
  --to ADDR            envelope RCPT TO, repeatable (default: recipient@example.org)
  -h, --help           show this help
`;

async function cmdSend(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { server: { type: 'string' }, from: { type: 'string' }, to: { type: 'string', multiple: true } }, 'send', HELP);
  if (values.help) return (io.out(HELP), 0);
  if (!positionals.length) throw new UsageError(`send: no FILE given\n\n${HELP}`);
  const server = String(values.server ?? '127.0.0.1:2525');
  const hp = parseHostPort(server);
  if (!hp) throw new UsageError(`send: --server must be HOST:PORT, got ${JSON.stringify(server)}`);
  const to = Array.isArray(values.to) && values.to.length ? (values.to as string[]) : ['recipient@example.org'];
  return forEachMessage('send', positionals, io, async (file, raw) => {
    const a = await sendRaw(
      hp.port,
      raw,
      { from: typeof values.from === 'string' ? values.from : headerFromAddress(raw) || 'sender@example.com', to },
      { host: hp.host },
    );
    io.out(`${file}: ${a.code || 'no answer'} ${a.response.replace(/^\d{3}\s*/, '')}\n`);
    return a.code !== 0;
  });
}

export const command: Command = { name: 'send', help: HELP, run: cmdSend };
