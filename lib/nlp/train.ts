import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { buildConfig } from '../config/load.js';
import { parseLabels } from '../eval.js';
import { extractScanInput } from '../message/extract.js';
import { DIMS, fnv1a, vectorize } from './features.js';
import { encodeWeights, TextModel, type TextModelFile } from './model.js';
import { classifierText } from './text.js';

export interface Example {
  file: string;
  label: string;
  source: string;
  idx: Uint32Array;
  value: number;
  y: 0 | 1;
  /** The classifier text (subject + cleaned body); also what the letter model is trained on. */
  text: string;
  /** Sample weight: spam counts half as a negative (it is not phishing, nor typical ham). */
  weight: number;
  /** false: trained on but left out of the probability calibration (the extra non-English ham of language-ham.ts). */
  calibrate?: boolean;
}

export interface TrainOptions {
  epochs: number;
  learningRate: number;
  l2: number;
  seed: number;
}

/**
 * Chosen by 5-fold cross-validation on the dev corpus (docs/detection.md): stronger
 * L2 than the SGD default ranks unseen mail better (text-only recall at 0.5 % ham FPR
 * 86.5 % with l2 = 1e-5 → 95.1 % with 3e-3) because it spreads weight over many weak cues
 * instead of memorising a few corpus-specific words. With the CJK bigrams and the nine
 * languages' everyday text at half weight, 2e-3 keeps dev recall at 95.0 % where 3e-3 gave 94.9 %.
 */
export const DEFAULT_TRAIN: TrainOptions = { epochs: 20, learningRate: 4, l2: 2e-3, seed: 20261127 };

/** Folds of the inner cross-validation that calibrates a model's probabilities. */
export const CALIBRATION_FOLDS = 5;

/** mulberry32: a small seeded PRNG, so training order (and so the model) is reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of `xs` in place, in the order `rnd` (e.g. `prng(seed)`) decides; returns `xs`. */
export function shuffleInPlace<T>(xs: T[], rnd: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/**
 * Examples of several corpora: the first keeps its paths, the others' are prefixed with the
 * corpus directory's name (`corpus-modern/ham/….eml`), so ids stay unique across them.
 */
export async function loadCorpora(dirs: readonly string[]): Promise<Example[]> {
  const out: Example[] = [];
  for (const [i, dir] of dirs.entries()) {
    const prefix = i === 0 ? '' : `${path.basename(path.resolve(dir))}/`;
    for (const e of await loadExamples(dir)) out.push({ ...e, file: `${prefix}${e.file}` });
  }
  return out;
}

/** Read DIR/labels.csv and turn every phish / ham / spam message into a feature vector. */
export async function loadExamples(dir: string, onProgress?: (done: number, total: number) => void): Promise<Example[]> {
  const rows = parseLabels(await readFile(path.join(dir, 'labels.csv'), 'utf8')).filter((r) => ['phish', 'ham', 'spam'].includes(r.label));
  const limits = buildConfig({}, { env: {} }).limits;
  const out: Example[] = [];
  for (const r of rows) {
    const raw = await readFile(path.join(dir, r.file));
    const input = await extractScanInput(raw, { mailFrom: '', rcptTo: [] }, limits);
    const text = classifierText(input);
    const v = vectorize(text);
    out.push({
      file: r.file,
      label: r.label,
      source: r.source,
      text,
      idx: v.idx,
      value: v.value,
      y: r.label === 'phish' ? 1 : 0,
      weight: r.label === 'spam' ? 0.5 : 1,
    });
    onProgress?.(out.length, rows.length);
  }
  return out;
}

/**
 * Logistic regression by SGD in a seeded order with L2 decay on touched weights, returning
 * the weights averaged over every step of the second half of the epochs (averaged SGD).
 * The last step's weights depend on the order of the last few hundred examples: with the
 * seed alone changed, the leave-one-source-out ham false positives ranged 11–27 of 1,500.
 * Averaged, they stay within 16–19 for every seed tried, and dev recall and ham within a
 * message or two (docs/detection.md). Averaging uses the running-sum trick — avg =
 * w_T + Σ (s − 1)·Δ_s / T over the averaged steps s = 1 … T — so it costs one more array, not
 * one pass over DIMS per step. Deterministic.
 */
export function trainRaw(examples: readonly Example[], opts: TrainOptions = DEFAULT_TRAIN): TextModel {
  const w = new Float64Array(DIMS);
  const sum = new Float64Array(DIMS); // Σ (s − 1)·Δ_s of the averaged steps
  let b = 0;
  let sumB = 0;
  let steps = 0;
  const averageFrom = Math.floor(opts.epochs / 2);
  const order = examples.map((_, i) => i);
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    shuffleInPlace(order, prng(opts.seed + epoch));
    const lr = opts.learningRate / (1 + epoch);
    const averaging = epoch >= averageFrom;
    for (const k of order) {
      const ex = examples[k];
      let z = b;
      for (const i of ex.idx) z += w[i] * ex.value;
      const g = (1 / (1 + Math.exp(-z)) - ex.y) * ex.weight;
      for (const i of ex.idx) {
        const step = lr * (g * ex.value + opts.l2 * w[i]);
        w[i] -= step;
        if (averaging) sum[i] += steps * step;
      }
      b -= lr * g;
      if (averaging) sumB += steps++ * lr * g;
    }
  }
  if (steps > 0) {
    for (let i = 0; i < DIMS; i++) w[i] += sum[i] / steps;
    b += sumB / steps;
  }
  return new TextModel(Float32Array.from(w), b);
}

