/**
 * The single-use release marker: a header the sidecar puts on a released message before it
 * re-submits it to Haraka, so the PhishX plugin delivers it without scanning it again.
 *
 *   X-PhishX-Release: v1; id=<id>; claim=<hex>; exp=<unix s>; by=<actor>; sig=<base64url>
 *
 * `sig` is HMAC-SHA256 over the fields with the instance's release key. The plugin accepts
 * a marker only when the signature verifies (constant time), it has not run out, and the
 * store still holds a release of that id with that claim, never used: it then marks the
 * claim used (compare-and-set), so a replayed or forged marker is stripped and the message
 * scanned as any other.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createFileDurable } from '../fs-durable.js';

export const RELEASE_HEADER = 'X-PhishX-Release';

export interface ReleaseMarker {
  id: string;
  claim: string;
  /** Unix seconds after which the marker is void. */
  exp: number;
  by: string;
}

const SAFE = /^[0-9A-Za-z_.:@+-]{1,128}$/;

function payload(m: ReleaseMarker): string {
  return `v1\n${m.id}\n${m.claim}\n${m.exp}\n${m.by}`;
}

/** Header-safe actor text (token ids are `token:1a2b3c4d`; anything else is replaced). */
export function safeActor(by: string): string {
  const s = by.replace(/[^0-9A-Za-z_.:@+-]/g, '_').slice(0, 128);
  return s || 'unknown';
}

export function signMarker(key: Buffer, m: ReleaseMarker): string {
  const sig = createHmac('sha256', key).update(payload(m)).digest('base64url');
  return `v1; id=${m.id}; claim=${m.claim}; exp=${m.exp}; by=${m.by}; sig=${sig}`;
}

/** The marker of a header value when it is well-formed and its signature verifies, else null (expiry is checked too). */
export function verifyMarker(key: Buffer, value: string, nowMs = Date.now()): ReleaseMarker | null {
  const fields = new Map<string, string>();
  const parts = value.trim().split(/\s*;\s*/);
  if (parts.shift() !== 'v1') return null;
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq <= 0) return null;
    fields.set(p.slice(0, eq), p.slice(eq + 1));
  }
  const [id, claim, exp, by, sig] = ['id', 'claim', 'exp', 'by', 'sig'].map((k) => fields.get(k) ?? '');
  if (![id, claim, by].every((v) => SAFE.test(v)) || !/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return null;
  const m: ReleaseMarker = { id, claim, exp: Number(exp), by };
  const want = createHmac('sha256', key).update(payload(m)).digest();
  const got = Buffer.from(sig, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
  if (m.exp * 1000 <= nowMs) return null;
  return m;
}

/** A new release claim (random, 128 bits). */
export function newClaim(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The release key: `PHISHX_RELEASE_KEY` (at least 32 characters; the same on every node
 * whose sidecar may submit to another node's Haraka), else `<spool_dir>/release.key`,
 * made on first use (32 random bytes, mode 0600; of several processes making it at once
 * one wins and all read its bytes).
 */
export async function releaseKey(spoolDir: string, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  const fromEnv = env.PHISHX_RELEASE_KEY;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < 32) throw new Error('environment PHISHX_RELEASE_KEY must be at least 32 characters');
    return Buffer.from(fromEnv, 'utf8');
  }
  const file = path.join(spoolDir, 'release.key');
  const existing = await readFile(file).catch(() => null);
  if (existing && existing.length >= 32) return existing;
  await createFileDurable(file, randomBytes(32).toString('hex'));
  return readFile(file);
}
