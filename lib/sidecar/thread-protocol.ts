import type { PhishXConfig } from '../config/types.js';
import type { ProcessSnapshot, SnapshotScope } from '../metrics/cluster.js';

/**
 * Messages between the main thread (scanning, the store) and the sidecar thread (HTTP) in
 * single-process mode. Plain data only (structured clone).
 */
export interface ThreadData {
  listen: { host: string; port: number };
  config: PhishXConfig;
}

/** Store methods the sidecar may ask the main thread's (memory) store for. */
export type StoreQuery = 'ping' | 'usedMemoryBytes' | 'countQuarantine' | 'listFeeds';

export type ToThread =
  | { type: 'config'; config: PhishXConfig }
  | { type: 'beat'; smtp: boolean }
  | { type: 'close' }
  | { type: 'res'; id: number; ok: true; value: unknown }
  | { type: 'res'; id: number; ok: false; error: string };

export type FromThread =
  | { type: 'listening'; address: { host: string; port: number } }
  | { type: 'listen_error'; message: string }
  | { type: 'log'; level: 'notice' | 'warn' | 'error'; message: string }
  | { type: 'req'; id: number; op: 'snapshot'; scope: SnapshotScope }
  | { type: 'req'; id: number; op: 'store'; method: StoreQuery };

export type SnapshotReply = ProcessSnapshot;
