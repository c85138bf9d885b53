/**
 * The webhook signing scheme (docs/webhooks.md), both directions: PhishX signs the events it
 * sends, and the same scheme authenticates requests sent to the sidecar.
 *
 * Every signed request carries
 *   x-phishx-timestamp   Unix seconds
 *   x-phishx-nonce       128 random bits, hex
 *   x-phishx-body-hash   sha256=<hex SHA-256 of the raw body>
 *   x-phishx-signature   v1=<hex HMAC-SHA256(key, "<timestamp>.<nonce>.<raw body>")>, one per signing key
 *   x-phishx-key-id      the key ids, in the same order
 * and the Standard Webhooks headers computed with the same secrets (webhook-id,
 * webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>),
 * so a consumer may use any Standard Webhooks library instead.
 *
 * Secrets are `whsec_<base64>` (the Standard Webhooks form): the HMAC key is the decoded bytes.
 * Written on node:crypto (HMAC, SHA-256, timingSafeEqual): the scheme is a few lines over it,
 * and the `standardwebhooks` package is used by the tests as an independent implementation.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
/** Default tolerance of a verifier: a timestamp this far from now (either way) is refused. */
export const DEFAULT_TOLERANCE_S = 300;

export interface SigningSecret {
  /** Key id, sent in x-phishx-key-id (`key_…` for managed keys, `env` for one from the environment). */
  id: string;
  /** `whsec_<base64>`. */
  secret: string;
}

/** A new secret: 32 random bytes as `whsec_<base64>`. */
export function newSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** The HMAC key of a `whsec_` secret; throws a clear error for anything else. */
export function secretBytes(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error(`a webhook secret starts with ${SECRET_PREFIX} (got ${JSON.stringify(secret.slice(0, 6))}…)`);
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error('a webhook secret is whsec_ followed by base64');
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length < 16) throw new Error(`a webhook secret needs at least 16 bytes of key (this one has ${bytes.length})`);
  return bytes;
}

export function bodyHash(body: Buffer | string): string {
  return `sha256=${createHash('sha256').update(body).digest('hex')}`;
}

function hmac(key: Buffer, parts: Array<string | Buffer>): Buffer {
  const h = createHmac('sha256', key);
  parts.forEach((p, i) => {
    if (i) h.update('.');
    h.update(p);
  });
  return h.digest();
}

/** A request to the sidecar: its method and target are signed too (a signature cannot be moved to another route). */
export interface SignedRequest {
  method: string;
  /** Path and query, as sent (`/api/v1/quarantine?limit=5`). */
  target: string;
}

export interface SignInput {
  body: Buffer | string;
  /** Sign a request to the sidecar rather than a delivery. */
  request?: SignedRequest;
  /** Active keys, primary first (every one signs). */
  keys: readonly SigningSecret[];
  /** The event id (Standard Webhooks `webhook-id`). */
  id: string;
  /** Unix seconds (default now). */
  timestamp?: number;
  /** 32 hex digits (default random). */
  nonce?: string;
}

