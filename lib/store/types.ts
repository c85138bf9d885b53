import type { Verdict } from '../verdict/types.js';

/**
 * Where a held message is in its life: `held` (waiting for review), `releasing` (a release
 * is delivering it now), `released`, `deleted`, `expired` (its `ttl_days` ran out: raw
 * bytes gone, the record kept for `[quarantine] history_days`).
 */
export type QuarantineStatus = 'held' | 'releasing' | 'released' | 'deleted' | 'expired';

export const QUARANTINE_STATUSES: readonly QuarantineStatus[] = ['held', 'releasing', 'released', 'deleted', 'expired'];

export interface ReportRecord {
  verdict: 'phish' | 'not_phish';
  by: string;
  at: number;
  note?: string;
}

/**
 * The mutable part of a quarantine record. Every change writes a new `version` with a
 * compare-and-set (`Store.updateQuarantineState`), so two nodes acting on one message at
 * once cannot both succeed.
 */
export interface QuarantineState {
  /** Stored status; `held` past `expiresAt` reads as `expired` (see `statusOf`). */
  status: Exclude<QuarantineStatus, 'expired'>;
  /** 0 as held; +1 per change. */
  version: number;
  updatedAt: number;
  /** The record (not only the raw bytes) is removed at this time (ms since epoch). */
  purgeAt: number;
  /** A release in progress: its single-use claim, who asked, until when the claim holds. */
  release?: { claim: string; by: string; at: number; leaseUntil: number; recipients: string[]; note?: string; used?: boolean };
  released?: { by: string; at: number; recipients: string[]; note?: string };
  deleted?: { by: string; at: number; note?: string };
  reports?: ReportRecord[];
}

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
  /** Filled by the store on read (absent on a new entry: held, version 0). */
  state?: QuarantineState;
}

export interface HeldMessage {
  entry: QuarantineEntry;
  /** Raw message, or null when spooled (read `entry.spoolPath`) or no longer kept (deleted, expired). */
  raw: Buffer | null;
}

/** Filters of a quarantine listing; every given one must match. */
export interface QuarantineFilter {
  /** Tenant name (`default` or a recipient domain of a `[tenant.<domain>]` section). */
  tenant?: string;
  /** Envelope recipient address (exact, case-insensitive). */
  recipient?: string;
  /** Envelope sender or From: an address (exact) or a domain (that domain or a subdomain). */
  sender?: string;
  /** A reason code the verdict carries. */
  reason?: string;
  action?: string;
  scoreMin?: number;
  scoreMax?: number;
  /** created_at bounds, ms since epoch (inclusive since, exclusive until). */
  since?: number;
  until?: number;
  status?: QuarantineStatus[];
  /** Case-insensitive substring of the subject. */
  text?: string;
}

export interface ListQuery {
  limit?: number;
  /** Opaque cursor of the previous page's `nextCursor`. */
  cursor?: string | null;
  filter?: QuarantineFilter;
  /** Time used for expiry when filtering (tests); default now. */
  now?: number;
}

export interface ListPage {
  items: QuarantineEntry[];
  /** Cursor of the next page, null when there is none. */
  nextCursor: string | null;
}

/** One audited action. */
export interface AuditRecord {
  /** Unique, increasing in time (ms timestamp + sequence). */
  id: string;
  at: number;
  /** Token id (`token:1a2b3c4d`) or `cli`. */
  actor: string;
  action: string;
  target: string;
  note?: string;
  /** `ok`, `conflict`, `not_found`, `failed` … */
  result: string;
  detail?: string;
}

/**
 * A security event: one rejected or quarantined message, as the SOC alerts (and later the
 * webhook outbox) consume it. Facts only, no message bodies.
 */
export interface SecurityEvent {
  /** Scan id. */
  id: string;
  at: number;
  /** `allow` only when a webhook endpoint subscribes to `message.allowed`. */
  action: 'reject' | 'quarantine' | 'allow';
  smtpCode: number;
  score: number;
  tenant: string;
  mailFrom: string;
  /** Address of the From header ('' when none). */
  from: string;
  subject: string;
  /** Hosts of the links a reader would follow, at most 5. */
  urlHosts: string[];
  reasons: string[];
  recipients: string[];
  quarantineId?: string;
}

