import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PhishXConfig } from '../config/types.js';
import { errorMessage, PhishXError } from '../errors.js';
import { localSnapshot } from '../metrics/cluster.js';
import type { Store } from '../store/types.js';
import type { Sidecar } from './server.js';
import type { FromThread, ThreadData, ToThread } from './thread-protocol.js';

export interface ThreadHostOptions {
  config(): PhishXConfig;
  smtpListening(): boolean;
  store(): Store;
  log(level: 'notice' | 'warn' | 'error', message: string): void;
}

/** The handle of a sidecar running in a thread. */
export interface ThreadSidecar extends Sidecar {
  /** The current thread (diagnostics and tests). */
  readonly thread: Worker;
  /** Times the thread was restarted after it ended unexpectedly. */
  readonly restarts: number;
}

const BEAT_MS = 500;
const CLOSE_GRACE_MS = 3000;
const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 30_000;
/** A thread that ran this long before it ended starts the backoff afresh; one that keeps dying sooner waits longer each time. */
const STABLE_MS = 60_000;

/**
 * Start the sidecar in a worker thread (single-process mode) and serve its questions:
 * this thread's metrics and breakers, and the in-memory store's counts. Resolves once the
 * thread listens; rejects with PHISHX_SIDECAR_LISTEN when it cannot. A thread that ends
 * unexpectedly later is started again (backoff 1 s doubling to 30 s while it keeps dying
 * within a minute of its start); mail flow never depends on it.
 */
export function startSidecarThread(listen: { host: string; port: number }, opts: ThreadHostOptions): Promise<ThreadSidecar> {
  let worker!: Worker;
  let closing = false;
  let restarts = 0;
  let backoff = RESTART_MIN_MS;
  let address = listen;
  const exited = new WeakSet<Worker>();

  const send = (m: ToThread): void => {
    try {
      worker.postMessage(m);
    } catch {
      /* the thread is gone; its exit is handled */
    }
  };
  const beat = setInterval(() => send({ type: 'beat', smtp: opts.smtpListening() }), BEAT_MS);
  beat.unref();

  /** One thread: resolves when it listens, rejects when it cannot. */
  const spawn = (): Promise<void> =>
    new Promise((resolve, reject) => {
      let listening = false;
      let listeningAt = 0;
      // A restart listens where the first thread did (port 0 resolved to the real port).
      const w = new Worker(path.join(__dirname, 'thread.js'), {
        workerData: { listen: address, config: opts.config() } satisfies ThreadData,
        // Light work (HTTP answers, metrics, alert folding): a 4 MB young generation instead of
        // V8's default of 16 MB semi-spaces: Haraka + PhishX is ~14 MB smaller at rest (measured)
        // (docs/benchmarks.md). Not a heap limit: the old generation is not capped.
        resourceLimits: { maxYoungGenerationSizeMb: 4 },
      });
      worker = w;
      w.unref(); // never keeps Haraka alive
      const answer = (id: number, work: () => Promise<unknown>): void => {
        work().then(
          (value) => send({ type: 'res', id, ok: true, value }),
          (err: unknown) => send({ type: 'res', id, ok: false, error: errorMessage(err) }),
        );
      };
      w.on('message', (m: FromThread) => {
        switch (m.type) {
          case 'req':
            if (m.op === 'snapshot') answer(m.id, () => localSnapshot('main-thread', m.scope));
            else answer(m.id, async () => opts.store()[m.method]());
            return;
          case 'log':
            return opts.log(m.level, m.message);
          case 'listen_error':
            return reject(new PhishXError('PHISHX_SIDECAR_LISTEN', m.message));
          case 'listening':
            listening = true;
            listeningAt = performance.now();
            address = m.address;
            return resolve();
        }
      });
      w.on('error', (err) => {
        if (!listening) reject(new PhishXError('PHISHX_SIDECAR_LISTEN', `sidecar thread failed to start: ${errorMessage(err)}`, { cause: err }));
        else opts.log('error', `sidecar thread failed: ${errorMessage(err)}`);
      });
      w.on('exit', (code) => {
        exited.add(w);
        if (!listening) return reject(new PhishXError('PHISHX_SIDECAR_LISTEN', `sidecar thread exited (${code}) before listening`));
        if (closing || w !== worker) return;
        if (performance.now() - listeningAt >= STABLE_MS) backoff = RESTART_MIN_MS;
        opts.log('error', `sidecar thread exited (${code}); restarting it in ${backoff / 1000} s (mail flow is not affected)`);
        scheduleRestart();
      });
      send({ type: 'beat', smtp: opts.smtpListening() });
    });

  const scheduleRestart = (): void => {
    const wait = backoff;
    backoff = Math.min(RESTART_MAX_MS, backoff * 2);
    setTimeout(() => {
      if (closing) return;
      restarts++;
      spawn().then(
        () => opts.log('notice', `sidecar thread restarted, listening on http://${address.host}:${address.port}`),
        (err: unknown) => {
          opts.log('error', `sidecar thread restart failed: ${errorMessage(err)}; retrying`);
          scheduleRestart();
        },
      );
    }, wait).unref();
  };

  return spawn().then(
    () => ({
      get address() {
        return address;
      },
      get thread() {
        return worker;
      },
      get restarts() {
        return restarts;
      },
      reconfigure: (config: PhishXConfig) => send({ type: 'config', config }),
      close: () =>
        new Promise<void>((done) => {
          closing = true;
          clearInterval(beat);
          const w = worker;
          if (exited.has(w)) return done();
          const timer = setTimeout(() => void w.terminate().finally(done), CLOSE_GRACE_MS);
          w.once('exit', () => {
            clearTimeout(timer);
            done();
          });
          send({ type: 'close' });
        }),
    }),
    (err: unknown) => {
      closing = true;
      clearInterval(beat);
      throw err;
    },
  );
}
