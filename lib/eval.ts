import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PhishXConfig } from './config/types.js';
import { UsageError } from './errors.js';
import type { TextClassifier } from './nlp/model.js';
import { scanMessage } from './scan.js';

export interface LabelStats {
  n: number;
  flagged: number;
  rejected: number;
}
export interface SourceStats extends LabelStats {
  label: string;
}
export interface EvalReport {
  labels: Record<string, LabelStats>;
  sources: Record<string, SourceStats>;
  phish_recall: number;
  ham_fpr: number;
  messages_per_second: number;
  /** Present with `sweep`: recall and FPR if the quarantine threshold were t. */
  sweep?: Array<{ threshold: number; phish_recall: number; ham_fpr: number }>;
}

interface Row {
  file: string;
  label: string;
  source: string;
}

/** Parse labels.csv (path,label,source; header line; CRLF tolerated). */
export function parseLabels(text: string): Row[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  const header = lines
    .shift()
    ?.split(',')
    .map((h) => h.trim());
  if (!header || header[0] !== 'path' || header[1] !== 'label') throw new UsageError('labels.csv must start with the header "path,label,source"');
  return lines.map((l, i) => {
    const [file, label, source] = l.split(',').map((x) => x.trim());
    if (!file || !label) throw new UsageError(`labels.csv line ${i + 2}: expected path,label,source`);
    return { file, label, source: source || 'unknown' };
  });
}

const ratio = (a: number, b: number): number => (b ? Math.round((a / b) * 10000) / 10000 : 0);

/**
 * Run the inline scan path (default config, no network) over every message in
 * DIR/labels.csv. flagged = quarantine or reject (the would-be action, so monitor mode
 * measures the same thing).
 */
export interface EvalOptions {
  sweep?: boolean;
  progress?: (done: number, total: number) => void;
  /** Classifier per message (cross-validation: a model that never saw the file). */
  classifierFor?: (file: string) => TextClassifier | undefined;
  /** Called with every message's outcome (`phishx eval --details`). */
  onMessage?: (d: MessageOutcome) => void;
}

/** One message's outcome, for finding what was misjudged and why. */
export interface MessageOutcome {
  path: string;
  label: string;
  source: string;
  action: string;
  score: number;
  /** true when a phish was not flagged or a ham was. */
  wrong: boolean;
  reasons: Array<{ code: string; weight: number; detail: string }>;
  subject: string;
  from: string;
}

export async function evaluate(dir: string, config: PhishXConfig, opts: EvalOptions = {}): Promise<EvalReport> {
  const rows = parseLabels(await readFile(path.join(dir, 'labels.csv'), 'utf8'));
  const labels: Record<string, LabelStats> = {};
  const sources: Record<string, SourceStats> = {};
  const scores: Array<{ label: string; score: number }> = [];
  const t0 = performance.now();
  let done = 0;
  for (const r of rows) {
    const raw = await readFile(path.join(dir, r.file));
    const classifier = opts.classifierFor?.(r.file);
    const res = await scanMessage(
      raw,
      { mailFrom: '', rcptTo: ['recipient@example.org'], remoteIp: '192.0.2.1' },
      config,
      undefined,
      classifier ? { classifier } : {},
    );
    const a = res.verdict.wouldAction;
    const l = (labels[r.label] ??= { n: 0, flagged: 0, rejected: 0 });
    const s = (sources[r.source] ??= { label: r.label, n: 0, flagged: 0, rejected: 0 });
    const flagged = a === 'quarantine' || a === 'reject';
    for (const x of [l, s]) {
      x.n++;
      if (flagged) x.flagged++;
      if (a === 'reject') x.rejected++;
    }
    scores.push({ label: r.label, score: res.verdict.score });
    if (opts.onMessage) {
      opts.onMessage({
        path: r.file,
        label: r.label,
        source: r.source,
        action: a,
        score: res.verdict.score,
        wrong: (r.label === 'phish' && !flagged) || (r.label === 'ham' && flagged),
        reasons: res.verdict.reasons.map((x) => ({ code: x.code, weight: x.weight, detail: x.detail })),
        subject: res.summary.subject,
        from: res.summary.from,
      });
    }
    opts.progress?.(++done, rows.length);
  }
  const seconds = (performance.now() - t0) / 1000;
  const report: EvalReport = {
    labels,
    sources,
    phish_recall: ratio(labels.phish?.flagged ?? 0, labels.phish?.n ?? 0),
    ham_fpr: ratio(labels.ham?.flagged ?? 0, labels.ham?.n ?? 0),
    messages_per_second: Math.round((rows.length / seconds) * 10) / 10,
  };
  if (opts.sweep) {
    report.sweep = [];
    for (let t = 5; t <= 100; t += 5) {
      const phish = scores.filter((x) => x.label === 'phish');
      const ham = scores.filter((x) => x.label === 'ham');
      report.sweep.push({
        threshold: t,
        phish_recall: ratio(phish.filter((x) => x.score >= t).length, phish.length),
        ham_fpr: ratio(ham.filter((x) => x.score >= t).length, ham.length),
      });
    }
  }
  return report;
}
