import http from 'node:http';
import type net from 'node:net';
import { processMetrics } from '../metrics/catalog.js';
import { closePreviewPool } from '../review/preview-pool.js';
import { PhishXError } from '../errors.js';
import type { PhishXConfig } from '../config/types.js';
import { sharedStateMetrics, sidecarRegistry } from '../metrics/catalog.js';
import { aggregatedText, gatherSnapshot, mergeBreakers, type ClusterSnapshot, type Gatherer, type MetricJson } from '../metrics/cluster.js';
import { summarize } from '../metrics/summary.js';
import { CachedCheck } from './cache.js';
import { checkStore, fullHealth, mainThreadProblem, type FullHealth, type HealthSources, type StoreHealth } from './health.js';
import { Router, type RouterSettings } from './router.js';
import { addApiRoutes } from './api.js';
import { tenantLabel } from '../metrics/labels.js';
import { startAlertFolder } from '../soc/fold.js';
import { startWebhookDispatcher } from '../webhooks/dispatcher.js';
import { Alerting } from '../alerts/service.js';
import { apiKeys } from '../webhooks/keys.js';
import { DEFAULT_TOLERANCE_S } from '../webhooks/signing.js';
import { hostname } from 'node:os';
import type { FeedInfo, Store } from '../store/types.js';
import { AggregatorRegistry } from 'prom-client';

export interface Sidecar {
  address: { host: string; port: number };
  /** Apply a reloaded config (tokens, rate limits, body limit). */
  reconfigure(config: PhishXConfig): void;
  close(): Promise<void>;
}

/** The in-thread sidecar also exposes its server and router (tests add routes to it). */
export interface LocalSidecar extends Sidecar {
  server: http.Server;
  router: Router;
}

/** What the sidecar reads. `gather` defaults to this process (and its cluster workers). */
export type SidecarSources = Omit<HealthSources, 'snapshot'> & {
  gather?: Gatherer;
  harakaDir?: string;
  log?: (level: 'notice' | 'warn' | 'error', message: string) => void;
};

