/**
 * The operational alert rules as pure functions: from what the sidecar sees at one moment
 * (merged metrics, their values a window ago, health, breakers, queues, SOC campaigns) to one
 * observation per alert instance — ok, warn or critical, with the value and a summary.
 */
import type { MetricJson } from '../metrics/cluster.js';
import { histogramQuantile } from '../metrics/summary.js';

export type Severity = 'warn' | 'critical';

export interface Observation {
  /** Rule name: `scan_latency`, `rate_limit_abuse`, `auth_failures`, `service_availability`, `queue_depth`, `datastore_latency`, `campaign_surge`. */
  alert: string;
  /** Bounded labels (service, queue, campaign key). */
  labels: Record<string, string>;
  severity: Severity | null;
  value: number;
  /** The threshold crossed (or the warn one when ok). */
  threshold: number;
  summary: string;
  /** Quarantine / alert ids worth opening first (campaigns). */
  samples?: string[];
}

export interface Thresholds {
  scanLatencyMs: [number, number];
  rateLimitedPerHour: [number, number];
  authFailuresPerHour: [number, number];
  availabilityPct: [number, number];
  breakerOpenS: number;
  queueDepth: [number, number];
  datastoreMs: [number, number];
  campaignMessages: number;
  campaignWindowMs: number;
}

export interface ServiceView {
  service: string;
  /** Calls that succeeded / failed in the breaker's rolling window (all processes). */
  successes: number;
  failures: number;
  /** Since when its breaker is open in some process (ms since epoch), else null. */
  openSince: number | null;
  /** Health check of the component: false when its last probe failed (clamd, NLP service, store). */
  probeOk?: boolean;
}

export interface CampaignView {
  id: string;
  key: string;
  /** Messages of the campaign within the window. */
  recent: number;
  samples: string[];
}

export interface AlertInputs {
  now: number;
  metrics: MetricJson[];
  /** The same families one hour ago (or the oldest kept, for rates), null right after start. */
  hourAgo: MetricJson[] | null;
  /** Five minutes ago, for the latency window. */
  fiveMinAgo: MetricJson[] | null;
  services: ServiceView[];
  queues: Record<string, number>;
  /** Store command latency (ms) at the last health check; null when unknown. */
  datastoreMs: number | null;
  campaigns: CampaignView[];
}

type Values = MetricJson['values'];
const family = (m: MetricJson[] | null, name: string): Values => m?.find((f) => f.name === name)?.values ?? [];
const total = (v: Values): number => v.filter((x) => !x.metricName || !/_(bucket|sum|count)$/.test(x.metricName)).reduce((a, x) => a + x.value, 0);

/** Counter growth between two scrapes (a restart that reset the counter counts from zero). */
function growth(now: MetricJson[], before: MetricJson[] | null, name: string): number {
  const a = total(family(now, name));
  const b = total(family(before, name));
  return a >= b ? a - b : a;
}

/** Bucket counts of `now` minus those of `before` (the histogram of the window). */
function windowHistogram(now: Values, before: Values): Values {
  const key = (v: Values[number]): string => `${v.metricName ?? ''}|${JSON.stringify(v.labels)}`;
  const old = new Map(before.map((v) => [key(v), v.value]));
  return now.map((v) => ({ ...v, value: Math.max(0, v.value - (old.get(key(v)) ?? 0)) }));
}

const level = (value: number, [warn, crit]: [number, number]): Severity | null => (value >= crit ? 'critical' : value >= warn ? 'warn' : null);
const levelBelow = (value: number, [warn, crit]: [number, number]): Severity | null => (value < crit ? 'critical' : value < warn ? 'warn' : null);
/** The threshold an observation reports: the critical one when critical, else the warn one. */
const limitOf = (sev: Severity | null, [warn, crit]: [number, number]): number => (sev === 'critical' ? crit : warn);

export function evaluate(i: AlertInputs, t: Thresholds): Observation[] {
  const out: Observation[] = [];
  const obs = (
    alert: string,
    labels: Record<string, string>,
    severity: Severity | null,
    value: number,
    threshold: number,
    summary: string,
    samples?: string[],
  ): void => void out.push({ alert, labels, severity, value, threshold, summary, ...(samples?.length ? { samples } : {}) });

  // 1. Scan latency p95 over the last five minutes.
  const hist = windowHistogram(family(i.metrics, 'phishx_scan_duration_seconds'), family(i.fiveMinAgo, 'phishx_scan_duration_seconds'));
  const p95 = histogramQuantile(hist, 0.95);
  const p95ms = p95 === null ? 0 : Math.round(p95 * 1000);
  const latency = level(p95ms, t.scanLatencyMs);
  obs('scan_latency', {}, latency, p95ms, limitOf(latency, t.scanLatencyMs), `scan latency p95 ${p95ms} ms over 5 min`);

  // 2. and 3. Sidecar abuse: 429s and 401/403s in the last hour.
  const limited = growth(i.metrics, i.hourAgo, 'phishx_http_rate_limited_total');
  const rl = level(limited, t.rateLimitedPerHour);
  obs('rate_limit_abuse', {}, rl, limited, limitOf(rl, t.rateLimitedPerHour), `${limited} requests refused by the rate limit in the last hour`);
  const authFails = growth(i.metrics, i.hourAgo, 'phishx_http_auth_failures_total');
  const af = level(authFails, t.authFailuresPerHour);
  obs('auth_failures', {}, af, authFails, limitOf(af, t.authFailuresPerHour), `${authFails} authentication failures (401/403) in the last hour`);

  // 4. External services: success rate in the breaker window, open breakers, failed probes.
  for (const s of i.services) {
    const calls = s.successes + s.failures;
    const pct = calls ? Math.round((s.successes / calls) * 1000) / 10 : 100;
    let sev = calls >= 5 ? levelBelow(pct, t.availabilityPct) : null;
    let summary = `${s.service}: ${pct} % of ${calls} calls succeeded`;
    const openS = s.openSince !== null ? Math.round((i.now - s.openSince) / 1000) : 0;
    if (s.openSince !== null && openS >= t.breakerOpenS) {
      sev = 'critical';
      summary = `${s.service}: circuit breaker open for ${openS} s`;
    }
    if (s.probeOk === false) {
      sev = 'critical';
      summary = `${s.service}: health check failing${calls ? ` (${pct} % of ${calls} calls succeeded)` : ''}`;
    }
    obs('service_availability', { service: s.service }, sev, pct, limitOf(sev, t.availabilityPct), summary);
  }

  // 5. Queues: pending spool, webhook outbox backlog.
  for (const [queue, depth] of Object.entries(i.queues)) {
    const q = level(depth, t.queueDepth);
    obs('queue_depth', { queue }, q, depth, limitOf(q, t.queueDepth), `${queue}: ${depth} waiting`);
  }

  // 6. Datastore latency.
  if (i.datastoreMs !== null) {
    const d = level(i.datastoreMs, t.datastoreMs);
    obs('datastore_latency', {}, d, Math.round(i.datastoreMs), limitOf(d, t.datastoreMs), `store round trip ${Math.round(i.datastoreMs)} ms`);
  }

  // 7. Campaign surge: a SOC campaign that gathered many messages within the window.
  for (const c of i.campaigns) {
    const sev = c.recent >= t.campaignMessages ? 'warn' : null;
    obs(
      'campaign_surge',
      { campaign: c.key },
      sev,
      c.recent,
      t.campaignMessages,
      `campaign ${c.key}: ${c.recent} rejected or held messages in ${Math.round(t.campaignWindowMs / 60_000)} min (SOC alert ${c.id})`,
      c.samples,
    );
  }
  return out;
}
