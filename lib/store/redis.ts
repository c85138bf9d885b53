import { EventEmitter } from 'node:events';
import { Cluster, Redis, type ChainableCommander } from 'ioredis';
import { errorMessage, StoreError } from '../errors.js';
import type { BreakerConfig } from '../config/types.js';
import { guarded } from '../resilience/breaker.js';
import { isHeld, keepsRaw, pageLimit, stateOf, statusOf, afterCursor, decodeCursor, encodeCursor, matchesFilter } from './query.js';
import { alertMatches, alertOrder, alertCursor, alertOffset } from './alert-query.js';
import type {
  AlertQuery,
  AuditRecord,
  FeedbackRecord,
  FeedInfo,
  HeldMessage,
  ListPage,
  ListQuery,
  QuarantineEntry,
  QuarantineState,
  DeliveryQuery,
  DeliveryRecord,
  GroupStart,
  KeyRing,
  LogEvent,
  SocAlert,
  StoredEvent,
  Store,
} from './types.js';
import { DELIVERY_KEEP, DELIVERY_KEEP_MS, deliveryPage } from './delivery-query.js';

export interface RedisStoreOptions {
  url: string;
  /** Redis Sentinel addresses; the master of `sentinelName` is asked of them (the url's host is ignored). */
  sentinels?: Array<{ host: string; port: number }>;
  sentinelName?: string;
  /** Redis Cluster seed nodes; the url's host is ignored (its password applies). */
  clusterNodes?: Array<{ host: string; port: number }>;
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

/** Feed entries per transaction of an import (see replaceFeed). */
const FEED_CHUNK = 5000;

/** Run a transaction; throws its first command's error, or when Redis aborted it. */
async function execOrThrow(m: ChainableCommander): Promise<void> {
  const res = await m.exec();
  const failed = res?.find(([e]) => e);
  if (!res || failed) throw failed?.[0] ?? new Error('transaction aborted');
}

/**
 * Compare-and-set of a quarantine record's state. KEYS: q:<id>, q:held. ARGV: new version,
 * state JSON, keep raw (1/0), still held (1/0), purge time (ms), id. Returns 1 when the
 * stored version was new version - 1 and the state was written, else 0.
 */
/** Compare-and-set of an alert: KEYS alert:<id>, alerts; ARGV version, json, lastSeen, purgeAt, id. */
const CAS_ALERT_LUA = `
local v = tonumber(redis.call('HGET', KEYS[1], 'ver') or '0')
if v ~= tonumber(ARGV[1]) - 1 then return 0 end
redis.call('HSET', KEYS[1], 'json', ARGV[2], 'ver', ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
return 1
`;

/** Point a campaign key at an alert unless it points at another: KEYS akey; ARGV id, ms to live. Returns the id it points at. */
const LINK_KEY_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return cur end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return ARGV[1]
`;

/** Remove a campaign key when it points at this alert: KEYS akey; ARGV id. */
const UNLINK_KEY_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

const CAS_STATE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local v = tonumber(redis.call('HGET', KEYS[1], 'ver') or '0')
if v ~= tonumber(ARGV[1]) - 1 then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'ver', ARGV[1])
if ARGV[3] == '0' then redis.call('HDEL', KEYS[1], 'raw') end
if ARGV[4] == '0' then redis.call('ZREM', KEYS[2], ARGV[6]) end
redis.call('PEXPIREAT', KEYS[1], ARGV[5])
return 1
`;

/** Write ARGV[2] when the stored JSON's version is ARGV[1] - 1 (absent: version 0). */
const PUT_VERSIONED_LUA = `
local cur = redis.call('GET', KEYS[1])
local v = 0
if cur then v = cjson.decode(cur).version end
if v ~= tonumber(ARGV[1]) - 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;

/** Take or renew a lease: set KEYS[1] = ARGV[1] for ARGV[2] ms when free or already held by ARGV[1]. */
const LEASE_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/**
 * Hash tag of each key family: every multi-key operation (a transaction, a script, MGET) stays
 * inside one family, so on Redis Cluster it stays in one slot, and the families spread over
 * the masters. Keys touched alone (signing-keys, lease:, doc:, nonce:) carry no tag.
 */
const FAMILY: Record<string, string> = {
  q: 'q',
  audit: 'audit',
  events: 'events',
  whd: 'whd',
  alert: 'alert',
  alerts: 'alert',
  akey: 'alert',
  fb: 'fb',
  feed: 'feed',
  feeds: 'feed',
};

/** Key of `name` under `prefix`: `<prefix>{<family>}:<name>` for a tagged family, else `<prefix><name>`. */
export function redisKey(prefix: string, name: string): string {
  const family = FAMILY[name.split(':', 1)[0]];
  return family ? `${prefix}{${family}}:${name}` : `${prefix}${name}`;
}

/** Username and password of a `redis://[user][:password]@host/db` URL (Sentinel and Cluster, whose host is ignored). */
function credentialsOf(u: URL): { username?: string; password?: string } {
  return {
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
  };
}

/**
 * Redis-backed store (ioredis). Layout under the prefix (each name after the family's hash
 * tag, e.g. `phishx:{q}:q:index`, see redisKey):
 *   q:<id>      hash { meta: JSON entry, raw: bytes, state: JSON state, ver: state version }
 *               PEXPIREAT = the state's purge time
 *   q:index     sorted set id ─► createdAt (ids of purged records dropped when met)
 *   q:held      sorted set id ─► expiresAt of held / releasing records (counts; the sweep
 *               drops the raw bytes of expired ones)
 *   audit       stream of audit records (capped near 100,000)
 *   events      stream of the event log (scan events, activity, redeliveries; capped near
 *               100,000), read by consumer groups (SOC alerts, one per webhook endpoint)
 *   signing-keys JSON key ring { version, keys } (compare-and-set by a Lua script)
 *   lease:<n>   holder of a lease (the alert notifier)   PX = its term
 *   doc:<n>     JSON { version, value } of a small shared document (alert silences and states)
 *   nonce:<n>   a signed request's nonce   EX = until its timestamp leaves the tolerance
 *   whd:<id>    JSON webhook delivery record   PX = 7 days
 *   whd:index   sorted set delivery id ─► updated at (the newest 10,000)
 *   alert:<id>  hash { json, ver } of a SOC alert   PEXPIREAT = its purge time
 *   alerts      sorted set alert id ─► last seen
 *   akey:<key>  string alert id of a campaign key   PEXPIREAT = the key's window end
 *   fb:<id>     hash { json, raw } of a report with its message (no expiry: training data)
 *   fb:index    set of reported ids
 * State changes are one Lua script (compare the version, write the next): atomic on the
 * server, so of two nodes releasing one message exactly one wins.
 * The offline queue is off and retries per request are bounded, so a dead Redis makes
 * calls fail fast with StoreError instead of piling up behind the SMTP session.
 */
export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly client: Redis | Cluster;
  private readonly p: string;
  private readonly readyTimeoutMs: number;
  private readonly breaker: BreakerConfig | undefined;

