import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { errorMessage, StoreError } from '../errors.js';
import type { BreakerConfig } from '../config/types.js';
import { guarded } from '../resilience/breaker.js';
import type { HeldMessage, QuarantineEntry, Store } from './types.js';

export interface RedisStoreOptions {
  url: string;
  keyPrefix: string;
  /** Per-command deadline on the SMTP path (ms). */
  commandTimeoutMs?: number;
  /** How long a call waits for a (re)connecting client before failing (ms). */
  readyTimeoutMs?: number;
  /** Breaker for Redis calls on the SMTP path (none: every call tries). */
  breaker?: BreakerConfig;
}

/** One Redis store operation, as published on `redisEvents` 'op' (for metrics). */
export interface RedisOpEvent {
  command: string;
  seconds: number;
  ok: boolean;
}

/**
 * Operations ('op': RedisOpEvent) and connection changes ('status': 'ready' | 'down',
 * 'reconnecting') of every RedisStore in this process; metrics subscribe here.
 */
export const redisEvents = new EventEmitter();

/**
 * Redis-backed store (ioredis). Layout under the prefix:
 *   q:<id>      hash { meta: JSON entry, raw: bytes }   PEXPIREAT = entry.expiresAt
 *   q:index     sorted set id ─► expiresAt (pruned of expired ids on read)
 * The offline queue is off and retries per request are bounded, so a dead Redis makes
 * calls fail fast with StoreError instead of piling up behind the SMTP session.
 */
