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
    if (file.format !== 'phishx-letter-bigrams' || file.version !== 1 || file.logp.length !== SYMBOLS * SYMBOLS)
      throw new Error('unsupported letter model file');
    this.logp = Float64Array.from(file.logp);
  }

  /** Mean log-probability per letter transition of an a–z word (higher = more word-like); NaN for anything else. */
  wordLikeness(word: string): number {
    if (!/^[a-z]+$/.test(word)) return NaN;
    return this.logProbability(word) / (word.length + 1);
  }

  /**
   * Word-likeness of a camel-case string read as the words its capitals start ("DoNotReply"
   * ─► do, not, reply; "hrUsmGyi" ─► hr, usm, gyi); all-capital runs (acronyms: "USPS",
   * "KFC") are left out. Mean log-probability per transition; NaN without a lower-case word.
   */
  segmentLikeness(word: string): number {
    let sum = 0;
    let n = 0;
    for (const seg of word.match(CAMEL_SEGMENT) ?? []) {
      if (seg === seg.toUpperCase()) continue;
      sum += this.logProbability(seg.toLowerCase());
      n += seg.length + 1;
    }
    return n ? sum / n : NaN;
  }

  /** Sum of log P over the transitions of an a–z word, word start and end included (length + 1 of them). */
  private logProbability(word: string): number {
    let prev = EDGE;
    let sum = 0;
    for (let i = 0; i < word.length; i++) {
      const c = code(word.charCodeAt(i));
      sum += this.logp[prev * SYMBOLS + c];
      prev = c;
    }
    return sum + this.logp[prev * SYMBOLS + EDGE];
  }
}

/** Camel-case words: an acronym not followed by lower case, or an optional capital and lower case. */
const CAMEL_SEGMENT = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+/g;

/**
 * How much more likely a string's upper / lower-case sequence is under word casing than
 * under coin flips, in nats. Word casing: a Markov chain in which a string starts with a
 * capital 60 % of the time, a capital is followed by lower case 60 % of the time (words;
 * acronyms are the rest) and lower case by a capital only 15 % of the time (a new word).
 * "JohnSmith" +1.9, "DoNotReply" +0.4, "QePEMzkdT" −1.3: a spam tool that randomises case
 * changes case far more often than words do. Pure.
 */
export function caseLogRatio(word: string): number {
  let lr = 0;
  let prev: boolean | null = null;
  for (const ch of word) {
    const upper = ch !== ch.toLowerCase();
    const pUpper = prev === null ? 0.6 : prev ? 0.4 : 0.15;
    lr += Math.log(upper ? pUpper : 1 - pUpper) + Math.LN2;
    prev = upper;
  }
  return lr;
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
