/**
 * The managed signing keys as pure functions over the key ring (`phishx keys`): a new key,
 * rotation with an overlap, retirement, and which keys sign now. Stored by the store
 * (Redis, or a 0600 file on the embedded default) with a compare-and-set on the version.
 */
import { randomBytes } from 'node:crypto';
import { errorMessage } from '../errors.js';
import type { KeyRing, SigningKey, Store } from '../store/types.js';
import { newSecret, type SigningSecret } from './signing.js';

export function newKey(now: number, primary: boolean, api?: { scope: 'read' | 'act' | 'admin'; tenant?: string }): SigningKey {
  return {
    id: `key_${randomBytes(8).toString('hex')}`,
    secret: newSecret(),
    createdAt: now,
    primary: api ? false : primary,
    ...(api ? { scope: api.scope, ...(api.tenant ? { tenant: api.tenant } : {}) } : {}),
  };
}

const isApiKey = (k: SigningKey): boolean => k.scope !== undefined;

/** Whether the key is retired at `now` (retired by hand, or its overlap after a rotation ended). */
export function isRetired(k: SigningKey, now: number): boolean {
  return k.retiredAt !== undefined || (k.retireAt !== undefined && k.retireAt <= now);
}

/** Keys that sign at `now`: the primary first, then keys in their rotation overlap. */
export function signingKeys(ring: KeyRing, now: number): SigningSecret[] {
  return ring.keys
    .filter((k) => !isApiKey(k) && !isRetired(k, now) && k.secret)
    .sort((a, b) => Number(b.primary) - Number(a.primary) || b.createdAt - a.createdAt)
    .map((k) => ({ id: k.id, secret: k.secret }));
}

/** API keys that authenticate signed requests to the sidecar at `now`, with their scope. */
export function apiKeys(ring: KeyRing, now: number): Array<SigningSecret & { scope: 'read' | 'act' | 'admin'; tenant: string | null }> {
  return ring.keys
    .filter((k) => isApiKey(k) && !isRetired(k, now) && k.secret)
    .map((k) => ({ id: k.id, secret: k.secret, scope: k.scope!, tenant: k.tenant ?? null }));
}

/** Retired keys lose their secret (they never sign or verify again); the record stays for the listing. */
function settle(keys: SigningKey[], now: number): SigningKey[] {
  return keys.map((k) => (isRetired(k, now) ? { ...k, secret: '', primary: false, retiredAt: k.retiredAt ?? k.retireAt ?? now } : k));
}

/** Add a key: the primary when there is none, else a secondary that signs too (until retired). */
export function addKey(ring: KeyRing, key: SigningKey, now: number): KeyRing {
  const keys = settle(ring.keys, now);
  const hasPrimary = keys.some((k) => k.primary && !isRetired(k, now));
  return { version: ring.version + 1, keys: [...keys, { ...key, primary: !isApiKey(key) && !hasPrimary }] };
}

/** Rotate: a new primary; the old signing keys keep signing for `overlapMs`, then retire. */
export function rotate(ring: KeyRing, key: SigningKey, now: number, overlapMs: number): KeyRing {
  const keys = settle(ring.keys, now).map((k) =>
    isRetired(k, now) ? k : { ...k, primary: false, retireAt: Math.min(k.retireAt ?? Infinity, now + overlapMs) },
  );
  return { version: ring.version + 1, keys: settle([...keys, { ...key, primary: true }], now) };
}

/** Retire one key now; when it was the primary, the newest signing key becomes primary. */
export function retire(ring: KeyRing, id: string, now: number): KeyRing | null {
  const target = ring.keys.find((k) => k.id === id);
  if (!target) return null;
  let keys = settle(
    ring.keys.map((k) => (k.id === id ? { ...k, retiredAt: now } : k)),
    now,
  );
  if (!keys.some((k) => k.primary && !isRetired(k, now))) {
    const next = keys.filter((k) => !isRetired(k, now) && !isApiKey(k)).sort((a, b) => b.createdAt - a.createdAt)[0];
    if (next) keys = keys.map((k) => (k.id === next.id ? { ...k, primary: true } : k));
  }
  return { version: ring.version + 1, keys };
}

/** Apply `change` to the stored ring with compare-and-set, retried on a concurrent change. */
export async function changeKeyRing(store: Store, change: (ring: KeyRing) => KeyRing | null): Promise<KeyRing | null> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const next = change(await store.getKeyRing());
    if (!next) return null;
    if (await store.putKeyRing(next)) return next;
  }
  throw new Error('the signing keys were changed concurrently too often; try again');
}

/**
 * Rotate by age (`[webhooks] rotate_every_days`): when the primary is older than that,
 * a new primary with the usual overlap. Returns the new key id, or null when nothing was due.
 */
export async function rotateIfDue(store: Store, now: number, everyDays: number, overlapMs: number): Promise<string | null> {
  if (everyDays <= 0) return null;
  let made: string | null = null;
  try {
    await changeKeyRing(store, (ring) => {
      const primary = ring.keys.find((k) => k.primary && !isRetired(k, now));
      if (!primary || now - primary.createdAt < everyDays * 86_400_000) return null;
      const key = newKey(now, true);
      made = key.id;
      return rotate(ring, key, now, overlapMs);
    });
  } catch (err) {
    throw new Error(`automatic key rotation failed: ${errorMessage(err)}`, { cause: err });
  }
  return made;
}

/** A key as listed: never the secret. */
export interface KeyView {
  id: string;
  status: 'primary' | 'signing' | 'retired' | 'api';
  /** API keys: the scope (and tenant) of the requests they sign. */
  scope?: string;
  tenant?: string;
  created_at: string;
  retires_at?: string;
  retired_at?: string;
}

export function keyView(k: SigningKey, now: number): KeyView {
  return {
    id: k.id,
    status: isRetired(k, now) ? 'retired' : isApiKey(k) ? 'api' : k.primary ? 'primary' : 'signing',
    ...(k.scope ? { scope: k.scope } : {}),
    ...(k.tenant ? { tenant: k.tenant } : {}),
    created_at: new Date(k.createdAt).toISOString(),
    ...(k.retireAt !== undefined && !isRetired(k, now) ? { retires_at: new Date(k.retireAt).toISOString() } : {}),
    ...(isRetired(k, now) ? { retired_at: new Date(k.retiredAt ?? k.retireAt ?? now).toISOString() } : {}),
  };
}