export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly client: Redis;
  private readonly p: string;
  private readonly readyTimeoutMs: number;
  private readonly breaker: BreakerConfig | undefined;

  constructor(opts: RedisStoreOptions) {
    this.p = opts.keyPrefix;
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 1000;
    this.breaker = opts.breaker;
    this.client = new Redis(opts.url, {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: opts.commandTimeoutMs ?? 2000,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 3000),
    });
    // ioredis emits 'error' on every failed reconnect; without a listener Node would throw.
    this.client.on('error', () => undefined);
    this.client.on('ready', () => redisEvents.emit('status', 'ready'));
    this.client.on('close', () => redisEvents.emit('status', 'down'));
    this.client.on('reconnecting', () => redisEvents.emit('status', 'reconnecting'));
  }

  private k(s: string): string {
    return `${this.p}${s}`;
  }

  /**
   * Wait (bounded) until the connection is ready: with the offline queue off, a command
   * sent while connecting would fail at once, e.g. the first message after start.
   */
  private ready(): Promise<void> {
    if (this.client.status === 'ready') return Promise.resolve();
    if (this.client.status === 'end') return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        if (err) reject(err);
        else resolve();
      };
      const onReady = (): void => done();
      const timer = setTimeout(() => done(new Error(`not connected within ${this.readyTimeoutMs} ms (status ${this.client.status})`)), this.readyTimeoutMs);
      this.client.once('ready', onReady);
    });
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const report = (ok: boolean): void => {
      if (redisEvents.listenerCount('op')) redisEvents.emit('op', { command: what, seconds: (performance.now() - t0) / 1000, ok } satisfies RedisOpEvent);
    };
    try {
      const call = async (): Promise<T> => {
        await this.ready();
        return fn();
      };
      const out = this.breaker ? await guarded('redis', this.breaker, call) : await call();
      report(true);
      return out;
    } catch (err) {
      report(false);
      throw new StoreError('PHISHX_STORE_UNAVAILABLE', `redis ${what} failed: ${errorMessage(err)}`, { cause: err });
    }
  }

  canHoldInline(): boolean {
    return true; // Redis memory is bounded by its own maxmemory policy
  }

  async putQuarantine(entry: QuarantineEntry, raw: Buffer | null): Promise<void> {
    await this.run('putQuarantine', async () => {
      const key = this.k(`q:${entry.id}`);
      const m = this.client.multi();
      m.hset(key, 'meta', JSON.stringify(entry));
      if (raw) m.hset(key, 'raw', raw);
      m.pexpireat(key, entry.expiresAt);
      m.zadd(this.k('q:index'), entry.expiresAt, entry.id);
      const res = await m.exec();
      const failed = res?.find(([e]) => e);
      if (!res || failed) throw failed?.[0] ?? new Error('transaction aborted');
    });
  }

  async getQuarantine(id: string): Promise<HeldMessage | null> {
    return this.run('getQuarantine', async () => {
      const key = this.k(`q:${id}`);
      const [meta, raw] = await Promise.all([this.client.hget(key, 'meta'), this.client.hgetBuffer(key, 'raw')]);
      if (!meta) return null;
      const entry = JSON.parse(meta) as QuarantineEntry;
      if (entry.expiresAt <= Date.now()) return null;
      return { entry, raw: raw ?? null };
    });
  }

  private async prune(): Promise<void> {
    await this.client.zremrangebyscore(this.k('q:index'), '-inf', Date.now());
  }

  async listQuarantine(opts: { limit?: number; offset?: number } = {}): Promise<QuarantineEntry[]> {
    return this.run('listQuarantine', async () => {
      await this.prune();
      const offset = opts.offset ?? 0;
      const limit = opts.limit ?? 100;
      const ids = await this.client.zrevrange(this.k('q:index'), offset, offset + limit - 1);
      if (!ids.length) return [];
      const pipe = this.client.pipeline();
      for (const id of ids) pipe.hget(this.k(`q:${id}`), 'meta');
      const res = (await pipe.exec()) ?? [];
      const out: QuarantineEntry[] = [];
      res.forEach(([err, meta]) => {
        if (!err && typeof meta === 'string') out.push(JSON.parse(meta) as QuarantineEntry);
      });
      return out.sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id));
    });
  }

  async deleteQuarantine(id: string): Promise<boolean> {
    return this.run('deleteQuarantine', async () => {
      const [[, n]] = ((await this.client.multi().del(this.k(`q:${id}`)).zrem(this.k('q:index'), id).exec()) ?? [[null, 0]]) as Array<[Error | null, number]>;
      return n > 0;
    });
  }

  async countQuarantine(): Promise<number> {
    return this.run('countQuarantine', async () => {
      await this.prune();
      return this.client.zcard(this.k('q:index'));
    });
  }

  /**
   * Feeds: `feed:url` and `feed:domain` hashes map an entry to its feed name (one HMGET per
   * lookup); `feed:<name>:urls|domains` sets remember a feed's own entries so a re-import can
   * remove what it no longer lists; `feeds` is the set of feed names.
   */
  async replaceFeed(name: string, entries: { urls: string[]; domains: string[] }): Promise<{ urls: number; domains: number }> {
    return this.run('replaceFeed', async () => {
      for (const [kind, list] of [['url', entries.urls], ['domain', entries.domains]] as const) {
        const own = this.k(`feed:${name}:${kind}s`);
        const old = await this.client.smembers(own);
        const keep = new Set(list);
        const gone = old.filter((e) => !keep.has(e));
        const m = this.client.multi();
        if (gone.length) m.hdel(this.k(`feed:${kind}`), ...gone).srem(own, ...gone);
        for (let i = 0; i < list.length; i += 5000) {
          const chunk = list.slice(i, i + 5000);
          m.hset(this.k(`feed:${kind}`), Object.fromEntries(chunk.map((e) => [e, name]))).sadd(own, ...chunk);
        }
        m.sadd(this.k('feeds'), name);
        const res = await m.exec();
        const failed = res?.find(([e]) => e);
        if (!res || failed) throw failed?.[0] ?? new Error('transaction aborted');
      }
      return { urls: new Set(entries.urls).size, domains: new Set(entries.domains).size };
    });
  }

  async matchFeeds(urls: string[], domains: string[]): Promise<Map<string, string>> {
    return this.run('matchFeeds', async () => {
      const hits = new Map<string, string>();
      const [u, d] = await Promise.all([
        urls.length ? this.client.hmget(this.k('feed:url'), ...urls) : Promise.resolve([] as Array<string | null>),
        domains.length ? this.client.hmget(this.k('feed:domain'), ...domains) : Promise.resolve([] as Array<string | null>),
      ]);
      urls.forEach((x, i) => u[i] && hits.set(x, u[i]!));
      domains.forEach((x, i) => d[i] && hits.set(x, d[i]!));
      return hits;
    });
  }

  async listFeeds(): Promise<Array<{ name: string; urls: number; domains: number }>> {
    return this.run('listFeeds', async () => {
      const names = (await this.client.smembers(this.k('feeds'))).sort();
      return Promise.all(names.map(async (name) => ({ name, urls: await this.client.scard(this.k(`feed:${name}:urls`)), domains: await this.client.scard(this.k(`feed:${name}:domains`)) })));
    });
  }

  async ping(): Promise<number> {
    return this.run('ping', async () => {
      const t = performance.now();
      await this.client.ping();
      return performance.now() - t;
    });
  }

  async usedMemoryBytes(): Promise<number | null> {
    return this.run('info', async () => {
      const m = /^used_memory:(\d+)/m.exec(await this.client.info('memory'));
      return m ? Number(m[1]) : null;
    });
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
