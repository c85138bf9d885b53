/**
 * Delivers the event log to the webhook endpoints, off the SMTP path (in the sidecar).
 *
 * Each endpoint reads the log as its own consumer group (`webhook.<name>`, made at the log's
 * end when the endpoint first appears), a batch at a time: every event of the batch is
 * delivered (at most `[webhooks] concurrency` at once, each retried with backoff) or given
 * up into the dead letters, and only then acknowledged. Until acknowledged an event stays
 * in the log: a restart or a `kill -9` delivers it again (at least once; consumers
 * deduplicate by the event id, which never changes). With Redis each event goes to one node.
 */
import type { PhishXConfig, WebhookEndpoint } from '../config/types.js';
import { errorMessage, WebhookDeliveryError } from '../errors.js';
import { processMetrics } from '../metrics/catalog.js';
import { guarded } from '../resilience/breaker.js';
import { isScanEvent, type DeliveryRecord, type PublicEvent, type StoredEvent, type Store } from '../store/types.js';
import { backoffMs, postOnce } from './deliver.js';
import { publicScanEvent } from './events.js';
import { rotateIfDue, signingKeys } from './keys.js';
import { signHeaders, type SigningSecret } from './signing.js';

const BATCH = 50;
const IDLE_POLL_MS = 250;
/** In-flight events are re-claimed this often (Redis hands events idle for a minute to another node). */
const KEEP_MS = 20_000;

export interface DispatcherDeps {
  store: () => Store;
  config: () => PhishXConfig | null;
  /** Consumer name of this node (stable across restarts, distinct per node). */
  consumer: string;
  log: (level: 'info' | 'warn', message: string) => void;
  now?: () => number;
}

export const groupOf = (endpoint: string): string => `webhook.${endpoint}`;
export const deliveryId = (eventId: string, endpoint: string): string => `${eventId}.${endpoint}`;

/** What an endpoint receives for a log entry, or null when the entry is not for it. */
export function eventFor(entry: StoredEvent['event'], ep: WebhookEndpoint): { event: PublicEvent; redelivery: boolean } | null {
  if ('kind' in entry && entry.kind === 'redeliver') return entry.endpoint === ep.name ? { event: entry.event, redelivery: true } : null;
  const event = isScanEvent(entry) ? publicScanEvent(entry) : entry.event;
  if (!ep.events.includes(event.type)) return null;
  if (ep.tenants.length && !ep.tenants.includes(event.tenant.toLowerCase())) return null;
  return { event, redelivery: false };
}

/** The secrets an endpoint signs with now: its environment variable's, else the managed keys. */
export async function secretsFor(ep: WebhookEndpoint, store: Store, now: number, env: NodeJS.ProcessEnv = process.env): Promise<SigningSecret[]> {
  if (ep.secretEnv) {
    const list = String(env[ep.secretEnv] ?? '')
      .split(/\s+/)
      .filter(Boolean);
    return list.map((secret, i) => ({ id: i ? `env-${i + 1}` : 'env', secret }));
  }
  return signingKeys(await store.getKeyRing(), now);
}

class EndpointWorker {
  private stopped = false;
  private wake: (() => void) | null = null;
  readonly done: Promise<void>;