  constructor(opts: RedisStoreOptions) {
    this.p = opts.keyPrefix;
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 1000;
    this.breaker = opts.breaker;
    const common = {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: opts.commandTimeoutMs ?? 2000,
      retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 3000),
    };
    if (opts.clusterNodes?.length) {
      // Per node: connect on demand, queue while that one connection (re)connects (bounded by
      // commandTimeout); the cluster-level queue stays off so a cluster without a master for
      // a slot fails the call at once.
      const { retryStrategy, enableOfflineQueue: _q, lazyConnect: _l, ...perNode } = common;
      this.client = new Cluster(opts.clusterNodes, {
        enableOfflineQueue: false,
        // The ready check is sent before the node connections are up, and with the offline
        // queue off it fails and reconnects once; a cluster that is down answers CLUSTERDOWN,
        // which fails the call like any other error.
        enableReadyCheck: false,
        clusterRetryStrategy: retryStrategy,
        // A failover moves slots: ask the cluster again soon, and never queue behind it for long.
        retryDelayOnFailover: 200,
        retryDelayOnClusterDown: 200,
        retryDelayOnTryAgain: 200,
        slotsRefreshTimeout: 2000,
        redisOptions: { ...perNode, ...credentialsOf(new URL(opts.url)) },
      });
    } else if (opts.sentinels?.length) {
      const u = new URL(opts.url);
      const db = Number(u.pathname.replace(/^\//, '') || 0);
      this.client = new Redis({
        ...common,
        sentinels: opts.sentinels,
        name: opts.sentinelName ?? 'mymaster',
        db: Number.isInteger(db) ? db : 0,
        ...credentialsOf(u),
        // After a failover, keep asking the sentinels (a dead master is not retried forever).
        sentinelRetryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
        failoverDetector: true,
      });
    } else this.client = new Redis(opts.url, common);
    // ioredis emits 'error' on every failed reconnect; without a listener Node would throw.
    this.client.on('error', () => undefined);
    this.client.on('ready', () => redisEvents.emit('status', 'ready'));
    this.client.on('close', () => redisEvents.emit('status', 'down'));
    this.client.on('reconnecting', () => redisEvents.emit('status', 'reconnecting'));
  }

  private k(s: string): string {
    return redisKey(this.p, s);
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

  /**
   * One store operation: waits (bounded) for the connection, reports it for metrics, and
   * fails with StoreError. `guard`: behind the Redis breaker (the SMTP path); background
   * work (the event log) is not, so its failures never open the breaker mail depends on.
   */
  private async run<T>(what: string, fn: () => Promise<T>, guard = true): Promise<T> {
    const t0 = performance.now();
    const report = (ok: boolean): void => {
      if (redisEvents.listenerCount('op')) redisEvents.emit('op', { command: what, seconds: (performance.now() - t0) / 1000, ok } satisfies RedisOpEvent);
    };
    try {
      const call = async (): Promise<T> => {
        await this.ready();
        return fn();
      };
      const out = this.breaker && guard ? await guarded('redis', this.breaker, call) : await call();
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
      const { state: given, ...meta } = entry;
      const state = given ?? stateOf(entry);
      const m = this.client.multi();
      m.del(key);
      m.hset(key, 'meta', JSON.stringify(meta), 'state', JSON.stringify(state), 'ver', String(state.version));
      if (raw) m.hset(key, 'raw', raw);
      m.pexpireat(key, state.purgeAt);
      m.zadd(this.k('q:index'), entry.createdAt, entry.id);
      if (isHeld(state.status)) m.zadd(this.k('q:held'), entry.expiresAt, entry.id);
      await execOrThrow(m);
    });
  }

  private static parse(meta: string, state: string | null): QuarantineEntry {
    const e = JSON.parse(meta) as QuarantineEntry;
    return { ...e, state: state ? (JSON.parse(state) as QuarantineState) : stateOf(e) };
  }

  async getQuarantine(id: string): Promise<HeldMessage | null> {
    return this.run('getQuarantine', async () => {
      const key = this.k(`q:${id}`);
      const [[meta, state], raw] = await Promise.all([this.client.hmget(key, 'meta', 'state'), this.client.hgetBuffer(key, 'raw')]);
      if (!meta) return null;
      const entry = RedisStore.parse(meta, state);
      if (entry.state!.purgeAt <= Date.now()) return null;
      return { entry, raw: keepsRaw(statusOf(entry)) ? (raw ?? null) : null };
    });
  }

  /** Records examined at most per listing call: a filter matching little returns a shorter page and a cursor to go on. */
  private static readonly SCAN_BUDGET = 20_000;

  async listQuarantine(query: ListQuery = {}): Promise<ListPage> {
    const cursor = query.cursor ? decodeCursor(query.cursor) : null; // a bad cursor is the caller's error, not Redis'
    return this.run('listQuarantine', async () => {
      const limit = pageLimit(query.limit);
      const now = query.now ?? Date.now();
      const max = cursor ? String(cursor.createdAt) : '+inf';
      const items: QuarantineEntry[] = [];
      let offset = 0;
      let examined = 0;
      let last: QuarantineEntry | null = null;
      const batch = Math.min(1000, Math.max(100, limit * 4));
      while (examined < RedisStore.SCAN_BUDGET) {
        const ids = await this.client.zrevrangebyscore(this.k('q:index'), max, '-inf', 'LIMIT', offset, batch);
        if (!ids.length) return { items, nextCursor: null };
        offset += ids.length;
        const pipe = this.client.pipeline();
        for (const id of ids) pipe.hmget(this.k(`q:${id}`), 'meta', 'state');
        const res = (await pipe.exec()) ?? [];
        const gone: string[] = [];
        for (let i = 0; i < ids.length; i++) {
          examined++;
          const [err, v] = res[i] ?? [null, null];
          const [meta, state] = (v as Array<string | null> | null) ?? [null, null];
          if (err || !meta) {
            if (!err) gone.push(ids[i]);
            continue;
          }
          const e = RedisStore.parse(meta, state);
          if (cursor && !afterCursor(e, cursor)) continue;
          if (e.state!.purgeAt <= now) continue;
          last = e;
          if (query.filter && !matchesFilter(e, query.filter, now)) continue;
          if (items.length === limit) return { items, nextCursor: encodeCursor(items[items.length - 1]) };
          items.push(e);
        }
        if (gone.length) await this.client.zrem(this.k('q:index'), ...gone);
      }
      // Budget spent: go on from the last record examined.
      return { items, nextCursor: last ? encodeCursor(items.length === limit ? items[items.length - 1] : last) : null };
    });
  }

  async updateQuarantineState(id: string, state: QuarantineState): Promise<boolean> {
    return this.run('updateQuarantineState', async () => {
      const held = isHeld(state.status);
      const n = await this.client.eval(
        CAS_STATE_LUA,
        2,
        this.k(`q:${id}`),
        this.k('q:held'),
        String(state.version),
        JSON.stringify(state),
        keepsRaw(state.status) ? '1' : '0',
        held ? '1' : '0',
        String(state.purgeAt),
        id,
      );
      return n === 1;
    });
  }

  async deleteQuarantine(id: string): Promise<boolean> {
    return this.run('deleteQuarantine', async () => {
      const [[, n]] = ((await this.client
        .multi()
        .del(this.k(`q:${id}`))
        .zrem(this.k('q:index'), id)
        .zrem(this.k('q:held'), id)
        .exec()) ?? [[null, 0]]) as Array<[Error | null, number]>;
      return n > 0;
    });
  }

  async countQuarantine(): Promise<number> {
    return this.run('countQuarantine', async () => this.client.zcount(this.k('q:held'), `(${Date.now()}`, '+inf'));
  }

  async sweepQuarantine(now = Date.now()): Promise<void> {
    await this.run('sweepQuarantine', async () => {
      const expired = await this.client.zrangebyscore(this.k('q:held'), '-inf', now, 'LIMIT', 0, 1000);
      if (!expired.length) return;
      const m = this.client.multi();
      for (const id of expired) m.hdel(this.k(`q:${id}`), 'raw');
      m.zrem(this.k('q:held'), ...expired);
      await m.exec();
    });
  }

  async appendAudit(record: Omit<AuditRecord, 'id'>): Promise<AuditRecord> {
    return this.run('appendAudit', async () => {
      const id = await this.client.xadd(this.k('audit'), 'MAXLEN', '~', '100000', '*', 'r', JSON.stringify(record));
      return { id: id!, ...record };
    });
  }

  async listAudit(opts: { limit?: number; before?: string | null } = {}): Promise<AuditRecord[]> {
    return this.run('listAudit', async () => {
      const rows = await this.client.xrevrange(this.k('audit'), opts.before ? `(${opts.before}` : '+', '-', 'COUNT', pageLimit(opts.limit));
      return rows.map(([id, fields]) => ({ ...(JSON.parse(fields[1] ?? '{}') as Omit<AuditRecord, 'id'>), id }));
    });
  }

  async appendEvent(event: LogEvent): Promise<void> {
    await this.run(
      'appendEvent',
      async () => {
        await this.client.xadd(this.k('events'), 'MAXLEN', '~', '100000', '*', 'e', JSON.stringify(event));
      },
      false,
    );
  }

  private readonly groups = new Set<string>();

  async readEvents(group: string, consumer: string, max: number, start: GroupStart = 'oldest'): Promise<StoredEvent[]> {
    return this.run(
      'readEvents',
      async () => {
        const stream = this.k('events');
        const makeGroup = async (from: '$' | '0'): Promise<void> => {
          await this.client.xgroup('CREATE', stream, group, from, 'MKSTREAM').catch((err: unknown) => {
            if (!/BUSYGROUP/.test(errorMessage(err))) throw err;
          });
          this.groups.add(group);
        };
        if (!this.groups.has(group)) await makeGroup(start === 'new' ? '$' : '0');
        type Rows = Array<[string, string[]]>;
        const gone: string[] = [];
        const parse = (rows: Rows): StoredEvent[] =>
          rows.flatMap(([id, f]) => {
            if (f && f[1]) return [{ id, event: JSON.parse(f[1]) as LogEvent }];
            gone.push(id); // trimmed from the stream while pending: nothing left to deliver
            return [];
          });
        const read = async (from: string, count: number): Promise<StoredEvent[]> => {
          const rows = (await this.client.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, from)) as Array<[string, Rows]> | null;
          return parse(rows?.[0]?.[1] ?? []);
        };
        // This consumer's own unacknowledged events first (it restarted under the same name),
        // then events a consumer took and never acknowledged for a minute (it died), then new ones.
        const readAll = async (): Promise<StoredEvent[]> => {
          const out = await read('0', max);
          if (gone.length) await this.client.xack(stream, group, ...gone.splice(0));
          if (out.length >= max) return out;
          const claimed = (await this.client.xautoclaim(stream, group, consumer, 60_000, '0-0', 'COUNT', max - out.length)) as [string, Rows];
          out.push(...parse(claimed[1] ?? []));
          if (out.length >= max) return out;
          return [...out, ...(await read('>', max - out.length))];
        };
        try {
          return await readAll();
        } catch (err) {
          if (!/NOGROUP/.test(errorMessage(err))) throw err;
          // The group went with Redis's data (a restart without persistence, a failover to an
          // empty replica, FLUSHALL) while this process remembered it: make it again, from the
          // stream's start — everything in the stream now was appended after the loss and
          // reached no consumer (from its end, a SOC alert or webhook for it would be lost).
          gone.length = 0;
          await makeGroup('0');
          return readAll();
        }
      },
      false,
    );
  }

