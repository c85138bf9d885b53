import type { MetricJson } from './cluster.js';

/**
 * The human-readable `/metrics/summary`: the same numbers as /metrics (already merged across
 * processes), folded into what an operator asks first. Pure.
 */
type Values = MetricJson['values'];

function family(metrics: MetricJson[], name: string): Values {
  return metrics.find((m) => m.name === name)?.values ?? [];
}

function sum(values: Values, filter: (labels: Record<string, string | number>) => boolean = () => true): number {
  return values.filter((v) => filter(v.labels) && !v.metricName?.endsWith('_bucket')).reduce((a, v) => a + v.value, 0);
}

function byLabel(values: Values, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) {
    const k = String(v.labels[label] ?? '');
    out[k] = (out[k] ?? 0) + v.value;
  }
  return out;
}

/** Quantile estimate from cumulative histogram buckets (linear within a bucket, as PromQL's histogram_quantile). */
export function histogramQuantile(values: Values, q: number): number | null {
  const buckets = new Map<number, number>();
  for (const v of values) {
    if (!v.metricName?.endsWith('_bucket')) continue;
    const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + v.value);
  }
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.length ? sorted[sorted.length - 1][1] : 0;
  if (!total) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      const inBucket = count - prevCount;
      return inBucket > 0 ? prevLe + ((le - prevLe) * (rank - prevCount)) / inBucket : le;
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

const r3 = (n: number | null): number | null => (n === null ? null : Math.round(n * 1000) / 1000);

export function summarize(metrics: MetricJson[], extra: { status?: string; workers: unknown; quarantineEntries?: number | null; uptimeS: number }) {
  const scanned = family(metrics, 'phishx_messages_scanned_total');
  const duration = family(metrics, 'phishx_scan_duration_seconds');
  const score = family(metrics, 'phishx_scan_score');
  const reasons = byLabel(family(metrics, 'phishx_reasons_total'), 'code');
  const calls = family(metrics, 'phishx_service_calls_total');
  const services = [...new Set(calls.map((v) => String(v.labels.service)))].sort().map((service) => {
    const of = (outcome: string): number => sum(calls, (l) => l.service === service && l.outcome === outcome);
    const ok = of('success');
    const failed = of('failure');
    return {
      service,
      calls: ok + failed + of('rejected'),
      failures: failed,
      rejected_by_breaker: of('rejected'),
      success_rate: ok + failed ? r3(ok / (ok + failed)) : null,
    };
  });
  const scoreCount = score.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
  const scoreSum = score.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
  return {
    status: extra.status ?? null,
    uptime_s: Math.round(extra.uptimeS),
    messages: {
      scanned: sum(scanned),
      by_action: byLabel(scanned, 'action'),
      by_tenant: byLabel(scanned, 'tenant'),
      skipped: sum(family(metrics, 'phishx_messages_skipped_total')),
      unscanned: sum(family(metrics, 'phishx_messages_unscanned_total')),
    },
    scan_seconds: { p50: r3(histogramQuantile(duration, 0.5)), p95: r3(histogramQuantile(duration, 0.95)), p99: r3(histogramQuantile(duration, 0.99)) },
    score_mean: scoreCount ? r3(scoreSum / scoreCount) : null,
    top_reasons: Object.entries(reasons)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, 10)
      .map(([code, count]) => ({ code, count })),
    quarantine: {
      entries: extra.quarantineEntries ?? null,
      held: sum(family(metrics, 'phishx_quarantine_held_total')),
      held_bytes: sum(family(metrics, 'phishx_quarantine_held_bytes_total')),
      failures: sum(family(metrics, 'phishx_quarantine_failures_total')),
    },
    services,
    smtp: {
      sessions: sum(family(metrics, 'phishx_smtp_sessions_total')),
      active: sum(family(metrics, 'phishx_smtp_sessions_active')),
      answers: byLabel(family(metrics, 'phishx_verdict_answers_total'), 'code'),
    },
    workers: extra.workers,
  };
}
