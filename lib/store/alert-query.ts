import { StoreError } from '../errors.js';
import { alertInTenant } from '../soc/alerts.js';
import { pageLimit } from './query.js';
import type { AlertQuery, SocAlert } from './types.js';

/** Newest activity first, ties by id descending. */
export function alertOrder(a: Pick<SocAlert, 'lastSeen' | 'id'>, b: Pick<SocAlert, 'lastSeen' | 'id'>): number {
  return b.lastSeen - a.lastSeen || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

export function alertMatches(a: SocAlert, q: AlertQuery): boolean {
  if (q.status?.length && !q.status.includes(a.status)) return false;
  if (q.tenant !== undefined && !alertInTenant(a, q.tenant)) return false;
  if (q.sender !== undefined) {
    const want = q.sender.toLowerCase();
    if (![...a.senderDomains, ...a.urlHosts].some((d) => d === want || d.endsWith(`.${want}`) || want.endsWith(`.${d}`))) return false;
  }
  if (q.reason !== undefined && !(q.reason in a.reasons)) return false;
  if (q.text !== undefined && !a.subjects.some((s) => s.toLowerCase().includes(q.text!.toLowerCase()))) return false;
  if (q.since !== undefined && a.lastSeen < q.since) return false;
  if (q.until !== undefined && a.lastSeen >= q.until) return false;
  return true;
}

/** Alert cursors are offsets into the ordered, filtered list (alerts are few; a page may shift while new ones arrive). */
export function alertCursor(offset: number): string {
  return Buffer.from(`a${offset}`).toString('base64url');
}

export function alertOffset(cursor: string | null | undefined): number {
  if (!cursor) return 0;
  const m = /^a(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new StoreError('PHISHX_STORE_BAD_CURSOR', 'cursor is not one this API returned');
  return Number(m[1]);
}

export function alertPage(all: SocAlert[], q: AlertQuery): { items: SocAlert[]; nextCursor: string | null } {
  const limit = pageLimit(q.limit);
  const offset = alertOffset(q.cursor);
  const matching = all.filter((a) => alertMatches(a, q)).sort(alertOrder);
  const items = matching.slice(offset, offset + limit).map((a) => structuredClone(a));
  return { items, nextCursor: offset + limit < matching.length ? alertCursor(offset + limit) : null };
}
