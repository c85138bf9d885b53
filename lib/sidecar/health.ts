import type { ClamdClient } from '../clamav/client.js';
import type { PhishXConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { ClusterSnapshot } from '../metrics/cluster.js';
import { mergeBreakers } from '../metrics/cluster.js';
import type { Store } from '../store/types.js';

export type HealthStatus = 'HEALTHY' | 'DEGRADED' | 'UNHEALTHY';

/** What the health checks read; the Haraka adapter supplies the live objects. */
export interface HealthSources {
  config(): PhishXConfig | null;
  /** Haraka is accepting SMTP connections. */
  smtpListening(): boolean;
  store(): Store;
  clamd(): ClamdClient | null;
  /** NLP service probe (ms), or null when the embedded model is used. */
  nlpProbe(): ((deadlineMs: number) => Promise<number>) | null;
  /** Breakers and workers across processes (cached by the caller). */
  snapshot(): Promise<ClusterSnapshot>;
  /** Sidecar thread only: ms since the main (scanning) thread's last heartbeat. */
  mainThreadLagMs?(): number;
}

/** Main-thread heartbeat age beyond which the sidecar reports it busy (DEGRADED) or stuck (UNHEALTHY). */
export const MAIN_BUSY_MS = 2000;
export const MAIN_STUCK_MS = 30_000;

export interface StoreHealth {
  ok: boolean;
  kind: string;
  latency_ms?: number;
  used_memory_bytes?: number | null;
  quarantine_entries?: number;
  error?: string;
}

export interface FullHealth {
  status: HealthStatus;
  /** Why the status is not HEALTHY, one line per problem. */
  problems: string[];
  checked_at: string;
  components: {
    config: { ok: boolean };
    smtp: { ok: boolean };
    store: StoreHealth;
    clamav: { enabled: boolean; ok: boolean; hosts: Array<{ host: string; ok: boolean; ms?: number; version?: string; error?: string }> };
    nlp: { mode: 'embedded' | 'http' | 'off'; ok: boolean; latency_ms?: number; error?: string };
  };
  breakers: ReturnType<typeof mergeBreakers>;
  workers: ClusterSnapshot['workers'];
  /** Sidecar thread only: whether the main (scanning) thread answered in time, and its heartbeat age. */
  main_thread?: 'responding' | 'silent';
  main_thread_lag_ms?: number;
  /** Check latency per component, ms. */
  timings_ms: Record<string, number>;
}

const PROBE_DEADLINE_MS = 2000;
const round = (ms: number): number => Math.round(ms * 100) / 100;

async function timed<T>(timings: Record<string, number>, name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings[name] = round(performance.now() - t0);
  }
}

/** Store health: `ok` from PING; with `full`, memory use and quarantine depth when they can be read. */
export async function checkStore(store: Store, full: boolean): Promise<StoreHealth> {
  let out: StoreHealth;
  try {
    out = { ok: true, kind: store.kind, latency_ms: round(await store.ping()) };
  } catch (err) {
    return { ok: false, kind: store.kind, error: errorMessage(err) };
  }
  if (full) {
    const [mem, count] = await Promise.allSettled([store.usedMemoryBytes(), store.countQuarantine()]);
    if (mem.status === 'fulfilled') out.used_memory_bytes = mem.value;
    if (count.status === 'fulfilled') out.quarantine_entries = count.value;
  }
  return out;
}

/**
 * The main (scanning) thread, seen from the sidecar thread: no heartbeat for 30 s is bad
 * (its event loop is blocked), for 2 s or numbers that did not arrive is degraded (busy).
 * Shared by /health and /health/full. Pure.
 */
export function mainThreadProblem(lagMs: number, numbers: 'responding' | 'silent' | undefined): { level: 'bad' | 'degraded'; text: string } | null {
  if (lagMs > MAIN_STUCK_MS)
    return { level: 'bad', text: `main thread: no heartbeat for ${Math.round(lagMs / 1000)} s (event loop blocked; SMTP sessions stall)` };
  if (lagMs > MAIN_BUSY_MS) return { level: 'degraded', text: `main thread: busy, no heartbeat for ${(lagMs / 1000).toFixed(1)} s` };
  if (numbers === 'silent') return { level: 'degraded', text: 'main thread: busy, its numbers did not arrive within [sidecar] worker_timeout_ms' };
  return null;
}

