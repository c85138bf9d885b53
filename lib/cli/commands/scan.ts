import path from 'node:path';
import { loadConfigFromDir } from '../../config/load.js';
import { UsageError } from '../../errors.js';
import { createReputation } from '../../reputation/index.js';
import { createStore } from '../../store/index.js';
import { clamdFor } from '../../clamav/client.js';
import { scanMessage } from '../../scan.js';
import { forEachMessage, headerFromAddress, parse, type Command, type Out } from '../command.js';

/** phishx scan: the inline scan path on files, verdicts as JSON. */

const HELP = `Usage: phishx scan [options] FILE.eml...

Scan raw RFC 5322 messages exactly as the Haraka plugin does and print one JSON object per
message (one per line with several). A mailbox file (mbox: Thunderbird, Gmail Takeout) is
each of its messages, "file" FILE#1, FILE#2, … Exit code 0 on success, 1 when a file cannot
be read.

Options:
  --dir DIR         Haraka directory whose config/phishx.ini to use (default: .)
  --from ADDR       envelope MAIL FROM (default: the message's From address)
  --to ADDR         envelope RCPT TO, repeatable (default: recipient@example.org)
  --ip ADDR         client IP (default: 192.0.2.1)
  -h, --help        show this help
`;

async function cmdScan(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(
    args,
    { dir: { type: 'string' }, from: { type: 'string' }, to: { type: 'string', multiple: true }, ip: { type: 'string' } },
    'scan',
    HELP,
  );
  if (values.help) return (io.out(HELP), 0);
  if (!positionals.length) throw new UsageError(`scan: no FILE given\n\n${HELP}`);
  const config = loadConfigFromDir(path.resolve(String(values.dir ?? '.')));
  const to = Array.isArray(values.to) && values.to.length ? (values.to as string[]) : ['recipient@example.org'];
  const store = createStore(config);
  const reputation = await createReputation(store, config);
  const clamav = clamdFor(config.clamav, config['breaker.clamav']);
  try {
    return await forEachMessage('scan', positionals, io, async (file, raw) => {
      const from = typeof values.from === 'string' ? values.from : headerFromAddress(raw);
      const r = await scanMessage(raw, { mailFrom: from, rcptTo: to, remoteIp: String(values.ip ?? '192.0.2.1') }, config, undefined, {
        reputation: reputation.sources,
        ...(reputation.expander ? { expander: reputation.expander } : {}),
        ...(clamav ? { clamav } : {}),
      });
      const v = r.verdict;
      io.out(
        `${JSON.stringify({ file, id: r.id, action: v.action, would_action: v.wouldAction, score: v.score, mode: v.mode, tenant: v.tenant, reasons: v.reasons, skipped: r.skipped, ms: Math.round(r.durationMs * 100) / 100, bytes: r.summary.bytes, parts: r.summary.parts, urls: r.summary.urls, attachments: r.summary.attachments }, null, positionals.length === 1 && file === positionals[0] ? 2 : 0)}\n`,
      );
      return true;
    });
  } finally {
    await reputation.close();
    await store.close();
  }
}

export const command: Command = { name: 'scan', help: HELP, run: cmdScan };
