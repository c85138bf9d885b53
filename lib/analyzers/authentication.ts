import { registrableOf } from '../message/domain.js';
import type { ScanInput } from '../message/types.js';

// What the SPF / DKIM results of earlier Haraka plugins (ScanInput.auth, read by
// lib/haraka/sender-auth.ts) say about the From address.

export type FromAuthentication = 'pass' | 'fail' | 'unknown';

/** Does any of these domains (DKIM d=, SPF envelope domain) sit on the From's registered domain? */
const onFromDomain = (domains: readonly string[], fromReg: string): boolean => domains.some((d) => registrableOf(d) === fromReg);

/**
 * Is the From domain authenticated, DMARC-style (relaxed alignment)? `pass`: a DKIM
 * signature of the From's registered domain verified, or SPF passed for an envelope sender
 * on it. `fail`: SPF / DKIM were checked and neither is aligned. `unknown`: no results
 * (no spf / dkim plugin before PhishX, or `phishx eval`). Pure.
 */
export function fromAuthentication(input: Pick<ScanInput, 'from' | 'auth'>): FromAuthentication {
  const fromReg = input.from?.registrable ?? null;
  const auth = input.auth;
  if (!auth) return 'unknown';
  if (!fromReg) return 'fail';
  if (auth.dkim && onFromDomain(auth.dkim.pass, fromReg)) return 'pass';
  if (auth.spf?.result === 'pass' && onFromDomain([auth.spf.domain], fromReg)) return 'pass';
  return 'fail';
}

/**
 * Positive evidence that the From is forged: a DKIM signature of its domain that failed (and
 * none that passed), or an SPF hard fail for an envelope sender on it. Unsigned mail is not
 * evidence. Pure.
 */
export function fromForged(input: Pick<ScanInput, 'from' | 'auth'>): boolean {
  const fromReg = input.from?.registrable ?? null;
  const auth = input.auth;
  if (!auth || !fromReg) return false;
  if (auth.dkim && onFromDomain(auth.dkim.fail, fromReg) && !onFromDomain(auth.dkim.pass, fromReg)) return true;
  return auth.spf?.result === 'fail' && onFromDomain([auth.spf.domain], fromReg);
}

/** What SPF / DKIM said, for a reason's detail. */
export function authDetail(input: Pick<ScanInput, 'auth'>): string {
  const parts: string[] = [];
  const a = input.auth;
  if (a?.spf) parts.push(`spf=${a.spf.result} (${a.spf.domain})`);
  if (a?.dkim) parts.push(a.dkim.pass.length || a.dkim.fail.length ? `dkim pass=[${a.dkim.pass.join(',')}] fail=[${a.dkim.fail.join(',')}]` : 'dkim: unsigned');
  return parts.join(', ');
}
