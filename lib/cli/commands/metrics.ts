import { UsageError } from '../../errors.js';
import { FAMILY_DOCS } from '../../metrics/catalog.js';
import { parse, type Command, type Out } from '../command.js';

/** phishx metrics: the metric families the sidecar exports. */

const HELP = `Usage: phishx metrics [--markdown]

List every phishx_* metric family served on the sidecar's /metrics: name, type, labels,
meaning. (Process metrics process_* / nodejs_* come from prom-client's defaults.)

Options:
  --markdown        print a Markdown table (as in docs/detection.md)
  -h, --help        show this help
`;

async function cmdMetrics(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { markdown: { type: 'boolean' } }, 'metrics', HELP);
  if (values.help) return (io.out(HELP), 0);
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${HELP}`);
  if (values.markdown) {
    io.out(
      [
        '| family | type | labels | meaning |',
        '|---|---|---|---|',
        ...FAMILY_DOCS.map((f) => `| \`${f.name}\` | ${f.type} | ${f.labels.map((l) => `\`${l}\``).join(', ') || '—'} | ${f.help} |`),
      ].join('\n') + '\n',
    );
  } else {
    for (const f of FAMILY_DOCS) io.out(`${f.name.padEnd(44)} ${f.type.padEnd(9)} ${(f.labels.join(',') || '-').padEnd(22)} ${f.help}\n`);
  }
  return 0;
}

export const command: Command = { name: 'metrics', help: HELP, run: cmdMetrics };
