import path from 'node:path';
import { Worker } from 'node:worker_threads';

export interface WorkerScan {
  ms: number;
  action: string;
  score: number;
  reasons: string[];
  budgetMs: number;
  /** The SOC preview of the message (after the scan): its time and size, or what it threw. */
  preview: { ms: number; links: number; chars: number } | { error: string };
}

/**
 * Scans in a worker thread with a wall-clock limit. A scan that does not come back in time
 * ends the worker (a new one serves the next message) and rejects with `hung: true`.
 */
export class ScanRunner {
  private worker: Worker | null = null;
  private nextId = 1;

  private get w(): Worker {
    this.worker ??= new Worker(path.join(__dirname, 'scan-worker.js'));
    return this.worker;
  }

  scan(raw: Buffer, limitMs: number): Promise<WorkerScan> {
    const w = this.w;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        w.off('message', onMessage);
        this.worker = null;
        void w.terminate();
        reject(Object.assign(new Error(`scan did not return within ${limitMs} ms (the worker was ended)`), { hung: true }));
      }, limitMs);
      const onMessage = (m: { id: number; ok: boolean; error?: string } & WorkerScan): void => {
        if (m.id !== id) return;
        clearTimeout(timer);
        w.off('message', onMessage);
        if (m.ok) resolve(m);
        else reject(new Error(`scanMessage threw: ${m.error}`));
      };
      w.on('message', onMessage);
      w.postMessage({ id, raw });
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = null;
  }
}
