/**
 * The scan's CPU-bound part (lib/scan-local.ts) on a pool of worker threads (piscina), so
 * Haraka's event loop keeps accepting and answering sessions while messages are parsed and
 * analysed, and a message that takes long to parse delays only its own session.
 *
 * A task the scan stops waiting for (budget + grace) is aborted: piscina terminates that
 * thread and starts a new one, so a message that would spin forever cannot take a core for
 * good. (No per-thread heap limit: on Node 20 a worker reaching its resourceLimits can abort
 * the whole process instead of ending alone.) The message bytes go to the thread by transfer,
 * not by cloning: the plugin's own reading of the message when it hands it over (ClamAV not
 * reading it too), else a copy.
 */
import os from 'node:os';
import path from 'node:path';
import cluster from 'node:cluster';
import Piscina from 'piscina';
import { PhishXError } from './errors.js';
import { FairSlots } from './fair-slots.js';
import { withoutStack } from './timeout.js';
import type { PhishXConfig } from './config/types.js';
import type { LocalScanner } from './scan.js';
import type { LocalScan } from './scan-local.js';
import type { ScanTask } from './scan-thread.js';

/** Threads `[main] scan_threads` asks for: `auto` (-1) is one per core but one (at least 1), 1 per process with `nodes=N`. */
export function scanThreads(config: PhishXConfig, cores = os.availableParallelism(), clustered = cluster.isWorker): number {
  const n = config.main.scan_threads;
  if (n >= 0) return n;
  return clustered ? 1 : Math.max(1, cores - 1);
}

/**
 * Scans that may hold their message's bytes at once, per thread: the one the thread runs and
 * two waiting, so it does not idle while the next message is read. A thread runs one scan at a
 * time: every scan carries an abort signal (one past its budget is stopped by ending its
 * thread), and piscina gives a thread running an abortable task no second task — ending the
 * thread would end that one too — whatever `concurrentTasksPerWorker` says.
 */
const PLACES_PER_THREAD = 3;

/**
 * Scans that may hold their message's bytes at once (PLACES_PER_THREAD per thread). The rest
 * wait before reading (`admit`): a message queued for a thread would otherwise sit in memory
 * twice, in Haraka's message stream and in the buffer handed to the thread (100 sessions of 1
 * MB: ~96 MB). The places are shared fairly between client networks (lib/fair-slots.ts).
 */
export function admissionSlots(threads: number): number {
  return threads * PLACES_PER_THREAD;
}

export interface ScanPool {
  readonly threads: number;
  readonly scan: LocalScanner;
  /**
   * Wait (at most `timeoutMs`) until a scan may read its message and hand it to a thread; the
   * returned function gives the place back (idempotent: call it when the thread's task settles,
   * and again in a finally). Rejects with PhishXError `PHISHX_BUDGET_EXCEEDED` when no place came in time.
   * `sender` (the client's network, `clientNetwork` in lib/ip-address.ts) orders the waiters: a freed place
   * goes to the sender holding the fewest, so one network's flood of costly messages queues
   * behind itself and a message from elsewhere takes the next place.
   */
  admit(timeoutMs: number, sender?: string): Promise<() => void>;
  /**
   * Back-pressure before a message is received: resolves at once (`now`) while fewer than `max`
   * received messages wait in `admit` — or fewer than 2 × `max` and none of them from `sender`
   * (the client's network): one network's flood does not hold back everyone's DATA, and memory
   * stays bounded —, else when a place is given, to one of them or given back with none
   * waiting (`waited`: one caller per place, of the network with the fewest messages waiting,
   * oldest first), or after `timeoutMs` (`timeout`). Never rejects.
   */
  whenRoom(max: number, timeoutMs: number, sender?: string): Promise<'now' | 'waited' | 'timeout'>;
  /** Received messages waiting in `admit` for a place now. */
  waitingToScan(): number;
  /** Tasks waiting for a thread. */
  queued(): number;
  /** The ids of the running threads (a stopped thread's replacement has a new one). */
  threadIds(): number[];
  /** Wait for the tasks in progress, then stop the threads. */
  close(): Promise<void>;
}

