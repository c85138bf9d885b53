import { parse as parseDomain } from 'tldts';
import { LinkifyIt, type Match as LinkMatch } from 'linkify-it';
import type { ExtractedUrl, MailAddress, UrlSource } from './types.js';

/** Public-suffix-aware split of a hostname (tldts, Mozilla's public suffix list). */
export function splitHost(host: string): { registrable: string | null; suffix: string | null; subdomain: string; isIp: boolean } {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  const p = parseDomain(h, { allowPrivateDomains: false });
  return {
    registrable: p.domain ?? null,
    suffix: p.publicSuffix ?? null,
    subdomain: p.subdomain ?? '',
    isIp: p.isIp === true,
  };
}

/** Registered domain of a hostname, or the hostname itself when none (IPs, single labels). */
/**
 * Whether a host reads as a government domain that is not one: a government label
 * (`gov`, `gob`, `go`, `gouv`, `govt`) and a two-letter country code, followed by further
 * labels, while the host's real public suffix is not that government suffix —
 * `afip.gob.ar.com`, `portal.gov.br.example`. Only a country's registry can hand out a name
 * under `gov.<cc>`; a look-alike has to append another suffix. Pure.
 */
export function govLookalike(host: string, suffix: string | null): boolean {
  const m = /(?:^|\.)(gov|gob|go|gouv|govt)\.([a-z]{2})\.[a-z0-9.-]+$/.exec(host.toLowerCase());
  if (!m) return false;
  const gov = `${m[1]}.${m[2]}`;
  return !(suffix === gov || suffix?.endsWith(`.${gov}`));
}

