/**
 * The alerting loop of the sidecar: every `[alerts] interval_s` the node that holds the
 * `alerts` lease (with Redis one node of the cluster; embedded: this one) samples what it
 * sees, evaluates the rules, steps the alert states (kept in the store, so a new leader
 * carries on without repeating), and hands the notifications due to the channels. Each
 * channel has its own queue, breaker, deadline, retries and rate limit: a channel that is
 * down delays nothing else, and scanning never waits on any of it.
 */
import type { PhishXConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { processMetrics } from '../metrics/catalog.js';
import type { MetricJson } from '../metrics/cluster.js';
import { countPending } from '../quarantine.js';
import { guarded } from '../resilience/breaker.js';
import type { Store } from '../store/types.js';
import { backoffMs } from '../webhooks/deliver.js';
import { channelsOf, type Channel, type Context } from './channels.js';
import { step, type AlertRecord, type Notification, type Silence } from './engine.js';
import { evaluate, type CampaignView, type ServiceView, type Thresholds } from './rules.js';

export const STATE_DOC = 'alerts-state';
export const SILENCE_DOC = 'alerts-silences';
const HOUR_MS = 3_600_000;
/** Families kept in the sample history (rates and windows need their past values). */
const HISTORY_FAMILIES = new Set(['phishx_scan_duration_seconds', 'phishx_http_rate_limited_total', 'phishx_http_auth_failures_total']);

export interface BreakerInfo {
  service: string;
  state: 'closed' | 'open' | 'half_open';
  successes: number;
  failures: number;
}

export interface AlertingDeps {
  store: () => Store;
  config: () => PhishXConfig | null;
  /** Merged metrics of every process. */
  metrics: () => Promise<MetricJson[]>;
  /** Health checks (cached by the caller): component probes and store latency. */
  health: () => Promise<{ probes: Record<string, boolean>; storeMs: number | null } | null>;
  breakers: () => Promise<BreakerInfo[]>;
  /** This node's name (lease holder, notification source). */
  node: string;
  log: (level: 'info' | 'warn', message: string) => void;
  now?: () => number;
}

export function thresholdsOf(a: PhishXConfig['alerts']): Thresholds {
  return {
    scanLatencyMs: [a.scan_latency_warn_ms, a.scan_latency_critical_ms],
    rateLimitedPerHour: [a.rate_limited_warn, a.rate_limited_critical],
    authFailuresPerHour: [a.auth_failures_warn, a.auth_failures_critical],
    availabilityPct: [a.availability_warn_pct, a.availability_critical_pct],
    breakerOpenS: a.breaker_open_critical_s,
    queueDepth: [a.queue_warn, a.queue_critical],
    datastoreMs: [a.datastore_warn_ms, a.datastore_critical_ms],
    campaignMessages: a.campaign_messages,
    campaignWindowMs: a.campaign_window_s * 1000,
  };
}

/** One channel's outgoing queue: groups sent in order, retried with backoff, at most `rate` sends a minute (the rest merged). */
class ChannelQueue {
  private queue: Notification[][] = [];
  private running = false;
  private sentTimes: number[] = [];
  stopped = false;

  constructor(
    public channel: Channel,
    private readonly settings: () => { rate: number; breaker: PhishXConfig['breaker.webhook'] } | null,
    private readonly log: AlertingDeps['log'],
  ) {}

  push(group: Notification[]): void {
    this.queue.push(group);
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length && !this.stopped) {
        const s = this.settings();
        if (!s) return;
        const now = Date.now();
        this.sentTimes = this.sentTimes.filter((t) => now - t < 60_000);
        if (this.sentTimes.length >= s.rate) {
          // Storm: wait for the minute to pass, then send what gathered meanwhile as one group.
          await sleep(60_000 - (now - this.sentTimes[0]));
          this.queue = [this.queue.flat()];
          continue;
        }
        const group = this.queue[0];
        for (let attempt = 1; !this.stopped; attempt++) {
          try {
            await guarded(`alert ${this.channel.name}`, s.breaker, () => this.channel.send(group));
            processMetrics.alertNotifications.inc({ channel: this.channel.name, result: 'sent' }, group.length);
            this.sentTimes.push(Date.now());
            break;
          } catch (err) {
            processMetrics.alertNotifications.inc({ channel: this.channel.name, result: 'failed' }, group.length);
            if (attempt === 1) this.log('warn', `alerts: ${this.channel.name} notification failed (${errorMessage(err)}); retrying`);
            if (attempt >= 12) {
              this.log('warn', `alerts: ${this.channel.name}: ${group.length} notification(s) dropped after ${attempt} attempts: ${errorMessage(err)}`);
              break;
            }
            await sleep(backoffMs(attempt, 1000, 300_000, (err as { retryAfterMs?: number }).retryAfterMs));
          }
        }
        this.queue.shift();
      }
    } finally {
      this.running = false;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)).unref());
}

