import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hashToken, SCOPES, type ApiToken, type Scope } from '../config/values.js';

export { hashToken, parseTokenSpec, SCOPES, type ApiToken, type Scope } from '../config/values.js';

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

export function scopeAllows(have: Scope, need: Scope): boolean {
  return SCOPES.indexOf(have) >= SCOPES.indexOf(need);
}

/** Who made a request: the token's short id, scope and tenant (null: every tenant). */
export interface Principal {
  id: string;
  scope: Scope;
  tenant: string | null;
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
