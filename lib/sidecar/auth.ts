import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** `sha256:<64 hex>`: the only form in which API tokens are stored. */
export const TOKEN_HASH_RE = /^sha256:[0-9a-f]{64}$/;

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
 * Checks presented tokens against stored hashes. The presented token is hashed (so its
 * length says nothing) and compared with every stored hash with `timingSafeEqual`, without
 * stopping at the first match: timing reveals neither which nor whether a hash matched.
 * Returns a short id of the matching token (for rate limits and logs), or null.
 */
export class TokenVerifier {
  private readonly hashes: Buffer[];
  constructor(tokenHashes: readonly string[]) {
    this.hashes = tokenHashes.map((h) => Buffer.from(h.slice('sha256:'.length), 'hex'));
  }
  get configured(): boolean {
    return this.hashes.length > 0;
  }
  verify(token: string): string | null {
    const presented = createHash('sha256').update(token, 'utf8').digest();
    let match = -1;
    for (let i = 0; i < this.hashes.length; i++) {
      if (timingSafeEqual(presented, this.hashes[i]) && match < 0) match = i;
    }
    return match < 0 ? null : `token:${this.hashes[match].subarray(0, 4).toString('hex')}`;
  }
}