export class Alerting {
  private history: Array<{ at: number; metrics: MetricJson[] }> = [];
  private readonly openSince = new Map<string, number>();
  private readonly campaignSeen = new Map<string, Array<{ at: number; count: number }>>();
  private readonly queues = new Map<string, ChannelQueue>();
  private channelsKey = '';
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<Notification[]> | null = null;
  private lastError = '';

  constructor(private readonly deps: AlertingDeps) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  start(): void {
    const schedule = (): void => {
      const ms = (this.deps.config()?.alerts.interval_s ?? 10) * 1000;
      this.timer = setTimeout(() => {
        void this.tick().finally(schedule);
      }, ms);
      this.timer.unref();
    };
    schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const q of this.queues.values()) q.stopped = true;
  }

  /** The channels of the current config (rebuilt when their settings change). */
  private channels(config: PhishXConfig): ChannelQueue[] {
    const key = JSON.stringify([config['alerts.slack'], config['alerts.pagerduty'], config['alerts.email'], config.alerts.webhook, config.webhookEndpoints]);
    if (key !== this.channelsKey) {
      for (const q of this.queues.values()) q.stopped = true;
      this.queues.clear();
      const ctx: Context = { node: this.deps.node, linksBaseUrl: config.alerts.links_base_url, grafanaUrl: config.alerts.grafana_url };
      for (const ch of channelsOf(config, this.deps.store, ctx)) {
        this.queues.set(
          ch.name,
          new ChannelQueue(
            ch,
            () => {
              const c = this.deps.config();
              return c ? { rate: c.alerts.rate_limit_per_min, breaker: c['breaker.webhook'] } : null;
            },
            this.deps.log,
          ),
        );
      }
      this.channelsKey = key;
    }
    return [...this.queues.values()];
  }

  /** One evaluation; returns the notifications handed to the channels (tests). Never throws. */
  tick(): Promise<Notification[]> {
    this.running ??= this.evaluateOnce()
      .then((n) => {
        this.lastError = '';
        return n;
      })
      .catch((err: unknown) => {
        const m = errorMessage(err);
        if (m !== this.lastError) this.deps.log('warn', `alerts: evaluation failed: ${m}`);
        this.lastError = m;
        return [];
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async evaluateOnce(): Promise<Notification[]> {
    const config = this.deps.config();
    if (!config?.alerts.enabled) return [];
    const store = this.deps.store();
    const now = this.now();
    const intervalMs = config.alerts.interval_s * 1000;
    const metrics = await this.deps.metrics();
    // Keep the history even when another node notifies: it takes over with its rates ready.
    this.history.push({ at: now, metrics: metrics.filter((f) => HISTORY_FAMILIES.has(f.name)) });
    this.history = this.history.filter((h) => now - h.at <= HOUR_MS + 2 * intervalMs);
    if (!(await store.acquireLease('alerts', this.deps.node, Math.max(3 * intervalMs, 5000)))) return [];

    const ago = (ms: number): MetricJson[] | null => {
      const old = this.history.find((h) => now - h.at <= ms + intervalMs / 2);
      return old && old.at < now ? old.metrics : null;
    };
    const [health, breakers, campaigns, queues] = await Promise.all([
      this.deps.health(),
      this.deps.breakers(),
      this.campaigns(store, config, now),
      this.queueDepths(config, metrics),
    ]);
    const services = new Map<string, ServiceView>();
    for (const b of breakers) {
      if (b.state === 'open') {
        if (!this.openSince.has(b.service)) this.openSince.set(b.service, now);
      } else this.openSince.delete(b.service);
      services.set(b.service, { service: b.service, successes: b.successes, failures: b.failures, openSince: this.openSince.get(b.service) ?? null });
    }
    for (const [component, ok] of Object.entries(health?.probes ?? {})) {
      const s = services.get(component) ?? { service: component, successes: 0, failures: 0, openSince: null };
      services.set(component, { ...s, probeOk: ok });
    }
    const observations = evaluate(
      {
        now,
        metrics,
        hourAgo: ago(HOUR_MS) ?? this.history[0]?.metrics ?? null,
        fiveMinAgo: ago(300_000) ?? this.history[0]?.metrics ?? null,
        services: [...services.values()],
        queues,
        datastoreMs: health?.storeMs ?? null,
        campaigns,
      },
      thresholdsOf(config.alerts),
    );
    const [state, silences] = await Promise.all([store.getDoc<AlertRecord[]>(STATE_DOC), store.getDoc<Silence[]>(SILENCE_DOC)]);
    const records = new Map((state.value ?? []).map((r) => [r.fingerprint, r]));
    const out = step(
      records,
      observations,
      now,
      { forMs: config.alerts.for_s * 1000, repeatMs: config.alerts.repeat_interval_h * HOUR_MS, historyMs: 24 * HOUR_MS },
      silences.value ?? [],
    );
    if (!(await store.putDoc(STATE_DOC, state.version + 1, [...out.records.values()]))) return []; // another leader moved on meanwhile
    processMetrics.alertsFiring.reset();
    for (const r of out.records.values()) if (r.state === 'firing') processMetrics.alertsFiring.inc({ alert: r.alert, severity: r.severity });
    if (out.notifications.length) {
      for (const n of out.notifications) this.deps.log('warn', `alerts: ${n.kind} ${n.record.fingerprint} ${n.record.severity}: ${n.record.summary}`);
      for (const q of this.channels(config)) q.push(out.notifications);
    }
    return out.notifications;
  }

  /** Pending spool (held while the store was down) and the webhook backlog per endpoint. */
  private async queueDepths(config: PhishXConfig, metrics: MetricJson[]): Promise<Record<string, number>> {
    const out: Record<string, number> = { pending_spool: await countPending(config.quarantine.spool_dir) };
    for (const v of metrics.find((m) => m.name === 'phishx_webhook_backlog')?.values ?? []) {
      const k = `webhook_backlog:${String(v.labels.endpoint)}`;
      out[k] = (out[k] ?? 0) + v.value;
    }
    return out;
  }

  /** SOC campaigns with their message count growth over the window. */
  private async campaigns(store: Store, config: PhishXConfig, now: number): Promise<CampaignView[]> {
    const windowMs = config.alerts.campaign_window_s * 1000;
    const page = await store.listAlerts({ status: ['open', 'acknowledged'], since: now - windowMs, limit: 200 }).catch(() => null);
    const out: CampaignView[] = [];
    const live = new Set<string>();
    for (const a of page?.items ?? []) {
      live.add(a.id);
      const seen = (this.campaignSeen.get(a.id) ?? []).filter((s) => now - s.at <= windowMs);
      seen.push({ at: now, count: a.count });
      this.campaignSeen.set(a.id, seen);
      // Messages within the window: all of them when the alert is younger than it, else the growth since the oldest sample in it.
      const recent = now - a.firstSeen <= windowMs ? a.count : a.count - seen[0].count;
      const key = a.senderDomains[0] ? `sender:${a.senderDomains[0]}` : a.urlHosts[0] ? `host:${a.urlHosts[0]}` : `alert:${a.id}`;
      out.push({ id: a.id, key, recent, samples: [a.id, ...a.quarantineIds.slice(-4)] });
    }
    for (const id of this.campaignSeen.keys()) if (!live.has(id)) this.campaignSeen.delete(id);
    return out;
  }
}
