import { readFile } from 'node:fs/promises';
import { UsageError } from '../../errors.js';
import { DEFAULT_TOLERANCE_S, verifyWebhook } from '../../webhooks/signing.js';
import { parse, type Command, type Out } from '../command.js';

/** phishx webhook verify: check a received delivery's signature, as a consumer would. */

const HELP = `Usage: phishx webhook verify --headers FILE --body FILE [options]

Verify a signed PhishX request (a webhook delivery, or a signed request to the sidecar):
headers present, timestamp within the tolerance, body hash, signature of an accepted key
(constant-time), and — within this run — nonce reuse. Prints "ok key=<id>" and exits 0, or
the check that failed ("timestamp", "body_hash", "signature", "headers") and exits 1.

  --headers FILE   the request's headers, "Name: value" per line (as curl -D or a proxy
                   log writes them); "-" reads stdin
  --body FILE      the raw body, byte for byte; "-" reads stdin (not both)
  --secret S       an accepted secret (whsec_…; repeatable). Default: the environment
                   variable PHISHX_WEBHOOK_SECRET (space-separated for several)
  --tolerance S    seconds a timestamp may differ from now (default ${DEFAULT_TOLERANCE_S})
  --now T          verify as of Unix time T (to check an old capture)
  -h, --help       show this help
`;

async function readInput(file: string): Promise<Buffer> {
  if (file !== '-') return readFile(file);
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** "Name: value" lines (an HTTP status line and blank lines skipped) as a lower-case header map. */
export function parseHeaderLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1].toLowerCase()] = out[m[1].toLowerCase()] ? `${out[m[1].toLowerCase()]} ${m[2]}` : m[2];
  }
  return out;
}

async function cmdWebhook(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      headers: { type: 'string' },
      body: { type: 'string' },
      secret: { type: 'string', multiple: true },
      tolerance: { type: 'string' },
      now: { type: 'string' },
    },
    'webhook',
    HELP,
  );
  if (values.help) return (io.out(HELP), 0);
  if (positionals[0] !== 'verify' || positionals.length !== 1) throw new UsageError(`webhook: expected "verify"\n\n${HELP}`);
  if (typeof values.headers !== 'string' || typeof values.body !== 'string')
    throw new UsageError(`webhook verify: --headers FILE and --body FILE are required\n\n${HELP}`);
  if (values.headers === '-' && values.body === '-') throw new UsageError('webhook verify: only one of --headers and --body can be stdin');
  const secrets = ((values.secret as string[] | undefined) ?? String(process.env.PHISHX_WEBHOOK_SECRET ?? '').split(/\s+/)).filter(Boolean);
  if (!secrets.length) throw new UsageError('webhook verify: give --secret whsec_… (or set PHISHX_WEBHOOK_SECRET)');
  const intOpt = (name: string, given: unknown, max: number): number | undefined => {
    if (given === undefined) return undefined;
    const v = typeof given === 'string' ? given : JSON.stringify(given);
    if (!/^\d{1,12}$/.test(v) || Number(v) > max) throw new UsageError(`webhook verify: --${name} must be an integer 0..${max}, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  const tolerance = intOpt('tolerance', values.tolerance, 31_536_000);
  const now = intOpt('now', values.now, 1e12);
  const headers = parseHeaderLines((await readInput(values.headers)).toString('utf8'));
  const body = await readInput(values.body);
  const r = await verifyWebhook(headers, body, {
    secrets,
    ...(tolerance !== undefined ? { toleranceS: tolerance } : {}),
    ...(now !== undefined ? { now } : {}),
  });
  if (r.ok) {
    io.out(`ok key=${r.keyId} timestamp=${r.timestamp}\n`);
    return 0;
  }
  io.out(`failed ${r.check}: ${r.message}\n`);
  return 1;
}

export const command: Command = { name: 'webhook', help: HELP, run: cmdWebhook };
