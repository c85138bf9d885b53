import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { collectSpool, holdMessage, replayPending } from '../../lib/quarantine.js';
import type { ScanResult } from '../../lib/scan.js';
import { MemoryStore } from '../../lib/store/memory.js';
import { FileStore } from '../../lib/store/file.js';
import { eventually } from '../helpers/eventually.js';
import { heapAfterGc } from '../helpers/heap.js';
import { securityEvent } from '../helpers/events.js';
import { RedisStore, redisKey } from '../../lib/store/redis.js';
import type { DeliveryRecord, QuarantineEntry, SecurityEvent, SocAlert, Store } from '../../lib/store/types.js';
import { StoreError } from '../../lib/errors.js';
import { initialState, statusOf } from '../../lib/store/query.js';
import * as sliced from '../../lib/sliced.js';
import { startRedisCluster, testRedis, type TestRedis } from '../helpers/redis.js';

function entry(id: string, createdAt: number, ttlMs = 60_000): QuarantineEntry {
  return {
    id,
    createdAt,
    expiresAt: createdAt + ttlMs,
    envelope: { mailFrom: 'a@example.com', rcptTo: ['b@example.org'], remoteIp: '192.0.2.1' },
    verdict: {
      action: 'quarantine',
      wouldAction: 'quarantine',
      score: 55,
      mode: 'enforce',
      tenant: 'default',
      reasons: [{ code: 'URL_SHORTENER', weight: 10, detail: 'bit.ly' }],
    },
    subject: 'subject',
    from: 'a@example.com',
    size: 3,
    spooled: false,
  };
}

/** A quarantine-band scan result with this id, as holdMessage receives it. */
function scanResult(id: string): ScanResult {
  return {
    id,
    skipped: null,
    durationMs: 1,
    phases: {},
    summary: { bytes: 0, parts: 1, urls: 0, attachments: 0, subject: 'Held', from: 'a@example.com' },
    verdict: entry('x', 0).verdict,
  };
}