/**
 * Overall status from component results. Pure.
 *  UNHEALTHY (HTTP 503): config invalid, SMTP not listening, store unusable, every worker
 *    silent, or a failing service whose `[defer]` fail mode is answering mail 451.
 *  DEGRADED (200): a service is down but mail flows on its fail mode, a breaker is not
 *    closed, or some worker is silent.
 */
export function judge(
  h: Omit<FullHealth, 'status' | 'problems' | 'checked_at' | 'timings_ms'>,
  config: PhishXConfig | null,
): { status: HealthStatus; problems: string[] } {
  const bad: string[] = [];
  const degraded: string[] = [];
  const c = h.components;
  if (!c.config.ok) bad.push('config: phishx.ini not loaded');
  if (!c.smtp.ok) bad.push('smtp: Haraka is not listening');
  if (!c.store.ok) bad.push(`store (${c.store.kind}): ${c.store.error ?? 'unusable'}`);
  if (h.workers.asked > 0 && h.workers.responding === 0) bad.push(`workers: none of ${h.workers.asked} answered`);
  else if (h.workers.silent > 0) degraded.push(`workers: ${h.workers.silent} of ${h.workers.asked} silent`);
  const main = mainThreadProblem(h.main_thread_lag_ms ?? 0, h.main_thread);
  if (main) (main.level === 'bad' ? bad : degraded).push(main.text);
  if (c.clamav.enabled && !c.clamav.ok) {
    const why = c.clamav.hosts.map((x) => `${x.host}: ${x.error ?? 'down'}`).join('; ');
    (config?.defer.clamav ? bad : degraded).push(
      `clamav: no clamd answered (${why})${config?.defer.clamav ? '; [defer] clamav: mail is answered 451' : '; mail flows unscanned for viruses'}`,
    );
  } else if (c.clamav.enabled && c.clamav.hosts.some((x) => !x.ok)) {
    degraded.push(
      `clamav: ${c.clamav.hosts
        .filter((x) => !x.ok)
        .map((x) => x.host)
        .join(', ')} down`,
    );
  }
  if (c.nlp.mode === 'http' && !c.nlp.ok) {
    (config?.defer.nlp ? bad : degraded).push(
      `nlp: ${c.nlp.error ?? 'unreachable'}${config?.defer.nlp ? '; [defer] nlp: mail is answered 451' : `; ${config?.nlp.fallback === 'embedded' ? 'embedded model used instead' : 'no text score'}`}`,
    );
  }
  for (const b of h.breakers) if (b.state !== 'closed') degraded.push(`breaker ${b.service}: ${b.state}`);
  const problems = [...bad, ...degraded];
  return { status: bad.length ? 'UNHEALTHY' : degraded.length ? 'DEGRADED' : 'HEALTHY', problems };
}

/** Every component checked (in parallel, each bounded). Callers cache the result. */
export async function fullHealth(src: HealthSources): Promise<FullHealth> {
  const timings: Record<string, number> = {};
  const config = src.config();
  const clamd = src.clamd();
  const nlpProbe = src.nlpProbe();
  const [store, clamHosts, nlp, snapshot] = await Promise.all([
    timed(timings, 'store', () => checkStore(src.store(), true)),
    clamd ? timed(timings, 'clamav', () => clamd.ping(PROBE_DEADLINE_MS)) : Promise.resolve([]),
    nlpProbe
      ? timed(timings, 'nlp', () =>
          nlpProbe(PROBE_DEADLINE_MS).then(
            (ms) => ({ mode: 'http' as const, ok: true, latency_ms: round(ms) }),
            (err: unknown) => ({ mode: 'http' as const, ok: false, error: errorMessage(err) }),
          ),
        )
      : Promise.resolve({ mode: config?.nlp.enabled ? ('embedded' as const) : ('off' as const), ok: true }),
    timed(timings, 'workers', () => src.snapshot()),
  ]);
  const body = {
    components: {
      config: { ok: config !== null },
      smtp: { ok: src.smtpListening() },
      store,
      clamav: {
        enabled: clamd !== null,
        ok: clamd === null || clamHosts.some((x) => x.ok),
        hosts: clamHosts.map((x) => ({ ...x, ...(x.ms !== undefined ? { ms: round(x.ms) } : {}) })),
      },
      nlp,
    },
    breakers: mergeBreakers(snapshot),
    workers: snapshot.workers,
    ...(snapshot.mainThread ? { main_thread: snapshot.mainThread } : {}),
    ...(src.mainThreadLagMs ? { main_thread_lag_ms: Math.round(src.mainThreadLagMs()) } : {}),
  };
  return { ...judge(body, config), checked_at: new Date().toISOString(), ...body, timings_ms: timings };
}