import type { EventType } from '../webhooks/catalog.js';
export { EVENT_TYPES, type EventType } from '../webhooks/catalog.js';

/** An event as webhook consumers receive it (the JSON body of a delivery). */
export interface PublicEvent {
  /** `evt_…`, stable across retries and redeliveries (consumers deduplicate by it). */
  id: string;
  type: EventType;
  /** RFC 3339. */
  created_at: string;
  tenant: string;
  data: Record<string, unknown>;
}

/** Something an analyst or the SOC folder did (release, delete, report, alert opened / changed), as logged. */
export interface ActivityEvent {
  kind: 'activity';
  event: PublicEvent;
}

/** A manual redelivery (`POST /api/v1/webhooks/deliveries/{id}/retry`): only `endpoint` delivers it. */
export interface RedeliveryEvent {
  kind: 'redeliver';
  endpoint: string;
  event: PublicEvent;
}

/** What the event log holds: scan events (no `kind`), activity and redeliveries. */
export type LogEvent = SecurityEvent | ActivityEvent | RedeliveryEvent;

export function isScanEvent(e: LogEvent): e is SecurityEvent {
  return !('kind' in e);
}

export interface StoredEvent {
  /** Position in the event log (opaque; pass back to `ackEvents`). */
  id: string;
  event: LogEvent;
}

/** Where a new consumer group of the event log starts: the oldest kept event, or what is appended after it is made. */
export type GroupStart = 'oldest' | 'new';

/** A managed webhook / request signing key (`phishx keys`). */
export interface SigningKey {
  /** `key_<16 hex>`. */
  id: string;
  /** `whsec_<base64>`; emptied when the key is retired. */
  secret: string;
  createdAt: number;
  /** The key new signatures are made with first (one at a time). */
  primary: boolean;
  /** After a rotation the old key still signs until then (ms since epoch). */
  retireAt?: number;
  retiredAt?: number;
  /**
   * An API key: it authenticates signed requests to the sidecar with this scope (and
   * tenant), and never signs webhook deliveries. Absent: a webhook signing key.
   */
  scope?: 'read' | 'act' | 'admin';
  tenant?: string;
}

/** Every managed key, changed with a compare-and-set on `version`. */
export interface KeyRing {
  version: number;
  keys: SigningKey[];
}

/** One imported feed: its entry counts and when it was last imported or added to (ms; null: not recorded, a feed imported into Redis before this was kept). */
export interface FeedInfo {
  name: string;
  urls: number;
  domains: number;
  updatedAt: number | null;
}

export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'dead';
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'retrying', 'delivered', 'dead'];

/** One event's delivery to one endpoint. */
export interface DeliveryRecord {
  /** `<event id>.<endpoint>`. */
  id: string;
  endpoint: string;
  status: DeliveryStatus;
  attempts: number;
  /** First attempt. */
  createdAt: number;
  updatedAt: number;
  nextAttemptAt?: number;
  deliveredAt?: number;
  /** HTTP status of the last attempt (0: no answer). */
  lastStatus?: number;
  lastError?: string;
  event: PublicEvent;
}

export interface DeliveryQuery {
  status?: DeliveryStatus[];
  endpoint?: string;
  limit?: number;
  cursor?: string | null;
}

/** An analyst's verdict on a held message, kept with a copy of the message for training (`phishx feedback export`). */
export interface FeedbackRecord {
  /** The quarantine id. */
  id: string;
  verdict: 'phish' | 'not_phish';
  by: string;
  at: number;
  note?: string;
  subject: string;
  from: string;
  tenant: string;
  score: number;
  reasons: string[];
}

export type AlertStatus = 'open' | 'acknowledged' | 'resolved';
export const ALERT_STATUSES: readonly AlertStatus[] = ['open', 'acknowledged', 'resolved'];

