import { REASONS } from '../../reasons.js';
import { parse, type Command, type Out } from '../command.js';

/** phishx reasons: the reason codes and weights. */

const HELP = `Usage: phishx reasons [--markdown]

List every reason code with its default weight and meaning.

Options:
  --markdown        print a Markdown table (as in docs/detection.md)
  -h, --help        show this help
`;

async function cmdReasons(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, { markdown: { type: 'boolean' } }, 'reasons', HELP);
  if (values.help) return (io.out(HELP), 0);
  const entries = Object.entries(REASONS);
  if (values.markdown) {
    io.out(['| code | weight | meaning |', '|---|---:|---|', ...entries.map(([c, r]) => `| \`${c}\` | ${r.weight} | ${r.doc} |`)].join('\n') + '\n');
  } else {
    for (const [c, r] of entries) io.out(`${c.padEnd(28)} ${String(r.weight).padStart(3)}  ${r.doc}\n`);
  }
  return 0;
}

export const command: Command = { name: 'reasons', help: HELP, run: cmdReasons };
