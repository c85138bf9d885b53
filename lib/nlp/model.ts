import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DIMS, vectorize, type SparseVector } from './features.js';
import { PACKAGE_ROOT } from '../config/package-root.js';

/**
 * The committed model: logistic regression over hashed features (see train.ts). Version 2
 * (what `phishx train` writes) stores the weights as one base64 string of `dims` little-endian
 * float32 values; version 1 (written by earlier releases) as an object of bucket index ─► weight.
 * Both load to the same weights. Version 2 because parsing version 1's ~236,000-key object
 * left the loading thread ~20–30 MB larger for good (V8 keeps the pages); the string costs
 * ~5 MB, once.
 */
export type TextModelFile = TextModelFileHeader & ({ version: 2; weights: string } | { version: 1; weights: Record<string, number> });

interface TextModelFileHeader {
  format: 'phishx-text-logreg';
  dims: number;
  bias: number;
  training: Record<string, unknown>;
}

/** `w` as version 2 stores it: `w.length` little-endian float32 values, base64. Pure. */
export function encodeWeights(w: Float32Array): string {
  const b = Buffer.alloc(w.length * 4);
  for (let i = 0; i < w.length; i++) b.writeFloatLE(w[i], i * 4);
  return b.toString('base64');
}

/** The weights of a version 2 string; throws unless it holds exactly `dims` finite values. */
export function decodeWeights(s: string, dims: number): Float32Array {
  const b = Buffer.from(s, 'base64');
  if (b.length !== dims * 4) throw new Error(`text model weights hold ${b.length} bytes, expected ${dims * 4}`);
  const w = new Float32Array(dims);
  for (let i = 0; i < dims; i++) {
    w[i] = b.readFloatLE(i * 4);
    if (!Number.isFinite(w[i])) throw new Error(`text model weight ${i} is not a finite number`);
  }
  return w;
}

export interface TextVerdict {
  /** Probability that the text is phishing, 0..1. */
  p: number;
  /** Features that pushed most towards phishing, with their contribution. */
  top: Array<{ feature: string; contribution: number }>;
}

/** Same interface as the HTTP classifier: text in, probability out. */
export interface TextClassifier {
  readonly name: string;
  /** `deadlineMs`: time left for this call (remote classifiers abort at it). */
  classify(text: string, deadlineMs?: number): TextVerdict | Promise<TextVerdict>;
}

export class TextModel implements TextClassifier {
  readonly name = 'embedded';
  readonly w: Float32Array;
  readonly bias: number;

  constructor(weights: Float32Array, bias: number) {
    if (weights.length !== DIMS) throw new Error(`text model has ${weights.length} weights, expected ${DIMS}`);
    this.w = weights;
    this.bias = bias;
  }

  static fromFile(file: TextModelFile): TextModel {
    if (file.format !== 'phishx-text-logreg' || file.dims !== DIMS || !Number.isFinite(file.bias)) throw new Error('unsupported text model file');
    if (file.version === 2 && typeof file.weights === 'string') return new TextModel(decodeWeights(file.weights, DIMS), file.bias);
    if (file.version !== 1 || typeof file.weights !== 'object' || file.weights === null) throw new Error('unsupported text model file');
    const w = new Float32Array(DIMS);
    // for…in, not Object.entries: entries made a [key, value] pair for each of ~236,000
    // weights, which left the loading thread ~35 MB larger for good (RSS is not given back).
    const weights = file.weights;
    for (const k in weights) w[Number(k)] = weights[k];
    return new TextModel(w, file.bias);
  }

  /** Log-odds of a feature vector (bias + weights of its buckets, each scaled by `value`). */
  logOdds(idx: Uint32Array, value: number): number {
    let z = this.bias;
    for (const i of idx) z += this.w[i] * value;
    return z;
  }

  classify(text: string): TextVerdict {
    const v = vectorize(text);
    const p = 1 / (1 + Math.exp(-this.logOdds(v.idx, v.value)));
    return { p, top: topContributions(v, this.w) };
  }
}

/**
 * The (at most) three features that pushed most towards phishing, largest first; among equal
 * contributions the earlier feature; a feature that recurs in the text counts once. One pass,
 * names built only for the features that make the list. Pure.
 */
export function topContributions(v: Pick<SparseVector, 'slots' | 'name' | 'value'>, w: Float32Array): TextVerdict['top'] {
  const top: Array<{ feature: string; c: number }> = [];
  for (let i = 0; i < v.slots.length; i++) {
    const c = w[v.slots[i]] * v.value;
    if (!(c > 0) || (top.length === 3 && c <= top[2].c)) continue;
    const feature = v.name(i);
    if (top.some((t) => t.feature === feature)) continue;
    let at = top.length;
    while (at > 0 && top[at - 1].c < c) at--;
    top.splice(at, 0, { feature, c });
    if (top.length > 3) top.pop();
  }
  return top.map(({ feature, c }) => ({ feature, contribution: Math.round(c * 1000) / 1000 }));
}

/** Where the committed model lives (in the package, whether running from lib/ or dist/lib/). */
export function defaultModelPath(): string {
  return path.join(PACKAGE_ROOT, 'lib', 'nlp', 'model', 'text-model.json');
}

let cached: TextModel | null = null;

/** The embedded model, loaded once per process. */
export function embeddedModel(): TextModel {
  cached ??= TextModel.fromFile(JSON.parse(readFileSync(defaultModelPath(), 'utf8')) as TextModelFile);
  return cached;
}

/**
 * Is `c` the shipped model (what `embeddedModel()` returns)? A model trained in this process
 * (`eval --cv`, tests) has the same class and name but other weights: it must be called as
 * given, not replaced by the shipped one. Does not load the model.
 */
export function isShippedModel(c: TextClassifier | null | undefined): boolean {
  return c != null && c === cached;
}
