import { splitHost } from '../message/domain.js';

/**
 * Percent-escapes in one canonical spelling (RFC 3986 6.2.2): an escaped unreserved character
 * (letters, digits, `-._~`) written as itself, every other escape in upper case. A server reads
 * `/log%69n`, `/login`, `%2f` and `%2F` alike; a listed URL must not be missed for the spelling.
 */
function canonicalEscapes(s: string): string {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9._~-]/.test(c) ? c : `%${hex.toUpperCase()}`;
  });
}

/**
 * Canonical form of a URL for feed matching: lower-case scheme and host (IDN as punycode,
 * no trailing dot), default port, userinfo and fragment removed, path and query kept with
 * their percent-escapes in one spelling, a bare host gets "/". Null when it is not an http(s) URL.
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
  // "http://./" names no host; "http://8482391,https//…" (a CSV row read as one URL) one no
  // link can reach: a listed URL must be one a mail could link to.
  if (!isLinkHost(host)) return null;
  const port = u.port && !((u.protocol === 'http:' && u.port === '80') || (u.protocol === 'https:' && u.port === '443')) ? `:${u.port}` : '';
  return `${u.protocol}//${host}${port}${canonicalEscapes(u.pathname || '/')}${canonicalEscapes(u.search)}`;
}

/** Labels of letters, digits, hyphens (IDN as punycode), two or more: "=a!" is no domain. */
const DOMAIN_NAME = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)+$/;

/** Labels a resolver looks up, hyphens anywhere ("-login.evil.example" resolves): a link's host. */
const LINK_HOST = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)+$/;

/** DNS's bounds (RFC 1035): a name of at most 253 characters, labels of at most 63. */
function withinDnsLimits(host: string): boolean {
  return host.length <= 253 && host.split('.').every((l) => l.length <= 63);
}

/** A link's host as the WHATWG URL parser leaves it (lower case, punycode) that DNS or an address can reach. */
function isLinkHost(host: string): boolean {
  return host.startsWith('[') || splitHost(host).isIp || (LINK_HOST.test(host) && withinDnsLimits(host));
}

/** Canonical domain for feed matching ('*.' / '.' prefixes and a trailing dot removed, punycode). */
export function normalizeDomain(raw: string): string | null {
  // Longer than any name DNS resolves, even as Unicode: not parsed (a megabyte "domain" in a feed).
  if (raw.length > 1024) return null;
  const d = raw.trim().toLowerCase().replace(/^\*\./, '').replace(/^\./, '').replace(/\.$/, '');
  if (!d || /[\s/:@]/.test(d)) return null;
  try {
    const host = new URL(`http://${d}/`).hostname.replace(/\.$/, '');
    return splitHost(host).isIp || (DOMAIN_NAME.test(host) && withinDnsLimits(host)) ? host : null;
  } catch {
    return null;
  }
}

/**
 * One feed line ─► a URL or a domain entry (one URL or domain per line, anything after it on
 * the line ignored; # comments). `whole`: the value is a whole CSV or JSON field, spaces and
 * all ("http://x.example/a b" is the URL a browser reads as /a%20b).
 */
export function parseFeedLine(line: string, whole = false): { kind: 'url' | 'domain'; value: string } | null {
  const t = line.trim();
  if (!t || t.startsWith('#') || t.startsWith(';')) return null;
  // The first word and the text before its first comma, without splitting the whole line (a
  // feed's line may be megabytes of separators).
  const first = whole ? t : /^\S+/.exec(t)![0];
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(first) || first.includes('/')) {
    // A comma is part of a URL ("…/a,b" is not "…/a"); only whitespace ends it.
    const u = normalizeUrl(first);
    return u ? { kind: 'url', value: u } : null;
  }
  const comma = first.indexOf(',');
  const d = normalizeDomain(comma < 0 ? first : first.slice(0, comma));
  return d ? { kind: 'domain', value: d } : null;
}
