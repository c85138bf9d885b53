import { splitHost } from '../message/domain.js';

/**
 * Canonical form of a URL for feed matching: lower-case scheme and host (IDN as punycode),
 * default port, userinfo and fragment removed, path and query kept, a bare host gets "/".
 * Null when it is not an http(s) URL.
 */
export function normalizeUrl(raw: string): string | null {
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw.trim()) ? raw.trim() : `http://${raw.trim()}`);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  u.hash = '';
  u.username = '';
  u.password = '';
  const host = u.hostname.toLowerCase().replace(/\.$/, '');
  const port = u.port && !((u.protocol === 'http:' && u.port === '80') || (u.protocol === 'https:' && u.port === '443')) ? `:${u.port}` : '';
  return `${u.protocol}//${host}${port}${u.pathname || '/'}${u.search}`;
}

/** Canonical domain for feed matching ('*.' / '.' prefixes and a trailing dot removed, punycode). */
export function normalizeDomain(raw: string): string | null {
  const d = raw.trim().toLowerCase().replace(/^\*\./, '').replace(/^\./, '').replace(/\.$/, '');
  if (!d || /[\s/:@]/.test(d)) return null;
  try {
    const host = new URL(`http://${d}/`).hostname;
    return host.includes('.') || splitHost(host).isIp ? host : null;
  } catch {
    return null;
  }
}

/** One feed line ─► a URL or a domain entry (one URL or domain per line; # comments). */
export function parseFeedLine(line: string): { kind: 'url' | 'domain'; value: string } | null {
  const t = line.trim();
  if (!t || t.startsWith('#') || t.startsWith(';')) return null;
  const first = t.split(/[\s,]+/)[0];
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(first) || first.includes('/')) {
    const u = normalizeUrl(first);
    return u ? { kind: 'url', value: u } : null;
  }
  const d = normalizeDomain(first);
  return d ? { kind: 'domain', value: d } : null;
}
