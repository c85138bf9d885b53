import { readFileSync } from 'node:fs';
import { access, open, opendir, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, StoreError } from '../errors.js';
import { forEachInSlices } from '../sliced.js';
import { appendLineDurable, createFileDurable, syncDir, writeFilesDurableInOrder } from '../fs-durable.js';
import { FileJournal } from './event-journal.js';
import { AlertTable } from './local-alerts.js';
import { FeedbackShelf } from './feedback.js';
import { LocalState } from './local-state.js';
import { DeliveryTable, DocTable, KeyRingFile } from './local-webhooks.js';
import { auditPage, isHeld, keepsRaw, newAuditId, pageOf, stateOf, statusOf } from './query.js';
import type { AuditRecord, HeldMessage, ListPage, ListQuery, QuarantineEntry, QuarantineState, Store } from './types.js';

export interface FileStoreOptions {
  /** Held messages at most; a hold beyond it fails with PHISHX_STORE_FULL (the sender gets a 4xx and retries). */
  maxEntries: number;
  /** Raw bytes on disk at most, same rule. */
  maxBytes: number;
  now?: () => number;
  sweepMs?: number;
}

/** Held messages and their bytes as counted at `at` (the store's clock); `costMs`: how long the count took. */
interface Usage {
  at: number;
  held: number;
  bytes: number;
  costMs: number;
}

/**
 * What a count, a hold's limit check and a removal need of a record — not its verdict,
 * envelope, subject or From, which only a listing reads. Kept for every record by each
 * thread that counts and does not list (Haraka's): ~335 bytes of heap against ~1,500 for
 * a whole record with a typical verdict.
 */
type RecordSummary = Pick<QuarantineEntry, 'id' | 'createdAt' | 'expiresAt' | 'size' | 'spooled' | 'spoolPath' | 'state'>;

/** The summary of `e`, stored under `id` (the map's key: one string for both). */
function summaryOf(id: string, e: QuarantineEntry): RecordSummary {
  const s: RecordSummary = { id, createdAt: e.createdAt, expiresAt: e.expiresAt, size: e.size, spooled: e.spooled };
  if (e.spoolPath !== undefined) s.spoolPath = e.spoolPath;
  if (e.state !== undefined) s.state = e.state;
  return s;
}

/** What one record adds to the count at `t`: a place while held, its bytes while they are kept. */
function usageOf(e: RecordSummary, t: number): { held: number; bytes: number } {
  const status = statusOf(e, t);
  return { held: isHeld(status) ? 1 : 0, bytes: keepsRaw(status) ? e.size : 0 };
}

/** `u` plus the holds of this process written during a full read whose files it did not list. */
function addUnlisted(
  u: { held: number; bytes: number },
  heldMeanwhile: readonly RecordSummary[],
  listed: ReadonlySet<string>,
  t: number,
): { held: number; bytes: number } {
  for (const e of heldMeanwhile) {
    if (listed.has(e.id)) continue; // listed: counted with the rest
    const d = usageOf(e, t);
    u.held += d.held;
    u.bytes += d.bytes;
  }
  return u;
}

const ID_RE = /^[0-9A-Za-z_-]{1,128}$/;
const STATE_RE = /^([0-9A-Za-z_-]{1,128})\.(\d{1,6})\.state$/;
/** Files of an interrupted hold (raw written, entry not) are removed at start once this old. */
const ORPHAN_AGE_MS = 3_600_000;
/** The audit log is rotated (one previous generation kept) past this size. */
const AUDIT_ROTATE_BYTES = 64 * 1024 * 1024;
/** A count of held messages serves holds at least this long … */
const USAGE_RECOUNT_MS = 1000;
/** … and at least this many times as long as it took (reading a directory of 100,000 held messages takes ~0.5 s). */
const USAGE_RECOUNT_COST_FACTOR = 50;
/** Audit listings read this much of the log's end. */
const AUDIT_TAIL_BYTES = 8 * 1024 * 1024;

