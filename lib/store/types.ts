import type { Verdict } from '../verdict/types.js';

export interface QuarantineEntry {
  id: string;
  /** ms since epoch */
  createdAt: number;
  expiresAt: number;
  envelope: { mailFrom: string; rcptTo: string[]; remoteIp?: string; helo?: string };
  verdict: Verdict;
  subject: string;
  from: string;
  /** Raw message size in bytes. */
  size: number;
  /** True when the raw message lives in the spool directory rather than in the store. */
  spooled: boolean;
  spoolPath?: string;
  /** Set on the returned entry when the store was down and the message waits in the pending spool. */
  pending?: boolean;
}

export interface HeldMessage {
  entry: QuarantineEntry;
  /** Raw message, or null when spooled (read `entry.spoolPath`). */
  raw: Buffer | null;
}

/**
 * The one state interface. Two implementations (memory, Redis) pass the same contract
 * tests (test/store.contract.ts). Later capabilities (alerts, webhook outbox, feeds) add
 * methods here, not new stores.
 */
export interface Store {
  /** `file`: the embedded default (durable, local disk); `redis`: shared by many nodes; `memory`: tests and tools. */
  readonly kind: 'memory' | 'file' | 'redis';
  /** Whether `bytes` more raw bytes may be stored inline (false: spool them to disk). */
  canHoldInline(bytes: number): boolean;
  putQuarantine(entry: QuarantineEntry, raw: Buffer | null): Promise<void>;
  getQuarantine(id: string): Promise<HeldMessage | null>;
  /** Newest first. */
  listQuarantine(opts?: { limit?: number; offset?: number }): Promise<QuarantineEntry[]>;
  deleteQuarantine(id: string): Promise<boolean>;
  countQuarantine(): Promise<number>;
  /**
   * Replace the entries of one named reputation feed (URLs in canonical form, domains
   * lower-case): an import is idempotent and a re-import drops entries no longer listed.
   */
  replaceFeed(name: string, entries: { urls: string[]; domains: string[] }): Promise<{ urls: number; domains: number }>;
  /** Feed names that list any of these canonical URLs / domains: entry ─► feed name. */
  matchFeeds(urls: string[], domains: string[]): Promise<Map<string, string>>;
  /** Imported feeds with their entry counts. */
  listFeeds(): Promise<Array<{ name: string; urls: number; domains: number }>>;
  /** Memory the store uses (Redis `used_memory`; memory store: raw bytes held), or null if unknown. */
  usedMemoryBytes(): Promise<number | null>;
  /** Round-trip latency in ms; throws StoreError when unusable. */
  ping(): Promise<number>;
  close(): Promise<void>;
}