export function createScanPool(config: PhishXConfig, threads = scanThreads(config)): ScanPool {
  const pool = new Piscina<ScanTask, LocalScan>({
    filename: path.join(__dirname, 'scan-thread.js'),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    // One scan per thread at a time (PLACES_PER_THREAD): piscina's default concurrentTasksPerWorker.
    workerData: { config },
    // A young generation of 8 MB instead of V8's 32: a scan's garbage is short-lived, and the
    // thread stays ~24 MB smaller at the same speed (old-generation size is not limited, see above).
    resourceLimits: { maxYoungGenerationSizeMb: 8 },
  });
  /** Callers of whenRoom waiting for a place to be freed, oldest first. */
  const roomWaiters: Array<{ sender: string; wake: (how: 'waited') => void }> = [];
  // One held-back DATA goes on per place given: to a message waiting for it (admit's finally
  // below), or, when none waits, for the place itself — else held-back DATA would wait out its
  // timeout beside free places once the messages waiting had all been placed.
  const slots = new FairSlots(admissionSlots(threads), () => wakeOne());
  /** One held-back DATA goes on: of the network with the fewest messages waiting for a place, the oldest. */
  const wakeOne = (): void => {
    let pick = -1;
    let fewest = Infinity;
    for (let i = 0; i < roomWaiters.length; i++) {
      const n = slots.waiting(roomWaiters[i].sender);
      if (n < fewest) [pick, fewest] = [i, n];
    }
    if (pick >= 0) roomWaiters.splice(pick, 1)[0].wake('waited');
  };
  return {
    threads,
    admit: async (timeoutMs, sender = 'other') => {
      // The error for the timeout is built only when it is thrown, and without a stack (its code
      // and message say what happened; building it up front was 0.7 % of the SMTP thread, --cpu-prof).
      const late = (): Error => withoutStack(() => new PhishXError('PHISHX_BUDGET_EXCEEDED', `no scan thread free within ${Math.round(timeoutMs)} ms`));
      if (slots.freeNow()) return slots.acquire(sender, timeoutMs, late);
      try {
        return await slots.acquire(sender, timeoutMs, late);
      } finally {
        wakeOne(); // it has its place, or has given up
      }
    },
    whenRoom: (max, timeoutMs, sender = 'other') => {
      const waiting = slots.waiting();
      if (waiting < max || (waiting < 2 * max && slots.waiting(sender) === 0)) return Promise.resolve('now');
      return new Promise((resolve) => {
        const timer = setTimeout(
          () => {
            const i = roomWaiters.indexOf(entry);
            if (i >= 0) roomWaiters.splice(i, 1);
            resolve('timeout');
          },
          Math.max(1, Math.round(timeoutMs)),
        );
        timer.unref();
        const entry = {
          sender,
          wake: (how: 'waited'): void => {
            clearTimeout(timer);
            resolve(how);
          },
        };
        roomWaiters.push(entry);
      });
    },
    waitingToScan: () => slots.waiting(),
    scan: (raw, envelope, _config, opts, signal, handOver) => {
      // Transferred, never cloned. A buffer handed over moves as it is (its memory is its own);
      // otherwise one exact-size copy moves — posting `raw` itself would clone its whole
      // backing ArrayBuffer (Node's small buffers are views into a shared pool).
      const bytes = handOver && raw.buffer instanceof ArrayBuffer ? raw : new Uint8Array(raw);
      return pool.run({ raw: bytes, envelope, opts }, { signal, transferList: [bytes.buffer as ArrayBuffer] });
    },
    queued: () => pool.queueSize,
    threadIds: () => pool.threads.map((t) => t.threadId),
    close: () => {
      for (const { wake } of roomWaiters.splice(0)) wake('waited');
      return pool.close();
    },
  };
}