/** One SOC alert: the messages of one campaign (same sender domain, link host or subject within a window). */
export interface SocAlert {
  id: string;
  /** 1 when created; +1 per change (compare-and-set). */
  version: number;
  status: AlertStatus;
  firstSeen: number;
  lastSeen: number;
  /** New messages with one of these keys join this alert until `keyUntil` (while not resolved). */
  keys: string[];
  keyUntil: number;
  count: number;
  actions: { reject: number; quarantine: number };
  maxScore: number;
  tenants: string[];
  /** Domains of its messages' recipients (at most 20): a tenant-bound token sees alerts that reached its domain. */
  recipientDomains?: string[];
  senderDomains: string[];
  urlHosts: string[];
  subjects: string[];
  /** Reason code ─► messages carrying it. */
  reasons: Record<string, number>;
  /** Quarantine ids of its held messages (the newest 1,000). */
  quarantineIds: string[];
  history: Array<{ at: number; by: string; action: string; note?: string; result?: string }>;
  updatedAt: number;
  /** Removed at this time (ms since epoch). */
  purgeAt: number;
}

export interface AlertQuery {
  status?: AlertStatus[];
  tenant?: string;
  /** A sender domain (or a parent of one) or link host of the alert. */
  sender?: string;
  /** A reason code its messages carried. */
  reason?: string;
  /** Case-insensitive text in one of its subjects. */
  text?: string;
  /** Last activity bounds, ms since epoch (inclusive since, exclusive until). */
  since?: number;
  until?: number;
  limit?: number;
  /** Opaque cursor of the previous page. */
  cursor?: string | null;
}

/**
 * The one state interface. Implementations (memory, file, Redis) pass the same contract
 * tests (test/unit/store.test.ts). Later capabilities (alerts, webhook outbox, feeds) add
 * methods here, not new stores.
 */