  constructor(
    readonly ep: WebhookEndpoint,
    private readonly deps: DispatcherDeps,
  ) {
    this.done = this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      t.unref();
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    const group = groupOf(this.ep.name);
    let lastError = '';
    while (!this.stopped) {
      const store = this.deps.store();
      let batch: StoredEvent[];
      try {
        batch = await store.readEvents(group, this.deps.consumer, BATCH, 'new');
        lastError = '';
      } catch (err) {
        const m = errorMessage(err);
        if (m !== lastError) this.deps.log('warn', `webhooks: endpoint ${this.ep.name}: cannot read the event log: ${m}`);
        lastError = m;
        await this.sleep(1000);
        continue;
      }
      if (!batch.length) {
        await this.sleep(IDLE_POLL_MS);
        continue;
      }
      processMetrics.webhookBacklog.set({ endpoint: this.ep.name }, batch.length);
      const finished = new Array<boolean>(batch.length).fill(false);
      const inFlight = new Set(batch.map((b) => b.id));
      const keeper = setInterval(() => void store.keepEvents(group, this.deps.consumer, [...inFlight]).catch(() => undefined), KEEP_MS);
      keeper.unref();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < batch.length && !this.stopped) {
          const i = next++;
          finished[i] = await this.handle(store, batch[i]);
          if (finished[i]) {
            inFlight.delete(batch[i].id);
            processMetrics.webhookBacklog.set({ endpoint: this.ep.name }, inFlight.size);
          }
        }
      };
      const concurrency = this.deps.config()?.webhooks.concurrency ?? 4;
      await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, worker));
      clearInterval(keeper);
      // Acknowledge the finished prefix only (a file journal's acknowledgement is a position).
      const upTo = finished.indexOf(false) === -1 ? batch.length : finished.indexOf(false);
      await this.ack(
        store,
        group,
        batch.slice(0, upTo).map((b) => b.id),
      );
    }
  }

  private async ack(store: Store, group: string, ids: string[]): Promise<void> {
    for (let attempt = 0; ids.length && attempt < 30 && !this.stopped; attempt++) {
      try {
        await store.ackEvents(group, ids);
        return;
      } catch (err) {
        if (attempt === 0)
          this.deps.log(
            'warn',
            `webhooks: endpoint ${this.ep.name}: acknowledging ${ids.length} events failed (they may be delivered again): ${errorMessage(err)}`,
          );
        await this.sleep(1000);
      }
    }
  }

  /** Deliver one log entry to this endpoint; true when finished (delivered, dead, or not for it), false when stopped first. */
  private async handle(store: Store, entry: StoredEvent): Promise<boolean> {
    const it = eventFor(entry.event, this.ep);
    if (!it) return true;
    const id = deliveryId(it.event.id, this.ep.name);
    const existing = await store.getDelivery(id).catch(() => null);
    // Read again after a restart: what was delivered already is not sent twice.
    if (existing?.status === 'delivered' && !it.redelivery) return true;
    if (existing?.status === 'dead' && !it.redelivery) return true;
    const start = this.now();
    const rec: DeliveryRecord = existing
      ? { ...existing, status: it.redelivery ? 'pending' : existing.status, updatedAt: start }
      : { id, endpoint: this.ep.name, status: 'pending', attempts: 0, createdAt: start, updatedAt: start, event: it.event };
    const deadline = (it.redelivery ? start : Date.parse(it.event.created_at) || start) + (this.deps.config()?.webhooks.max_age_h ?? 24) * 3_600_000;
    const body = JSON.stringify(it.event);
    const put = async (): Promise<void> => {
      rec.updatedAt = this.now();
      await store.putDelivery(rec).catch((err: unknown) => this.deps.log('warn', `webhooks: delivery record ${id} not saved: ${errorMessage(err)}`));
    };
    let tries = 0;
    while (!this.stopped) {
      const cfg = this.deps.config();
      if (!cfg) return false;
      tries++;
      rec.attempts++;
      let result: string;
      let retryAfter: number | undefined;
      try {
        const keys = await secretsFor(this.ep, store, this.now());
        if (!keys.length)
          throw new WebhookDeliveryError('PHISHX_WEBHOOK_NO_KEY', "no signing key: make one with `npx phishx keys new` (or set the endpoint's secret_env)");
        const headers = signHeaders({ body, keys, id: it.event.id });
        const status = await guarded(`webhook ${this.ep.name}`, cfg['breaker.webhook'], () => postOnce(this.ep.url, body, headers, cfg.webhooks.timeout_ms));
        processMetrics.webhookAttempts.inc({ endpoint: this.ep.name, result: 'success' });
        processMetrics.webhookDeliveries.inc({ endpoint: this.ep.name, outcome: 'delivered' });
        processMetrics.webhookLatency.observe({ endpoint: this.ep.name }, Math.max(0, this.now() - (Date.parse(it.event.created_at) || start)) / 1000);
        Object.assign(rec, { status: 'delivered', lastStatus: status, deliveredAt: this.now() });
        delete rec.lastError;
        delete rec.nextAttemptAt;
        await put();
        return true;
      } catch (err) {
        const e = err as { code?: string; status?: number; retryAfterMs?: number };
        result =
          e.code === 'PHISHX_BREAKER_OPEN'
            ? 'breaker_open'
            : e.code === 'PHISHX_WEBHOOK_TIMEOUT'
              ? 'timeout'
              : e.code === 'PHISHX_WEBHOOK_HTTP_STATUS'
                ? 'http_status'
                : e.code === 'PHISHX_WEBHOOK_NO_KEY'
                  ? 'no_key'
                  : 'unreachable';
        retryAfter = e.retryAfterMs;
        rec.lastStatus = e.status ?? 0;
        rec.lastError = errorMessage(err).slice(0, 300);
      }
      processMetrics.webhookAttempts.inc({ endpoint: this.ep.name, result });
      const delay = backoffMs(tries, cfg.webhooks.retry_base_ms, cfg.webhooks.retry_max_ms, retryAfter);
      if (this.now() + delay > deadline) {
        rec.status = 'dead';
        delete rec.nextAttemptAt;
        await put();
        processMetrics.webhookDeliveries.inc({ endpoint: this.ep.name, outcome: 'dead' });
        this.deps.log('warn', `webhooks: event ${it.event.id} (${it.event.type}) to ${this.ep.name} given up after ${rec.attempts} attempts: ${rec.lastError}`);
        return true;
      }
      rec.status = 'retrying';
      rec.nextAttemptAt = this.now() + delay;
      await put();
      if (tries === 1) this.deps.log('warn', `webhooks: event ${it.event.id} to ${this.ep.name} failed (${rec.lastError}); retrying`);
      await this.sleep(delay);
    }
    return false;
  }
}

