import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function hashToken(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

/** A new random API token (256 bits, URL-safe) and its stored form. */
export function newToken(): { token: string; hash: string } {
  const token = `phx_${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashToken(token) };
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerOf(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i.exec(header);
  return m ? m[1] : null;
}

/**
 * Token scopes, each including the one before: `read` (lists, details, alerts), `act`
 * (release, delete, raw, report, alert actions), `admin` (everything: audit, bulk).
 */
export type Scope = 'read' | 'act' | 'admin';
export const SCOPES: readonly Scope[] = ['read', 'act', 'admin'];

export function scopeAllows(have: Scope, need: Scope): boolean {
  return SCOPES.indexOf(have) >= SCOPES.indexOf(need);
}

/** A stored API token: its hash, scope and, when bound to one, the tenant it may see. */
export interface ApiToken {
  hash: string;
  scope: Scope;
  tenant?: string;
}

/** Who made a request: the token's short id, scope and tenant (null: every tenant). */
export interface Principal {
  id: string;
  scope: Scope;
  tenant: string | null;
}

/**
 * `sha256:<64 hex>[:<scope>[:<tenant>]]` (scope `admin` when left out, as before scopes
 * existed) ─► ApiToken; null when malformed.
 */
export function parseTokenSpec(spec: string): ApiToken | null {
  const m = /^(sha256:[0-9a-f]{64})(?::(read|act|admin)(?::([a-z0-9.-]{1,253}))?)?$/.exec(spec.trim().toLowerCase());
  if (!m) return null;
  return { hash: m[1], scope: (m[2] as Scope | undefined) ?? 'admin', ...(m[3] ? { tenant: m[3] } : {}) };
}

/**
 * Checks presented tokens against stored hashes. The presented token is hashed (so its
 * length says nothing) and compared with every stored hash with `timingSafeEqual`, without
 * stopping at the first match: timing reveals neither which nor whether a hash matched.
 * Returns the matching token's principal (a short id for rate limits and logs), or null.
 */
export class TokenVerifier {
  private readonly tokens: Array<{ hash: Buffer; token: ApiToken }>;
  constructor(tokens: readonly ApiToken[]) {
    this.tokens = tokens.map((t) => ({ hash: Buffer.from(t.hash.slice('sha256:'.length), 'hex'), token: t }));
  }
  get configured(): boolean {
    return this.tokens.length > 0;
  }
  verify(token: string): Principal | null {
    const presented = createHash('sha256').update(token, 'utf8').digest();
    let match = -1;
    for (let i = 0; i < this.tokens.length; i++) {
      if (timingSafeEqual(presented, this.tokens[i].hash) && match < 0) match = i;
    }
    if (match < 0) return null;
    const t = this.tokens[match];
    return { id: `token:${t.hash.subarray(0, 4).toString('hex')}`, scope: t.token.scope, tenant: t.token.tenant ?? null };
  }
}
