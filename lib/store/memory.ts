import { MemoryJournal } from './event-journal.js';
import { AlertTable } from './local-alerts.js';
import { FeedbackShelf } from './feedback.js';
import { LocalState } from './local-state.js';
import { DeliveryTable, DocTable, KeyRingFile } from './local-webhooks.js';
import { auditPage, isHeld, keepsRaw, newAuditId, pageOf, stateOf, statusOf } from './query.js';
import type { AuditRecord, HeldMessage, ListPage, ListQuery, QuarantineEntry, QuarantineState, Store } from './types.js';

const AUDIT_MAX = 10_000;

/**
 * In-process store for tests and tools. Raw bytes held in memory are bounded by
 * `maxBytes`; callers spool beyond it.
 */
export class MemoryStore extends LocalState implements Store {
  readonly kind = 'memory' as const;
  private readonly held = new Map<string, { entry: QuarantineEntry; raw: Buffer | null }>();
  private readonly audit: AuditRecord[] = [];
  private readonly sweeper: NodeJS.Timeout;
  private bytes = 0;
  protected readonly journal = new MemoryJournal();
  protected readonly feedback = new FeedbackShelf(null);
  protected readonly alerts: AlertTable;
  protected readonly deliveries: DeliveryTable;
  protected readonly keyRing = new KeyRingFile(null);
  protected readonly docs = new DocTable(null);

  constructor(
    private readonly maxBytes = 256 * 1024 * 1024,
    private readonly now: () => number = Date.now,
    sweepMs = 60_000,
  ) {
    super();
    this.alerts = new AlertTable(null, now);
    this.deliveries = new DeliveryTable(null, now);
    this.sweeper = setInterval(() => void this.sweepQuarantine(), sweepMs);
    this.sweeper.unref();
  }

  private dropRaw(v: { raw: Buffer | null }): void {
    this.bytes -= v.raw?.length ?? 0;
    v.raw = null;
  }

  async sweepQuarantine(now = this.now()): Promise<void> {
    for (const [id, v] of this.held) {
      if (stateOf(v.entry).purgeAt <= now) this.remove(id);
      else if (!keepsRaw(statusOf(v.entry, now))) this.dropRaw(v);
    }
  }

  private remove(id: string): boolean {
    const v = this.held.get(id);
    if (!v) return false;
    this.dropRaw(v);
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
    const t = this.now();
    if (stateOf(v.entry).purgeAt <= t) {
      this.remove(id);
      return null;
    }
    if (!keepsRaw(statusOf(v.entry, t))) this.dropRaw(v);
    return v;
  }

  async putQuarantine(entry: QuarantineEntry, raw: Buffer | null): Promise<void> {
    this.remove(entry.id);
    this.held.set(entry.id, { entry: { ...structuredClone(entry), state: stateOf(entry) }, raw: raw ? Buffer.from(raw) : null });
    this.bytes += raw?.length ?? 0;
  }

  async getQuarantine(id: string): Promise<HeldMessage | null> {
    const v = this.live(id);
    return v ? { entry: structuredClone(v.entry), raw: v.raw ? Buffer.from(v.raw) : null } : null;
  }

  async listQuarantine(query: ListQuery = {}): Promise<ListPage> {
    await this.sweepQuarantine();
    return pageOf(
      [...this.held.values()].map((v) => v.entry),
      { ...query, now: query.now ?? this.now() },
    );
  }

  async updateQuarantineState(id: string, state: QuarantineState): Promise<boolean> {
    const v = this.live(id);
    if (!v || stateOf(v.entry).version !== state.version - 1) return false;
    v.entry.state = structuredClone(state);
    if (!keepsRaw(state.status)) this.dropRaw(v);
    return true;
  }

  async deleteQuarantine(id: string): Promise<boolean> {
    return this.live(id) !== null && this.remove(id);
  }

  async countQuarantine(): Promise<number> {
    await this.sweepQuarantine();
    const t = this.now();
    return [...this.held.values()].filter((v) => isHeld(statusOf(v.entry, t))).length;
  }

  async appendAudit(record: Omit<AuditRecord, 'id'>): Promise<AuditRecord> {
    const r = { id: newAuditId(record.at), ...record };
    this.audit.push(r);
    if (this.audit.length > AUDIT_MAX) this.audit.splice(0, this.audit.length - AUDIT_MAX);
    return r;
  }

  async listAudit(opts: { limit?: number; before?: string | null } = {}): Promise<AuditRecord[]> {
    return auditPage(this.audit, opts);
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