/**
 * The embedded default store: held messages on local disk, so they survive a restart or a
 * crash (`kill -9`) without Redis. Each message is files in `<dir>/held/`: `<id>.eml` (the
 * raw bytes) and `<id>.json` (envelope, verdict, times), each written durably (temp file,
 * fsync, rename, directory fsync), the entry last: an entry that exists is a message that
 * is complete on disk, and the SMTP `250` is only sent after it. Review changes (release,
 * delete, report) write `<id>.<n>.state`, version n, by hard-linking a complete temp file
 * to that name: the link fails when the version exists, so of two processes changing the
 * same version exactly one wins (compare-and-set). The highest version is the state.
 * Everything is read back from the directory, so every process on it (a restarted Haraka,
 * the sidecar thread, cluster workers) sees the same quarantine. Expiry removes the raw
 * bytes, the purge time the record; at `maxEntries` or `maxBytes` a hold fails (the
 * caller answers 4xx 4.7.1). The audit log is `<dir>/audit.jsonl` (one fsync'd line per
 * action). Feeds live in process memory, loaded from `[reputation] feed_dir`.
 */
export class FileStore extends LocalState implements Store {
  readonly kind = 'file' as const;
  readonly dir: string;
  private readonly auditFile: string;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;
  /** Summaries of the records read, by id (the entry file is written once; a missing file drops it). */
  private readonly summaries = new Map<string, RecordSummary>();
  /**
   * Whole records by id, kept once this process has listed the quarantine (the sidecar's
   * thread; a listing filters on any field of every record), each also serving as its
   * summary: null in a process that only holds and counts (Haraka's).
   */
  private records: Map<string, QuarantineEntry> | null = null;
  /** Parsed states by file name (each version is written once). */
  private readonly states = new Map<string, QuarantineState>();
  private cleaned = false;
  /** Held count and bytes as last counted, with this process's changes since (see usage()). */
  private counted: Usage | null = null;
  /** The count being taken, shared by every hold that waits for it. */
  private counting: Promise<Usage> | null = null;
  /** Holds of this process that passed the limit check and are being written (in no count yet). */
  private readonly inFlight = { held: 0, bytes: 0 };
  /**
   * One list per full read in progress, of this process's holds written meanwhile: the read's
   * directory listing may have been taken before their files were there, and its count
   * replaces the one those holds were added to.
   */
  private readonly holdsDuringReads = new Set<RecordSummary[]>();
  protected readonly journal: FileJournal;
  protected readonly feedback: FeedbackShelf;
  protected readonly alerts: AlertTable;
  protected readonly deliveries: DeliveryTable;
  protected readonly keyRing: KeyRingFile;
  protected readonly docs: DocTable;

  constructor(
    dir: string,
    private readonly opts: FileStoreOptions,
  ) {
    super();
    this.dir = path.join(dir, 'held');
    this.auditFile = path.join(dir, 'audit.jsonl');
    this.now = opts.now ?? Date.now;
    this.journal = new FileJournal(path.join(dir, 'events'));
    this.feedback = new FeedbackShelf(path.join(dir, 'feedback'));
    this.alerts = new AlertTable(path.join(dir, 'alerts'), this.now);
    this.deliveries = new DeliveryTable(path.join(dir, 'webhooks', 'deliveries'), this.now);
    this.keyRing = new KeyRingFile(path.join(dir, 'keys'));
    this.docs = new DocTable(path.join(dir, 'docs'));
    this.sweeper = setInterval(() => void this.sweepQuarantine().catch(() => undefined), opts.sweepMs ?? 60_000);
    this.sweeper.unref();
  }

  private file(id: string, ext: 'eml' | 'json'): string {
    if (!ID_RE.test(id)) throw new StoreError('PHISHX_STORE_NOT_FOUND', `not a quarantine id: ${JSON.stringify(id.slice(0, 40))}`);
    return path.join(this.dir, `${id}.${ext}`);
  }

  private stateFile(id: string, version: number): string {
    return path.join(this.dir, `${id}.${version}.state`);
  }

  private async readState(id: string, version: number): Promise<QuarantineState | null> {
    const name = `${id}.${version}.state`;
    const hit = this.states.get(name);
    if (hit) return hit;
    try {
      return this.cacheState(name, await readFile(path.join(this.dir, name), 'utf8'));
    } catch {
      return null;
    }
  }