export interface WebhookDispatcher {
  /** Stop the workers; events not finished stay in the log for the next start. */
  stop(): Promise<void>;
}

/** Run one worker per configured endpoint, following config reloads; rotate keys by age when configured. */
export function startWebhookDispatcher(deps: DispatcherDeps): WebhookDispatcher {
  const workers = new Map<string, { spec: string; worker: EndpointWorker }>();
  let rotating = false;
  const sync = (): void => {
    const cfg = deps.config();
    const want = new Map((cfg?.webhookEndpoints ?? []).map((e) => [e.name, e]));
    for (const [name, w] of workers) {
      const ep = want.get(name);
      if (!ep || JSON.stringify(ep) !== w.spec) {
        w.worker.stop();
        workers.delete(name);
      }
    }
    for (const [name, ep] of want) if (!workers.has(name)) workers.set(name, { spec: JSON.stringify(ep), worker: new EndpointWorker(ep, deps) });
    if (cfg && cfg.webhooks.rotate_every_days > 0 && !rotating) {
      rotating = true;
      rotateIfDue(deps.store(), (deps.now ?? Date.now)(), cfg.webhooks.rotate_every_days, cfg.webhooks.key_overlap_h * 3_600_000)
        .then((id) => id && deps.log('info', `webhooks: signing key rotated by age (rotate_every_days = ${cfg.webhooks.rotate_every_days}): new primary ${id}`))
        .catch((err: unknown) => deps.log('warn', errorMessage(err)))
        .finally(() => (rotating = false));
    }
  };
  sync();
  const timer = setInterval(sync, 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      const all = [...workers.values()].map((w) => w.worker);
      workers.clear();
      for (const w of all) w.stop();
      await Promise.all(all.map((w) => w.done));
    },
  };
}
