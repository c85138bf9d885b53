import path from 'node:path';
import { UsageError } from '../../errors.js';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { trainLetterModel } from '../../analyzers/letter-model.js';
import { DEFAULT_TRAIN, loadCorpora, serializeModel, train } from '../../nlp/train.js';
import { defaultModelPath } from '../../nlp/model.js';
import { languageHamExamples } from '../../nlp/language-ham.js';
import { parse, type Command, type Out } from '../command.js';
import { countBy, DEFAULT_CORPORA, docDir, fortunesDir } from '../training-data.js';

/** phishx train: the embedded text classifier and letter model, reproducibly. */

const HELP = `Usage: phishx train [options]

Train the embedded text classifier (logistic regression over hashed words and word pairs of
subject + body; list footers, quoted replies and signatures removed) on a labelled corpus,
calibrate its probabilities (Platt scaling on an inner 5-fold cross-validation) and write
the model JSON; also write letter-model.json beside it (letter bigrams of the corpus words,
used by SENDER_RANDOM_LOCALPART). Deterministic: the same corpus and options give the same
bytes.

Besides the corpus, training reads everyday text in nine languages as extra ham, from
Debian's fortune packages under /usr/share/games/fortunes and the French, Japanese, Chinese
and Dutch Debian FAQs under /usr/share/doc (apt-get install fortunes fortunes-de fortunes-br
fortunes-es fortunes-it debian-faq-fr debian-faq-ja debian-faq-zh-cn debian-faq-nl;
PHISHX_FORTUNES_DIR / PHISHX_DOC_DIR for another place), so that the model
judges content rather than language; eval --cv / --loso train the same way
(without the packages they train on the corpus alone and say so).

Options:
  --corpus DIR   labelled corpus with labels.csv, repeatable: the model is trained on all of
                 them (default: ../shared/corpus, ../shared/corpus-modern, ../shared/corpus-lists)
  --out FILE     model file (default: lib/nlp/model/text-model.json); letter-model.json
                 goes to the same folder
  --epochs N     SGD epochs (default: ${DEFAULT_TRAIN.epochs})
  --seed N       shuffling seed (default: ${DEFAULT_TRAIN.seed})
  --check        train, compare with the files at --out instead of writing them; exit 1
                 when they differ (CI: the committed models are reproducible)
  --corpus-only  train without the everyday-text ham (where the fortune packages cannot
                 be installed; the model then reads non-English text as phishing-like)
  -h, --help     show this help
`;

async function cmdTrain(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      corpus: { type: 'string', multiple: true },
      out: { type: 'string' },
      epochs: { type: 'string' },
      seed: { type: 'string' },
      check: { type: 'boolean' },
      'corpus-only': { type: 'boolean' },
    },
    'train',
    HELP,
  );
  if (values.help) return (io.out(HELP), 0);
  if (positionals.length) throw new UsageError(`train: unexpected argument ${JSON.stringify(positionals[0])}\n\n${HELP}`);
  const int = (v: unknown, name: string, dflt: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`train: --${name} must be a positive integer, got ${JSON.stringify(v)}`);
    return n;
  };
  const opts = { ...DEFAULT_TRAIN, epochs: int(values.epochs, 'epochs', DEFAULT_TRAIN.epochs), seed: int(values.seed, 'seed', DEFAULT_TRAIN.seed) };
  const given = (values.corpus as string[] | undefined) ?? [];
  const corpora = given.length ? given.map((c) => path.resolve(c)) : DEFAULT_CORPORA.map((c) => path.resolve('..', 'shared', c));
  const out = path.resolve(String(values.out ?? defaultModelPath()));
  io.err(`train: reading ${corpora.join(', ')}\n`);
  const examples = await loadCorpora(corpora);
  const extra = values['corpus-only'] ? [] : languageHamExamples(fortunesDir(), docDir());
  const counts = countBy(examples, (e) => e.label);
  const languageHam = countBy(extra, (e) => e.source);
  const t0 = performance.now();
  const model = train([...examples, ...extra], opts);
  const files: Array<[string, string]> = [
    [out, serializeModel(model, { corpus: corpora.map((c) => path.basename(c)).join(', '), examples: counts, languageHam, ...opts })],
    [path.join(path.dirname(out), 'letter-model.json'), `${JSON.stringify(trainLetterModel(examples.map((e) => e.text)))}\n`],
  ];
  const ms = Math.round(performance.now() - t0);
  if (values.check) {
    let same = true;
    for (const [file, json] of files) {
      const committed = await readFile(file, 'utf8').catch(() => '');
      const ok = committed === json;
      same &&= ok;
      io.err(`train --check: ${file} ${ok ? 'reproduced byte for byte' : `DIFFERS (${committed.length} bytes committed, ${json.length} trained)`}\n`);
    }
    return same ? 0 : 1;
  }
  await mkdir(path.dirname(out), { recursive: true });
  for (const [file, json] of files) await writeFile(file, json);
  io.err(
    `train: ${examples.length} messages ${JSON.stringify(counts)} + ${extra.length} everyday-text documents ${JSON.stringify(languageHam)}, ${ms} ms, wrote ${files.map(([f, j]) => `${f} (${j.length} bytes)`).join(' and ')}\n`,
  );
  return 0;
}

export const command: Command = { name: 'train', help: HELP, run: cmdTrain };