  /** readState without a cache hit, read synchronously (see entries()). */
  private readStateSync(id: string, version: number): void {
    const name = `${id}.${version}.state`;
    try {
      this.cacheState(name, readFileSync(path.join(this.dir, name), 'utf8'));
    } catch {
      /* removed meanwhile: the entry is read without it */
    }
  }

  private cacheState(name: string, text: string): QuarantineState {
    const s = JSON.parse(text) as QuarantineState;
    this.states.set(name, s);
    return s;
  }

  /** The entry with its current state, given the highest state version on disk (0: none). */
  private async withState(e: QuarantineEntry, version: number): Promise<QuarantineEntry> {
    const s = version > 0 ? await this.readState(e.id, version) : null;
    return { ...e, state: s ?? stateOf(e) };
  }

  /** Highest state version of one id, by probing version 1, 2, … (versions are made one after another). */
  private async currentVersion(id: string): Promise<number> {
    let v = 0;
    for (;;) {
      const exists = await access(this.stateFile(id, v + 1)).then(
        () => true,
        () => false,
      );
      if (!exists) return v;
      v++;
    }
  }

  private unreadable(err: unknown): StoreError {
    return new StoreError('PHISHX_STORE_UNAVAILABLE', `quarantine directory ${this.dir}: ${errorMessage(err)}`, { cause: err });
  }

  /**
   * A count of every record on disk (purged ones removed, expired ones' raw bytes dropped on
   * the way); with `whole`, also every record with its state (a listing), else none.
   */
  private async entries(whole: boolean): Promise<QuarantineEntry[]> {
    // On the store's clock, like the count's age it bounds (a test's fixed clock: no cost).
    const t0 = this.now();
    const heldMeanwhile: RecordSummary[] = [];
    this.holdsDuringReads.add(heldMeanwhile);
    try {
      if (whole) this.records ??= new Map();
      return await this.readAll(t0, heldMeanwhile, whole ? this.records : null);
    } finally {
      this.holdsDuringReads.delete(heldMeanwhile);
    }
  }