  async ackEvents(group: string, ids: string[]): Promise<void> {
    if (!ids.length) return;
    await this.run(
      'ackEvents',
      async () => {
        await this.client.xack(this.k('events'), group, ...ids);
      },
      false,
    );
  }

  async keepEvents(group: string, consumer: string, ids: string[]): Promise<void> {
    if (!ids.length) return;
    await this.run(
      'keepEvents',
      async () => {
        // Claiming its own entries resets their idle time: no other consumer takes them over.
        await this.client.xclaim(this.k('events'), group, consumer, 0, ...ids, 'JUSTID');
      },
      false,
    );
  }

  async getKeyRing(): Promise<KeyRing> {
    return this.run(
      'getKeyRing',
      async () => {
        const json = await this.client.get(this.k('signing-keys'));
        return json ? (JSON.parse(json) as KeyRing) : { version: 0, keys: [] };
      },
      false,
    );
  }

  async putKeyRing(ring: KeyRing): Promise<boolean> {
    return this.run(
      'putKeyRing',
      async () => {
        const ok = await this.client.eval(PUT_VERSIONED_LUA, 1, this.k('signing-keys'), String(ring.version), JSON.stringify(ring));
        return ok === 1;
      },
      false,
    );
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.run('acquireLease', async () => (await this.client.eval(LEASE_LUA, 1, this.k(`lease:${name}`), holder, String(ttlMs))) === 1, false);
  }

