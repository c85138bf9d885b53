/**
 * Alert states as a pure function: observations in, alert records and the notifications due
 * out. An alert instance (rule + labels: its fingerprint) is `pending` while its condition
 * holds for less than `for`, then `firing` (one notification), re-notified only after
 * `repeat` or when its severity changes (critical supersedes warn of the same alert: the
 * inhibition), and `resolved` (one notification) when the condition clears. Silenced
 * instances change state as usual but notify nobody.
 */
import type { Observation, Severity } from './rules.js';

export interface AlertRecord {
  fingerprint: string;
  alert: string;
  labels: Record<string, string>;
  state: 'pending' | 'firing' | 'resolved';
  severity: Severity;
  value: number;
  threshold: number;
  summary: string;
  samples?: string[];
  /** When the condition started (ms). */
  since: number;
  firingSince?: number;
  resolvedAt?: number;
  lastNotifiedAt?: number;
  /** Severity of the last notification sent. */
  notifiedSeverity?: Severity;
}

export interface Silence {
  id: string;
  /** `alert` or `alert{label=value}`; `*` in the alert name matches any run of characters. */
  matcher: string;
  until: number;
  by: string;
  createdAt: number;
}

export interface Notification {
  kind: 'firing' | 'repeat' | 'resolved';
  record: AlertRecord;
}

export function fingerprintOf(alert: string, labels: Record<string, string>): string {
  const l = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
  return l ? `${alert}{${l}}` : alert;
}

/** Parse and check a silence matcher; throws a clear error. */
export function parseMatcher(m: string): { alert: RegExp; labels: Record<string, string> } {
  const match = /^([A-Za-z_*][A-Za-z0-9_*]*)(?:\{([^{}]*)\})?$/.exec(m.trim());
  if (!match)
    throw new Error(`silence matcher ${JSON.stringify(m.slice(0, 80))}: expected alert or alert{label=value,...} (e.g. service_availability{service=clamav})`);
  const labels: Record<string, string> = {};
  for (const pair of (match[2] ?? '').split(',').filter((p) => p.trim())) {
    const kv = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"?([^"]*)"?\s*$/.exec(pair);
    if (!kv) throw new Error(`silence matcher ${JSON.stringify(m.slice(0, 80))}: bad label ${JSON.stringify(pair.slice(0, 40))}`);
    labels[kv[1]] = kv[2];
  }
  return { alert: new RegExp(`^${match[1].replace(/\*/g, '.*')}$`), labels };
}

export function silenced(r: Pick<AlertRecord, 'alert' | 'labels'>, silences: readonly Silence[], now: number): boolean {
  return silences.some((s) => {
    if (s.until <= now) return false;
    const m = parseMatcher(s.matcher);
    return m.alert.test(r.alert) && Object.entries(m.labels).every(([k, v]) => r.labels[k] === v);
  });
}

export interface StepOptions {
  forMs: number;
  repeatMs: number;
  /** Resolved records are kept this long (the history of GET /api/v1/alerts). */
  historyMs: number;
}

/** One evaluation step. `records` is not changed; the next records and the notifications due are returned. */
export function step(
  records: ReadonlyMap<string, AlertRecord>,
  observations: readonly Observation[],
  now: number,
  opts: StepOptions,
  silences: readonly Silence[] = [],
): { records: Map<string, AlertRecord>; notifications: Notification[] } {
  const next = new Map<string, AlertRecord>();
  const notifications: Notification[] = [];
  const seen = new Set<string>();
  const notify = (kind: Notification['kind'], r: AlertRecord): void => {
    if (silenced(r, silences, now)) return;
    r.lastNotifiedAt = now;
    r.notifiedSeverity = r.severity;
    notifications.push({ kind, record: { ...r } });
  };
  for (const o of observations) {
    const fp = fingerprintOf(o.alert, o.labels);
    seen.add(fp);
    const cur = records.get(fp);
    const live = cur && cur.state !== 'resolved' ? { ...cur } : undefined;
    if (o.severity === null) {
      if (live?.state === 'firing') {
        const r: AlertRecord = { ...live, state: 'resolved', resolvedAt: now, value: o.value, summary: o.summary };
        if (r.lastNotifiedAt !== undefined) notify('resolved', r);
        next.set(fp, r);
      } else if (cur?.state === 'resolved') next.set(fp, cur);
      continue;
    }
    const base = { alert: o.alert, labels: o.labels, value: o.value, threshold: o.threshold, summary: o.summary, ...(o.samples ? { samples: o.samples } : {}) };
    if (!live) {
      const r: AlertRecord = { fingerprint: fp, ...base, state: 'pending', severity: o.severity, since: now };
      if (opts.forMs <= 0) {
        r.state = 'firing';
        r.firingSince = now;
        notify('firing', r);
      }
      next.set(fp, r);
      continue;
    }
    const r: AlertRecord = { ...live, ...base, severity: o.severity };
    if (r.state === 'pending' && now - r.since >= opts.forMs) {
      r.state = 'firing';
      r.firingSince = now;
      notify('firing', r);
    } else if (r.state === 'firing') {
      if (r.notifiedSeverity !== undefined && r.notifiedSeverity !== r.severity) notify('firing', r);
      else if (r.lastNotifiedAt === undefined || now - r.lastNotifiedAt >= opts.repeatMs) notify(r.lastNotifiedAt === undefined ? 'firing' : 'repeat', r);
    }
    next.set(fp, r);
  }
  // Instances no longer observed (a service gone from the breakers, a campaign aged out) clear.
  for (const [fp, cur] of records) {
    if (seen.has(fp)) continue;
    if (cur.state === 'firing') {
      const r: AlertRecord = { ...cur, state: 'resolved', resolvedAt: now };
      if (r.lastNotifiedAt !== undefined) notify('resolved', r);
      next.set(fp, r);
    } else if (cur.state === 'resolved' && now - (cur.resolvedAt ?? now) < opts.historyMs) next.set(fp, cur);
  }
  for (const [fp, r] of next) if (r.state === 'resolved' && now - (r.resolvedAt ?? now) >= opts.historyMs) next.delete(fp);
  return { records: next, notifications };
}
