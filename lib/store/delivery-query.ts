import { StoreError } from '../errors.js';
import { pageLimit } from './query.js';
import type { DeliveryQuery, DeliveryRecord } from './types.js';

/** Delivery records kept at most (newest updated), and for how long. */
export const DELIVERY_KEEP = 10_000;
export const DELIVERY_KEEP_MS = 7 * 86_400_000;

/** Most recently updated first, ties by id. */
export function deliveryOrder(a: DeliveryRecord, b: DeliveryRecord): number {
  return b.updatedAt - a.updatedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function offsetOf(cursor: string | null | undefined): number {
  if (!cursor) return 0;
  const m = /^d(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new StoreError('PHISHX_STORE_BAD_CURSOR', 'cursor is not one this API returned');
  return Number(m[1]);
}

/** One page of the filtered, ordered records (cursors are offsets: the list is small and operational). */
export function deliveryPage(all: DeliveryRecord[], q: DeliveryQuery): { items: DeliveryRecord[]; nextCursor: string | null } {
  const limit = pageLimit(q.limit);
  const offset = offsetOf(q.cursor);
  const matching = all
    .filter((d) => (!q.status?.length || q.status.includes(d.status)) && (q.endpoint === undefined || d.endpoint === q.endpoint))
    .sort(deliveryOrder);
  const items = matching.slice(offset, offset + limit);
  return { items, nextCursor: offset + limit < matching.length ? Buffer.from(`d${offset + limit}`).toString('base64url') : null };
}