  async getDoc<T>(name: string): Promise<{ version: number; value: T | null }> {
    return this.run(
      'getDoc',
      async () => {
        const json = await this.client.get(this.k(`doc:${name}`));
        const d = json ? (JSON.parse(json) as { version: number; value: T }) : null;
        return d ? { version: d.version, value: d.value } : { version: 0, value: null };
      },
      false,
    );
  }

  async putDoc<T>(name: string, version: number, value: T): Promise<boolean> {
    return this.run(
      'putDoc',
      async () => (await this.client.eval(PUT_VERSIONED_LUA, 1, this.k(`doc:${name}`), String(version), JSON.stringify({ version, value }))) === 1,
      false,
    );
  }

  async claimNonce(nonce: string, expiresAtS: number): Promise<boolean> {
    return this.run(
      'claimNonce',
      async () => {
        const ttl = Math.max(1, Math.ceil(expiresAtS - Date.now() / 1000));
        return (await this.client.set(this.k(`nonce:${nonce}`), '1', 'EX', ttl, 'NX')) === 'OK';
      },
      false,
    );
  }

  async putDelivery(record: DeliveryRecord): Promise<void> {
    await this.run(
      'putDelivery',
      async () => {
        const m = this.client.multi();
        m.set(this.k(`whd:${record.id}`), JSON.stringify(record), 'PX', DELIVERY_KEEP_MS);
        m.zadd(this.k('whd:index'), record.updatedAt, record.id);
        m.zremrangebyrank(this.k('whd:index'), 0, -DELIVERY_KEEP - 1);
        await m.exec();
      },
      false,
    );
  }