/** The same behaviour is required of every Store implementation. */
const contractCases: Array<[string, (s: Store) => Promise<void>]> = [
  [
    'holds a message and returns its entry and exact bytes (binary-safe)',
    async (store) => {
      const raw = Buffer.concat([Buffer.from('Subject: x\r\n\r\n'), randomBytes(4096), Buffer.from([0, 255, 13, 10])]);
      const e = entry(`rt-${randomBytes(4).toString('hex')}`, Date.now());
      await store.putQuarantine(e, raw);
      const got = await store.getQuarantine(e.id);
      assert.ok(got);
      assert.deepEqual(got.entry, { ...e, state: initialState(e) });
      assert.ok(got.raw && got.raw.equals(raw));
    },
  ],
  [
    'stores an entry without raw bytes (spooled) and returns raw null',
    async (store) => {
      const e = { ...entry(`sp-${randomBytes(4).toString('hex')}`, Date.now()), spooled: true, spoolPath: '/var/x.eml' };
      await store.putQuarantine(e, null);
      const got = await store.getQuarantine(e.id);
      assert.equal(got?.raw, null);
      assert.equal(got?.entry.spoolPath, '/var/x.eml');
    },
  ],
  [
    'returns null for an unknown id',
    async (store) => {
      assert.equal(await store.getQuarantine('does-not-exist'), null);
    },
  ],
  [
    'lists newest first with limit and offset, and counts',
    async (store) => {
      const base = Date.now() + 1_000_000;
      const n0 = await store.countQuarantine();
      const ids = ['l1', 'l2', 'l3'].map((x) => `${x}-${randomBytes(3).toString('hex')}`);
      for (let i = 0; i < ids.length; i++) await store.putQuarantine(entry(ids[i], base + i * 1000), Buffer.from('x'));
      assert.equal(await store.countQuarantine(), n0 + 3);
      const first = await store.listQuarantine({ limit: 2 });
      assert.deepEqual(
        first.items.map((e) => e.id),
        [ids[2], ids[1]],
      );
      assert.ok(first.nextCursor);
      const second = await store.listQuarantine({ limit: 2, cursor: first.nextCursor });
      assert.equal(second.items[0]?.id, ids[0]);
    },
  ],
  [
    'deletes an entry once',
    async (store) => {
      const e = entry(`del-${randomBytes(4).toString('hex')}`, Date.now());
      await store.putQuarantine(e, Buffer.from('x'));
      assert.equal(await store.deleteQuarantine(e.id), true);
      assert.equal(await store.getQuarantine(e.id), null);
      assert.equal(await store.deleteQuarantine(e.id), false);
    },
  ],
  [
    'expires entries after their TTL (gone from get, list and count)',
    async (store) => {
      // A TTL long enough that a busy machine still finds the entry right after writing it.
      const e = entry(`ttl-${randomBytes(4).toString('hex')}`, Date.now(), 1500);
      await store.putQuarantine(e, Buffer.from('x'));
      assert.ok(await store.getQuarantine(e.id));
      const n = await store.countQuarantine();
      await eventually(async () => assert.equal(await store.getQuarantine(e.id), null), { intervalMs: 100 });
      assert.ok(!(await store.listQuarantine({ limit: 500, filter: { status: ['held'] } })).items.some((x) => x.id === e.id));
      assert.equal(await store.countQuarantine(), n - 1);
    },
  ],
  [
    'replaces a named feed and matches canonical URLs and domains to it',
    async (store) => {
      const name = `feed-${randomBytes(3).toString('hex')}`;
      assert.deepEqual(await store.replaceFeed(name, { urls: ['http://evil.example/a', 'http://evil.example/b'], domains: ['bad.example'] }), {
        urls: 2,
        domains: 1,
      });
      let hits = await store.matchFeeds(['http://evil.example/a', 'http://good.example/'], ['bad.example', 'good.example']);
      assert.equal(hits.get('http://evil.example/a'), name);
      assert.equal(hits.get('bad.example'), name);
      assert.equal(hits.size, 2);
      const importedAt = Date.parse('2026-11-30T08:00:00Z');
      await store.replaceFeed(name, { urls: ['http://evil.example/b'], domains: [] }, importedAt);
      hits = await store.matchFeeds(['http://evil.example/a', 'http://evil.example/b'], ['bad.example']);
      assert.deepEqual([...hits.keys()], ['http://evil.example/b']);
      assert.deepEqual(
        (await store.listFeeds()).find((f) => f.name === name),
        { name, urls: 1, domains: 0, updatedAt: importedAt },
      );
      // Entries added (the SOC's blocklist) make the feed updated now.
      const before = Date.now();
      await store.addFeedEntries(name, { urls: [], domains: ['worse.example'] });
      const after = (await store.listFeeds()).find((f) => f.name === name);
      assert.equal(after?.domains, 1);
      assert.ok(after?.updatedAt && after.updatedAt >= before && after.updatedAt <= Date.now(), String(after?.updatedAt));
    },
  ],
  [
    'replaces a feed of 150,000 domains with another of as many (more than a spread of arguments can carry)',
    async (store) => {
      const name = `big-${randomBytes(3).toString('hex')}`;
      const domains = (tag: string): string[] => Array.from({ length: 150_000 }, (_, i) => `d${i}.${tag}.example`);
      assert.deepEqual(await store.replaceFeed(name, { urls: [], domains: domains('one') }), { urls: 0, domains: 150_000 });
      assert.deepEqual(await store.replaceFeed(name, { urls: [], domains: domains('two') }), { urls: 0, domains: 150_000 });
      const hits = await store.matchFeeds([], ['d7.one.example', 'd149999.two.example']);
      assert.deepEqual([...hits.entries()], [['d149999.two.example', name]]);
      await store.replaceFeed(name, { urls: [], domains: [] });
      assert.equal((await store.matchFeeds([], ['d7.two.example'])).size, 0);
    },
  ],
  [
    'changes state by compare-and-set: one writer per version, deleted drops the bytes but keeps the record',
    async (store) => {
      const now = Date.now();
      const e = { ...entry(`cas-${randomBytes(4).toString('hex')}`, now), state: initialState(entry('x', now), 60_000) };
      await store.putQuarantine(e, Buffer.from('raw bytes'));
      const v1 = { ...e.state, version: 1, status: 'releasing' as const, updatedAt: now };
      assert.equal(await store.updateQuarantineState(e.id, v1), true);
      assert.equal(await store.updateQuarantineState(e.id, { ...v1, status: 'deleted' }), false, 'a second writer of version 1 must lose');
      assert.equal(await store.updateQuarantineState(e.id, { ...v1, version: 3, status: 'deleted' }), false, 'a version may not be skipped');
      const mid = await store.getQuarantine(e.id);
      assert.equal(mid?.entry.state?.status, 'releasing');
      assert.ok(mid?.raw?.equals(Buffer.from('raw bytes')));
      assert.equal((await store.countQuarantine()) >= 1, true);
      assert.equal(await store.updateQuarantineState(e.id, { ...v1, version: 2, status: 'deleted', deleted: { by: 'token:test', at: now } }), true);
      const after = await store.getQuarantine(e.id);
      assert.equal(after?.entry.state?.status, 'deleted');
      assert.equal(after?.entry.state?.deleted?.by, 'token:test');
      assert.equal(after?.raw, null, 'a deleted message keeps no bytes');
      assert.equal(await store.updateQuarantineState('no-such-id', v1), false);
    },
  ],
  [
    'reads a held message past its expiry as expired, without bytes, while its record is kept',
    async (store) => {
      const now = Date.now();
      const base = entry(`exp-${randomBytes(4).toString('hex')}`, now, 200);
      const e = { ...base, state: initialState(base, 60_000) };
      await store.putQuarantine(e, Buffer.from('x'));
      await new Promise((r) => setTimeout(r, 300));
      await store.sweepQuarantine();
      const got = await store.getQuarantine(e.id);
      assert.ok(got, 'the record is kept for history');
      assert.equal(statusOf(got.entry), 'expired');
      assert.equal(got.raw, null);
      const listed = await store.listQuarantine({ limit: 500, filter: { status: ['expired'] } });
      assert.ok(listed.items.some((x) => x.id === e.id));
    },
  ],
  [
    'filters and pages by cursor through every match exactly once',
    async (store) => {
      const tag = randomBytes(3).toString('hex');
      const base = Date.now() + 2_000_000;
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const e = entry(`pg-${tag}-${i}`, base + (i % 3) * 1000); // equal creation times on purpose
        e.subject = i % 2 ? `Invoice ${tag}` : `Hello ${tag}`;
        e.envelope = { mailFrom: i < 4 ? 'billing@evil.example' : 'x@other.example', rcptTo: [i < 5 ? 'ann@corp.example' : 'bob@shop.example'] };
        e.verdict = { ...e.verdict, score: 50 + i, tenant: i < 5 ? 'corp.example' : 'default' };
        await store.putQuarantine(e, Buffer.from('x'));
        ids.push(e.id);
      }
      const all = async (filter: Parameters<Store['listQuarantine']>[0]): Promise<string[]> => {
        const got: string[] = [];
        let cursor: string | null = null;
        do {
          const page = await store.listQuarantine({ ...filter, limit: 2, cursor });
          got.push(...page.items.map((x) => x.id));
          cursor = page.nextCursor;
        } while (cursor);
        return got;
      };
      const mine = (await all({ filter: { text: tag } })).filter((id) => id.includes(tag));
      assert.deepEqual([...mine].sort(), [...ids].sort());
      assert.equal(new Set(mine).size, 7, 'no duplicates across pages');
      assert.deepEqual((await all({ filter: { text: `invoice ${tag}` } })).sort(), [ids[1], ids[3], ids[5]].sort());
      assert.deepEqual((await all({ filter: { text: tag, sender: 'evil.example' } })).sort(), ids.slice(0, 4).sort());
      assert.deepEqual((await all({ filter: { text: tag, sender: 'BILLING@evil.example', scoreMin: 52 } })).sort(), [ids[2], ids[3]].sort());
      assert.deepEqual((await all({ filter: { text: tag, tenant: 'shop.example' } })).sort(), [ids[5], ids[6]].sort());
      assert.deepEqual((await all({ filter: { text: tag, recipient: 'ANN@corp.example', reason: 'URL_SHORTENER' } })).sort(), ids.slice(0, 5).sort());
      assert.deepEqual(await all({ filter: { text: tag, reason: 'NO_SUCH_REASON' } }), []);
      await assert.rejects(
        store.listQuarantine({ cursor: 'not-a-cursor' }),
        (err: unknown) => err instanceof StoreError && err.code === 'PHISHX_STORE_BAD_CURSOR',
      );
    },
  ],
  [
    'appends audit records and lists them newest first, paged',
    async (store) => {
      const tag = randomBytes(3).toString('hex');
      for (let i = 0; i < 3; i++) await store.appendAudit({ at: Date.now(), actor: 'token:abcd', action: 'release', target: `${tag}-${i}`, result: 'ok' });
      const page = await store.listAudit({ limit: 2 });
      assert.deepEqual(
        page.map((r) => r.target),
        [`${tag}-2`, `${tag}-1`],
      );
      const next = await store.listAudit({ limit: 2, before: page[1].id });
      assert.equal(next[0].target, `${tag}-0`);
    },
  ],
  [
    'logs events durably and hands each to a group once, until acknowledged',
    async (store) => {
      const group = `g-${randomBytes(3).toString('hex')}`;
      const ev = (i: number): SecurityEvent => ({
        id: `ev${i}`,
        at: Date.now(),
        action: 'reject',
        smtpCode: 550,
        score: 80,
        tenant: 'default',
        mailFrom: 'a@evil.example',
        from: 'a@evil.example',
        subject: `s${i}`,
        urlHosts: [],
        reasons: ['X'],
        recipients: ['b@example.org'],
      });
      const before = await store.readEvents(group, 'c1', 1000);
      await store.ackEvents(
        group,
        before.map((e) => e.id),
      );
      for (let i = 0; i < 3; i++) await store.appendEvent(ev(i));
      const got = await store.readEvents(group, 'c1', 2);
      assert.deepEqual(
        got.map((e) => (e.event as SecurityEvent).subject),
        ['s0', 's1'],
      );
      await store.ackEvents(
        group,
        got.map((e) => e.id),
      );
      const rest = await store.readEvents(group, 'c1', 10);
      assert.deepEqual(
        rest.map((e) => (e.event as SecurityEvent).subject),
        ['s2'],
      );
      await store.ackEvents(
        group,
        rest.map((e) => e.id),
      );
      assert.deepEqual(await store.readEvents(group, 'c1', 10), []);
    },
  ],
  [
    'keeps SOC alerts by compare-and-set and points campaign keys at one live alert',
    async (store) => {
      const now = Date.now();
      const id = `al${randomBytes(4).toString('hex')}`;
      const a: SocAlert = {
        id,
        version: 1,
        status: 'open',
        firstSeen: now,
        lastSeen: now,
        keys: ['d:evil.example'],
        keyUntil: now + 60_000,
        count: 1,
        actions: { reject: 1, quarantine: 0 },
        maxScore: 80,
        tenants: ['default'],
        senderDomains: ['evil.example'],
        urlHosts: [],
        subjects: ['x'],
        reasons: {},
        quarantineIds: [],
        history: [],
        updatedAt: now,
        purgeAt: now + 3_600_000,
      };
      assert.equal(await store.putAlert(a), true);
      assert.equal(await store.putAlert(a), false, 'version 1 exists');
      assert.equal(await store.putAlert({ ...a, version: 2, count: 2 }), true);
      assert.equal((await store.getAlert(id))?.count, 2);
      const key = `d:${id}.example`;
      assert.equal(await store.alertForKey(key), null);
      assert.equal(await store.linkAlertKey(key, id, now + 60_000), id);
      assert.equal(await store.linkAlertKey(key, 'other', now + 60_000), id, 'a live key keeps its alert');
      assert.equal(await store.alertForKey(key), id);
      await store.unlinkAlertKeys([key], 'other');
      assert.equal(await store.alertForKey(key), id);
      await store.unlinkAlertKeys([key], id);
      assert.equal(await store.alertForKey(key), null);
      const listed = await store.listAlerts({ status: ['open'], limit: 500 });
      assert.ok(listed.items.some((x) => x.id === id));
      assert.ok(!(await store.listAlerts({ status: ['resolved'], limit: 500 })).items.some((x) => x.id === id));
    },
  ],
  [
    'keeps reports with a copy of their message, the latest per message',
    async (store) => {
      const id = `fb${randomBytes(4).toString('hex')}`;
      const rec = {
        id,
        verdict: 'phish' as const,
        by: 'token:a',
        at: Date.now(),
        subject: 's',
        from: 'a@b.example',
        tenant: 'default',
        score: 55,
        reasons: ['X'],
      };
      await store.putFeedback(rec, Buffer.from('raw 1'));
      await store.putFeedback({ ...rec, verdict: 'not_phish', at: rec.at + 1 }, Buffer.from('raw 2'));
      const mine = (await store.listFeedback()).filter((r) => r.id === id);
      assert.deepEqual(
        mine.map((r) => r.verdict),
        ['not_phish'],
      );
      assert.equal((await store.getFeedbackRaw(id))?.toString(), 'raw 2');
      assert.equal(await store.getFeedbackRaw('nope'), null);
    },
  ],
  [
    'keeps the signing key ring with a compare-and-set on its version',
    async (store) => {
      const ring = await store.getKeyRing();
      const key = { id: `key_${randomBytes(8).toString('hex')}`, secret: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', createdAt: 1, primary: true };
      const next = { version: ring.version + 1, keys: [...ring.keys, key] };
      assert.equal(await store.putKeyRing(next), true);
      assert.equal(await store.putKeyRing(next), false, 'the same version twice: the second write loses');
      assert.equal(await store.putKeyRing({ version: ring.version + 3, keys: [] }), false, 'a version that skips one is refused');
      assert.deepEqual(await store.getKeyRing(), next);
    },
  ],
  [
    'keeps webhook delivery records: replaced by id, most recently updated first, filtered by status and endpoint, paged',
    async (store) => {
      const ep = `ep${randomBytes(3).toString('hex')}`;
      const base = Date.now();
      const rec = (n: number, status: DeliveryRecord['status']): DeliveryRecord => ({
        id: `evt_${n}.${ep}`,
        endpoint: ep,
        status,
        attempts: 1,
        createdAt: 1000 + n,
        updatedAt: base + n,
        event: { id: `evt_${n}`, type: 'message.rejected', created_at: new Date(0).toISOString(), tenant: 'default', data: {} },
      });
      for (let n = 0; n < 5; n++) await store.putDelivery(rec(n, n % 2 ? 'dead' : 'delivered'));
      await store.putDelivery({ ...rec(0, 'retrying'), attempts: 2 });
      assert.equal((await store.getDelivery(`evt_0.${ep}`))?.attempts, 2);
      assert.equal(await store.getDelivery('evt_none.x'), null);
      const dead = await store.listDeliveries({ endpoint: ep, status: ['dead'] });
      assert.deepEqual(
        dead.items.map((d) => d.id),
        [`evt_3.${ep}`, `evt_1.${ep}`],
      );
      const p1 = await store.listDeliveries({ endpoint: ep, limit: 3 });
      assert.equal(p1.items.length, 3);
      const p2 = await store.listDeliveries({ endpoint: ep, limit: 3, cursor: p1.nextCursor });
      assert.deepEqual(
        [...p1.items, ...p2.items].map((d) => d.id),
        [4, 3, 2, 1, 0].map((n) => `evt_${n}.${ep}`),
      );
      assert.equal(p2.nextCursor, null);
    },
  ],
  [
    'a consumer group made with start "new" gets only what is logged after it; activity entries round-trip',
    async (store) => {
      const group = `new-${randomBytes(3).toString('hex')}`;
      await store.appendEvent(securityEvent('before'));
      assert.deepEqual(await store.readEvents(group, 'c1', 10, 'new'), []);
      const act = {
        kind: 'activity' as const,
        event: { id: 'evt_a', type: 'quarantine.deleted' as const, created_at: new Date(0).toISOString(), tenant: 't', data: { x: 1 } },
      };
      await store.appendEvent(act);
      const got = await store.readEvents(group, 'c1', 10, 'new');
      assert.deepEqual(
        got.map((g) => g.event),
        [act],
      );
      await store.keepEvents(
        group,
        'c1',
        got.map((g) => g.id),
      );
      await store.ackEvents(
        group,
        got.map((g) => g.id),
      );
      assert.deepEqual(await store.readEvents(group, 'c1', 10, 'new'), []);
    },
  ],
  [
    'remembers a signed request nonce until it expires: the second claim of one nonce fails',
    async (store) => {
      const n = randomBytes(16).toString('hex');
      const exp = Math.floor(Date.now() / 1000) + 60;
      assert.equal(await store.claimNonce(n, exp), true);
      assert.equal(await store.claimNonce(n, exp), false);
      assert.equal(await store.claimNonce(randomBytes(16).toString('hex'), exp), true);
    },
  ],
  [
    'keeps small shared documents with a compare-and-set, and hands a lease to its holder',
    async (store) => {
      const name = `doc-${randomBytes(3).toString('hex')}`;
      assert.deepEqual(await store.getDoc(name), { version: 0, value: null });
      assert.equal(await store.putDoc(name, 1, [{ a: 1 }]), true);
      assert.equal(await store.putDoc(name, 1, [{ a: 2 }]), false, 'version 1 exists');
      assert.deepEqual(await store.getDoc(name), { version: 1, value: [{ a: 1 }] });
      const lease = `lease-${randomBytes(3).toString('hex')}`;
      assert.equal(await store.acquireLease(lease, 'node-a', 60_000), true);
      assert.equal(await store.acquireLease(lease, 'node-a', 60_000), true, 'renewed by its holder');
      if (store.kind === 'redis') assert.equal(await store.acquireLease(lease, 'node-b', 60_000), false, 'held by another node');
    },
  ],
  [
    'answers ping with a latency',
    async (store) => {
      assert.ok((await store.ping()) >= 0);
    },
  ],
];

