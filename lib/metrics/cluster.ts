import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { breakerSnapshot } from '../resilience/breaker.js';
import { localMetricsJson } from './collect.js';

/**
 * Gathering numbers across Haraka's processes. With `nodes=N` the master runs the sidecar
 * and the workers do the scanning: the master asks every worker over the cluster IPC
 * channel for its metrics and breaker states and merges them. Unlike prom-client's
 * `clusterMetrics()` (all or nothing, 5 s), each worker has its own deadline: a silent
 * worker is left out and counted, it cannot hang or fail the scrape.
 */
const REQ = 'phishx:snapshot:req';
const RES = 'phishx:snapshot:res';

/** One metric family as `registry.getMetricsAsJSON()` gives it (plain data: crosses IPC). */
export interface MetricJson {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
}

export type BreakerView = ReturnType<typeof breakerSnapshot>[number];

export interface ProcessSnapshot {
  pid: number;
  role: 'master' | 'worker' | 'single' | 'sidecar-thread' | 'main-thread';
  metrics: MetricJson[];
  breakers: BreakerView[];
  /**
   * Set when this is the last answer of a process that was silent this time (ms since it
   * was taken). Its counters are reused so a busy process never looks like a counter reset.
   */
  staleMs?: number;
}

/**
 * Last full answer per process, reused while it is silent (counters must never go down
 * because a process was busy: Prometheus would read that as a reset and show false spikes).
 */
export class LastAnswers {
  private readonly last = new Map<string | number, { s: ProcessSnapshot; at: number }>();
  remember(key: string | number, s: ProcessSnapshot): void {
    this.last.set(key, { s, at: performance.now() });
  }
  recall(key: string | number): ProcessSnapshot | null {
    const l = this.last.get(key);
    return l ? { ...l.s, staleMs: Math.round(performance.now() - l.at) } : null;
  }
  forget(key: string | number): void {
    this.last.delete(key);
  }
}

export interface ClusterSnapshot {
  processes: ProcessSnapshot[];
  /** Workers asked / answered in time (0 / 0 in single-process mode). */
  workers: { asked: number; responding: number; silent: number };
  /**
   * Sidecar thread (`nodes=0`): whether the main thread, where scanning runs, answered in
   * time. Absent when the sidecar shares the main thread or runs in the cluster master.
   */
  mainThread?: 'responding' | 'silent';
  tookMs: number;
}

function isClusterMaster(): boolean {
  return cluster.isPrimary && Object.keys(cluster.workers ?? {}).length > 0;
}

/** `all`: metrics and breakers (for /metrics); `breakers`: breakers only (health: a small reply). */
export type SnapshotScope = 'all' | 'breakers';

/** This thread's numbers: its metrics (scope `all`) and breakers. */
export async function localSnapshot(role: ProcessSnapshot['role'], scope: SnapshotScope): Promise<ProcessSnapshot> {
  return { pid: process.pid, role, metrics: scope === 'all' ? ((await localMetricsJson()) as MetricJson[]) : [], breakers: breakerSnapshot() };
}

let responderInstalled = false;

/** In a cluster worker: answer the master's snapshot requests. Idempotent; no-op elsewhere. */
export function installWorkerResponder(): void {
  if (responderInstalled || !cluster.isWorker) return;
  responderInstalled = true;
  process.on('message', (msg: { type?: string; id?: number; scope?: SnapshotScope } | null) => {
    if (msg?.type !== REQ) return;
    localSnapshot('worker', msg.scope === 'breakers' ? 'breakers' : 'all')
      .then((snapshot) => process.send?.({ type: RES, id: msg.id, snapshot }))
      .catch(() => process.send?.({ type: RES, id: msg.id, snapshot: null }));
  });
}

let nextId = 1;
const pending = new Map<number, (workerId: number, s: ProcessSnapshot | null) => void>();
let masterListening = false;
const workerAnswers = new LastAnswers();

function listenMaster(): void {
  if (masterListening) return;
  masterListening = true;
  cluster.on('exit', (w) => workerAnswers.forget(w.id)); // a dead worker's counters are gone for good
  cluster.on('message', (worker, msg: { type?: string; id?: number; snapshot?: ProcessSnapshot | null }) => {
    if (msg?.type !== RES || typeof msg.id !== 'number') return;
    pending.get(msg.id)?.(worker.id, msg.snapshot ?? null);
  });
}

/** Gathers a snapshot within a deadline (cluster IPC, or the sidecar thread asking the main thread). */
export type Gatherer = (timeoutMs: number, scope: SnapshotScope) => Promise<ClusterSnapshot>;

/** This process's snapshot plus, on a cluster master, every worker's that answers within `timeoutMs`. */
export async function gatherSnapshot(timeoutMs: number, scope: SnapshotScope = 'all'): Promise<ClusterSnapshot> {
  const t0 = performance.now();
  if (!isClusterMaster()) {
    return { processes: [await localSnapshot('single', scope)], workers: { asked: 0, responding: 0, silent: 0 }, tookMs: performance.now() - t0 };
  }
  listenMaster();
  const id = nextId++;
  const workers = Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected()) as Worker[];
  const got = new Map<number, ProcessSnapshot>();
  const answered = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    pending.set(id, (workerId, s) => {
      if (s) got.set(workerId, s);
      if (got.size >= workers.length) {
        clearTimeout(timer);
        resolve();
      }
    });
    for (const w of workers) {
      try {
        w.send({ type: REQ, id, scope });
      } catch {
        /* a worker that is going away counts as silent */
      }
    }
    if (!workers.length) {
      clearTimeout(timer);
      resolve();
    }
  });
  const [own] = await Promise.all([localSnapshot('master', scope), answered]);
  pending.delete(id);
  const processes = [own, ...got.values()];
  if (scope === 'all') {
    for (const [wid, snap] of got) workerAnswers.remember(wid, snap);
    for (const w of workers) {
      if (got.has(w.id)) continue;
      const stale = workerAnswers.recall(w.id);
      if (stale) processes.push(stale);
    }
  }
  return {
    processes,
    workers: { asked: workers.length, responding: got.size, silent: workers.length - got.size },
    tookMs: performance.now() - t0,
  };
}

/** Prometheus text of the processes' metrics, summed (or per each family's aggregator). */
export async function aggregatedText(snapshot: ClusterSnapshot): Promise<string> {
  return AggregatorRegistry.aggregate(snapshot.processes.map((p) => p.metrics)).metrics();
}

/** Breakers merged across processes: worst state wins, counts summed. */
export function mergeBreakers(snapshot: ClusterSnapshot): Array<BreakerView & { processes: number; success_rate: number | null }> {
  const rank = { closed: 0, half_open: 1, open: 2 } as const;
  const by = new Map<string, BreakerView & { processes: number }>();
  for (const p of snapshot.processes) {
    for (const b of p.breakers) {
      const cur = by.get(b.service);
      if (!cur) by.set(b.service, { ...b, processes: 1 });
      else {
        cur.processes++;
        cur.successes += b.successes;
        cur.failures += b.failures;
        cur.rejects += b.rejects;
        if (rank[b.state] > rank[cur.state]) cur.state = b.state;
      }
    }
  }
  return [...by.values()]
    .sort((a, b) => a.service.localeCompare(b.service))
    .map((b) => ({ ...b, success_rate: b.successes + b.failures > 0 ? Math.round((b.successes / (b.successes + b.failures)) * 1000) / 1000 : null }));
}
