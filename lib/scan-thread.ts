/**
 * Worker-thread entry of the scan pool (lib/scan-pool.ts): the local part of one scan per
 * task, with the config the pool was made for.
 */
import { workerData } from 'piscina';
import type { PhishXConfig } from './config/types.js';
import type { Envelope } from './message/types.js';
import { scanLocally, type LocalOptions, type LocalScan } from './scan-local.js';

export interface ScanTask {
  raw: Uint8Array;
  envelope: Envelope;
  opts: LocalOptions;
}

const config = (workerData as { config: PhishXConfig }).config;

export default function scanTask(task: ScanTask): Promise<LocalScan> {
  // A Buffer arrives as a plain Uint8Array: view the same bytes as a Buffer again.
  return scanLocally(Buffer.from(task.raw.buffer, task.raw.byteOffset, task.raw.byteLength), task.envelope, config, task.opts);
}
