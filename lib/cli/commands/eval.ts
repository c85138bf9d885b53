import path from 'node:path';
import { loadConfigFromDir } from '../../config/load.js';
import { UsageError } from '../../errors.js';
import { writeFile } from 'node:fs/promises';
import { evaluate, type MessageOutcome } from '../../eval.js';
import { crossValidationModels, DEFAULT_TRAIN, leaveOneSourceOutModels, loadExamples, train, type Example } from '../../nlp/train.js';
import { parse, type Command, type Out } from '../command.js';
import { everydayTextForEval } from '../training-data.js';

/** phishx eval: detection on a labelled corpus, plain, cross-validated or leave-one-source-out. */

const HELP = `Usage: phishx eval [options] DIR

Scan every message listed in DIR/labels.csv (columns path,label,source; labels phish, ham,
spam …) with the inline scan path and print one JSON object to stdout:
  {"labels": {"phish": {"n","flagged","rejected"}, …}, "sources": {…},
   "phish_recall", "ham_fpr", "messages_per_second"}
flagged = quarantine or reject. Progress goes to stderr (a bar on a terminal).

Options:
  --dir DIR      Haraka directory whose config/phishx.ini to use (default: . ;
                 PHISHX_* environment overrides apply)
  --sweep        add recall and ham FPR for quarantine thresholds 5, 10, … 100
  --cv K         cross-validate the text classifier: train K models on DIR, each message
                 is scored by the model that did not see it (honest figures on DIR)
  --loso         leave-one-source-out: each message is scored by a text model trained on
                 every other source (how it does on a kind of mail it never saw)
  --with DIR     with --cv / --loso: train every held-out model on DIR too (repeatable), as
                 phishx train trains on several corpora (e.g. eval ../shared/corpus-modern
                 --cv 5 --with ../shared/corpus --with ../shared/corpus-lists)
                 (--cv and --loso train as phishx train does, with the everyday text of
                 the fortune packages when installed; without them, on DIR alone)
  --details FILE write one JSON line per message (path, label, source, action, score,
                 reasons, subject, from; "wrong": true for a missed phish or a flagged
                 ham) to FILE, to see what was misjudged and why
  -h, --help     show this help
`;

async function cmdEval(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      dir: { type: 'string' },
      sweep: { type: 'boolean' },
      cv: { type: 'string' },
      loso: { type: 'boolean' },
      details: { type: 'string' },
      with: { type: 'string', multiple: true },
    },
    'eval',
    HELP,
  );
  if (values.help) return (io.out(HELP), 0);
  if (positionals.length !== 1) throw new UsageError(`eval: give exactly one corpus DIR\n\n${HELP}`);
  const config = loadConfigFromDir(path.resolve(String(values.dir ?? '.')));
  let classifierFor: ((file: string) => ReturnType<typeof train> | undefined) | undefined;
  const withCorpora = ((values.with as string[] | undefined) ?? []).map((d) => path.resolve(d));
  if (withCorpora.length && values.cv === undefined && !values.loso)
    throw new UsageError('eval: --with goes with --cv or --loso (it adds training data to the held-out models)');
  const withExamples = async (): Promise<Example[]> =>
    (await Promise.all(withCorpora.map((d) => loadExamples(d)))).flatMap((list, i) =>
      list.map((e) => ({ ...e, file: `${path.basename(withCorpora[i])}/${e.file}` })),
    );
  if (values.cv !== undefined) {
    const k = Number(values.cv);
    if (!Number.isInteger(k) || k < 2 || k > 20) throw new UsageError(`eval: --cv must be an integer 2..20, got ${JSON.stringify(values.cv)}`);
    if (values.loso) throw new UsageError('eval: use either --cv K or --loso, not both');
    io.err(`eval: cross-validation, training ${k} models on ${positionals[0]}${withCorpora.length ? ` (each also on ${withCorpora.join(', ')})` : ''}\n`);
    const models = crossValidationModels(await loadExamples(positionals[0]), k, DEFAULT_TRAIN, [...everydayTextForEval(io), ...(await withExamples())]);
    classifierFor = (file) => models.get(file);
  } else if (values.loso) {
    io.err(`eval: leave-one-source-out, training one model per source of ${positionals[0]}\n`);
    const models = leaveOneSourceOutModels(await loadExamples(positionals[0]), DEFAULT_TRAIN, [...everydayTextForEval(io), ...(await withExamples())]);
    classifierFor = (file) => models.get(file);
  }
  const tty = process.stderr.isTTY === true;
  let last = 0;
  const details: string[] = [];
  const report = await evaluate(positionals[0], config, {
    sweep: values.sweep === true,
    ...(values.details !== undefined ? { onMessage: (d: MessageOutcome) => details.push(JSON.stringify(d)) } : {}),
    ...(classifierFor ? { classifierFor } : {}),
    progress: (done, total) => {
      const now = Date.now();
      if (done !== total && now - last < (tty ? 100 : 5000)) return;
      last = now;
      if (tty) {
        const w = 30;
        const f = Math.round((done / total) * w);
        io.err(`\r[${'#'.repeat(f)}${'.'.repeat(w - f)}] ${done}/${total}${done === total ? '\n' : ''}`);
      } else io.err(`eval: ${done}/${total}\n`);
    },
  });
  if (values.details !== undefined) {
    await writeFile(String(values.details), details.length ? `${details.join('\n')}\n` : '');
    io.err(`eval: ${details.length} message outcomes written to ${String(values.details)} (wrong: true marks the misjudged)\n`);
  }
  io.out(`${JSON.stringify(report, null, 2)}\n`);
  return 0;
}

export const command: Command = { name: 'eval', help: HELP, run: cmdEval };
