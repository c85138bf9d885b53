import type { SenderAuth } from '../message/types.js';

/** What PhishX reads of Haraka's per-transaction result store (haraka-results). */
export interface ResultReader {
  get(plugin: string): unknown;
}

const strings = (v: unknown): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string' && x.length > 0).map((x) => x.toLowerCase());

/**
 * SPF and DKIM results that haraka-plugin-spf and haraka-plugin-dkim stored in the
 * transaction before PhishX's data_post hook (list them before `phishx` in config/plugins).
 * spf: `{ scope: 'mfrom', result: 'Pass', domain }`; dkim: `{ pass: [d…], fail: [d…] }` per
 * signature, or `{ skip: 'no/bad signature' }` for unsigned mail. A plugin that did not run,
 * or stored only an error, gives nothing (unknown, never "failed"). Pure.
 */
export function senderAuthOf(results: ResultReader | undefined | null): SenderAuth | undefined {
  if (!results || typeof results.get !== 'function') return undefined;
  const auth: SenderAuth = {};
  const spf = results.get('spf') as Record<string, unknown> | undefined;
  if (spf && spf.scope === 'mfrom' && typeof spf.result === 'string' && typeof spf.domain === 'string') {
    auth.spf = { result: spf.result.toLowerCase(), domain: spf.domain.toLowerCase() };
  }
  const dkim = results.get('dkim') as Record<string, unknown> | undefined;
  if (dkim) {
    const pass = strings(dkim.pass);
    const fail = strings(dkim.fail);
    const unsigned = strings(dkim.skip).some((s) => s.includes('no/bad signature'));
    if (pass.length || fail.length || unsigned) auth.dkim = { pass, fail };
  }
  return auth.spf || auth.dkim ? auth : undefined;
}