/** The lower-cased domain of an address (after its last '@'), '' when it has none. Pure. */
export function addressDomain(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

export function registrableOf(host: string): string {
  return splitHost(host).registrable ?? host.toLowerCase();
}

export function toMailAddress(name: string | undefined, address: string | undefined): MailAddress {
  const written = (address ?? '').trim().replace(/^<|>$/g, '');
  const at = written.lastIndexOf('@');
  const domain = at >= 0 ? written.slice(at + 1).toLowerCase() : '';
  return {
    name: (name ?? '').trim(),
    address: written.toLowerCase(),
    localPart: at >= 0 ? written.slice(0, at) : written,
    domain,
    registrable: domain ? splitHost(domain).registrable : null,
  };
}

/**
 * Fuzzy link finder for plain text and anchor text. linkify-it's default TLD list
 * (common gTLDs + every 2-letter ccTLD) plus a few widely abused gTLDs; the full IANA
 * list would turn "hello.world" and "invoice.zip" in prose into links.
 */
const linkify = new LinkifyIt({ fuzzyLink: true, fuzzyEmail: false, fuzzyIP: true, urlAuth: true, maxLength: 4096 });
linkify.tlds(
  [
    'xyz',
    'top',
    'online',
    'site',
    'app',
    'dev',
    'club',
    'live',
    'shop',
    'icu',
    'store',
    'website',
    'link',
    'click',
    'support',
    'services',
    'email',
    'cloud',
    'digital',
    'network',
    'vip',
    'work',
    'page',
    'life',
  ],
  true,
);
/**
 * linkify-it's own "//" (scheme-relative) rule runs its host-and-path regex (up to
 * `maxLength` characters) before it rejects a "//" that follows ":" or "/" — the "//" of
 * every "https://" in the text. A run of thousands of URLs without spaces
 * (`?a0=https://…&a1=https://…`) cost ~7 µs per character (4,000 URLs, 134 KB: ~1 s). Same
 * rule, cheap test first.
 */
export function schemeRelativeLength(text: string, pos: number, self: LinkifyIt): number {
  if (pos >= 3 && (text[pos - 3] === ':' || text[pos - 3] === '/')) return 0;
  const re = self.re.get_relative_proto_validator();
  re.lastIndex = pos;
  const m = re.exec(text);
  return m ? m[0].length : 0;
}
linkify.add('//', { validate: schemeRelativeLength });

/** linkify's length of the "//" link whose "//" ends at `pos` (0: none); for tests. */
export function schemeRelativeAt(text: string, pos: number): number {
  return linkify.testSchemaAt(text, '//', pos);
}

/**
 * Links in plain text, one at a time (a text of millions of links is never held as a list).
 * A bare IPv4 address without a scheme or path ("[74.125.203.27]" in a bounce's SMTP
 * transcript, "(10.1.0.124)" in a quoted Received header) is an address, not a link: mail
 * clients do not make it clickable, so it is not one. `bare`: a domain written as a name —
 * no scheme, no `www.`, no path ("SomeVendor.com", "Booking.com").
 */
export function* findUrls(text: string): Generator<{ url: string; bare: boolean }> {
  for (const m of eachLink(text)) {
    const x = hostFromSymbols(m);
    if (x === null || (x.schema === '' && /^\d{1,3}(?:\.\d{1,3}){3}$/.test(x.raw))) continue;
    yield { url: x.url, bare: x.schema === '' && /^(?!www\.)[\p{L}\p{N}.-]+$/iu.test(x.raw) };
  }
}

/** Symbols linkify-it reads as letters of a host name written without a scheme, which no host name has. */
const NOT_IN_HOST = /[$+<=>^`|~\uFF5C]/g;

/**
 * A name without a scheme whose host part holds a symbol no host name has is not that host:
 * linkify-it reads "d=yahoo.co.jp" (a DKIM tag in a bounce's quoted headers) as the host
 * "d=yahoo.co.jp", "HREF=www.example.com/x" as "href=www.example.com" — a link to nowhere that
 * no mail client shows. The link, if any, is what follows the last such symbol ("yahoo.co.jp",
 * "www.example.com/x"); null when that is no link. Links with a scheme are left as written: a
 * browser goes to exactly that host. Pure.
 */
function hostFromSymbols(x: LinkMatch): LinkMatch | null {
  if (x.schema !== '') return x;
  const hostEnd = x.raw.search(/[/?#:]/);
  const host = hostEnd < 0 ? x.raw : x.raw.slice(0, hostEnd);
  let cut = -1;
  for (const m of host.matchAll(NOT_IN_HOST)) cut = m.index;
  if (cut < 0) return x;
  const rest = linkifyMatch(x.raw.slice(cut + 1))[0];
  return rest && rest.index === 0 && rest.schema === '' ? rest : null;
}

/**
 * A line that may hold a link: a scheme or e-mail (":" "@"), "//", or a dot inside a word
 * (a host name). Prose lines have none of them.
 */
const MAY_HOLD_LINK = /[:@]|\/\/|\.[^\s.]/;

/** Characters of candidate lines matched in one linkify call (see eachLink). */
const LINK_CHUNK_CHARS = 2048;

/** A line longer than this is read in windows of this size (see lineLinks). */
const LINK_WINDOW_CHARS = 65_536;

/**
 * linkify-it's matches, over the lines that may hold a link, a few KB at a time: a link
 * never spans a line break, so the matches are the same as over the whole text, but linkify
 * re-scans the rest of its input after each match (quadratic on a long text with many
 * links) and lines of plain prose are skipped. A line past LINK_WINDOW_CHARS is read in
 * windows (lineLinks). Yields one match at a time: 24 MB of "x.co " is five million links,
 * ~600 MB as one list (a scan thread ran out of heap). Pure.
 */
export function* eachLink(text: string): Generator<LinkMatch> {
  let chunk: string[] = [];
  let size = 0;
  for (let at = 0; at < text.length;) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    const line = text.slice(at, end);
    at = end + 1;
    if (!MAY_HOLD_LINK.test(line)) continue;
    if (line.length > LINK_WINDOW_CHARS) {
      yield* lineLinks(line, LINK_WINDOW_CHARS);
      continue;
    }
    chunk.push(line);
    size += line.length + 1;
    if (size >= LINK_CHUNK_CHARS) {
      yield* linkifyMatch(chunk.join('\n'));
      chunk = [];
      size = 0;
    }
  }
  if (chunk.length) yield* linkifyMatch(chunk.join('\n'));
}

/** linkify-it's matches over the lines of `text` that may hold a link (eachLink as a list). */
export function linksOf(text: string): LinkMatch[] {
  return [...eachLink(text)];
}

/**
 * linkify-it's matches in one long line, a window of `window` characters at a time. A window
 * ends after the last blank in its second half — no link holds a blank, so the matches are
 * linkify's own. A blank-free stretch longer than that is cut anyway: a match within the last
 * eighth of the window may be a longer link cut short, so the next window starts where that
 * match starts (as linkify itself goes on from the end of each match), or an eighth before
 * the cut when no match ends there; a link longer than that is read in part. Pure.
 */
export function* lineLinks(line: string, window: number): Generator<LinkMatch> {
  const margin = window >> 3;
  for (let at = 0; at < line.length;) {
    let end = Math.min(line.length, at + window);
    let cut = false;
    if (end < line.length) {
      const blank = lastBlank(line, at + (window >> 1), end);
      if (blank >= 0) end = blank + 1;
      else cut = true;
    }
    let next = cut ? end - margin : end;
    for (const m of linkifyMatch(line.slice(at, end))) {
      if (cut && m.index > 0 && m.lastIndex > end - at - margin) {
        next = at + m.index;
        break;
      }
      yield m;
      if (cut) next = Math.max(next, at + m.lastIndex);
    }
    at = next;
  }
}

/** Index of the last blank (space, tab, CR) in line[from, to), or -1. */
function lastBlank(line: string, from: number, to: number): number {
  for (let i = to - 1; i >= from; i--) {
    const c = line.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0d) return i;
  }
  return -1;
}

/** linkify-it's matches over the whole of `text` (what linksOf returns, the slow way). */
export function linkifyMatch(text: string): LinkMatch[] {
  return linkify.match(text) ?? [];
}

/** True when `text` looks like a bare domain or URL (used on anchor text). */
export function displayedHost(anchorText: string): string | null {
  const t = anchorText.trim();
  if (!t || t.length > 300) return null;
  // Anchor text is mostly words ("Sign in", "Unsubscribe"): linkify need not look at it.
  const m = MAY_HOLD_LINK.test(t) ? linkifyMatch(t) : [];
  if (m.length === 0) return null;
  try {
    return new URL(m[0].url).hostname.toLowerCase();
  } catch {
    return null;
  }
}

/**
 * A link as a browser reads it (WHATWG URL): leading and trailing control characters and
 * spaces dropped, tabs and line breaks anywhere removed ("ht&#9;tp://evil.example" goes to
 * evil.example), and a leading pair of slashes or backslashes in any mix is a
 * scheme-relative link ("\\evil.example/x"). Pure.
 */
export function asBrowserReads(raw: string): string {
  // eslint-disable-next-line no-control-regex
  const s = raw.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '');
  return /^[\\/][\\/]/.test(s) ? `//${s.slice(2)}` : s;
}

/** Parse one URL string into an ExtractedUrl; null when it is not a URL at all. */
export function describeUrl(raw: string, source: UrlSource, anchorText?: string): ExtractedUrl | null {
  const trimmed = asBrowserReads(raw);
  if (!trimmed) return null;
  const schemeMatch = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(trimmed);
  const scheme = schemeMatch ? schemeMatch[1].toLowerCase() : '';
  const base: ExtractedUrl = {
    raw: trimmed.slice(0, 4096),
    source,
    ...(anchorText !== undefined ? { anchorText } : {}),
    scheme,
    host: '',
    registrable: null,
    suffix: null,
    subdomain: '',
    isIp: false,
    hasUserinfo: false,
  };
  if (scheme === 'data' || scheme === 'javascript' || scheme === 'vbscript' || scheme === 'mailto' || scheme === 'tel' || scheme === 'cid') {
    return base;
  }
  if (scheme !== 'http' && scheme !== 'https' && scheme !== 'ftp' && !trimmed.startsWith('//')) {
    return scheme ? base : null; // relative links and anchors carry no host
  }
  let u: URL;
  try {
    u = new URL(trimmed.startsWith('//') ? `http:${trimmed}` : trimmed);
  } catch {
    return { ...base, scheme: scheme || 'http' };
  }
  // A trailing dot names the same host ("bit.ly." is bit.ly, a browser goes there): without it,
  // every list and feed of hosts compared "bit.ly." as another name.
  const host = u.hostname.toLowerCase().replace(/\.$/, '');
  const split = splitHost(host);
  return {
    ...base,
    scheme: u.protocol.replace(/:$/, ''),
    host,
    registrable: split.registrable,
    suffix: split.suffix,
    subdomain: split.subdomain,
    isIp: split.isIp,
    hasUserinfo: u.username !== '' || u.password !== '',
  };
}