export interface Store {
  /** `file`: the embedded default (durable, local disk); `redis`: shared by many nodes; `memory`: tests and tools. */
  readonly kind: 'memory' | 'file' | 'redis';
  /** Whether `bytes` more raw bytes may be stored inline (false: spool them to disk). */
  canHoldInline(bytes: number): boolean;
  putQuarantine(entry: QuarantineEntry, raw: Buffer | null): Promise<void>;
  /** The record (any status until purged) with its current state; raw null when not kept. */
  getQuarantine(id: string): Promise<HeldMessage | null>;
  /** Newest first, filtered, paged by cursor. */
  listQuarantine(query?: ListQuery): Promise<ListPage>;
  /**
   * Compare-and-set of a record's state: succeeds (true) only when the stored version is
   * still `state.version - 1`. A `deleted` state drops the raw bytes. Atomic across
   * processes and nodes (Redis: one Lua script; file: a hard link that fails when the
   * version exists).
   */
  updateQuarantineState(id: string, state: QuarantineState): Promise<boolean>;
  /** Remove a record outright (tests, tools); true when it existed. */
  deleteQuarantine(id: string): Promise<boolean>;
  /** Messages held now (held or releasing, not expired). */
  countQuarantine(): Promise<number>;
  /** Drop raw bytes of expired messages and records past their purge time. */
  sweepQuarantine(now?: number): Promise<void>;
  appendAudit(record: Omit<AuditRecord, 'id'>): Promise<AuditRecord>;
  /** Newest first; `before`: an audit id, for paging. */
  listAudit(opts?: { limit?: number; before?: string | null }): Promise<AuditRecord[]>;
  /** Append an event to the durable event log. */
  appendEvent(event: LogEvent): Promise<void>;
  /**
   * Events of the log not yet acknowledged by `group`, at most `max`, oldest first. Each
   * event goes to one consumer of a group (Redis: a consumer group; an event a dead
   * consumer held for a minute is claimed by another; a consumer restarted under the same
   * name gets its unacknowledged events back at once). A group made by this call starts
   * at `start` (default `oldest`).
   */
  readEvents(group: string, consumer: string, max: number, start?: GroupStart): Promise<StoredEvent[]>;
  ackEvents(group: string, ids: string[]): Promise<void>;
  /** Tell the log that `consumer` still works on these events (Redis: they are not claimed by another). */
  keepEvents(group: string, consumer: string, ids: string[]): Promise<void>;
  /** The managed signing keys (version 0 and no keys when none were made). */
  getKeyRing(): Promise<KeyRing>;
  /** Compare-and-set: writes when the stored version is `ring.version - 1`. */
  putKeyRing(ring: KeyRing): Promise<boolean>;
  /** Remember a signed request's nonce until `expiresAtS` (Unix s); false when it was seen already (a replay). Shared across nodes on Redis. */
  claimNonce(nonce: string, expiresAtS: number): Promise<boolean>;
  /**
   * Hold the lease `name` for `ttlMs` (taken when free or expired, renewed when `holder`
   * holds it); true when `holder` holds it now. With several nodes on Redis exactly one
   * holds it at a time (the alert notifier); an embedded store has one holder anyway.
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** A small shared document (alert silences and states), with its version (0: none). */
  getDoc<T>(name: string): Promise<{ version: number; value: T | null }>;
  /** Compare-and-set: writes when the stored version is `version - 1`. */
  putDoc<T>(name: string, version: number, value: T): Promise<boolean>;
  /** Insert or replace a delivery record (kept for `[quarantine] history_days`, the newest 10,000). */
  putDelivery(record: DeliveryRecord): Promise<void>;
  getDelivery(id: string): Promise<DeliveryRecord | null>;
  /** Most recently updated first. */
  listDeliveries(query?: DeliveryQuery): Promise<{ items: DeliveryRecord[]; nextCursor: string | null }>;
  getAlert(id: string): Promise<SocAlert | null>;
  /**
   * Compare-and-set: writes when the stored version is `alert.version - 1` (version 1: when
   * none exists). With `deferDurable` the embedded stores apply it at once but write it to
   * disk at the next `flushAlerts()` (the alert folder does, before it acknowledges the
   * events: one write per alert and batch instead of one per event); Redis writes at once.
   */
  putAlert(alert: SocAlert, opts?: { deferDurable?: boolean }): Promise<boolean>;
  /** Write the alerts `putAlert` deferred; resolves once they are durable (at once where nothing is deferred). */
  flushAlerts(): Promise<void>;
  /** Newest activity first. */
  listAlerts(query?: AlertQuery): Promise<{ items: SocAlert[]; nextCursor: string | null }>;
  /** The live (unexpired) alert id a campaign key points to, or null. */
  alertForKey(key: string): Promise<string | null>;
  /** Point `key` at `id` until `until` unless it points at another live alert; returns the id it points at. */
  linkAlertKey(key: string, id: string, until: number): Promise<string>;
  /** Remove these keys where they point at `id` (a resolved alert takes no new messages). */
  unlinkAlertKeys(keys: string[], id: string): Promise<void>;
  /** Keep a report with a copy of the message (the latest report of a message wins). */
  putFeedback(record: FeedbackRecord, raw: Buffer): Promise<void>;
  /** Every kept report, oldest first. */
  listFeedback(): Promise<FeedbackRecord[]>;
  getFeedbackRaw(id: string): Promise<Buffer | null>;
  /** Add entries to a named feed (the SOC blocklist), keeping what it lists; it counts as updated now. */
  addFeedEntries(name: string, entries: { urls: string[]; domains: string[] }): Promise<void>;
  /**
   * Replace the entries of one named reputation feed (URLs in canonical form, domains
   * lower-case): an import is idempotent and a re-import drops entries no longer listed.
   * `updatedAt` (ms): when the feed was imported (default now; a feed file's modification time).
   */
  replaceFeed(name: string, entries: { urls: string[]; domains: string[] }, updatedAt?: number): Promise<{ urls: number; domains: number }>;
  /**
   * True when the store certainly holds no feed entry (an embedded store with no feed imported
   * and no sender blocked): a scan's feed lookup is skipped. False when it may hold some
   * (Redis: not known without a round trip, so always asked).
   */
  holdsNoFeeds(): boolean;
  /** Feed names that list any of these canonical URLs / domains: entry ─► feed name. */
  matchFeeds(urls: string[], domains: string[]): Promise<Map<string, string>>;
  /** Imported feeds with their entry counts and when each was last imported. */
  listFeeds(): Promise<FeedInfo[]>;
  /** Memory the store uses (Redis `used_memory`; memory store: raw bytes held), or null if unknown. */
  usedMemoryBytes(): Promise<number | null>;
  /** Round-trip latency in ms; throws StoreError when unusable. */
  ping(): Promise<number>;
  close(): Promise<void>;
}