const PHISHX_VERSION: string = (() => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('../../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

const STATE_VALUE = { HEALTHY: 0, DEGRADED: 1, UNHEALTHY: 2 } as const;

function routerSettings(s: PhishXConfig['sidecar'] | undefined): RouterSettings {
  return {
    tokens: s?.tokens ?? [],
    metricsAuth: s?.metrics_auth ?? false,
    ratePerSecond: s?.rate_limit_per_s ?? 20,
    rateBurst: s?.rate_limit_burst ?? 40,
    maxBodyBytes: s?.max_body_bytes ?? 1048576,
  };
}

/** Set the shared-state gauges from the latest full health and this scrape's snapshot. */
function updateSidecarGauges(h: FullHealth | null, snap: ClusterSnapshot, feeds: FeedInfo[]): void {
  sharedStateMetrics.workers.set({ state: 'responding' }, snap.workers.responding);
  sharedStateMetrics.workers.set({ state: 'silent' }, snap.workers.silent);
  sharedStateMetrics.scrapeDuration.set(snap.tookMs / 1000);
  sharedStateMetrics.buildInfo.set({ version: PHISHX_VERSION, node_version: process.versions.node }, 1);
  sharedStateMetrics.feedEntries.reset();
  sharedStateMetrics.feedUpdated.reset();
  for (const f of feeds) {
    sharedStateMetrics.feedEntries.set({ feed: f.name, kind: 'url' }, f.urls);
    sharedStateMetrics.feedEntries.set({ feed: f.name, kind: 'domain' }, f.domains);
    if (f.updatedAt !== null) sharedStateMetrics.feedUpdated.set({ feed: f.name }, Math.round(f.updatedAt / 1000));
  }
  if (!h) return;
  sharedStateMetrics.configValid.set(h.components.config.ok ? 1 : 0);
  sharedStateMetrics.healthState.set(STATE_VALUE[h.status]);
  const c = h.components;
  sharedStateMetrics.componentUp.set({ component: 'config' }, c.config.ok ? 1 : 0);
  sharedStateMetrics.componentUp.set({ component: 'smtp' }, c.smtp.ok ? 1 : 0);
  sharedStateMetrics.componentUp.set({ component: 'store' }, c.store.ok ? 1 : 0);
  if (c.clamav.enabled) sharedStateMetrics.componentUp.set({ component: 'clamav' }, c.clamav.ok ? 1 : 0);
  if (c.nlp.mode !== 'off') sharedStateMetrics.componentUp.set({ component: 'nlp' }, c.nlp.ok ? 1 : 0);
  for (const [component, ms] of Object.entries(h.timings_ms)) sharedStateMetrics.checkDuration.set({ component }, ms / 1000);
  if (c.store.quarantine_entries !== undefined) sharedStateMetrics.quarantineEntries.set(c.store.quarantine_entries);
  if (c.store.kind === 'redis' && c.store.ok) {
    if (typeof c.store.used_memory_bytes === 'number') sharedStateMetrics.redisMemory.set(c.store.used_memory_bytes);
    if (c.store.latency_ms !== undefined) sharedStateMetrics.redisPing.set(c.store.latency_ms / 1000);
  }
}

/**
 * The sidecar's routes. Probes (`/alive`, `/ready`, `/health`) are open and never rate
 * limited; `/health/full` is open but limited; `/metrics` needs a token when
 * `[sidecar] metrics_auth`; `/metrics/summary` always needs one. The SOC API adds its
 * routes to the same router.
 */
export function createSidecarRouter(src: SidecarSources): Router {
  return buildSidecar(src).router;
}

/** The router and the alerting loop of a sidecar (they share the health and metrics caches). */
function buildSidecar(src: SidecarSources): { router: Router; alerting: Alerting } {
  const settings = (): PhishXConfig['sidecar'] | undefined => src.config()?.sidecar;
  const ttl = (): number => settings()?.health_cache_ms ?? 1000;
  const workerTimeout = (): number => settings()?.worker_timeout_ms ?? 1000;
  const gather: Gatherer = src.gather ?? gatherSnapshot;
  // One cache of the processes' breakers. /health/full and /metrics never use one older than
  // health_cache_ms; the probes (/ready, /health) accept older results while a refresh runs
  // (store check up to 2 ×, breakers up to 10 × the TTL), so a busy worker or main thread
  // never slows them.
  const snapshot = new CachedCheck<ClusterSnapshot>(() => gather(workerTimeout(), 'breakers'), ttl);
  const quickStore = new CachedCheck<StoreHealth>(() => checkStore(src.store(), false), ttl, 2);
  const withSnapshot: HealthSources = { ...src, snapshot: () => snapshot.get() };
  const full = new CachedCheck<FullHealth>(() => fullHealth(withSnapshot), ttl, 1, undefined, 'health');
  const feeds = new CachedCheck(
    () =>
      src
        .store()
        .listFeeds()
        .catch(() => []),
    () => Math.max(ttl(), 10_000),
  );
  const openAlerts = new CachedCheck(
    () => openAlertsByTenant(src.store(), new Set(Object.keys(src.config()?.tenants ?? {}))).catch(() => null),
    () => Math.max(ttl(), 5_000),
  );
  let lastFull: FullHealth | null = null;

  const router = new Router(routerSettings(settings()));
  router
    .add({
      method: 'GET',
      path: '/alive',
      auth: 'none',
      limited: false,
      handler: () => ({ status: 200, body: { status: 'alive', pid: process.pid, uptime_s: Math.round(process.uptime()) } }),
    })
    .add({
      method: 'GET',
      path: '/ready',
      auth: 'none',
      limited: false,
      handler: async () => {
        const store = await quickStore.get();
        const checks = { config: src.config() !== null, smtp: src.smtpListening(), store: store.ok };
        const ready = checks.config && checks.smtp && checks.store;
        return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not ready', checks, ...(store.error ? { store_error: store.error } : {}) } };
      },
    })
    .add({
      method: 'GET',
      path: '/health',
      auth: 'none',
      limited: false,
      // Quick: the store and the breakers (both cached). UNHEALTHY (503) when the store is
      // unusable; DEGRADED (200) while a breaker is open (PhishX runs on that fail mode).
      handler: async () => {
        const [store, snap] = await Promise.all([quickStore.get(), snapshot.get(10)]);
        const breakers = mergeBreakers(snap);
        const lag = src.mainThreadLagMs?.() ?? 0;
        const main = mainThreadProblem(lag, snap.mainThread);
        const stuck = main?.level === 'bad';
        const degraded = breakers.some((b) => b.state !== 'closed') || snap.workers.silent > 0 || main?.level === 'degraded';
        const status = !store.ok || stuck ? 'UNHEALTHY' : degraded ? 'DEGRADED' : 'HEALTHY';
        return {
          status: store.ok && !stuck ? 200 : 503,
          body: {
            status,
            store,
            breakers,
            workers: snap.workers,
            ...(src.mainThreadLagMs ? { main_thread: { heartbeat_age_ms: Math.round(lag), numbers: snap.mainThread } } : {}),
          },
        };
      },
    })
    .add({
      method: 'GET',
      path: '/health/full',
      auth: 'none',
      limited: true,
      handler: async () => {
        const h = await full.get();
        lastFull = h;
        return { status: h.status === 'UNHEALTHY' ? 503 : 200, body: h };
      },
    })
    .add({
      method: 'GET',
      path: '/metrics',
      auth: 'metrics',
      limited: true,
      handler: async () => {
        const [snap, h, feedList, alerts] = await Promise.all([
          gather(workerTimeout(), 'all'),
          full.get().catch(() => lastFull),
          feeds.get(),
          openAlerts.get(),
        ]);
        if (h) lastFull = h;
        updateSidecarGauges(h, snap, feedList);
        if (alerts) {
          sharedStateMetrics.socAlertsOpen.reset();
          for (const [tenant, n] of alerts) sharedStateMetrics.socAlertsOpen.set({ tenant }, n);
        }
        const text = (await aggregatedText(snap)) + (await sidecarRegistry.metrics());
        return { status: 200, body: text, contentType: sidecarRegistry.contentType };
      },
    })
    .add({
      method: 'GET',
      path: '/metrics/summary',
      auth: 'token',
      limited: true,
      handler: async () => {
        const [snap, h] = await Promise.all([gather(workerTimeout(), 'all'), full.get().catch(() => lastFull)]);
        const merged = (await AggregatorRegistry.aggregate(snap.processes.map((p) => p.metrics)).getMetricsAsJSON()) as unknown as MetricJson[];
        return {
          status: 200,
          body: {
            generated_at: new Date().toISOString(),
            ...summarize(merged, {
              status: h?.status,
              workers: snap.workers,
              quarantineEntries: h?.components.store.quarantine_entries ?? null,
              uptimeS: process.uptime(),
            }),
            breakers: mergeBreakers(snap),
            // Who did the work: scans per process (a stale entry is a silent process's last answer).
            processes: snap.processes.map((p) => ({
              pid: p.pid,
              role: p.role,
              scanned: (p.metrics.find((m) => m.name === 'phishx_messages_scanned_total')?.values ?? []).reduce((a, v) => a + v.value, 0),
              ...(p.staleMs !== undefined ? { stale_ms: p.staleMs } : {}),
            })),
            problems: h?.problems ?? [],
          },
        };
      },
    });
  addApiRoutes(router, { config: src.config, store: src.store, harakaDir: src.harakaDir ?? process.env.HARAKA ?? process.cwd() });
  // Requests signed with an API key (`phishx keys new --scope …`); nonces shared through the store (Redis: every node).
  router.acceptSignedRequests({
    keys: async () => apiKeys(await src.store().getKeyRing(), Date.now()),
    nonces: { add: (nonce, expiresAtS) => src.store().claimNonce(nonce, expiresAtS) },
    toleranceS: DEFAULT_TOLERANCE_S,
  });
  const alerting = new Alerting({
    store: src.store,
    config: src.config,
    node: `${hostname()}:${process.pid}`,
    log: (level, m) => src.log?.(level === 'info' ? 'notice' : 'warn', m),
    metrics: async () => {
      const snap = await gather(workerTimeout(), 'all');
      return (await AggregatorRegistry.aggregate(snap.processes.map((p) => p.metrics)).getMetricsAsJSON()) as unknown as MetricJson[];
    },
    breakers: async () => mergeBreakers(await snapshot.get()),
    health: async () => {
      const h = await full.get().catch(() => lastFull);
      if (!h) return null;
      lastFull = h;
      const probes: Record<string, boolean> = { store: h.components.store.ok };
      if (h.components.clamav.enabled) probes.clamav = h.components.clamav.ok;
      if (h.components.nlp.mode === 'http') probes.nlp = h.components.nlp.ok;
      return { probes, storeMs: h.components.store.latency_ms ?? null };
    },
  });
  return { router, alerting };
}

/** Open SOC alerts counted by tenant label (an alert of several tenants counts for each); at most 10,000 alerts looked at. */
async function openAlertsByTenant(store: Store, configured: ReadonlySet<string>): Promise<Map<string, number>> {
  const counts = new Map<string, number>([['default', 0]]);
  for (const t of configured) counts.set(t, 0);
  let cursor: string | null = null;
  let seen = 0;
  do {
    const page = await store.listAlerts({ status: ['open'], limit: 500, cursor });
    for (const a of page.items) for (const t of new Set(a.tenants.map((x) => tenantLabel(x, configured)))) counts.set(t, (counts.get(t) ?? 0) + 1);
    seen += page.items.length;
    cursor = page.nextCursor;
  } while (cursor && seen < 10_000);
  return counts;
}

/**
 * Close a connection at once when its address already holds `max()` open ones: a single
 * client holding idle sockets cannot fill the server's connection table.
 */
export function limitConnectionsPerAddress(server: net.Server, max: () => number): void {
  const open = new Map<string, number>();
  server.on('connection', (sock: net.Socket) => {
    const addr = sock.remoteAddress ?? 'unknown';
    const n = (open.get(addr) ?? 0) + 1;
    if (n > max()) {
      processMetrics.httpConnectionsRefused.inc();
      sock.destroy();
      return;
    }
    open.set(addr, n);
    sock.once('close', () => {
      const left = (open.get(addr) ?? 1) - 1;
      if (left <= 0) open.delete(addr);
      else open.set(addr, left);
    });
  });
}

/** How long a closing connection keeps reading (and discarding) what the client still sends. */
const LINGER_MS = 2000;

/**
 * Close without losing the last answer: half-close, then read and discard what the client
 * is still sending until it closes too (or LINGER_MS). Closing at once while input is
 * unread, or while more is on its way, makes the kernel answer with a reset — and a client
 * still writing (a pipelined request, the rest of a body) gets the reset on its next write
 * and loses the answer it had not read yet (the "lingering close" of RFC 9112 §9.6; the
 * sidecar fuzzer found the bare closes).
 */
const lingering = new WeakSet<net.Socket>();

function lingerAndClose(socket: net.Socket): void {
  if (lingering.has(socket)) return;
  lingering.add(socket);
  socket.on('error', () => undefined);
  // The HTTP parser is done with this connection: what still arrives is only discarded
  // (it would raise further parse errors on a socket already answered). Adding a 'data'
  // listener also takes the socket back from the parser.
  socket.removeAllListeners('data');
  socket.on('data', () => undefined);
  if (socket.writable) socket.end();
  socket.resume();
  // The client's end closes the socket (both sides done); a client that never ends is cut.
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/** Answer `status` to a request the router never saw, and close gracefully. */
function answerAndLinger(socket: net.Socket, status: string): void {
  if (lingering.has(socket)) return;
  socket.end(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
  lingerAndClose(socket);
}

/**
 * Node's HTTP server ends a connection after a `Connection: close` response (or once a
 * half-closed client has its answer) with `socket.destroySoon()`: the socket is closed as
 * soon as the response is flushed, and whatever the client sends after that draws a reset.
 * Each accepted socket closes gracefully instead. (`destroySoon` is what Node 20's
 * _http_server.js calls there; were a later Node not to call it, its own close would stand
 * and the unit test "closes gracefully after its answer" would fail.)
 */
function closeConnectionsGracefully(server: net.Server): void {
  server.on('connection', (socket: net.Socket) => {
    socket.destroySoon = () => lingerAndClose(socket);
  });
}

export function startSidecar(listen: { host: string; port: number }, src: SidecarSources): Promise<LocalSidecar> {
  const { router, alerting } = buildSidecar(src);
  alerting.start();
  // SOC alerts are folded from the event log here: one sidecar per Haraka instance.
  const folder = startAlertFolder(src.store, src.config, (m) => src.log?.('warn', m));
  // Slow and idle clients: headers within 5 s (checked every second, not Node's default 30 s),
  // a whole request within 10 s, an idle socket closed after 30 s.
  const server = http.createServer({ connectionsCheckingInterval: 1000, headersTimeout: 5_000, requestTimeout: 10_000 }, router.listener);
  server.keepAliveTimeout = 5_000;
  server.timeout = 30_000;
  // A client that sends its request and half-closes (`nc -N`, some probes) still gets the
  // answer: without this Node drops a response that is not ready when the input ends
  // (an undocumented but long-standing http.Server property).
  (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.maxHeadersCount = 100;
  // A connection flood cannot take the process's file descriptors (probes need few).
  server.maxConnections = 1024;
  limitConnectionsPerAddress(server, () => src.config()?.sidecar.max_connections_per_ip ?? 64);
  closeConnectionsGracefully(server);
  // CONNECT and requests the parser refuses bypass the request listener: answer them too,
  // and close gracefully. (With no 'upgrade' listener, a request asking for an upgrade is
  // served as the plain request it also is.)
  server.on('connect', (_req: http.IncomingMessage, socket: net.Socket) => answerAndLinger(socket, '405 Method Not Allowed'));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    if (lingering.has(socket)) return;
    if (err.code === 'ECONNRESET') return void socket.destroy();
    if (!socket.writable) return lingerAndClose(socket);
    answerAndLinger(
      socket,
      err.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request',
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE' ? 'address already in use (another PhishX or program holds it; set [sidecar] listen or PHISHX_SIDECAR_LISTEN)' : err.message;
      folder.stop();
      alerting.stop();
      reject(new PhishXError('PHISHX_SIDECAR_LISTEN', `sidecar cannot listen on ${listen.host}:${listen.port}: ${why}`, { cause: err }));
    });
    server.listen(listen.port, listen.host, () => {
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : listen.port;
      // Webhook deliveries run here too; the consumer name is stable across restarts (its
      // unacknowledged events come back at once) and distinct per sidecar.
      const webhooks = startWebhookDispatcher({
        store: src.store,
        config: src.config,
        consumer: `${hostname()}:${port}`,
        log: (level, m) => src.log?.(level === 'info' ? 'notice' : 'warn', m),
      });
      resolve({
        server,
        router,
        address: { host: listen.host, port },
        reconfigure: (config) => router.configure(routerSettings(config.sidecar)),
        close: () =>
          new Promise((r) => {
            folder.stop();
            alerting.stop();
            void webhooks.stop();
            void closePreviewPool();
            // Graceful: stop accepting, let in-flight requests finish (bounded), then drop idle keep-alives.
            server.close(() => r());
            server.closeIdleConnections();
            setTimeout(() => server.closeAllConnections(), 2000).unref();
          }),
      });
    });
  });
}
