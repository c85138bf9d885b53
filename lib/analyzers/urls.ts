import { domainToUnicode } from 'node:url';
import { isPublicAddress } from '../ip-address.js';
import type { PhishXConfig } from '../config/types.js';
import { describeUrl, displayedHost, govLookalike, registrableOf } from '../message/domain.js';
import type { ExtractedUrl, ScanInput } from '../message/types.js';
import type { Signal } from '../verdict/types.js';
import { lookalikeBrand, type BrandIndex } from './brands.js';

const HOMOGRAPH_SCRIPTS = [/\p{Script=Cyrillic}/u, /\p{Script=Greek}/u, /\p{Script=Armenian}/u, /\p{Script=Cherokee}/u];
const LATIN = /\p{Script=Latin}/u;
const REDIRECT_PARAMS = ['url', 'u', 'q', 'target', 'dest', 'destination', 'redirect', 'redirect_url'];
const MAX_UNWRAP = 3;
/** Query values `forwardsElsewhere` reads at most. */
const MAX_QUERY_VALUES = 32;

export interface UrlAnalyzerContext {
  config: Pick<PhishXConfig, 'urls'>;
  brands: BrandIndex;
  redirectors: ReadonlySet<string>;
  /** `[urls] footer_hosts`: exact hosts neutral for alignment. */
  footerHosts: ReadonlySet<string>;
  suspiciousTlds: ReadonlySet<string>;
  shorteners: ReadonlySet<string>;
  freeHosting: ReadonlySet<string>;
  /** `[urls] user_content`: brand hosts of user-made pages, forms and files. */
  userContent: ReadonlySet<string>;
}

export function urlAnalyzerContext(config: Pick<PhishXConfig, 'urls'>, brands: BrandIndex): UrlAnalyzerContext {
  return {
    config,
    brands,
    redirectors: new Set(config.urls.redirectors),
    footerHosts: new Set(config.urls.footer_hosts),
    suspiciousTlds: new Set(config.urls.suspicious_tlds),
    shorteners: new Set(config.urls.shorteners),
    freeHosting: new Set(config.urls.free_hosting),
    userContent: new Set(config.urls.user_content),
  };
}

/** A host where anyone can put a page, form or file up: free hosting, or a brand's user-content host (`[urls] user_content`). */
export function servesUserContent(host: string, ctx: Pick<UrlAnalyzerContext, 'freeHosting' | 'userContent'>): boolean {
  return hostInList(host, ctx.freeHosting) || hostInList(host, ctx.userContent);
}

/** True when `host` or one of its parent domains is in `list` (entries are hosts or domains). */
export function hostInList(host: string, list: ReadonlySet<string>): boolean {
  let h = host;
  for (;;) {
    if (list.has(h)) return true;
    const dot = h.indexOf('.');
    if (dot < 0) return false;
    h = h.slice(dot + 1);
  }
}

/** A web link a reader can follow: http(s), with a host, not an image source, not a domain written as a name in plain text. */
export function isWebLink(u: ExtractedUrl): boolean {
  return u.source !== 'img' && !!u.host && !u.bare && (u.scheme === 'http' || u.scheme === 'https');
}

/** The distinct hosts of `links` for a signal's detail: the first three, "…" when there are more. */
export function someHosts(links: readonly ExtractedUrl[]): string {
  const hosts = [...new Set(links.map((u) => u.host))];
  return `${hosts.slice(0, 3).join(', ')}${hosts.length > 3 ? ', …' : ''}`;
}

/** The query parameters of a link (a scheme-relative one read as http:); null when it does not parse. */
function queryOf(u: ExtractedUrl): URLSearchParams | null {
  try {
    return new URL(u.raw.startsWith('//') ? `http:${u.raw}` : u.raw).searchParams;
  } catch {
    return null;
  }
}

/**
 * The http(s) URL on another registered domain (or an IP address) that `u` carries whole in its
 * query string, if any: where an open redirect on `u`'s site would send the reader
 * (`cgi4.ebay.com/…?DomainUrl=http://211.172.96.7/…`). A site's own return addresses
 * (`?continue=https://mail.example.com/` from accounts.example.com) are on its own domain and
 * do not count. Pure.
 */
