/**
 * Entry point of the sidecar thread (single-process mode, `nodes=0`). The HTTP server runs
 * here so that probes and scrapes are answered while the main thread is busy scanning:
 * health checks of Redis, clamd and the NLP service use this thread's own clients; the
 * main thread's numbers (metrics, breakers) and its in-memory store are asked for over
 * the message port with a deadline, and the last answers are served while it is busy.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { clamdFor } from '../clamav/client.js';
import type { PhishXConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { LastAnswers, localSnapshot, type ClusterSnapshot, type SnapshotScope } from '../metrics/cluster.js';
import { nlpProbeFor } from '../nlp/http-client.js';
import { createStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { MAIN_STUCK_MS } from './health.js';
import { startSidecar } from './server.js';
import type { FromThread, StoreQuery, ThreadData, ToThread } from './thread-protocol.js';

const port = parentPort!;
const data = workerData as ThreadData;
let config: PhishXConfig = data.config;
let smtp = false;
let lastBeat = performance.now();
let nextId = 1;
const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

const post = (m: FromThread): void => port.postMessage(m);

function ask(req: { op: 'snapshot'; scope: SnapshotScope } | { op: 'store'; method: StoreQuery }, timeoutMs: number): Promise<unknown> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error(`main thread did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    waiting.set(id, { resolve, reject, timer });
    post({ type: 'req', id, ...req });
  });
}

port.on('message', (m: ToThread) => {
  if (m.type === 'config') {
    config = m.config;
    sidecar?.reconfigure(config);
  } else if (m.type === 'beat') {
    smtp = m.smtp;
    lastBeat = performance.now();
  } else if (m.type === 'close') {
    void (sidecar?.close() ?? Promise.resolve()).finally(() => {
      void store.close();
      port.close();
    });
  } else if (m.type === 'res') {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    clearTimeout(w.timer);
    if (m.ok) w.resolve(m.value);
    else w.reject(new Error(m.error));
  }
});

/**
 * The embedded store as this thread sees it: the quarantine on disk directly (the same
 * directory the main thread writes), the feeds (loaded into the main thread's memory)
 * through the port. A main thread that stopped answering makes it unusable, as a stuck
 * process would.
 */
function embeddedStore(): Store {
  const files = createStore(config);
  const q = <T>(method: StoreQuery): Promise<T> => ask({ op: 'store', method }, config.sidecar.worker_timeout_ms) as Promise<T>;
  return new Proxy(files, {
    get(target, key) {
      if (key === 'listFeeds') return () => q('listFeeds');
      if (key === 'ping') {
        return async () => {
          const age = performance.now() - lastBeat;
          if (age > MAIN_STUCK_MS) throw new Error(`main thread unresponsive for ${Math.round(age / 1000)} s`);
          return target.ping();
        };
      }
      const v: unknown = Reflect.get(target, key);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const store: Store = config.redis.url ? createStore(config) : embeddedStore();

const mainAnswers = new LastAnswers();

async function gather(timeoutMs: number, scope: SnapshotScope): Promise<ClusterSnapshot> {
  const t0 = performance.now();
  const own = await localSnapshot('sidecar-thread', scope);
  const main = (await ask({ op: 'snapshot', scope }, timeoutMs).catch(() => null)) as ClusterSnapshot['processes'][number] | null;
  if (main && scope === 'all') mainAnswers.remember('main', main);
  const shown = main ?? (scope === 'all' ? mainAnswers.recall('main') : null);
  return {
    processes: shown ? [shown, own] : [own],
    workers: { asked: 0, responding: 0, silent: 0 },
    mainThread: main ? 'responding' : 'silent',
    tookMs: performance.now() - t0,
  };
}

let sidecar: Awaited<ReturnType<typeof startSidecar>> | null = null;

startSidecar(data.listen, {
  config: () => config,
  smtpListening: () => smtp,
  store: () => store,
  clamd: () => clamdFor(config.clamav, config['breaker.clamav']),
  nlpProbe: () => nlpProbeFor(config),
  gather,
  mainThreadLagMs: () => performance.now() - lastBeat,
  log: (level, message) => post({ type: 'log', level, message }),
})
  .then((s) => {
    sidecar = s;
    post({ type: 'listening', address: s.address });
  })
  .catch((err: unknown) => {
    // The host rejects on this message and the thread ends (nothing left to run).
    post({ type: 'listen_error', message: errorMessage(err) });
    void store.close();
    port.close();
  });
