import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { DASHBOARDS, dashboardJson } from '../../monitoring/dashboards.js';
import { parse, type Command, type Out } from '../command.js';

/** phishx dashboards: write (or check) the Grafana dashboards. */

const HELP = `Usage: phishx dashboards --out DIR [--check]

Write the PhishX Grafana dashboards (docs/monitoring.md) as JSON files, one per dashboard
(<uid>.json), for Grafana's file provisioning (deploy/grafana/provisioning). --check writes
nothing and exits 1 when a file in DIR differs from what would be written.

Options:
  --out DIR     where to write (the repository keeps them in deploy/grafana/dashboards)
  --check       compare instead of writing
  -h, --help    show this help
`;

export function dashboardFiles(): Array<{ name: string; text: string }> {
  return DASHBOARDS.map((d) => ({ name: `${d.uid}.json`, text: `${JSON.stringify(dashboardJson(d), null, 2)}\n` }));
}

async function cmdDashboards(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { out: { type: 'string' }, check: { type: 'boolean' } }, 'dashboards', HELP);
  if (values.help) return (io.out(HELP), 0);
  if (positionals.length) throw new UsageError(`dashboards: unexpected argument ${JSON.stringify(positionals[0])}\n\n${HELP}`);
  if (typeof values.out !== 'string') throw new UsageError(`dashboards: --out DIR is required\n\n${HELP}`);
  const dir = path.resolve(values.out);
  let stale = 0;
  for (const f of dashboardFiles()) {
    const file = path.join(dir, f.name);
    if (values.check) {
      const cur = await readFile(file, 'utf8').catch(() => null);
      if (cur !== f.text) {
        io.err(`${file}: ${cur === null ? 'missing' : 'stale'} (npx phishx dashboards --out ${values.out})\n`);
        stale++;
      }
    } else {
      await mkdir(dir, { recursive: true });
      await writeFile(file, f.text);
      io.out(`${file}\n`);
    }
  }
  return stale ? 1 : 0;
}

export const command: Command = { name: 'dashboards', help: HELP, run: cmdDashboards };
