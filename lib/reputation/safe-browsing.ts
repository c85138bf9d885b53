import { Pool } from 'undici';
import type { PhishXConfig } from '../config/types.js';
import { PhishXError } from '../errors.js';
import type { BreakerConfig } from '../config/types.js';
import { BodyTooLargeError, readJsonBounded } from '../http-body.js';
import { reputationRequestError } from './request-error.js';
import { processMetrics } from '../metrics/catalog.js';
import { guarded } from '../resilience/breaker.js';
import type { Signal } from '../verdict/types.js';
import { lookupUrls, type ReputationSource } from './sources.js';

const THREAT_TYPES = ['MALWARE', 'SOCIAL_ENGINEERING', 'UNWANTED_SOFTWARE', 'POTENTIALLY_HARMFUL_APPLICATION'];
const MAX_CACHE = 20_000;
/** Longest a listing is cached, whatever cacheDuration the reply gives (the API's are minutes). */
const MAX_LISTED_TTL_MS = 86_400_000;
/** Longest reply read (a match is ~200 bytes; a lookup asks for a message's links). */
const MAX_REPLY_BYTES = 4 * 1024 * 1024;

interface Cached {
  until: number;
  threat: string | null;
}

/**
 * Google Safe Browsing v4 Lookup API client (`threatMatches:find`). Answers are cached per
 * URL: listed URLs for the `cacheDuration` the API gives, clean ones for `cache_ttl_s`.
 * Calls are aborted at their deadline; errors, non-2xx and malformed replies throw.
 */
export class SafeBrowsing implements ReputationSource {
  readonly name = 'safe browsing';
  private readonly pool: Pool;
  private readonly path: string;
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly cfg: PhishXConfig['reputation'],
    key: string,
    private readonly now: () => number = Date.now,
    private readonly breaker?: BreakerConfig,
  ) {
    const u = new URL(cfg.safe_browsing_url);
    u.searchParams.set('key', key);
    this.path = `${u.pathname}${u.search}`;
    this.pool = new Pool(u.origin, { connections: 8, keepAliveTimeout: 10_000, headersTimeout: cfg.timeout_ms, bodyTimeout: cfg.timeout_ms });
  }

  /** Always asked (the answer is Google's). */
  idle(): boolean {
    return false;
  }

  private remember(url: string, threat: string | null, ttlMs: number): void {
    if (ttlMs <= 0) return;
    if (this.cache.size >= MAX_CACHE) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(url, { until: this.now() + ttlMs, threat });
    processMetrics.cacheEntries.set({ cache: 'safe_browsing' }, this.cache.size);
  }

  async check(urls: Parameters<ReputationSource['check']>[0], deadlineMs: number): Promise<Signal[]> {
    const all = lookupUrls(urls, this.cfg.max_urls);
    const t = this.now();
    const out: Signal[] = [];
    const ask: string[] = [];
    for (const u of all) {
      const c = this.cache.get(u);
      if (c && c.until > t) {
        if (c.threat) out.push({ code: 'URL_SAFE_BROWSING', detail: `${u} (${c.threat}, cached)` });
      } else ask.push(u);
    }
    if (all.length - ask.length) processMetrics.cacheLookups.inc({ cache: 'safe_browsing', result: 'hit' }, all.length - ask.length);
    if (ask.length) processMetrics.cacheLookups.inc({ cache: 'safe_browsing', result: 'miss' }, ask.length);
    if (!ask.length) return out;
    const ms = Math.max(1, Math.min(this.cfg.timeout_ms, deadlineMs));
    const lookup = (): Promise<Signal[]> => this.lookup(ask, ms);
    out.push(...(this.breaker ? await guarded('reputation', this.breaker, lookup) : await lookup()));
    return out;
  }

  private async lookup(ask: string[], ms: number): Promise<Signal[]> {
    const out: Signal[] = [];
    const body = {
      client: { clientId: 'phishx', clientVersion: '0.1.0' },
      threatInfo: { threatTypes: THREAT_TYPES, platformTypes: ['ANY_PLATFORM'], threatEntryTypes: ['URL'], threatEntries: ask.map((url) => ({ url })) },
    };
    let reply: unknown;
    try {
      const res = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(ms),
      });
      if (res.statusCode !== 200) {
        await res.body.dump().catch(() => undefined);
        throw new PhishXError('PHISHX_REPUTATION_HTTP_STATUS', `safe browsing answered HTTP ${res.statusCode}`);
      }
      reply = await readJsonBounded(res, MAX_REPLY_BYTES);
    } catch (err) {
      if (err instanceof BodyTooLargeError) throw new PhishXError('PHISHX_REPUTATION_BAD_RESPONSE', `safe browsing: ${err.message}`, { cause: err });
      if (err instanceof SyntaxError) throw new PhishXError('PHISHX_REPUTATION_BAD_RESPONSE', 'safe browsing: reply is not JSON', { cause: err });
      throw reputationRequestError('safe browsing', err, ms);
    }
    const matches = (reply as { matches?: unknown } | null)?.matches;
    if (typeof reply !== 'object' || reply === null || (matches !== undefined && !Array.isArray(matches)))
      throw new PhishXError('PHISHX_REPUTATION_BAD_RESPONSE', 'safe browsing: malformed reply');
    const listed = new Map<string, { threat: string; ttl: number }>();
    for (const m of (matches ?? []) as unknown[]) {
      const { threat, threatType, cacheDuration } = (typeof m === 'object' && m !== null ? m : {}) as Record<string, unknown>;
      const url = typeof threat === 'object' && threat !== null ? (threat as { url?: unknown }).url : undefined;
      if (typeof url !== 'string' || !url) continue;
      const secs = typeof cacheDuration === 'string' ? Number.parseFloat(cacheDuration.replace(/s$/, '')) : NaN;
      // A listing is cached for the time the API gives, within [0, MAX_LISTED_TTL_MS].
      const ttl = Number.isFinite(secs) ? Math.min(Math.max(secs * 1000, 0), MAX_LISTED_TTL_MS) : this.cfg.cache_ttl_s * 1000;
      listed.set(url, { threat: typeof threatType === 'string' && threatType ? threatType.slice(0, 60) : 'THREAT', ttl });
    }
    for (const u of ask) {
      const hit = listed.get(u);
      this.remember(u, hit?.threat ?? null, hit ? hit.ttl : this.cfg.cache_ttl_s * 1000);
      if (hit) out.push({ code: 'URL_SAFE_BROWSING', detail: `${u} (${hit.threat})` });
    }
    return out;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