function storeContract(name: string, make: () => Promise<{ store: Store; cleanup(): Promise<void> } | { skip: string }>): void {
  describe(`Store contract: ${name}`, () => {
    let made: { store: Store; cleanup(): Promise<void> } | { skip: string };
    before(async () => {
      made = await make();
    });
    after(async () => {
      if (made && !('skip' in made)) await made.cleanup();
    });
    for (const [caseName, fn] of contractCases) {
      it(caseName, async (t) => {
        if ('skip' in made) return t.skip(made.skip);
        await fn(made.store);
      });
    }
  });
}

storeContract('memory', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});

storeContract('file (embedded default)', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-filestore-'));
  const store = new FileStore(dir, { maxEntries: 1000, maxBytes: 1 << 30 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

storeContract('redis', async () => {
  const r: TestRedis | { skip: string } = await testRedis();
  if ('skip' in r) return r;
  const prefix = `phishx-test:${randomBytes(4).toString('hex')}:`;
  const store = new RedisStore({ url: r.url, keyPrefix: prefix });
  return {
    store,
    cleanup: async () => {
      try {
        const keys = await store.client.keys(`${prefix}*`);
        if (keys.length) await store.client.del(...keys);
      } finally {
        await store.close();
        await r.stop();
      }
    },
  };
});

storeContract('redis cluster (3 masters)', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-cluster-'));
  const cluster = await startRedisCluster(dir, 3, 0);
  if (!cluster) return { skip: 'redis-server / redis-cli not installed (apt-get install redis-server)' };
  const store = new RedisStore({ url: 'redis://cluster/0', clusterNodes: [{ host: '127.0.0.1', port: cluster.procs[0].port }], keyPrefix: 'phishx-test:' });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('Redis key layout: one hash tag per key family', () => {
  it('keeps every multi-key family in one Cluster slot and leaves single keys untagged', () => {
    assert.equal(redisKey('phishx:', 'q:index'), 'phishx:{q}:q:index');
    assert.equal(redisKey('phishx:', 'q:0123abcd'), 'phishx:{q}:q:0123abcd');
    assert.equal(redisKey('phishx:', 'alerts'), 'phishx:{alert}:alerts');
    assert.equal(redisKey('phishx:', 'akey:c1'), 'phishx:{alert}:akey:c1');
    assert.equal(redisKey('phishx:', 'feeds'), 'phishx:{feed}:feeds');
    assert.equal(redisKey('phishx:', 'nonce:n1'), 'phishx:nonce:n1');
    assert.equal(redisKey('phishx:', 'signing-keys'), 'phishx:signing-keys');
  });
});

describe('RedisStore with Redis unreachable', () => {
  it('fails fast with StoreError PHISHX_STORE_UNAVAILABLE', async () => {
    const store = new RedisStore({ url: 'redis://127.0.0.1:1/0', keyPrefix: 'x:' });
    try {
      const t0 = Date.now();
      await assert.rejects(
        store.putQuarantine(entry('dead', Date.now()), Buffer.from('x')),
        (err: unknown) => err instanceof StoreError && err.code === 'PHISHX_STORE_UNAVAILABLE',
      );
      await assert.rejects(store.ping(), StoreError);
      assert.ok(Date.now() - t0 < 3000, 'did not fail fast');
    } finally {
      await store.close();
    }
  });
});

/** Count `store`'s full reads of its directory from now on; returns the counter. */
function fullReads(store: FileStore): () => number {
  const spied = store as unknown as { entries: (whole: boolean) => Promise<unknown[]> };
  const entries = spied.entries.bind(store);
  let n = 0;
  spied.entries = (whole) => (n++, entries(whole));
  return () => n;
}

describe('FileStore: durable, bounded, and clean on disk', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-filestore-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps held messages for the next process on the same directory (a restart), entry and bytes', async () => {
    const d = path.join(dir, 'restart');
    const a = new FileStore(d, { maxEntries: 100, maxBytes: 1 << 20 });
    const raw = Buffer.concat([Buffer.from('Subject: kept\r\n\r\n'), randomBytes(300)]);
    await a.putQuarantine(entry('keep1', Date.now()), raw);
    await a.close();
    const b = new FileStore(d, { maxEntries: 100, maxBytes: 1 << 20 });
    try {
      assert.equal(await b.countQuarantine(), 1);
      const got = await b.getQuarantine('keep1');
      const want = entry('keep1', got!.entry.createdAt);
      assert.deepEqual(got?.entry, { ...want, state: initialState(want) });
      assert.ok(got?.raw?.equals(raw));
    } finally {
      await b.close();
    }
  });

  it('refuses a hold at max_entries or max_disk_bytes with PHISHX_STORE_FULL, and takes one again after a delete', async () => {
    const store = new FileStore(path.join(dir, 'full'), { maxEntries: 2, maxBytes: 1000 });
    try {
      await store.putQuarantine(entry('f1', Date.now()), Buffer.from('x'));
      await store.putQuarantine(entry('f2', Date.now()), Buffer.from('x'));
      await assert.rejects(
        store.putQuarantine(entry('f3', Date.now()), Buffer.from('x')),
        (err: unknown) => err instanceof StoreError && err.code === 'PHISHX_STORE_FULL' && /max_entries = 2/.test(err.message),
      );
      await store.deleteQuarantine('f1');
      await store.putQuarantine(entry('f3', Date.now()), Buffer.from('x'));
      await assert.rejects(
        store.putQuarantine({ ...entry('f4', Date.now()), size: 2000 }, Buffer.alloc(2000)),
        (err: unknown) => err instanceof StoreError && err.code === 'PHISHX_STORE_FULL',
      );
      await store.deleteQuarantine('f2');
      await assert.rejects(store.putQuarantine({ ...entry('f5', Date.now()), size: 999 }, Buffer.alloc(999)), /max_disk_bytes = 1000/);
    } finally {
      await store.close();
    }
  });

  it("counts held messages at most once a second, applies its own changes at once, and sees another process's at the next count", async () => {
    const d = path.join(dir, 'usage');
    let now = Date.UTC(2026, 11, 1, 9);
    const opts = { maxEntries: 20, maxBytes: 1 << 20, now: () => now };
    const a = new FileStore(d, opts);
    const b = new FileStore(d, opts);
    const counts = fullReads(a); // how often a reads the whole directory (every record) to count
    try {
      for (let i = 0; i < 10; i++) await a.putQuarantine(entry(`ua${i}`, now), Buffer.from('x'));
      assert.equal(counts(), 1, 'ten holds within a second: one count');
      // b holds 8 more: a's count (10, taken this second) does not see them yet.
      for (let i = 0; i < 8; i++) await b.putQuarantine(entry(`ub${i}`, now), Buffer.from('x'));
      await a.putQuarantine(entry('ua10', now), Buffer.from('x')); // a counts 11 (real: 19)
      assert.equal(counts(), 1);
      // A second later a counts again: 19, and its own 20th hold makes 20.
      now += 1000;
      await a.putQuarantine(entry('ua11', now), Buffer.from('x'));
      assert.equal(counts(), 2);
      await assert.rejects(a.putQuarantine(entry('ua12', now), Buffer.from('x')), /quarantine full: 20 held messages/);
      await assert.rejects(b.putQuarantine(entry('ub8', now), Buffer.from('x')), /quarantine full: 20 held messages/);
      // A delete frees a place at once for the process that made it, at its next count for another.
      await b.deleteQuarantine('ua0');
      await assert.rejects(a.putQuarantine(entry('ua12', now), Buffer.from('x')), /quarantine full/);
      await b.putQuarantine(entry('ub8', now), Buffer.from('x'));
      await b.deleteQuarantine('ua1');
      now += 1000;
      await a.putQuarantine(entry('ua12', now), Buffer.from('x'));
      assert.equal(counts(), 3);
      assert.equal(await a.countQuarantine(), 20);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('answers ping without reading every record: fine for a missing directory, PHISHX_STORE_UNAVAILABLE for one it cannot read', async () => {
    const missing = new FileStore(path.join(dir, 'ping-missing'), { maxEntries: 10, maxBytes: 1 << 20 });
    const spied = missing as unknown as { entries: () => Promise<unknown[]> };
    spied.entries = () => Promise.reject(new Error('ping read every record'));
    const root = path.join(dir, 'ping-bad');
    mkdirSync(root, { recursive: true });
    writeFileSync(path.join(root, 'held'), 'not a directory');
    const bad = new FileStore(root, { maxEntries: 10, maxBytes: 1 << 20 });
    try {
      assert.ok((await missing.ping()) >= 0);
      await assert.rejects(bad.ping(), (err: unknown) => err instanceof StoreError && err.code === 'PHISHX_STORE_UNAVAILABLE' && /ENOTDIR/.test(err.message));
    } finally {
      await missing.close();
      await bad.close();
    }
  });

  it('answers the count and the bytes held (/health/full, each /metrics scrape) from the count holds use, exact for its own changes', async () => {
    let now = Date.now();
    const store = new FileStore(path.join(dir, 'health-count'), { maxEntries: 100, maxBytes: 1 << 20, now: () => now });
    const reads = fullReads(store);
    try {
      await store.putQuarantine(entry('hc1', now), Buffer.from('xyz'));
      await store.putQuarantine(entry('hc2', now), Buffer.from('xyz'));
      const first = reads();
      for (let i = 0; i < 10; i++) {
        assert.equal(await store.countQuarantine(), 2);
        assert.equal(await store.usedMemoryBytes(), 6);
      }
      assert.equal(reads(), first, 'ten health checks within a second read no record');
      assert.equal(await store.deleteQuarantine('hc1'), true);
      assert.equal(await store.countQuarantine(), 1, "this store's own delete counts at once");
      assert.equal(await store.usedMemoryBytes(), 3);
      now += 1500; // past the count's age: the next one reads the directory again
      assert.equal(await store.countQuarantine(), 1);
      assert.equal(reads(), first + 1);
    } finally {
      await store.close();
    }
  });

  it("keeps only a small summary of each record for counting, and whole records once it lists (Haraka's threads never list)", async () => {
    // 3,000 records as a hold writes them (a verdict with several reasons), left by another process.
    const d = path.join(dir, 'summaries');
    const n = 3000;
    const t = Date.now();
    mkdirSync(path.join(d, 'held'), { recursive: true });
    const reasons = (['URL_TEXT_HREF_BRAND_MISMATCH', 'NLP_PHISH', 'SENDER_BRAND_IMPERSONATION', 'URL_BRAND_LOOKALIKE'] as const).map((code, k) => ({
      code,
      weight: 5 + k,
      detail: `${code.toLowerCase()} detail text of a typical length, ${k}`,
    }));
    const whole = (i: number): QuarantineEntry => {
      const e = entry(`sum${i}`, t - i);
      return {
        ...e,
        envelope: { ...e.envelope, rcptTo: [`user${i}@example.org`], helo: 'mail.sender.example' },
        verdict: { ...e.verdict, reasons },
        subject: `Your account #${i} has been limited, action required`,
        from: `"Service Desk" <billing${i}@sender.example>`,
        state: initialState(e, 86_400_000),
      };
    };
    for (let i = 0; i < n; i++) writeFileSync(path.join(d, 'held', `sum${i}.json`), JSON.stringify(whole(i)));
    const store = new FileStore(d, { maxEntries: 10_000, maxBytes: 1 << 30 });
    try {
      const h0 = heapAfterGc();
      assert.equal(await store.countQuarantine(), n);
      const perRecord = (heapAfterGc() - h0) / n;
      // Measured: ~330 bytes; the whole record kept was ~1,500.
      assert.ok(perRecord < 700, `a count keeps ${perRecord.toFixed(0)} bytes per record`);
      const page = await store.listQuarantine({ limit: 2 });
      assert.deepEqual(page.items, [whole(0), whole(1)], 'a listing after counts has the whole records');
      await store.putQuarantine(entry('sumNew', t + 1), Buffer.from('xyz'));
      const next = await store.listQuarantine({ limit: 1 });
      assert.deepEqual(next.items[0], { ...entry('sumNew', t + 1), state: initialState(entry('sumNew', t + 1)) }, 'and a hold made after it');
      assert.equal(await store.countQuarantine(), n + 1);
    } finally {
      await store.close();
    }
  });

  it('keeps a hold written while a full read is in progress in the count the read leaves', async () => {
    // The read lists the directory, then walks it in slices; a hold of this store finishes in
    // between (forced here: the walk waits for it). Its file is not in the listing, and the
    // read's count replaces the one the hold was added to.
    const store = new FileStore(path.join(dir, 'hold-during-read'), { maxEntries: 100, maxBytes: 1 << 20 });
    const module: { forEachInSlices: typeof sliced.forEachInSlices } = sliced;
    const original = module.forEachInSlices;
    let holdDone: Promise<void> | null = null;
    module.forEachInSlices = async (items, work, ms) => {
      const h = holdDone;
      holdDone = null;
      if (h) await h;
      return original(items, work, ms);
    };
    try {
      await store.putQuarantine(entry('before1', Date.now()), Buffer.from('xyz'));
      assert.equal(await store.countQuarantine(), 1);
      const sweep = store.sweepQuarantine(); // a full read: lists the directory first
      holdDone = store.putQuarantine(entry('during1', Date.now()), Buffer.from('xyz'));
      await sweep;
      assert.equal(holdDone, null, 'the read waited for the hold');
      assert.equal(await store.countQuarantine(), 2);
      assert.equal(await store.usedMemoryBytes(), 6);
    } finally {
      module.forEachInSlices = original;
      await store.close();
    }
  });

  it('lets exactly max_entries of many concurrent holds in, on one count', async () => {
    const store = new FileStore(path.join(dir, 'burst'), { maxEntries: 5, maxBytes: 1 << 20 });
    const counts = fullReads(store);
    try {
      const t = Date.now();
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.putQuarantine(entry(`burst${i}`, t), Buffer.from('x'))));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 5);
      for (const r of results)
        if (r.status === 'rejected') assert.ok(r.reason instanceof StoreError && r.reason.code === 'PHISHX_STORE_FULL', String(r.reason));
      assert.equal(counts(), 1, 'the twenty holds shared one count');
      assert.equal(await store.countQuarantine(), 5);
    } finally {
      await store.close();
    }
  });

  it('a sweep drops the bytes of every expired message and keeps its record for the history; purged records go whole', async () => {
    const d = path.join(dir, 'sweep-history');
    const held = path.join(d, 'held');
    const t = Date.now();
    // Written as a store of another process would have left them: expired (history kept one day), purged, held.
    await mkdir(held, { recursive: true });
    const history = (e: QuarantineEntry, purgeAt: number): QuarantineEntry => ({
      ...e,
      state: { status: 'held', version: 0, updatedAt: e.createdAt, purgeAt },
    });
    const records = [
      history(entry('old1', t - 7_200_000, 1000), t + 86_400_000),
      history(entry('old2', t - 7_200_000, 1000), t + 86_400_000),
      history(entry('old3', t - 7_200_000, 1000), t + 86_400_000),
      history(entry('purged1', t - 7_200_000, 1000), t - 1000),
      history(entry('purged2', t - 7_200_000, 1000), t - 1000),
      entry('live1', t),
    ];
    for (const e of records) {
      await writeFile(path.join(held, `${e.id}.json`), JSON.stringify(e));
      await writeFile(path.join(held, `${e.id}.eml`), 'x');
    }
    const store = new FileStore(d, { maxEntries: 100, maxBytes: 1 << 20 });
    try {
      await store.sweepQuarantine();
      assert.deepEqual((await readdir(held)).sort(), ['live1.eml', 'live1.json', 'old1.json', 'old2.json', 'old3.json']);
      assert.equal(await store.countQuarantine(), 1);
      const page = await store.listQuarantine({ limit: 10 });
      assert.deepEqual(page.items.map((e) => `${e.id}:${statusOf(e)}`).sort(), ['live1:held', 'old1:expired', 'old2:expired', 'old3:expired']);
    } finally {
      await store.close();
    }
  });

  it('removes both files on delete and on expiry, and orphans of an interrupted hold at start', async () => {
    const d = path.join(dir, 'files');
    const store = new FileStore(d, { maxEntries: 100, maxBytes: 1 << 20 });
    const held = path.join(d, 'held');
    try {
      await store.putQuarantine(entry('gone1', Date.now()), Buffer.from('x'));
      await store.putQuarantine(entry('exp1', Date.now(), 200), Buffer.from('x'));
      assert.deepEqual((await readdir(held)).sort(), ['exp1.eml', 'exp1.json', 'gone1.eml', 'gone1.json']);
      assert.equal(await store.deleteQuarantine('gone1'), true);
      await eventually(async () => assert.equal(await store.countQuarantine(), 0));
      assert.deepEqual(await readdir(held), []);
    } finally {
      await store.close();
    }
    // A raw file without its entry (crash between the two writes; the sender got no 250), an hour old.
    await writeFile(path.join(held, 'orphan.eml'), 'x');
    await writeFile(path.join(held, 'young.eml'), 'x');
    const old = new Date(Date.now() - 2 * 3_600_000);
    await utimes(path.join(held, 'orphan.eml'), old, old);
    const next = new FileStore(d, { maxEntries: 100, maxBytes: 1 << 20 });
    try {
      assert.equal(await next.countQuarantine(), 0);
      assert.deepEqual(await readdir(held), ['young.eml'], 'a fresh raw file may be a hold in progress in another process');
    } finally {
      await next.close();
    }
  });

  it('answers unknown and malformed ids with null / false, never a path outside its directory', async () => {
    const store = new FileStore(path.join(dir, 'ids'), { maxEntries: 10, maxBytes: 1 << 20 });
    try {
      assert.equal(await store.getQuarantine('../../etc/passwd'), null);
      assert.equal(await store.deleteQuarantine('../x'), false);
      await assert.rejects(store.putQuarantine(entry('../evil', Date.now()), Buffer.from('x')), StoreError);
    } finally {
      await store.close();
    }
  });
});

describe('holdMessage on the embedded file store', () => {
  it('keeps large messages in the store itself, and throws (451) when the store is full instead of spooling', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-hold-'));
    const store = new FileStore(dir, { maxEntries: 1, maxBytes: 1 << 30 });
    try {
      const config = buildConfig({ quarantine: { spool_dir: dir, max_inline_bytes: 1024 } }, { env: {} });
      const raw = randomBytes(5000);
      const e = await holdMessage(store, config, raw, { mailFrom: 'a@example.com', rcptTo: ['b@example.org'] }, scanResult('aaaa000000000001'));
      assert.equal(e.spooled, false);
      assert.ok((await store.getQuarantine('aaaa000000000001'))?.raw?.equals(raw));
      await assert.rejects(
        holdMessage(store, config, raw, { mailFrom: 'a@example.com', rcptTo: ['b@example.org'] }, scanResult('aaaa000000000002')),
        (err: unknown) => err instanceof StoreError && err.code === 'PHISHX_STORE_FULL',
      );
      assert.deepEqual(await readdir(dir), ['held'], 'nothing written to pending');
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('MemoryStore memory bound', () => {
  it('accounts held bytes, refuses inline holds beyond maxBytes, and frees bytes on delete', async () => {
    const store = new MemoryStore(1000);
    try {
      assert.equal(store.canHoldInline(600), true);
      await store.putQuarantine(entry('m1', Date.now()), Buffer.alloc(600));
      assert.equal(store.heldBytes, 600);
      assert.equal(store.canHoldInline(600), false);
      await store.putQuarantine(entry('m1', Date.now()), Buffer.alloc(100)); // replacing does not double-count
      assert.equal(store.heldBytes, 100);
      await store.deleteQuarantine('m1');
      assert.equal(store.heldBytes, 0);
    } finally {
      await store.close();
    }
  });
});

describe('holdMessage', () => {
  const result = scanResult('feedc0de12345678');

  it('keeps messages up to max_inline_bytes in the store with a TTL of ttl_days', async () => {
    const store = new MemoryStore();
    const config = buildConfig({ quarantine: { ttl_days: 2 } }, { env: {} });
    const e = await holdMessage(
      store,
      config,
      Buffer.from('Subject: Held\r\n\r\nbody'),
      { mailFrom: 'a@example.com', rcptTo: ['b@example.org'] },
      result,
      1_000,
    );
    assert.equal(e.expiresAt - e.createdAt, 2 * 86_400_000);
    assert.equal(e.spooled, false);
    await store.close();
  });

  it('spools to disk when the in-memory store is full, without losing the message', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-spool-'));
    const store = new MemoryStore(100);
    try {
      const config = buildConfig({ quarantine: { spool_dir: dir } }, { env: {} });
      const raw = randomBytes(500);
      const e = await holdMessage(store, config, raw, { mailFrom: 'a@example.com', rcptTo: ['b@example.org'] }, result);
      assert.equal(e.spooled, true);
      assert.ok((await readFile(e.spoolPath!)).equals(raw));
      assert.equal(store.heldBytes, 0);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes messages above max_inline_bytes whole to the spool directory and flags the entry', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-spool-'));
    const store = new MemoryStore();
    try {
      const config = buildConfig({ quarantine: { max_inline_bytes: 1024, spool_dir: dir } }, { env: {} });
      const raw = randomBytes(5000);
      const e = await holdMessage(store, config, raw, { mailFrom: 'a@example.com', rcptTo: ['b@example.org'] }, result);
      assert.equal(e.spooled, true);
      assert.equal(e.spoolPath, path.join(dir, `${result.id}.eml`));
      assert.ok((await readFile(e.spoolPath)).equals(raw));
      const held = await store.getQuarantine(result.id);
      assert.equal(held?.raw, null);
      assert.equal(held?.entry.size, 5000);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('collectSpool', () => {
  it('removes spooled files whose entry expired or was deleted, keeps live ones and fresh files', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-gc-'));
    const store = new MemoryStore();
    try {
      const config = buildConfig({ quarantine: { max_inline_bytes: 1024, spool_dir: dir } }, { env: {} });
      for (const id of ['aaaa000000000001', 'aaaa000000000002'])
        await holdMessage(store, config, randomBytes(5000), { mailFrom: 'a@example.com', rcptTo: ['b@example.org'] }, scanResult(id));
      await store.deleteQuarantine('aaaa000000000001'); // as a Redis TTL would: the entry goes, the file stays
      await writeFile(path.join(dir, 'bbbb000000000003.eml'), 'x'); // no entry, but young: maybe on its way in
      const later = Date.now() + 2 * 3_600_000;
      const old = new Date(Date.now() - 2 * 3_600_000);
      for (const f of ['aaaa000000000001.eml', 'aaaa000000000002.eml']) await utimes(path.join(dir, f), old, old);
      assert.equal(await collectSpool(store, dir, Date.now()), 1);
      assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.eml')).sort(), ['aaaa000000000002.eml', 'bbbb000000000003.eml']);
      assert.equal(await collectSpool(store, dir, later), 1, 'the young orphan goes once it is old');
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('quarantine while Redis is down', () => {
  const result = scanResult('abad1dea00000001');

  /** A spool directory, a store that is down (Redis on a closed port) and one that answers. */
  async function withSpool(
    test: (s: { dir: string; dead: RedisStore; alive: MemoryStore; config: ReturnType<typeof buildConfig> }) => Promise<void>,
  ): Promise<void> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-pending-'));
    const dead = new RedisStore({ url: 'redis://127.0.0.1:1/0', keyPrefix: 'x:', readyTimeoutMs: 200 });
    const alive = new MemoryStore();
    try {
      await test({ dir, dead, alive, config: buildConfig({ quarantine: { spool_dir: dir } }, { env: {} }) });
    } finally {
      await dead.close();
      await alive.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('keeps the message in the pending spool, then replays it into the store when it answers', async () => {
    await withSpool(async ({ dir, dead, alive, config }) => {
      const raw = Buffer.from('Subject: Held\r\n\r\nbody');
      const e = await holdMessage(dead, config, raw, { mailFrom: 'a@example.com', rcptTo: ['b@example.org'] }, result);
      assert.equal(e.pending, true);
      assert.ok((await readFile(path.join(dir, 'pending', `${result.id}.eml`))).equals(raw));
      await assert.rejects(replayPending(dead, dir)); // still down: nothing moved
      assert.equal(await replayPending(alive, dir), 1);
      const held = await alive.getQuarantine(result.id);
      assert.ok(held?.raw?.equals(raw));
      assert.equal(await replayPending(alive, dir), 0, 'replayed twice');
    });
  });

  it('two replayers at once (a slow round and the next, or two cluster workers) put every message once, with its bytes', async () => {
    await withSpool(async ({ dir, dead, alive, config }) => {
      const ids = Array.from({ length: 6 }, (_, i) => `abad1dea0000001${i}`);
      for (const id of ids)
        await holdMessage(dead, config, Buffer.from(`Subject: ${id}\r\n\r\nbody`), { mailFrom: '', rcptTo: ['b@example.org'] }, scanResult(id));
      // A store just back and slow: each put takes a while, so both rounds list the same files.
      const puts: string[] = [];
      const put = alive.putQuarantine.bind(alive);
      alive.putQuarantine = async (e, raw) => {
        puts.push(e.id);
        await new Promise((r) => setTimeout(r, 20));
        return put(e, raw);
      };
      const [a, b] = await Promise.all([replayPending(alive, dir), replayPending(alive, dir)]);
      assert.equal(a + b, ids.length);
      assert.deepEqual([...puts].sort(), ids, 'each message put exactly once');
      for (const id of ids) assert.ok((await alive.getQuarantine(id))?.raw?.toString().includes(`Subject: ${id}`), `${id} kept its bytes`);
      assert.deepEqual(await readdir(path.join(dir, 'pending')), []);
    });
  });

  it('puts a claim back in the queue when the store fails, and one left by a replayer that died after a minute', async () => {
    await withSpool(async ({ dir, dead, alive, config }) => {
      const id = 'abad1dea00000020';
      await holdMessage(dead, config, Buffer.from('Subject: x\r\n\r\nbody'), { mailFrom: '', rcptTo: ['b@example.org'] }, scanResult(id));
      await assert.rejects(replayPending(dead, dir));
      assert.deepEqual((await readdir(path.join(dir, 'pending'))).sort(), [`${id}.eml`, `${id}.json`], 'not left claimed');
      // A replayer that claimed the message and died: the claim is left alone for a minute, then requeued.
      await rename(path.join(dir, 'pending', `${id}.json`), path.join(dir, 'pending', `${id}.json.claimed`));
      assert.equal(await replayPending(alive, dir, Date.now()), 0);
      assert.equal(await replayPending(alive, dir, Date.now() + 61_000), 1);
      assert.ok((await alive.getQuarantine(id))?.raw);
    });
  });

  it('with [defer] redis = true, throws so the sender gets 451', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-pending-'));
    const dead = new RedisStore({ url: 'redis://127.0.0.1:1/0', keyPrefix: 'x:', readyTimeoutMs: 200 });
    try {
      const config = buildConfig({ quarantine: { spool_dir: dir }, defer: { redis: true } }, { env: {} });
      await assert.rejects(holdMessage(dead, config, Buffer.from('x'), { mailFrom: '', rcptTo: ['b@example.org'] }, result), StoreError);
    } finally {
      await dead.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('state changes race across store instances (two nodes, or two processes on one directory)', () => {
  const race = async (a: Store, b: Store): Promise<void> => {
    const now = Date.now();
    const e = { ...entry(`race-${randomBytes(4).toString('hex')}`, now), state: initialState(entry('x', now), 60_000) };
    await a.putQuarantine(e, Buffer.from('x'));
    const tries = Array.from({ length: 12 }, (_, i) =>
      (i % 2 ? a : b).updateQuarantineState(e.id, {
        ...e.state,
        version: 1,
        status: 'releasing',
        updatedAt: now,
        release: { claim: `c${i}`, by: 't', at: now, leaseUntil: now + 1000, recipients: [] },
      }),
    );
    const won = (await Promise.all(tries)).filter(Boolean).length;
    assert.equal(won, 1, `${won} writers won version 1`);
    const claim = (await b.getQuarantine(e.id))?.entry.state?.release?.claim;
    assert.equal((await a.getQuarantine(e.id))?.entry.state?.release?.claim, claim);
  };

  it('file: one of twelve concurrent writers of a version wins', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-race-'));
    const a = new FileStore(dir, { maxEntries: 100, maxBytes: 1 << 20 });
    const b = new FileStore(dir, { maxEntries: 100, maxBytes: 1 << 20 });
    try {
      for (let i = 0; i < 5; i++) await race(a, b);
    } finally {
      await a.close();
      await b.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('redis: one of twelve concurrent writers of a version wins', async (t) => {
    const r = await testRedis();
    if ('skip' in r) return t.skip(r.skip);
    const prefix = `phishx-race:${randomBytes(4).toString('hex')}:`;
    const a = new RedisStore({ url: r.url, keyPrefix: prefix });
    const b = new RedisStore({ url: r.url, keyPrefix: prefix });
    try {
      for (let i = 0; i < 5; i++) await race(a, b);
    } finally {
      const keys = await a.client.keys(`${prefix}*`);
      if (keys.length) await a.client.del(...keys);
      await a.close();
      await b.close();
      await r.stop();
    }
  });
});

describe('event log with two consumers of one group (Redis consumer group)', () => {
  it('hands each event to one consumer, and an unacknowledged one to another after a minute', async (t) => {
    const r = await testRedis();
    if ('skip' in r) return t.skip(r.skip);
    const prefix = `phishx-ev:${randomBytes(4).toString('hex')}:`;
    const store = new RedisStore({ url: r.url, keyPrefix: prefix });
    try {
      for (let i = 0; i < 10; i++) await store.appendEvent(securityEvent(`e${i}`, { subject: `s${i}` }));
      const [a, b] = await Promise.all([store.readEvents('g', 'node-a', 6), store.readEvents('g', 'node-b', 6)]);
      const seen = [...a, ...b].map((e) => (e.event as SecurityEvent).subject).sort();
      assert.equal(seen.length, 10);
      assert.equal(new Set(seen).size, 10, 'an event went to both consumers');
      await store.ackEvents(
        'g',
        a.map((e) => e.id),
      );
      // node-b never acks: its events stay pending for it (claimed by another only after a minute idle).
      assert.deepEqual(await store.readEvents('g', 'node-a', 10), []);
    } finally {
      const keys = await store.client.keys(`${prefix}*`);
      if (keys.length) await store.client.del(...keys);
      await store.close();
      await r.stop();
    }
  });
});

describe('Redis: a consumer group lost with Redis data', () => {
  it('is made again, and the events appended since the loss reach the SOC alert folder and a webhook endpoint', async (t) => {
    const r = await testRedis();
    if ('skip' in r) return t.skip(r.skip);
    const prefix = `phishx-lost:${randomBytes(4).toString('hex')}:`;
    const store = new RedisStore({ url: r.url, keyPrefix: prefix });
    const event = (subject: string) => store.appendEvent(securityEvent(subject, { subject }));
    const subjects = (got: Array<{ event: unknown }>): string[] => got.map((e) => (e.event as SecurityEvent).subject);
    try {
      await event('before');
      const first = await store.readEvents('alerts', 'c1', 10);
      assert.deepEqual(subjects(first), ['before']);
      await store.ackEvents(
        'alerts',
        first.map((e) => e.id),
      );
      assert.deepEqual(await store.readEvents('webhook.x', 'h1', 10, 'new'), [], 'a new webhook group starts at the end');
      // Redis restarted without persistence (or FLUSHALL): the stream and its groups are gone,
      // while this client still remembers having made the groups.
      const keys = await store.client.keys(`${prefix}*`);
      await store.client.del(...keys);
      await event('after');
      assert.deepEqual(subjects(await store.readEvents('alerts', 'c1', 10)), ['after']);
      const hook = await store.readEvents('webhook.x', 'h1', 10, 'new');
      assert.deepEqual(subjects(hook), ['after'], 'the webhook group, made again, does not skip what came after the loss');
      await store.ackEvents(
        'webhook.x',
        hook.map((e) => e.id),
      );
      assert.deepEqual(await store.readEvents('webhook.x', 'h1', 10, 'new'), []);
    } finally {
      const keys = await store.client.keys(`${prefix}*`);
      if (keys.length) await store.client.del(...keys);
      await store.close();
      await r.stop();
    }
  });
});

describe('Redis: what webhooks and signed requests rely on across nodes', () => {
  it('a consumer restarted under its name gets its unacknowledged events back at once; a nonce used on one node is refused on another', async (t) => {
    const r = await testRedis();
    if ('skip' in r) return t.skip(r.skip);
    const prefix = `phishx-wh:${randomBytes(4).toString('hex')}:`;
    const one = new RedisStore({ url: r.url, keyPrefix: prefix });
    const two = new RedisStore({ url: r.url, keyPrefix: prefix });
    try {
      assert.deepEqual(await one.readEvents('webhook.x', 'host:9464', 10, 'new'), []);
      await one.appendEvent({
        kind: 'activity',
        event: { id: 'evt_1', type: 'quarantine.deleted', created_at: new Date(0).toISOString(), tenant: 'default', data: {} },
      });
      const taken = await one.readEvents('webhook.x', 'host:9464', 10, 'new');
      assert.equal(taken.length, 1);
      // "Restart": a new client, the same consumer name ─► the same event, not waiting a minute.
      const again = await two.readEvents('webhook.x', 'host:9464', 10, 'new');
      assert.deepEqual(
        again.map((e) => e.id),
        taken.map((e) => e.id),
      );
      assert.deepEqual(await two.readEvents('webhook.x', 'other:9464', 10, 'new'), [], 'another node does not take it while it is worked on');
      await two.keepEvents(
        'webhook.x',
        'host:9464',
        again.map((e) => e.id),
      );
      await two.ackEvents(
        'webhook.x',
        again.map((e) => e.id),
      );
      assert.deepEqual(await one.readEvents('webhook.x', 'host:9464', 10, 'new'), []);
      const n = randomBytes(16).toString('hex');
      assert.equal(await one.claimNonce(n, Math.floor(Date.now() / 1000) + 60), true);
      assert.equal(await two.claimNonce(n, Math.floor(Date.now() / 1000) + 60), false);
    } finally {
      const keys = await one.client.keys(`${prefix}*`);
      if (keys.length) await one.client.del(...keys);
      await one.close();
      await two.close();
      await r.stop();
    }
  });
});

describe('FileJournal: the embedded event log', () => {
  const line = (i: number): string =>
    `${JSON.stringify({ id: `j${i}`, at: 1, action: 'reject', smtpCode: 550, score: 80, tenant: 'default', mailFrom: '', from: '', subject: `s${i}`, urlHosts: [], reasons: [], recipients: [] })}\n`;

  it('removes a finished file of a gone writer only once every group has read it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-journal-'));
    const { FileJournal } = await import('../../lib/store/event-journal.js');
    try {
      const j = new FileJournal(dir);
      const gone = spawnSync(process.execPath, ['-e', '']).pid;
      await writeFile(path.join(dir, `${gone}.jsonl`), line(1) + line(2));
      const a = await j.read('soc', 10);
      assert.equal((await j.read('webhook.x', 10)).length, 2, 'a second group reads the same events');
      await j.ack(
        'soc',
        a.map((e) => e.id),
      );
      const old = new Date(Date.now() - 120_000);
      await utimes(path.join(dir, `${gone}.jsonl`), old, old);
      await j.read('soc', 10);
      assert.ok((await readdir(dir)).includes(`${gone}.jsonl`), 'kept: webhook.x has not read it to the end');
      const b = await j.read('webhook.x', 10);
      assert.deepEqual(
        b.map((e) => (e.event as SecurityEvent).subject),
        ['s1', 's2'],
      );
      await j.ack(
        'webhook.x',
        b.map((e) => e.id),
      );
      await j.read('webhook.x', 10);
      assert.ok(!(await readdir(dir)).includes(`${gone}.jsonl`), 'removed once both groups read it');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reads every writer's file in order, resumes after acknowledged events, skips a torn line, and removes finished files of gone writers", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-journal-'));
    const { FileJournal } = await import('../../lib/store/event-journal.js');
    try {
      const j = new FileJournal(dir);
      // A writer that is gone (a child that ran and exited), a rotated file, and this process's own file.
      const gone = spawnSync(process.execPath, ['-e', '']).pid;
      await writeFile(path.join(dir, `${gone}.jsonl`), line(1) + '{"torn":\n' + line(2));
      await writeFile(path.join(dir, `${process.pid}-1700000000000.jsonl`), line(3));
      await j.append(JSON.parse(line(4)) as SecurityEvent);
      const first = await j.read('g', 2);
      assert.equal(first.length, 2);
      await j.ack(
        'g',
        first.map((e) => e.id),
      );
      const rest = await j.read('g', 10);
      const subjects = [...first, ...rest].map((e) => (e.event as SecurityEvent).subject).sort();
      assert.deepEqual(subjects, ['s1', 's2', 's3', 's4']);
      await j.ack(
        'g',
        rest.map((e) => e.id),
      );
      assert.deepEqual(await j.read('g', 10), []);
      // Settled (a minute old): the finished files of the gone writer and the rotation go; this process's file stays.
      const old = new Date(Date.now() - 120_000);
      for (const f of await readdir(dir)) if (f.endsWith('.jsonl')) await utimes(path.join(dir, f), old, old);
      await j.read('g', 10);
      assert.deepEqual(
        (await readdir(dir)).filter((f) => f.endsWith('.jsonl')),
        [`${process.pid}.jsonl`],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
