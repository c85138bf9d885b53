import path from 'node:path';
import { loadConfigFromDir } from '../../config/load.js';
import { SCHEMA, TENANT_SCHEMA, WEBHOOK_SCHEMA, envName } from '../../config/schema.js';
import { parse, type Command, type Out } from '../command.js';

/** phishx config: validate phishx.ini (+ environment), print the effective config or the reference. */

const HELP = `Usage: phishx config [options]

Validate config/phishx.ini together with PHISHX_* environment overrides. Prints the
effective config as JSON, or the error naming the bad key and value (exit code 1).

Options:
  --dir DIR         Haraka directory (default: .)
  --reference       print the configuration reference as a Markdown table instead
  -h, --help        show this help
`;

function referenceMarkdown(): string {
  const rows = ['| section | key | default | env | meaning |', '|---|---|---|---|---|'];
  for (const [section, keys] of Object.entries(SCHEMA)) {
    for (const [key, spec] of Object.entries(keys)) {
      const def = spec.default === '' ? '(empty)' : String(spec.default);
      rows.push(`| \`[${section}]\` | \`${key}\` | \`${def.length > 60 ? `${def.slice(0, 57)}...` : def}\` | \`${envName(section, key)}\` | ${spec.doc} |`);
    }
  }
  for (const [key, spec] of Object.entries(TENANT_SCHEMA)) rows.push(`| \`[tenant.<domain>]\` | \`${key}\` | (inherits) | — | ${spec.doc} |`);
  for (const [key, spec] of Object.entries(WEBHOOK_SCHEMA)) {
    const def = spec.default === '' ? '(empty)' : String(spec.default);
    rows.push(`| \`[webhook.<name>]\` | \`${key}\` | \`${def}\` | — | ${spec.doc} |`);
  }
  rows.push(
    '| (environment) | `PHISHX_WEBHOOK_URL`, `PHISHX_WEBHOOK_SECRET` | — | — | One more endpoint, named `env`, with the default events; ' +
      'its secret from `PHISHX_WEBHOOK_SECRET` (else the managed keys). |',
  );
  rows.push('| `[brands]` | `<brand name>` | built-in list | — | Domains that legitimately carry the brand; the section replaces the built-in list. |');
  rows.push('| `[weights]` | `<REASON_CODE>` | see Reason codes | — | Score points (-100..100) for that reason. |');
  return `${rows.join('\n')}\n`;
}

async function cmdConfig(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, { dir: { type: 'string' }, reference: { type: 'boolean' } }, 'config', HELP);
  if (values.help) return (io.out(HELP), 0);
  if (values.reference) return (io.out(referenceMarkdown()), 0);
  const config = loadConfigFromDir(path.resolve(String(values.dir ?? '.')));
  io.out(`${JSON.stringify(config, null, 2)}\n`);
  return 0;
}

export const command: Command = { name: 'config', help: HELP, run: cmdConfig };