/** The headers of one signed delivery or request. Throws when there is no key to sign with. */
export function signHeaders(input: SignInput): Record<string, string> {
  if (!input.keys.length) throw new Error('no signing key');
  const ts = String(input.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = input.nonce ?? randomBytes(16).toString('hex');
  const keys = input.keys.map((k) => ({ id: k.id, bytes: secretBytes(k.secret) }));
  const signed = messageParts(ts, nonce, input.body, input.request);
  return {
    'x-phishx-timestamp': ts,
    'x-phishx-nonce': nonce,
    'x-phishx-body-hash': bodyHash(input.body),
    'x-phishx-signature': keys.map((k) => `v1=${hmac(k.bytes, signed).toString('hex')}`).join(' '),
    'x-phishx-key-id': keys.map((k) => k.id).join(' '),
    'webhook-id': input.id,
    'webhook-timestamp': ts,
    'webhook-signature': keys.map((k) => `v1,${hmac(k.bytes, [input.id, ts, input.body]).toString('base64')}`).join(' '),
  };
}

/**
 * What the signature covers: "<timestamp>.<nonce>.<raw body>" for a delivery, and for a
 * request to the sidecar "<timestamp>.<nonce>.<METHOD> <target>.<raw body>".
 */
function messageParts(ts: string, nonce: string, body: Buffer | string, request?: SignedRequest): Array<string | Buffer> {
  return request ? [ts, nonce, `${request.method.toUpperCase()} ${request.target}`, body] : [ts, nonce, body];
}

/** Which check refused a request (each has its own code, so a consumer can log why). */
export type VerifyCheck = 'headers' | 'timestamp' | 'body_hash' | 'signature' | 'nonce';

export type VerifyResult = { ok: true; keyId: string; timestamp: number; nonce: string } | { ok: false; check: VerifyCheck; message: string };

/** Remembers nonces until they expire; `add` answers false when the nonce was seen already. */
export interface NonceCache {
  /** `nowS`: the verifier's clock (Unix seconds). */
  add(nonce: string, expiresAtS: number, nowS: number): boolean | Promise<boolean>;
}

/** An in-process nonce cache (one verifier process); the sidecar shares one through Redis. */
export class MemoryNonceCache implements NonceCache {
  private readonly seen = new Map<string, number>();

  constructor(private readonly max = 100_000) {}

  add(nonce: string, expiresAtS: number, now: number): boolean {
    if (this.seen.size >= this.max)
      for (const [n, exp] of this.seen) {
        if (exp <= now || this.seen.size >= this.max) this.seen.delete(n);
        if (this.seen.size < this.max * 0.9) break;
      }
    const exp = this.seen.get(nonce);
    if (exp !== undefined && exp > now) return false;
    this.seen.set(nonce, expiresAtS);
    return true;
  }
}

export interface VerifyOptions {
  /** Accepted secrets (`whsec_…`), or id + secret pairs; any one matching signature passes. */
  secrets: ReadonlyArray<string | SigningSecret>;
  toleranceS?: number;
  /** Unix seconds (default now). */
  now?: number;
  /** Without one, nonce reuse is not checked (say so to your users: replays within the tolerance pass). */
  nonces?: NonceCache;
  /** Verify a signed request to the sidecar (method and target are signed too). */
  request?: SignedRequest;
}

type HeaderBag = Record<string, string | string[] | undefined> | Headers;

function header(h: HeaderBag, name: string): string | undefined {
  if (typeof (h as Headers).get === 'function') return (h as Headers).get(name) ?? undefined;
  const bag = h as Record<string, string | string[] | undefined>;
  const v = bag[name] ?? Object.entries(bag).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(v) ? v.join(' ') : v;
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Verify a signed request: headers present, timestamp within the tolerance, body hash, one
 * signature of an accepted key (constant-time compares), nonce not seen within the
 * tolerance. Says which check failed. Never throws for bad input.
 */
export async function verifyWebhook(headers: HeaderBag, body: Buffer | string, opts: VerifyOptions): Promise<VerifyResult> {
  const fail = (check: VerifyCheck, message: string): VerifyResult => ({ ok: false, check, message });
  const tsText = header(headers, 'x-phishx-timestamp');
  const nonce = header(headers, 'x-phishx-nonce');
  const hash = header(headers, 'x-phishx-body-hash');
  const sigs = header(headers, 'x-phishx-signature');
  const missing = [
    ['x-phishx-timestamp', tsText],
    ['x-phishx-nonce', nonce],
    ['x-phishx-body-hash', hash],
    ['x-phishx-signature', sigs],
  ]
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length) return fail('headers', `missing header ${missing.join(', ')}`);
  if (!/^\d{1,12}$/.test(tsText!)) return fail('headers', 'x-phishx-timestamp is not Unix seconds');
  if (!/^[0-9a-f]{32}$/.test(nonce!)) return fail('headers', 'x-phishx-nonce is not 32 hex digits');
  const tolerance = opts.toleranceS ?? DEFAULT_TOLERANCE_S;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const ts = Number(tsText);
  if (Math.abs(now - ts) > tolerance) return fail('timestamp', `timestamp ${ts} is ${now - ts} s from now (tolerance ${tolerance} s)`);
  if (!sameBytes(Buffer.from(hash!), Buffer.from(bodyHash(body)))) return fail('body_hash', 'the body does not match x-phishx-body-hash');
  const given = sigs!
    .split(/\s+/)
    .filter((s) => s.startsWith('v1='))
    .map((s) => Buffer.from(s.slice(3), 'hex'));
  let keyId: string | null = null;
  for (const [i, s] of opts.secrets.entries()) {
    const key = typeof s === 'string' ? { id: `#${i}`, secret: s } : s;
    let bytes: Buffer;
    try {
      bytes = secretBytes(key.secret);
    } catch {
      continue;
    }
    const want = hmac(bytes, messageParts(tsText!, nonce!, body, opts.request));
    if (given.some((g) => sameBytes(g, want))) {
      keyId = key.id;
      break;
    }
  }
  if (keyId === null) return fail('signature', 'no signature matches an accepted key');
  if (opts.nonces && !(await opts.nonces.add(nonce!, ts + tolerance, now))) return fail('nonce', `nonce ${nonce} was used already`);
  return { ok: true, keyId, timestamp: ts, nonce: nonce! };
}
