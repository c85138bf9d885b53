import type { ExtractedUrl } from '../message/types.js';
import type { Store } from '../store/types.js';
import type { Signal } from '../verdict/types.js';
import { normalizeUrl } from './normalize.js';
import { byUrlPriority } from '../message/extract.js';

/** Something that knows about bad URLs. Throws when it cannot answer (the scan records it). */
export interface ReputationSource {
  readonly name: string;
  /**
   * True when the source can match nothing now (a feed store holding no entry): the scan does
   * not ask it, and spends no lookup, timer or breaker call on it.
   */
  idle(): boolean;
  /** `senders`: the message's sender domains (From, envelope), for sources that list senders. */
  check(urls: readonly ExtractedUrl[], deadlineMs: number, senders?: readonly string[]): Promise<Signal[]>;
}

/** Canonical http(s) URLs of a message's links, deduplicated, at most `max`, clicked links and one per host first (`byUrlPriority`). */
export function lookupUrls(urls: readonly ExtractedUrl[], max: number): string[] {
  const out = new Set<string>();
  for (const u of byUrlPriority(urls)) {
    if (u.scheme !== 'http' && u.scheme !== 'https') continue;
    const n = normalizeUrl(u.raw);
    if (n) out.add(n);
    if (out.size >= max) break;
  }
  return [...out];
}

/** Host and every parent domain down to the registered domain (a feed may list any of them). */
export function domainCandidates(urls: readonly ExtractedUrl[]): string[] {
  const out = new Set<string>();
  for (const u of urls) {
    if (!u.host) continue;
    out.add(u.host);
    if (!u.registrable) continue;
    let h = u.host;
    while (h !== u.registrable && h.includes('.')) {
      h = h.slice(h.indexOf('.') + 1);
      out.add(h);
    }
  }
  return [...out];
}

/** A domain and its parents down to two labels: `mail.evil.example.com` ─► it, `evil.example.com`, `example.com`. */
export function parentDomains(domain: string): string[] {
  const out: string[] = [];
  let d = domain.toLowerCase().replace(/\.$/, '');
  while (d.includes('.')) {
    out.push(d);
    d = d.slice(d.indexOf('.') + 1);
  }
  return out;
}

/**
 * Blocklist feeds imported into the store (memory or Redis). Every distinct link of the
 * message is looked up, not only the analysed ones: the lookups are set operations (one
 * round trip), and a cap here is what link padding would aim at. The sender domains are
 * looked up too (a domain the SOC blocked, `block_sender`): `SENDER_FEED_MATCH`.
 */
export function feedReputation(store: Store): ReputationSource {
  return {
    name: `feeds (${store.kind})`,
    // Embedded defaults without a feed: no link normalised, no timer set, per message on the SMTP thread.
    idle: () => store.holdsNoFeeds(),
    async check(urls, _deadline, senders = []) {
      const canon = lookupUrls(urls, Number.POSITIVE_INFINITY);
      const domains = domainCandidates(urls);
      const senderDomains = [...new Set(senders.flatMap(parentDomains))];
      if (!canon.length && !domains.length && !senderDomains.length) return [];
      const hits = await store.matchFeeds(canon, [...new Set([...domains, ...senderDomains])]);
      const out: Signal[] = [];
      const linkDomains = new Set(domains);
      for (const [entry, feed] of hits) {
        if (entry.includes('://')) out.push({ code: 'URL_FEED_MATCH', detail: `${entry} (feed ${feed})` });
        else if (linkDomains.has(entry)) out.push({ code: 'DOMAIN_FEED_MATCH', detail: `${entry} (feed ${feed})` });
      }
      const sender = senderDomains.find((d) => hits.has(d));
      if (sender) out.push({ code: 'SENDER_FEED_MATCH', detail: `${sender} (feed ${hits.get(sender)})` });
      return out;
    },
  };
}
