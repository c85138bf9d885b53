import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, StoreError } from '../errors.js';
import { syncDir, writeFileDurable } from '../fs-durable.js';
import { LocalFeeds } from './feed-sets.js';
import type { HeldMessage, QuarantineEntry, Store } from './types.js';

export interface FileStoreOptions {
  /** Held messages at most; a hold beyond it fails with PHISHX_STORE_FULL (the sender gets a 4xx and retries). */
  maxEntries: number;
  /** Raw bytes on disk at most, same rule. */
  maxBytes: number;
  now?: () => number;
  sweepMs?: number;
}

const ID_RE = /^[0-9A-Za-z_-]{1,128}$/;
/** Files of an interrupted hold (raw written, entry not) are removed at start once this old. */
const ORPHAN_AGE_MS = 3_600_000;

/**
 * The embedded default store: held messages on local disk, so they survive a restart or a
 * crash (`kill -9`) without Redis. Each message is two files in `<dir>/held/`: `<id>.eml`
 * (the raw bytes) and `<id>.json` (envelope, verdict, times), each written durably (temp
 * file, fsync, rename, directory fsync), the entry last: an entry that exists is a message
 * that is complete on disk, and the SMTP `250` is only sent after it. The entries are
 * read back from the directory, so every process on the same directory (a restarted
 * Haraka, the sidecar thread, cluster workers) sees the same quarantine. Expiry and delete
 * remove both files; at `maxEntries` or `maxBytes` a hold fails (the caller answers 4xx 4.7.1).
 * Feeds live in process memory, loaded from `[reputation] feed_dir`.
 */
export class FileStore extends LocalFeeds implements Store {
  readonly kind = 'file' as const;
  readonly dir: string;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;
  /** Parsed entries by id (entries are written once; a missing file drops its entry). */
  private readonly cache = new Map<string, QuarantineEntry>();
  private cleaned = false;

  constructor(dir: string, private readonly opts: FileStoreOptions) {
    super();
    this.dir = path.join(dir, 'held');
    this.now = opts.now ?? Date.now;
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), opts.sweepMs ?? 60_000);
    this.sweeper.unref();
  }

  private file(id: string, ext: 'eml' | 'json'): string {
    if (!ID_RE.test(id)) throw new StoreError('PHISHX_STORE_NOT_FOUND', `not a quarantine id: ${JSON.stringify(id.slice(0, 40))}`);
    return path.join(this.dir, `${id}.${ext}`);
  }

  /** Every live entry on disk (expired ones are removed on the way). */
  private async entries(): Promise<QuarantineEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new StoreError('PHISHX_STORE_UNAVAILABLE', `quarantine directory ${this.dir}: ${errorMessage(err)}`, { cause: err });
    }
    if (!this.cleaned) {
      this.cleaned = true;
      await this.removeOrphans(names);
    }
    const ids = new Set(names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -5)));
    for (const id of this.cache.keys()) if (!ids.has(id)) this.cache.delete(id);
    const out: QuarantineEntry[] = [];
    const t = this.now();
    for (const id of ids) {
      const e = this.cache.get(id) ?? (await this.readEntry(id));
      if (!e) continue;
      if (e.expiresAt <= t) {
        await this.remove(id, e);
        continue;
      }
      out.push(e);
    }
    return out;
  }

  private async readEntry(id: string): Promise<QuarantineEntry | null> {
    try {
      const e = JSON.parse(await readFile(this.file(id, 'json'), 'utf8')) as QuarantineEntry;
      this.cache.set(id, e);
      return e;
    } catch {
      return null; // deleted meanwhile, or not ours
    }
  }

  /** Raw files without an entry (a hold interrupted by a crash, never answered 250) and stale temp files. */
  private async removeOrphans(names: string[]): Promise<void> {
    const entries = new Set(names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)));
    const t = Date.now();
    for (const n of names) {
      const orphan = (n.endsWith('.eml') && !entries.has(n.slice(0, -4))) || (n.startsWith('.') && n.endsWith('.tmp'));
      if (!orphan) continue;
      const f = path.join(this.dir, n);
      const s = await stat(f).catch(() => null);
      if (s && t - s.mtimeMs > ORPHAN_AGE_MS) await unlink(f).catch(() => undefined);
    }
  }

  private async remove(id: string, e?: QuarantineEntry): Promise<boolean> {
    const entry = e ?? this.cache.get(id) ?? (await this.readEntry(id));
    this.cache.delete(id);
    // The entry first: a crash in between leaves an orphan raw file, removed at a later start.
    const gone = await unlink(this.file(id, 'json')).then(
      () => true,
      () => false,
    );
    await unlink(this.file(id, 'eml')).catch(() => undefined);
    if (entry?.spooled && entry.spoolPath) await unlink(entry.spoolPath).catch(() => undefined);
    await syncDir(this.dir);
    return gone;
  }

  private async sweep(): Promise<void> {
    await this.entries();
  }

  canHoldInline(): boolean {
    return true;
  }

  async putQuarantine(entry: QuarantineEntry, raw: Buffer | null): Promise<void> {
    const live = (await this.entries()).filter((e) => e.id !== entry.id);
    const bytes = live.reduce((a, e) => a + e.size, 0);
    if (live.length >= this.opts.maxEntries) throw new StoreError('PHISHX_STORE_FULL', `quarantine full: ${live.length} held messages ([quarantine] max_entries = ${this.opts.maxEntries})`);
    if (bytes + entry.size > this.opts.maxBytes) throw new StoreError('PHISHX_STORE_FULL', `quarantine full: ${bytes} bytes held, ${entry.size} more would pass [quarantine] max_disk_bytes = ${this.opts.maxBytes}`);
    try {
      if (raw) await writeFileDurable(this.file(entry.id, 'eml'), raw);
      await writeFileDurable(this.file(entry.id, 'json'), JSON.stringify(entry));
    } catch (err) {
      throw new StoreError('PHISHX_STORE_UNAVAILABLE', `cannot write the held message to ${this.dir}: ${errorMessage(err)}`, { cause: err });
    }
    this.cache.set(entry.id, structuredClone(entry));
  }

  /** The entry of a held, unexpired message (an expired one is removed on the way), else null. */
  private async live(id: string): Promise<QuarantineEntry | null> {
    if (!ID_RE.test(id)) return null;
    const e = await this.readEntry(id);
    if (!e) return null;
    if (e.expiresAt <= this.now()) {
      await this.remove(id, e);
      return null;
    }
    return e;
  }

  async getQuarantine(id: string): Promise<HeldMessage | null> {
    const e = await this.live(id);
    if (!e) return null;
    const raw = e.spooled ? null : await readFile(this.file(id, 'eml')).catch(() => null);
    return { entry: structuredClone(e), raw };
  }

  async listQuarantine(opts: { limit?: number; offset?: number } = {}): Promise<QuarantineEntry[]> {
    const all = (await this.entries()).sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id));
    const offset = opts.offset ?? 0;
    return all.slice(offset, offset + (opts.limit ?? 100)).map((e) => structuredClone(e));
  }

  async deleteQuarantine(id: string): Promise<boolean> {
    const e = await this.live(id);
    return e ? this.remove(id, e) : false;
  }

  async countQuarantine(): Promise<number> {
    return (await this.entries()).length;
  }

  /** Raw bytes held on disk. */
  async usedMemoryBytes(): Promise<number | null> {
    return (await this.entries()).reduce((a, e) => a + e.size, 0);
  }

  /** The directory must be readable (a missing one holds nothing yet). */
  async ping(): Promise<number> {
    const t0 = performance.now();
    await this.entries();
    return performance.now() - t0;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
