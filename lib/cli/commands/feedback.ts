import path from 'node:path';
import { loadConfigFromDir } from '../../config/load.js';
import { UsageError } from '../../errors.js';
import { readFile, unlink } from 'node:fs/promises';
import { writeFileDurable } from '../../fs-durable.js';
import { createStore } from '../../store/index.js';
import { parse, type Command, type Out } from '../command.js';

/** phishx feedback: analysts' reports as a labelled corpus. */

const HELP = `Usage: phishx feedback list [--dir DIR]
       phishx feedback export --out DIR [--dir DIR]

Analysts' reports (npx phishx quarantine report ID --verdict phish|not_phish, or the API) are
kept with a copy of the reported message, beyond the quarantine's expiry.

list     one line per report: time, id, verdict, who, subject
export   write them in the corpus layout PhishX trains and evaluates on: OUT/phish/<id>.eml and
         OUT/ham/<id>.eml (not_phish) plus OUT/labels.csv (path,label,source; source
         phishx-feedback). An existing OUT/labels.csv is kept and extended; a message reported
         twice is written once, with its latest verdict. Then e.g.:
           npx phishx eval OUT                        # how the shipped model does on them
           npx phishx train --corpus OUT --out ...    # or merge OUT into your training corpus

Options:
  --out DIR      export: the corpus directory (created)
  --dir DIR      Haraka directory whose config/phishx.ini names the store (default: .)
  -h, --help     show this help
`;

async function cmdFeedback(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { out: { type: 'string' }, dir: { type: 'string' } }, 'feedback', HELP);
  if (values.help) return (io.out(HELP), 0);
  const [sub, ...extra] = positionals;
  if ((sub !== 'list' && sub !== 'export') || extra.length) throw new UsageError(`feedback: expected "list" or "export --out DIR"\n\n${HELP}`);
  if (sub === 'export' && typeof values.out !== 'string') throw new UsageError(`feedback export: --out DIR is required\n\n${HELP}`);
  const config = loadConfigFromDir(path.resolve(String(values.dir ?? '.')));
  const store = createStore(config);
  try {
    const reports = await store.listFeedback();
    if (sub === 'list') {
      if (!reports.length) io.out('no reports\n');
      for (const r of reports) io.out(`${new Date(r.at).toISOString()}  ${r.id}  ${r.verdict.padEnd(9)} ${r.by}  ${r.subject}\n`);
      return 0;
    }
    const out = path.resolve(String(values.out));
    const csv = path.join(out, 'labels.csv');
    const rows = new Map<string, string>();
    for (const line of (await readFile(csv, 'utf8').catch(() => 'path,label,source\n')).split(/\r?\n/).slice(1))
      if (line.trim()) rows.set(line.split(',')[0], line);
    let written = 0;
    let missing = 0;
    for (const r of reports) {
      const raw = await store.getFeedbackRaw(r.id);
      if (!raw) {
        missing++;
        continue;
      }
      const label = r.verdict === 'phish' ? 'phish' : 'ham';
      const other = `${label === 'phish' ? 'ham' : 'phish'}/${r.id}.eml`;
      rows.delete(other); // the latest verdict wins
      await unlink(path.join(out, other)).catch(() => undefined);
      await writeFileDurable(path.join(out, label, `${r.id}.eml`), raw);
      rows.set(`${label}/${r.id}.eml`, `${label}/${r.id}.eml,${label},phishx-feedback`);
      written++;
    }
    await writeFileDurable(csv, `path,label,source\n${[...rows.values()].join('\n')}${rows.size ? '\n' : ''}`);
    io.out(
      `feedback export: ${written} message(s) written to ${out} (${reports.filter((r) => r.verdict === 'phish').length} phish, ${reports.filter((r) => r.verdict === 'not_phish').length} ham)${missing ? `, ${missing} without their message` : ''}; labels in ${csv}\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

export const command: Command = { name: 'feedback', help: HELP, run: cmdFeedback };
