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

const BEAT_MS = 500;
const CLOSE_GRACE_MS = 3000;

/**
 * Start the sidecar in a worker thread (single-process mode) and serve its questions:
 * this thread's metrics and breakers, and the in-memory store's counts. Resolves once the
 * thread listens; rejects with PHISHX_SIDECAR_LISTEN when it cannot.
 */
export function startSidecarThread(listen: { host: string; port: number }, opts: ThreadHostOptions): Promise<Sidecar> {
  const worker = new Worker(path.join(__dirname, 'thread.js'), { workerData: { listen, config: opts.config() } satisfies ThreadData });
  worker.unref(); // never keeps Haraka alive
  const send = (m: ToThread): void => {
    try {
      worker.postMessage(m);
    } catch {
      /* the thread is gone; its exit is logged */
    }
  };
  const answer = (id: number, work: () => Promise<unknown>): void => {
    work().then(
      (value) => send({ type: 'res', id, ok: true, value }),
      (err: unknown) => send({ type: 'res', id, ok: false, error: errorMessage(err) }),
    );
  };
  let started = false;
  let closing = false;
  const beat = setInterval(() => send({ type: 'beat', smtp: opts.smtpListening() }), BEAT_MS);
  beat.unref();
  send({ type: 'beat', smtp: opts.smtpListening() });

  return new Promise((resolve, reject) => {
    worker.on('message', (m: FromThread) => {
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
          started = true;
          return resolve({
            address: m.address,
            reconfigure: (config) => send({ type: 'config', config }),
            close: () =>
              new Promise<void>((done) => {
                closing = true;
                clearInterval(beat);
                const timer = setTimeout(() => void worker.terminate().finally(done), CLOSE_GRACE_MS);
                worker.once('exit', () => {
                  clearTimeout(timer);
                  done();
                });
                send({ type: 'close' });
              }),
          });
      }
    });
    worker.on('error', (err) => {
      if (!started) reject(new PhishXError('PHISHX_SIDECAR_LISTEN', `sidecar thread failed to start: ${errorMessage(err)}`, { cause: err }));
      else opts.log('error', `sidecar thread failed: ${errorMessage(err)} (the sidecar is down; mail flow is not affected)`);
    });
    worker.on('exit', (code) => {
      clearInterval(beat);
      if (!started) reject(new PhishXError('PHISHX_SIDECAR_LISTEN', `sidecar thread exited (${code}) before listening`));
      else if (!closing) opts.log('error', `sidecar thread exited (${code}); the sidecar is down until Haraka restarts`);
    });
  });
}
