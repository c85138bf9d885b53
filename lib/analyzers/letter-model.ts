import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultModelPath } from '../nlp/model.js';

/**
 * How words in mail are spelt: a letter-bigram model (a–z plus word start / end), trained
 * by `npm run train` on the words of every corpus message (labels are not used). It tells
 * a local part someone chose ("jkowalski", "billing", "krzysztof") from one a spam tool
 * generated ("uqfkxgpz", "ripmhnxk"). Pure apart from loading the file.
 */
const SYMBOLS = 27;
const EDGE = 26;
const WORD = /\b[a-z]{2,20}\b/g;

export interface LetterModelFile {
  format: 'phishx-letter-bigrams';
  version: 1;
  /** log P(next | previous), row-major 27 × 27 (a–z, then the word edge), 3 decimals. */
  logp: number[];
}

const code = (c: number): number => c - 97;

/** Count letter bigrams (with word edges) of every a–z word in the texts; add-one smoothed log-probabilities. */
export function trainLetterModel(texts: Iterable<string>): LetterModelFile {
  const counts = new Float64Array(SYMBOLS * SYMBOLS);
  for (const text of texts) {
    for (const m of text.toLowerCase().matchAll(WORD)) {
      const w = m[0];
      let prev = EDGE;
      for (let i = 0; i < w.length; i++) {
        const c = code(w.charCodeAt(i));
        counts[prev * SYMBOLS + c]++;
        prev = c;
      }
      counts[prev * SYMBOLS + EDGE]++;
    }
  }
  const logp: number[] = [];
  for (let a = 0; a < SYMBOLS; a++) {
    let total = 0;
    for (let b = 0; b < SYMBOLS; b++) total += counts[a * SYMBOLS + b] + 1;
    for (let b = 0; b < SYMBOLS; b++) logp.push(Math.round(Math.log((counts[a * SYMBOLS + b] + 1) / total) * 1000) / 1000);
  }
  return { format: 'phishx-letter-bigrams', version: 1, logp };
}

export class LetterModel {
  private readonly logp: Float64Array;

  constructor(file: LetterModelFile) {
    if (file.format !== 'phishx-letter-bigrams' || file.version !== 1 || file.logp.length !== SYMBOLS * SYMBOLS) throw new Error('unsupported letter model file');
    this.logp = Float64Array.from(file.logp);
  }

  /** Mean log-probability per letter transition of an a–z word (higher = more word-like); NaN for anything else. */
  wordLikeness(word: string): number {
    if (!/^[a-z]+$/.test(word)) return NaN;
    let prev = EDGE;
    let sum = 0;
    for (let i = 0; i < word.length; i++) {
      const c = code(word.charCodeAt(i));
      sum += this.logp[prev * SYMBOLS + c];
      prev = c;
    }
    sum += this.logp[prev * SYMBOLS + EDGE];
    return sum / (word.length + 1);
  }
}

/** Where the committed letter model lives (next to the text model). */
export function defaultLetterModelPath(): string {
  return path.join(path.dirname(defaultModelPath()), 'letter-model.json');
}

let cached: LetterModel | null = null;

/** The committed letter model, loaded once per process. */
export function embeddedLetterModel(): LetterModel {
  cached ??= new LetterModel(JSON.parse(readFileSync(defaultLetterModelPath(), 'utf8')) as LetterModelFile);
  return cached;
}
