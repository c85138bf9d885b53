import { DOC_ROOT, FORTUNES_ROOT, languageHamExamples } from '../nlp/language-ham.js';
import { TrainingDataError } from '../errors.js';
import type { Example } from '../nlp/train.js';
import type { Out } from './command.js';

/** What `phishx train` and `phishx eval` train on besides the corpus given: defaults and the everyday-text ham. */

/** How many items fall under each key, in first-seen order (for the model's training summary). */
export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of items) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}

/**
 * What `phishx train` reads by default: the development corpus (phish, old ham, spam), modern
 * legitimate mail (bounces, shipping and payment notices) and modern multilingual phish
 * (docs/detection.md). The first keeps its paths in the model's training summary.
 */
export const DEFAULT_CORPORA = ['corpus', 'corpus-modern', 'corpus-lists'];

/** Where the fortune packages put their files (PHISHX_FORTUNES_DIR overrides, e.g. for a non-Debian layout). */
export function fortunesDir(): string {
  return process.env.PHISHX_FORTUNES_DIR || FORTUNES_ROOT;
}

/** Where Debian puts package documentation (the French FAQ); PHISHX_DOC_DIR overrides. */
export function docDir(): string {
  return process.env.PHISHX_DOC_DIR || DOC_ROOT;
}

/**
 * The everyday-text ham for `eval --cv / --loso`. Without the packages the held-out models
 * are trained on the corpus alone (said on stderr): a measurement still, of that recipe.
 */
export function everydayTextForEval(io: Out): Example[] {
  try {
    return languageHamExamples(fortunesDir(), docDir());
  } catch (err) {
    if (!(err instanceof TrainingDataError)) throw err;
    io.err(`eval: ${err.message}; training the held-out models on the corpus alone, so the figures describe that recipe, not the shipped model's\n`);
    return [];
  }
}
