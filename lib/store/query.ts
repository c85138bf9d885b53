/**
 * Pure parts of the quarantine listing shared by every store: the status a record reads
 * as, the filters, the order (newest first) and the opaque paging cursor.
 */
import { StoreError } from '../errors.js';
import { addressDomain as domainOf } from '../message/domain.js';
import type { AuditRecord, ListPage, QuarantineEntry, QuarantineFilter, QuarantineState, QuarantineStatus } from './types.js';

/** The state of a record that was never changed. */
export function initialState(entry: Pick<QuarantineEntry, 'createdAt' | 'expiresAt'>, historyMs = 0): QuarantineState {
  return { status: 'held', version: 0, updatedAt: entry.createdAt, purgeAt: entry.expiresAt + historyMs };
}

export function stateOf(entry: Pick<QuarantineEntry, 'createdAt' | 'expiresAt' | 'state'>): QuarantineState {
  return entry.state ?? initialState(entry);
}

/** The status a record reads as at `now`: a held one past its expiry is `expired`. */
export function statusOf(entry: Pick<QuarantineEntry, 'createdAt' | 'expiresAt' | 'state'>, now = Date.now()): QuarantineStatus {
  const s = stateOf(entry);
  if (s.status === 'held' && entry.expiresAt <= now) return 'expired';
  return s.status;
}

/** Whether a record in this status is a message still held (waiting for review or being released): what counts toward the quarantine's size. */
export function isHeld(status: QuarantineStatus): boolean {
  return status === 'held' || status === 'releasing';
}

/** Whether the store keeps the raw bytes of a record in this status. */
export function keepsRaw(status: QuarantineStatus): boolean {
  return status === 'held' || status === 'releasing' || status === 'released';
}

function senderMatches(entry: QuarantineEntry, sender: string): boolean {
  const want = sender.toLowerCase().trim();
  const addresses = [entry.envelope.mailFrom, entry.from].map((a) => (/<([^>]*)>/.exec(a)?.[1] ?? a).trim().toLowerCase()).filter(Boolean);
  if (want.includes('@')) return addresses.includes(want);
  return addresses.some((a) => {
    const d = domainOf(a);
    return d === want || d.endsWith(`.${want}`);
  });
}

/** Whether a record is of a tenant: its verdict's tenant, or a recipient in that domain (or a subdomain). */
export function inTenant(entry: QuarantineEntry, tenant: string): boolean {
  const t = tenant.toLowerCase();
  if (entry.verdict.tenant === t) return true;
  return entry.envelope.rcptTo.some((r) => {
    const d = domainOf(r);
    return d === t || d.endsWith(`.${t}`);
  });
}

export function matchesFilter(entry: QuarantineEntry, f: QuarantineFilter, now = Date.now()): boolean {
  if (f.status?.length && !f.status.includes(statusOf(entry, now))) return false;
  if (f.tenant !== undefined && !inTenant(entry, f.tenant)) return false;
  if (f.recipient !== undefined && !entry.envelope.rcptTo.some((r) => r.toLowerCase() === f.recipient!.toLowerCase())) return false;
  if (f.sender !== undefined && !senderMatches(entry, f.sender)) return false;
  if (f.reason !== undefined && !entry.verdict.reasons.some((r) => r.code === f.reason)) return false;
  if (f.action !== undefined && entry.verdict.action !== f.action && entry.verdict.wouldAction !== f.action) return false;
  if (f.scoreMin !== undefined && entry.verdict.score < f.scoreMin) return false;
  if (f.scoreMax !== undefined && entry.verdict.score > f.scoreMax) return false;
  if (f.since !== undefined && entry.createdAt < f.since) return false;
  if (f.until !== undefined && entry.createdAt >= f.until) return false;
  if (f.text !== undefined && !entry.subject.toLowerCase().includes(f.text.toLowerCase())) return false;
  return true;
}

/** Newest first; ties by id, descending (the same order as Redis' reverse sorted-set range). */
export function newestFirst(a: Pick<QuarantineEntry, 'createdAt' | 'id'>, b: Pick<QuarantineEntry, 'createdAt' | 'id'>): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

export interface Cursor {
  createdAt: number;
  id: string;
}

export function encodeCursor(e: Pick<QuarantineEntry, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([e.createdAt, e.id])).toString('base64url');
}

/** Throws StoreError PHISHX_STORE_BAD_CURSOR for anything but a cursor this module made. */
export function decodeCursor(cursor: string): Cursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string' && v[1].length <= 128)
      return { createdAt: v[0] as number, id: v[1] };
  } catch {
    /* below */
  }
  throw new StoreError('PHISHX_STORE_BAD_CURSOR', 'cursor is not one this API returned');
}

/** Whether `e` comes after the cursor in newest-first order. */
export function afterCursor(e: Pick<QuarantineEntry, 'createdAt' | 'id'>, c: Cursor): boolean {
  return newestFirst(e, c) > 0;
}

export const MAX_PAGE = 500;

export function pageLimit(limit: number | undefined): number {
  return Math.max(1, Math.min(MAX_PAGE, Math.floor(limit ?? 50)));
}

/** A page of an in-memory list (the embedded stores). */
export function pageOf(all: QuarantineEntry[], query: { limit?: number; cursor?: string | null; filter?: QuarantineFilter; now?: number }): ListPage {
  const limit = pageLimit(query.limit);
  const cursor = query.cursor ? decodeCursor(query.cursor) : null;
  const now = query.now ?? Date.now();
  const sorted = [...all].sort(newestFirst);
  const items: QuarantineEntry[] = [];
  let more = false;
  for (const e of sorted) {
    if (cursor && !afterCursor(e, cursor)) continue;
    if (query.filter && !matchesFilter(e, query.filter, now)) continue;
    if (items.length === limit) {
      more = true;
      break;
    }
    items.push(structuredClone(e));
  }
  return { items, nextCursor: more ? encodeCursor(items[items.length - 1]) : null };
}

let auditSeq = 0;

/** An audit id that sorts by time: 13-digit ms, a per-process sequence, random tail. */
export function newAuditId(at: number): string {
  auditSeq = (auditSeq + 1) % 1_000_000;
  return `${String(at).padStart(13, '0')}-${String(auditSeq).padStart(6, '0')}-${Math.random().toString(36).slice(2, 8).padEnd(6, '0')}`;
}

/** Audit records newest first, before `before` (an audit id), at most `limit`. */
export function auditPage(records: AuditRecord[], opts: { limit?: number; before?: string | null }): AuditRecord[] {
  const limit = pageLimit(opts.limit);
  return records
    .filter((r) => !opts.before || r.id < opts.before)
    .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, limit);
}