  private async readAll(t0: number, heldMeanwhile: RecordSummary[], records: Map<string, QuarantineEntry> | null): Promise<QuarantineEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        const t = this.now();
        this.counted = { at: t, ...addUnlisted({ held: 0, bytes: 0 }, heldMeanwhile, new Set(), t), costMs: t - t0 };
        return [];
      }
      throw this.unreadable(err);
    }
    if (!this.cleaned) {
      this.cleaned = true;
      await this.removeOrphans(names);
    }
    const ids = new Set<string>();
    const raws = new Set<string>();
    const versions = new Map<string, number>();
    // Like the walk below, a few ms at a time: 100,000 held are 200,000 names.
    await forEachInSlices(names, (n) => {
      if (n.startsWith('.')) return;
      if (n.endsWith('.json')) ids.add(n.slice(0, -5));
      else if (n.endsWith('.eml')) raws.add(n.slice(0, -4));
      else {
        const m = STATE_RE.exec(n);
        if (m) versions.set(m[1], Math.max(versions.get(m[1]) ?? 0, Number(m[2])));
      }
    });
    await forEachInSlices([...this.summaries.keys()], (id) => {
      if (ids.has(id)) return;
      this.summaries.delete(id);
      this.records?.delete(id);
    });
    for (const name of this.states.keys()) if (!ids.has(name.slice(0, name.indexOf('.')))) this.states.delete(name);
    // Records and states not read yet — all of them at the first count or listing after a
    // start — read synchronously, a few ms at a time (forEachInSlices: 100,000 records in
    // ~1.4 s instead of 12–17 s); the loop below finds them in the caches.
    const known = records ?? this.summaries;
    await forEachInSlices(
      [...ids].filter((id) => !known.has(id)),
      (id) => this.readEntrySync(id),
    );
    await forEachInSlices(
      [...versions].filter(([id, v]) => ids.has(id) && !this.states.has(`${id}.${v}.state`)),
      ([id, v]) => this.readStateSync(id, v),
    );
    // Every record with its state, counted, also a few ms at a time: 100,000 records in one
    // go held the thread ~0.4 s (Haraka's, at each recount). Purged and expired ones are
    // removed after the walk.
    const out: QuarantineEntry[] = [];
    const purged: RecordSummary[] = [];
    const expired: RecordSummary[] = [];
    const t = this.now();
    // Every full read is also a count (listings, sweeps and health checks renew it for free).
    let held = 0;
    let bytes = 0;
    await forEachInSlices([...ids], (id) => {
      const base = this.summaries.get(id);
      if (!base) return; // deleted meanwhile, or not ours
      const version = versions.get(id) ?? 0;
      const state = (version > 0 ? this.states.get(`${id}.${version}.state`) : undefined) ?? stateOf(base);
      const e = { ...base, state };
      if (state.purgeAt <= t) {
        purged.push(e);
        return;
      }
      if (raws.has(id) && !keepsRaw(statusOf(e, t))) expired.push(e);
      const u = usageOf(e, t);
      held += u.held;
      bytes += u.bytes;
      const whole = records?.get(id);
      // Listing, the summary is the whole record (keep()): e is already its copy with the state.
      if (whole) out.push(whole === base ? (e as QuarantineEntry) : { ...whole, state });
    });
    for (const e of purged) await this.remove(e.id, e);
    for (const e of expired) await this.dropRaw(e);
    this.counted = { at: t, ...addUnlisted({ held, bytes }, heldMeanwhile, ids, t), costMs: this.now() - t0 };
    return out;
  }

  private async readEntry(id: string): Promise<QuarantineEntry | null> {
    try {
      return this.cacheEntry(id, await readFile(this.file(id, 'json'), 'utf8'));
    } catch {
      return null; // deleted meanwhile, or not ours
    }
  }

  /** readEntry, synchronously (see entries()). */
  private readEntrySync(id: string): void {
    try {
      this.cacheEntry(id, readFileSync(this.file(id, 'json'), 'utf8'));
    } catch {
      /* deleted meanwhile, or not ours */
    }
  }

  private cacheEntry(id: string, text: string): QuarantineEntry {
    const e = JSON.parse(text) as QuarantineEntry;
    this.keep(id, e);
    return e;
  }

  /** Remember a record read or written: its summary, or once this process lists, the whole record (which serves as its summary too). */
  private keep(id: string, e: QuarantineEntry): void {
    if (this.records) {
      this.records.set(id, e);
      this.summaries.set(id, e);
    } else this.summaries.set(id, summaryOf(id, e));
  }

  /** Raw and state files without an entry (a hold interrupted by a crash, never answered 250) and stale temp files. */
  private async removeOrphans(names: string[]): Promise<void> {
    const entries = new Set(names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)));
    const t = Date.now();
    for (const n of names) {
      const state = STATE_RE.exec(n);
      const orphan =
        (n.endsWith('.eml') && !entries.has(n.slice(0, -4))) || (state !== null && !entries.has(state[1])) || (n.startsWith('.') && n.endsWith('.tmp'));
      if (!orphan) continue;
      const f = path.join(this.dir, n);
      const s = await stat(f).catch(() => null);
      if (s && t - s.mtimeMs > ORPHAN_AGE_MS) await unlink(f).catch(() => undefined);
    }
  }

  private async dropRaw(e: RecordSummary): Promise<void> {
    await unlink(this.file(e.id, 'eml')).catch(() => undefined);
    if (e.spooled && e.spoolPath) await unlink(e.spoolPath).catch(() => undefined);
  }

  private async remove(id: string, e?: RecordSummary): Promise<boolean> {
    const entry = e ?? this.summaries.get(id) ?? (await this.readEntry(id));
    this.summaries.delete(id);
    this.records?.delete(id);
    // The entry first: a crash in between leaves orphan files, removed at a later start.
    const gone = await unlink(this.file(id, 'json')).then(
      () => true,
      () => false,
    );
    if (entry) await this.dropRaw(entry);
    const version = await this.currentVersion(id);
    for (let v = 1; v <= version; v++) {
      this.states.delete(`${id}.${v}.state`);
      await unlink(this.stateFile(id, v)).catch(() => undefined);
    }
    await syncDir(this.dir);
    return gone;
  }

  async sweepQuarantine(): Promise<void> {
    await this.entries(false);
  }

  canHoldInline(): boolean {
    return true;
  }

  /**
   * Held messages and their bytes. Counting reads every record, so it is not done per hold:
   * a count serves for at least a second and at least 50 times as long as it took (a
   * directory of 100,000 held messages takes ~0.5–0.7 s to read: counted at most every
   * ~25–35 s, under 2 % of a core), and holds that arrive while a count is being taken share
   * it. This process's own holds, deletes and state changes are applied to the count as they
   * are made, so one process alone is always exact; other processes' changes (the sidecar
   * thread's deletes, cluster workers' holds) show at the next count.
   */
  private usage(t: number): Promise<Usage> | Usage {
    const u = this.counted;
    if (u && t >= u.at && t - u.at < Math.max(USAGE_RECOUNT_MS, u.costMs * USAGE_RECOUNT_COST_FACTOR)) return u;
    this.counting ??= this.entries(false)
      .then(() => this.counted!)
      .finally(() => {
        this.counting = null;
      });
    return this.counting;
  }

  /** Apply a change of this process to the count: `before` → `after` (null: no record). */
  private recount(before: RecordSummary | null, after: RecordSummary | null): void {
    const u = this.counted;
    if (!u) return;
    const t = this.now();
    for (const [e, sign] of [
      [before, -1],
      [after, 1],
    ] as const) {
      if (!e) continue;
      const d = usageOf(e, t);
      u.held += sign * d.held;
      u.bytes += sign * d.bytes;
    }
  }

  async putQuarantine(entry: QuarantineEntry, raw: Buffer | null): Promise<void> {
    const t = this.now();
    const u = await this.usage(t);
    // Synchronous from here to the reservation: concurrent holds see each other.
    const again = this.summaries.get(entry.id); // a record written again (a replay) takes no second place
    const already = again ? usageOf(again, t) : { held: 0, bytes: 0 };
    const held = u.held + this.inFlight.held - already.held;
    const bytes = u.bytes + this.inFlight.bytes - already.bytes;
    if (held >= this.opts.maxEntries)
      throw new StoreError('PHISHX_STORE_FULL', `quarantine full: ${held} held messages ([quarantine] max_entries = ${this.opts.maxEntries})`);
    if (bytes + entry.size > this.opts.maxBytes)
      throw new StoreError(
        'PHISHX_STORE_FULL',
        `quarantine full: ${bytes} bytes held, ${entry.size} more would pass [quarantine] max_disk_bytes = ${this.opts.maxBytes}`,
      );
    const stored: QuarantineEntry = { ...structuredClone(entry), state: stateOf(entry) };
    this.inFlight.held++;
    this.inFlight.bytes += entry.size;
    try {
      // The bytes, then the entry that points at them (written in parallel, renamed in order).
      await writeFilesDurableInOrder([
        ...(raw ? [[this.file(entry.id, 'eml'), raw] as const] : []),
        [this.file(entry.id, 'json'), JSON.stringify(stored)] as const,
      ]);
    } catch (err) {
      throw new StoreError('PHISHX_STORE_UNAVAILABLE', `cannot write the held message to ${this.dir}: ${errorMessage(err)}`, { cause: err });
    } finally {
      this.inFlight.held--;
      this.inFlight.bytes -= entry.size;
    }
    this.recount(again ?? null, stored);
    for (const list of this.holdsDuringReads) list.push(stored);
    this.keep(entry.id, stored);
  }

  /** A record not yet purged, with its current state (a purged one is removed on the way), else null. */
  private async live(id: string): Promise<QuarantineEntry | null> {
    if (!ID_RE.test(id)) return null;
    const base = await this.readEntry(id);
    if (!base) return null;
    const e = await this.withState(base, await this.currentVersion(id));
    if (e.state!.purgeAt <= this.now()) {
      await this.remove(id, e);
      return null;
    }
    return e;
  }

  async getQuarantine(id: string): Promise<HeldMessage | null> {
    const e = await this.live(id);
    if (!e) return null;
    const keep = keepsRaw(statusOf(e, this.now()));
    if (!keep) await this.dropRaw(e);
    const raw = e.spooled || !keep ? null : await readFile(this.file(id, 'eml')).catch(() => null);
    return { entry: structuredClone(e), raw };
  }

  async listQuarantine(query: ListQuery = {}): Promise<ListPage> {
    return pageOf(await this.entries(true), { ...query, now: query.now ?? this.now() });
  }

  async updateQuarantineState(id: string, state: QuarantineState): Promise<boolean> {
    const e = await this.live(id);
    if (!e || !Number.isInteger(state.version) || state.version < 1) return false;
    // The version before must exist (a caller with an older view loses to the newer one).
    if (state.version > 1 && !(await this.readState(id, state.version - 1))) return false;
    let created: boolean;
    try {
      created = await createFileDurable(this.stateFile(id, state.version), JSON.stringify(state));
    } catch (err) {
      throw new StoreError('PHISHX_STORE_UNAVAILABLE', `cannot write the state of ${id} to ${this.dir}: ${errorMessage(err)}`, { cause: err });
    }
    if (!created) return false;
    this.states.set(`${id}.${state.version}.state`, structuredClone(state));
    this.recount(e, { ...e, state });
    if (!keepsRaw(state.status)) await this.dropRaw(e);
    return true;
  }

  async deleteQuarantine(id: string): Promise<boolean> {
    const e = await this.live(id);
    if (!e) return false;
    const gone = await this.remove(id, e);
    if (gone) this.recount(e, null);
    return gone;
  }

  /**
   * Held messages, from the count holds use (usage(): renewed at least every second, and at
   * least 50 times as long as a full read took) — /health/full and each /metrics scrape ask
   * for this and usedMemoryBytes, and at 100,000 held each full read is ~0.5 s of CPU.
   */
  async countQuarantine(): Promise<number> {
    return (await this.usage(this.now())).held;
  }

  async appendAudit(record: Omit<AuditRecord, 'id'>): Promise<AuditRecord> {
    const r: AuditRecord = { id: newAuditId(record.at), ...record };
    try {
      const size = (await stat(this.auditFile).catch(() => null))?.size ?? 0;
      if (size > AUDIT_ROTATE_BYTES) await rename(this.auditFile, `${this.auditFile}.1`);
      await appendLineDurable(this.auditFile, JSON.stringify(r));
    } catch (err) {
      throw new StoreError('PHISHX_STORE_UNAVAILABLE', `cannot write the audit log ${this.auditFile}: ${errorMessage(err)}`, { cause: err });
    }
    return r;
  }

  async listAudit(opts: { limit?: number; before?: string | null } = {}): Promise<AuditRecord[]> {
    let text = '';
    const fh = await open(this.auditFile, 'r').catch(() => null);
    if (fh) {
      try {
        const size = (await fh.stat()).size;
        const start = Math.max(0, size - AUDIT_TAIL_BYTES);
        const buf = Buffer.alloc(size - start);
        await fh.read(buf, 0, buf.length, start);
        text = buf.toString('utf8');
        if (start > 0) text = text.slice(text.indexOf('\n') + 1); // a partial first line
      } finally {
        await fh.close();
      }
    }
    const records: AuditRecord[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        records.push(JSON.parse(line) as AuditRecord);
      } catch {
        /* a torn last line after a crash */
      }
    }
    return auditPage(records, opts);
  }

  /** Raw bytes held on disk, from the same count as countQuarantine. */
  async usedMemoryBytes(): Promise<number | null> {
    return (await this.usage(this.now())).bytes;
  }

  /**
   * The directory must be readable (a missing one holds nothing yet): its first name is read,
   * not all of them — health probes call this, and a full read of 100,000 held messages
   * takes ~0.5 s of CPU.
   */
  async ping(): Promise<number> {
    const t0 = performance.now();
    try {
      const d = await opendir(this.dir);
      try {
        await d.read();
      } finally {
        await d.close().catch(() => undefined);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw this.unreadable(err);
    }
    return performance.now() - t0;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