/**
 * Platt scaling: a, c minimising the (sample-weighted) logistic loss of sigmoid(a·z + c)
 * against the labels, by Newton's method (two parameters, converges in a few steps). Pure.
 */
export function plattScale(z: readonly number[], y: readonly number[], weight: readonly number[]): { a: number; c: number } {
  let a = 1;
  let c = 0;
  for (let it = 0; it < 100; it++) {
    let ga = 0,
      gc = 0,
      haa = 1e-9,
      hac = 0,
      hcc = 1e-9;
    for (let i = 0; i < z.length; i++) {
      if (!weight[i]) continue;
      const q = 1 / (1 + Math.exp(-(a * z[i] + c)));
      const r = (q - y[i]) * weight[i];
      const h = q * (1 - q) * weight[i];
      ga += r * z[i];
      gc += r;
      haa += h * z[i] * z[i];
      hac += h * z[i];
      hcc += h;
    }
    const det = haa * hcc - hac * hac;
    const da = (hcc * ga - hac * gc) / det;
    const dc = (haa * gc - hac * ga) / det;
    a -= da;
    c -= dc;
    if (Math.abs(da) + Math.abs(dc) < 1e-10) break;
  }
  return { a, c };
}

/** Inner fold of an example for calibration (a different hash from `foldOf`, so nested CV splits every outer fold). */
function calibrationFold(file: string): number {
  return fnv1a(`cal:${file}`) % CALIBRATION_FOLDS;
}

/**
 * Train a calibrated model: logistic regression (trainRaw), then Platt scaling fitted on
 * out-of-fold log-odds of an inner cross-validation, folded into the weights (w·a, b·a + c).
 * SGD with strong L2 gives well-ranked but compressed probabilities; after calibration
 * p means "share of dev-corpus messages at this score that were phishing", so the
 * NLP_PHISH ramp (scan.ts) reads the same for every retrained model. Deterministic.
 */
export function train(examples: readonly Example[], opts: TrainOptions = DEFAULT_TRAIN): TextModel {
  const z = new Float64Array(examples.length);
  for (let f = 0; f < CALIBRATION_FOLDS; f++) {
    const inner = trainRaw(
      examples.filter((e) => calibrationFold(e.file) !== f),
      opts,
    );
    examples.forEach((e, i) => {
      if (calibrationFold(e.file) === f) z[i] = inner.logOdds(e.idx, e.value);
    });
  }
  // Calibrated on corpus mail only, so p keeps meaning "share of dev-corpus mail at this score".
  const { a, c } = plattScale(
    [...z],
    examples.map((e) => e.y),
    examples.map((e) => (e.calibrate === false ? 0 : e.weight)),
  );
  const raw = trainRaw(examples, opts);
  return new TextModel(
    raw.w.map((w) => w * a),
    raw.bias * a + c,
  );
}

const round4 = (x: number): number => Math.round(x * 10000) / 10000;

/** Deterministic JSON of a model (format version 2): weights rounded to 4 decimals, then stored as float32. */
export function serializeModel(m: TextModel, training: Record<string, unknown>): string {
  const file: TextModelFile = {
    format: 'phishx-text-logreg',
    version: 2,
    dims: DIMS,
    bias: round4(m.bias),
    weights: encodeWeights(m.w.map((x) => round4(x) || 0)), // || 0: -0 stored as 0, as version 1 dropped it
    training,
  };
  return `${JSON.stringify(file)}\n`;
}

/** Fold of an example for k-fold cross-validation: by a hash of its path (stable, label-blind). */
export function foldOf(file: string, k: number): number {
  return fnv1a(file) % k;
}

/**
 * k-fold cross-validation: for each fold a model trained on the other folds (and on
 * `always`, the extra ham every model is trained on). Returns file ─► the model that never saw it.
 */
export function crossValidationModels(
  examples: readonly Example[],
  k: number,
  opts: TrainOptions = DEFAULT_TRAIN,
  always: readonly Example[] = [],
): Map<string, TextModel> {
  return heldOutModels(examples, (e) => foldOf(e.file, k), opts, always);
}

/**
 * Leave-one-source-out: for each source (labels.csv's third column) a model trained on
 * every other source, so each message is scored by a model that never saw its source —
 * how the classifier does on a kind of mail it was not trained on. file ─► model.
 */
export function leaveOneSourceOutModels(
  examples: readonly Example[],
  opts: TrainOptions = DEFAULT_TRAIN,
  always: readonly Example[] = [],
): Map<string, TextModel> {
  return heldOutModels(examples, (e) => e.source, opts, always);
}

/** One model per group, trained on the other groups and `always`; file ─► the model that never saw its group. */
function heldOutModels<G>(examples: readonly Example[], groupOf: (e: Example) => G, opts: TrainOptions, always: readonly Example[]): Map<string, TextModel> {
  const byFile = new Map<string, TextModel>();
  for (const g of new Set(examples.map(groupOf))) {
    const model = train([...examples.filter((e) => groupOf(e) !== g), ...always], opts);
    for (const e of examples) if (groupOf(e) === g) byFile.set(e.file, model);
  }
  return byFile;
}
