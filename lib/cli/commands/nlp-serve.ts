import { parseHostPort } from '../../config/values.js';
import { UsageError } from '../../errors.js';
import { embeddedModel } from '../../nlp/model.js';
import { createNlpServer } from '../../nlp/serve.js';
import { parse, type Command, type Out } from '../command.js';

/** phishx nlp-serve: the embedded classifier over HTTP (Hugging Face format). */

const HELP = `Usage: phishx nlp-serve [--listen HOST:PORT]

Serve the embedded text classifier in the Hugging Face text-classification format, so the
NLP-over-HTTP path ([nlp] url) can be tried and tested without a GPU model server:
  POST / {"inputs": "text"} ─► [[{"label":"phishing","score":p},{"label":"legitimate","score":1-p}]]
  GET /health
Runs until interrupted (Ctrl-C).

Options:
  --listen HOST:PORT   address to listen on (default: 127.0.0.1:8501)
  -h, --help           show this help
`;

async function cmdNlpServe(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { listen: { type: 'string' } }, 'nlp-serve', HELP);
  if (values.help) return (io.out(HELP), 0);
  if (positionals.length) throw new UsageError(`nlp-serve: unexpected argument ${JSON.stringify(positionals[0])}`);
  const listen = String(values.listen ?? '127.0.0.1:8501');
  const hp = parseHostPort(listen);
  if (!hp) throw new UsageError(`nlp-serve: --listen must be HOST:PORT, got ${JSON.stringify(listen)}`);
  const server = createNlpServer(embeddedModel());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`cannot listen on ${listen}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`)),
    );
    server.listen(hp.port, hp.host, () => resolve());
  });
  const a = server.address();
  io.err(`phishx nlp-serve: embedded model on http://${hp.host.includes(':') ? `[${hp.host}]` : hp.host}:${typeof a === 'object' && a ? a.port : hp.port}/\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

export const command: Command = { name: 'nlp-serve', help: HELP, run: cmdNlpServe };