export function forwardsElsewhere(u: ExtractedUrl): ExtractedUrl | null {
  if (!u.host || !u.raw.includes('?')) return null;
  const params = queryOf(u);
  if (!params) return null;
  let seen = 0;
  for (const v of params.values()) {
    // A redirect names its target among the first few parameters; a crafted query of
    // thousands costs no more than this many.
    if (++seen > MAX_QUERY_VALUES) break;
    if (!/^https?:\/\//i.test(v)) continue;
    const d = describeUrl(v, u.source, u.anchorText);
    if (d?.host && (d.registrable ?? d.host) !== (u.registrable ?? u.host)) return d;
  }
  return null;
}

/** Follow click-trackers / link protectors that carry their target in the query string (no network). */
export function unwrapRedirect(u: ExtractedUrl, ctx: UrlAnalyzerContext): ExtractedUrl {
  let cur = u;
  for (let i = 0; i < MAX_UNWRAP; i++) {
    if (!cur.host || !hostInList(cur.host, ctx.redirectors)) return cur;
    const params = queryOf(cur);
    if (!params) return cur;
    const target = REDIRECT_PARAMS.map((p) => params.get(p)).find((v) => v && /^https?:\/\//i.test(v));
    if (!target) return cur;
    const next = describeUrl(target, cur.source, cur.anchorText);
    if (!next) return cur;
    cur = next;
  }
  return cur;
}

// Four octets in a row, each label or dash-separated part one of them: "69.140.167.72.host.secureserver.net",
// "ec2-16-170-148-0.eu-north-1.compute.amazonaws.com", "static.151.155.156.178.clients.your-server.de".
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const ADDRESS_IN_NAME = new RegExp(`(?:^|[.-])${OCTET}[.-]${OCTET}[.-]${OCTET}[.-]${OCTET}(?=[.-]|$)`);

/**
 * The public IPv4 address a host name spells out, if any: the name a hosting provider or an
 * access network gives a machine by its address (reverse DNS, a VPS's default host). A link
 * there goes to a server that has no name of its own — a bare IP address in disguise. Pure.
 */
export function addressInHostName(host: string): string | null {
  const m = ADDRESS_IN_NAME.exec(host);
  if (!m) return null;
  const ip = `${m[1]}.${m[2]}.${m[3]}.${m[4]}`;
  return isPublicAddress(ip) ? ip : null;
}

function mixedScript(host: string): boolean {
  const uni = domainToUnicode(host);
  if (!uni) return false;
  return uni.split('.').some((label) => {
    const scripts = HOMOGRAPH_SCRIPTS.filter((re) => re.test(label)).length + (LATIN.test(label) ? 1 : 0);
    return scripts > 1;
  });
}

function short(u: ExtractedUrl): string {
  return u.raw.length > 120 ? `${u.raw.slice(0, 117)}...` : u.raw;
}

/** Heuristics on one URL (already unwrapped). Pure. */
export function analyzeUrl(u: ExtractedUrl, ctx: UrlAnalyzerContext, senderRegistrable: string | null): Signal[] {
  const out: Signal[] = [];
  // Something to click or submit: every source but plain text and image sources.
  const isLink = u.source !== 'text' && u.source !== 'img';
  if (u.scheme === 'javascript' || u.scheme === 'vbscript') {
    if (isLink) out.push({ code: 'URL_JAVASCRIPT', detail: short(u) });
    return out;
  }
  if (u.scheme === 'data') {
    if (isLink) out.push({ code: 'URL_DATA_URI', detail: u.raw.slice(0, 60) });
    return out;
  }
  if (!u.host) return out;
  // A code leading to the sender's own site (a ticket, an app) is not the lure's pattern.
  if (u.source === 'qr' && (u.scheme === 'http' || u.scheme === 'https') && !(senderRegistrable && u.registrable === senderRegistrable)) {
    out.push({ code: 'QR_CODE_LINK', detail: short(u) });
    if (u.drawn) out.push({ code: 'QR_CODE_DRAWN', detail: short(u) });
  }
  if (u.isIp && isPublicAddress(u.host)) out.push({ code: 'URL_IP_LITERAL', detail: short(u) });
  else if (u.source !== 'img' && !u.bare && !u.isIp) {
    const ip = addressInHostName(u.host);
    if (ip) out.push({ code: 'URL_IP_HOSTNAME', detail: `${u.host} (${ip})` });
  }
  if (u.hasUserinfo) out.push({ code: 'URL_USERINFO', detail: short(u) });
  if (u.host.split('.').some((l) => l.startsWith('xn--'))) {
    out.push({ code: 'URL_PUNYCODE', detail: `${u.host} (${domainToUnicode(u.host)})` });
    if (mixedScript(u.host)) out.push({ code: 'URL_MIXED_SCRIPT', detail: domainToUnicode(u.host) });
  }
  if (u.registrable) {
    // Images are fetched, not clicked, and brands serve them from many CDN domains: only
    // links a reader can follow are checked for look-alikes.
    const look = u.source === 'img' ? null : lookalikeBrand(u.registrable, u.suffix, ctx.brands);
    if (look) out.push({ code: 'URL_BRAND_LOOKALIKE', detail: `${u.registrable} imitates ${look.brand} (${look.how})` });
    if (u.subdomain && !ctx.brands.allDomains.has(u.registrable)) {
      // paypal.com.secure-login.example: a brand's domain (2 or 3 labels, e.g. itau.com.br)
      // written as the leading labels of an unrelated host.
      const labels = u.subdomain.split('.');
      const hit = labels.some(
        (_, i) => ctx.brands.allDomains.has(labels.slice(i, i + 2).join('.')) || ctx.brands.allDomains.has(labels.slice(i, i + 3).join('.')),
      );
      if (hit) out.push({ code: 'URL_BRAND_IN_SUBDOMAIN', detail: u.host });
    }
    const depth = u.subdomain ? u.subdomain.split('.').length : 0;
    if (depth > ctx.config.urls.max_subdomain_depth) out.push({ code: 'URL_DEEP_SUBDOMAIN', detail: u.host });
    if (u.source !== 'img' && hostInList(u.host, ctx.freeHosting)) out.push({ code: 'URL_FREE_HOSTING', detail: u.host });
    if (hostInList(u.host, ctx.shorteners)) out.push({ code: 'URL_SHORTENER', detail: u.host });
  }
  const tld = u.host.slice(u.host.lastIndexOf('.') + 1);
  if (!u.isIp && ctx.suspiciousTlds.has(tld)) out.push({ code: 'URL_SUSPICIOUS_TLD', detail: u.host });
  if (!u.isIp && u.source !== 'img' && govLookalike(u.host, u.suffix)) out.push({ code: 'DOMAIN_GOV_LOOKALIKE', detail: `link ${u.host}` });

  const target = u.registrable ?? u.host; // IP hosts have no registered domain
  if (u.source === 'href' && u.anchorText && !hostInList(u.host, ctx.redirectors)) {
    const shown = displayedHost(u.anchorText);
    if (shown) {
      const shownReg = registrableOf(shown);
      if (shownReg !== target) {
        const brandShown = ctx.brands.allDomains.has(shownReg) && !ctx.brands.allDomains.has(target);
        // Through the sender's own domain (its click tracker: clickthru.news.example showing
        // an advertiser's site) a shown brand weighs only as a plain mismatch, a shown
        // non-brand site not at all.
        const viaSender = senderRegistrable !== null && target === senderRegistrable;
        if (brandShown)
          out.push({
            code: viaSender ? 'URL_TEXT_HREF_MISMATCH' : 'URL_TEXT_HREF_BRAND_MISMATCH',
            detail: `text shows ${shown}, link goes to ${u.host}${viaSender ? " (the sender's own domain)" : ''}`,
          });
        else if (!viaSender) out.push({ code: 'URL_TEXT_HREF_MISMATCH', detail: `text shows ${shown}, link goes to ${u.host}` });
      }
    }
  }
  if (u.source === 'form' && u.registrable && senderRegistrable && u.registrable !== senderRegistrable) {
    out.push({ code: 'FORM_EXTERNAL_ACTION', detail: `form posts to ${u.host}` });
  }
  return out;
}

/**
 * URL analyzer over a whole message. `links` are the message's URLs with redirectors
 * unwrapped (`unwrapRedirect`, once per scan, shared with brand alignment). Pure.
 */
export function analyzeUrls(input: ScanInput, links: readonly ExtractedUrl[], ctx: UrlAnalyzerContext): Signal[] {
  const out: Signal[] = [];
  const sender = input.from?.registrable ?? input.returnPath?.registrable ?? null;
  let forms = 0;
  for (const u of links) {
    if (u.source === 'form') forms++;
    out.push(...analyzeUrl(u, ctx, sender));
  }
  if (forms > 0) out.push({ code: 'HTML_FORM', detail: `${forms} form(s)` });
  if (input.passwordFields > 0) out.push({ code: 'FORM_PASSWORD_FIELD', detail: `${input.passwordFields} password field(s)` });
  return out;
}
