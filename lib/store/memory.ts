import { LocalFeeds } from './feed-sets.js';
import type { HeldMessage, QuarantineEntry, Store } from './types.js';

/**
 * In-process store: the default, for trying PhishX and for single-process installs.
 * Raw bytes held in memory are bounded by `maxBytes`; callers spool beyond it.
 */
export class MemoryStore extends LocalFeeds implements Store {
  readonly kind = 'memory' as const;
  private readonly held = new Map<string, { entry: QuarantineEntry; raw: Buffer | null }>();
  private readonly sweeper: NodeJS.Timeout;
  private bytes = 0;

  constructor(private readonly maxBytes = 256 * 1024 * 1024, private readonly now: () => number = Date.now, sweepMs = 60_000) {
    super();
    this.sweeper = setInterval(() => this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, v] of this.held) if (v.entry.expiresAt <= t) this.remove(id);
  }

  private remove(id: string): boolean {
    const v = this.held.get(id);
    if (!v) return false;
    this.bytes -= v.raw?.length ?? 0;
    return this.held.delete(id);
  }

  canHoldInline(bytes: number): boolean {
    return this.bytes + bytes <= this.maxBytes;
  }

  /** Raw bytes currently held in memory. */
  get heldBytes(): number {
    return this.bytes;
  }

  private live(id: string): { entry: QuarantineEntry; raw: Buffer | null } | null {
    const v = this.held.get(id);
    if (!v) return null;
    if (v.entry.expiresAt <= this.now()) {
      this.remove(id);
      return null;
    }
    return v;
  }

  async putQuarantine(entry: QuarantineEntry, raw: Buffer | null): Promise<void> {
    this.remove(entry.id);
    this.held.set(entry.id, { entry: structuredClone(entry), raw: raw ? Buffer.from(raw) : null });
    this.bytes += raw?.length ?? 0;
  }

  async getQuarantine(id: string): Promise<HeldMessage | null> {
    const v = this.live(id);
    return v ? { entry: structuredClone(v.entry), raw: v.raw ? Buffer.from(v.raw) : null } : null;
  }

  async listQuarantine(opts: { limit?: number; offset?: number } = {}): Promise<QuarantineEntry[]> {
    this.sweep();
    const all = [...this.held.values()].map((v) => v.entry).sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id));
    const offset = opts.offset ?? 0;
    return all.slice(offset, offset + (opts.limit ?? 100)).map((e) => structuredClone(e));
  }

  async deleteQuarantine(id: string): Promise<boolean> {
    return this.live(id) !== null && this.remove(id);
  }

  async countQuarantine(): Promise<number> {
    this.sweep();
    return this.held.size;
  }

  async usedMemoryBytes(): Promise<number | null> {
    return this.bytes;
  }

  async ping(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