  async getDelivery(id: string): Promise<DeliveryRecord | null> {
    return this.run(
      'getDelivery',
      async () => {
        const json = await this.client.get(this.k(`whd:${id}`));
        return json ? (JSON.parse(json) as DeliveryRecord) : null;
      },
      false,
    );
  }

  async listDeliveries(query: DeliveryQuery = {}): Promise<{ items: DeliveryRecord[]; nextCursor: string | null }> {
    return this.run(
      'listDeliveries',
      async () => {
        const ids = await this.client.zrevrange(this.k('whd:index'), 0, DELIVERY_KEEP - 1);
        const rows = ids.length ? await this.client.mget(...ids.map((id) => this.k(`whd:${id}`))) : [];
        const items = rows.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as DeliveryRecord);
        return deliveryPage(items, query);
      },
      false,
    );
  }

  async getAlert(id: string): Promise<SocAlert | null> {
    return this.run('getAlert', async () => {
      const json = await this.client.hget(this.k(`alert:${id}`), 'json');
      return json ? (JSON.parse(json) as SocAlert) : null;
    });
  }

  /** Written at once (a Redis write is as durable as Redis makes it): `deferDurable` changes nothing. */
  flushAlerts(): Promise<void> {
    return Promise.resolve();
  }

  async putAlert(alert: SocAlert): Promise<boolean> {
    return this.run('putAlert', async () => {
      const n = await this.client.eval(
        CAS_ALERT_LUA,
        2,
        this.k(`alert:${alert.id}`),
        this.k('alerts'),
        String(alert.version),
        JSON.stringify(alert),
        String(alert.lastSeen),
        String(alert.purgeAt),
        alert.id,
      );
      return n === 1;
    });
  }

  async listAlerts(q: AlertQuery = {}): Promise<{ items: SocAlert[]; nextCursor: string | null }> {
    const offset = alertOffset(q.cursor);
    return this.run('listAlerts', async () => {
      const limit = pageLimit(q.limit);
      const items: SocAlert[] = [];
      let skipped = 0;
      let at = 0;
      for (;;) {
        const ids = await this.client.zrevrange(this.k('alerts'), at, at + 499);
        if (!ids.length) return { items, nextCursor: null };
        at += ids.length;
        const pipe = this.client.pipeline();
        for (const id of ids) pipe.hget(this.k(`alert:${id}`), 'json');
        const res = (await pipe.exec()) ?? [];
        const gone: string[] = [];
        const batch: SocAlert[] = [];
        res.forEach(([err, json], i) => {
          if (!err && typeof json === 'string') batch.push(JSON.parse(json) as SocAlert);
          else if (!err) gone.push(ids[i]);
        });
        if (gone.length) await this.client.zrem(this.k('alerts'), ...gone);
        for (const a of batch.sort(alertOrder)) {
          if (!alertMatches(a, q)) continue;
          if (skipped < offset) {
            skipped++;
            continue;
          }
          if (items.length === limit) return { items, nextCursor: alertCursor(offset + limit) };
          items.push(a);
        }
      }
    });
  }

  async alertForKey(key: string): Promise<string | null> {
    return this.run('alertForKey', async () => this.client.get(this.k(`akey:${key}`)));
  }

  async linkAlertKey(key: string, id: string, until: number): Promise<string> {
    return this.run('linkAlertKey', async () =>
      String(await this.client.eval(LINK_KEY_LUA, 1, this.k(`akey:${key}`), id, String(Math.max(1, Math.round(until - Date.now()))))),
    );
  }

  async unlinkAlertKeys(keys: string[], id: string): Promise<void> {
    await this.run('unlinkAlertKeys', async () => {
      for (const key of keys) await this.client.eval(UNLINK_KEY_LUA, 1, this.k(`akey:${key}`), id);
    });
  }

  async putFeedback(record: FeedbackRecord, raw: Buffer): Promise<void> {
    await this.run('putFeedback', async () => {
      await execOrThrow(
        this.client
          .multi()
          .hset(this.k(`fb:${record.id}`), 'json', JSON.stringify(record), 'raw', raw)
          .sadd(this.k('fb:index'), record.id),
      );
    });
  }

  async listFeedback(): Promise<FeedbackRecord[]> {
    return this.run('listFeedback', async () => {
      const ids = await this.client.smembers(this.k('fb:index'));
      const out: FeedbackRecord[] = [];
      for (let i = 0; i < ids.length; i += 500) {
        const pipe = this.client.pipeline();
        for (const id of ids.slice(i, i + 500)) pipe.hget(this.k(`fb:${id}`), 'json');
        for (const [err, json] of (await pipe.exec()) ?? []) if (!err && typeof json === 'string') out.push(JSON.parse(json) as FeedbackRecord);
      }
      return out.sort((a, b) => a.at - b.at);
    });
  }

  async getFeedbackRaw(id: string): Promise<Buffer | null> {
    return this.run('getFeedbackRaw', async () => this.client.hgetBuffer(this.k(`fb:${id}`), 'raw'));
  }

  async addFeedEntries(name: string, entries: { urls: string[]; domains: string[] }): Promise<void> {
    await this.run('addFeedEntries', async () => {
      const m = this.client.multi();
      for (const [kind, list] of [
        ['url', entries.urls],
        ['domain', entries.domains],
      ] as const) {
        if (!list.length) continue;
        m.hset(this.k(`feed:${kind}`), Object.fromEntries(list.map((e) => [e, name]))).sadd(this.k(`feed:${name}:${kind}s`), ...list);
      }
      m.sadd(this.k('feeds'), name).hset(this.k('feeds:updated'), name, String(Date.now()));
      await m.exec();
    });
  }

  /**
   * Feeds: `feed:url` and `feed:domain` hashes map an entry to its feed name (one HMGET per
   * lookup); `feed:<name>:urls|domains` sets remember a feed's own entries so a re-import can
   * remove what it no longer lists; `feeds` is the set of feed names, `feeds:updated` their
   * import times (ms).
   */
  async replaceFeed(name: string, entries: { urls: string[]; domains: string[] }, updatedAt = Date.now()): Promise<{ urls: number; domains: number }> {
    return this.run('replaceFeed', async () => {
      // A transaction per FEED_CHUNK entries, the new list first, then the removal of what it
      // no longer lists: a lookup meanwhile finds every entry of the new list (and, until the
      // end, old ones too), and no single command holds Redis for the whole import — one
      // transaction of 200,000 entries took seconds on a busy machine, past the 2 s command
      // timeout, with every other client of that Redis waiting. (In chunks also because a
      // command's arguments are spread, and a spread of ~120,000 overflows the stack.)
      for (const [kind, list] of [
        ['url', entries.urls],
        ['domain', entries.domains],
      ] as const) {
        const own = this.k(`feed:${name}:${kind}s`);
        const old = await this.client.smembers(own);
        for (let i = 0; i < list.length; i += FEED_CHUNK) {
          const chunk = list.slice(i, i + FEED_CHUNK);
          await execOrThrow(
            this.client
              .multi()
              .hset(this.k(`feed:${kind}`), Object.fromEntries(chunk.map((e) => [e, name])))
              .sadd(own, ...chunk),
          );
        }
        const keep = new Set(list);
        const gone = old.filter((e) => !keep.has(e));
        for (let i = 0; i < gone.length; i += FEED_CHUNK) {
          const chunk = gone.slice(i, i + FEED_CHUNK);
          await execOrThrow(
            this.client
              .multi()
              .hdel(this.k(`feed:${kind}`), ...chunk)
              .srem(own, ...chunk),
          );
        }
      }
      await execOrThrow(this.client.multi().sadd(this.k('feeds'), name).hset(this.k('feeds:updated'), name, String(updatedAt)));
      return { urls: new Set(entries.urls).size, domains: new Set(entries.domains).size };
    });
  }

  /** Not known without a round trip: every scan asks. */
  holdsNoFeeds(): boolean {
    return false;
  }

  async matchFeeds(urls: string[], domains: string[]): Promise<Map<string, string>> {
    return this.run('matchFeeds', async () => {
      const hits = new Map<string, string>();
      const [u, d] = await Promise.all([
        urls.length ? this.client.hmget(this.k('feed:url'), ...urls) : Promise.resolve([] as Array<string | null>),
        domains.length ? this.client.hmget(this.k('feed:domain'), ...domains) : Promise.resolve([] as Array<string | null>),
      ]);
      urls.forEach((x, i) => u[i] && hits.set(x, u[i]));
      domains.forEach((x, i) => d[i] && hits.set(x, d[i]));
      return hits;
    });
  }

  async listFeeds(): Promise<FeedInfo[]> {
    return this.run('listFeeds', async () => {
      const names = (await this.client.smembers(this.k('feeds'))).sort();
      const updated = names.length ? await this.client.hmget(this.k('feeds:updated'), ...names) : [];
      return Promise.all(
        names.map(async (name, i) => ({
          name,
          urls: await this.client.scard(this.k(`feed:${name}:urls`)),
          domains: await this.client.scard(this.k(`feed:${name}:domains`)),
          updatedAt: updated[i] ? Number(updated[i]) : null,
        })),
      );
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
