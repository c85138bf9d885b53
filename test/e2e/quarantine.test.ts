import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FileStore } from '../../lib/store/file.js';
import { eventually } from '../helpers/eventually.js';
import { after, before, describe, it } from 'node:test';
import { RedisStore, redisKey } from '../../lib/store/redis.js';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { quarantineMessage } from '../helpers/messages.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';
import { idFrom, sendRaw } from '../helpers/smtp.js';
import { fetchFresh } from '../helpers/api.js';

const env = { from: 'sender@example.com', to: ['bob@example.org', 'carol@example.org'] };

describe('quarantine in Redis through real Haraka', () => {
  let redis: TestRedis | { skip: string };
  let h: HarakaInstance | undefined;
  let store: RedisStore | undefined;
  const prefix = `phishx-e2e:${randomBytes(4).toString('hex')}:`;

  before(async () => {
    redis = await testRedis();
    if ('skip' in redis) return;
    h = await startHaraka({ env: { PHISHX_REDIS_URL: redis.url, PHISHX_REDIS_KEY_PREFIX: prefix }, phishxIni: '' });
    store = new RedisStore({ url: redis.url, keyPrefix: prefix });
  });
  after(async () => {
    await h?.stop();
    if (store) {
      const keys = await store.client.keys(`${prefix}*`);
      if (keys.length) await store.client.del(...keys);
      await store.close();
    }
    if (redis && !('skip' in redis)) await redis.stop();
  });

  it('holds a quarantined message in Redis with raw bytes, envelope and verdict, and does not deliver it', async (t) => {
    if ('skip' in redis) return t.skip(redis.skip);
    const a = await sendRaw(h!.port, quarantineMessage(), env);
    assert.equal(a.code, 250, a.response);
    const id = idFrom(a.response);
    const held = await store!.getQuarantine(id);
    assert.ok(held, `entry ${id} not in Redis`);
    assert.deepEqual(held.entry.envelope.rcptTo, env.to);
    assert.equal(held.entry.envelope.mailFrom, env.from);
    assert.equal(held.entry.verdict.action, 'quarantine');
    assert.ok(held.entry.verdict.reasons.some((r) => r.code === 'SENDER_BRAND_IMPERSONATION'));
    assert.ok(held.raw?.toString().includes('Unusual sign-in activity'));
    assert.ok(held.raw?.toString().includes(`X-PhishX-Id: ${id}`));
    // Expires after ttl_days (30); the record is kept history_days (30) more.
    assert.ok(held.entry.expiresAt - held.entry.createdAt === 30 * 86_400_000);
    const ttl = await store!.client.pttl(redisKey(prefix, `q:${id}`));
    assert.ok(ttl > 59 * 86_400_000 && ttl <= 60 * 86_400_000, `ttl ${ttl}`);
    assert.equal((await h!.delivered()).filter((m) => m.includes(id)).length, 0);
  });
});

describe('quarantine on the embedded default (no Redis): on disk, durable, bounded', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-held-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps a large held message whole, not truncated, and does not deliver it', async () => {
    const h = await startHaraka({ env: { PHISHX_QUARANTINE_SPOOL_DIR: path.join(dir, 'big') } });
    try {
      const big = quarantineMessage().replace('Review it at', `${'padding '.repeat(100_000)}\nReview it at`);
      const a = await sendRaw(h.port, big, env);
      assert.equal(a.code, 250, a.response);
      const id = idFrom(a.response);
      const held = await readFile(path.join(dir, 'big', 'held', `${id}.eml`), 'latin1');
      assert.ok(held.length > 800_000, `held ${held.length} bytes`);
      assert.ok(held.includes('Review it at'), 'held copy is truncated');
      assert.equal((await h.delivered()).filter((m) => m.includes(id)).length, 0);
    } finally {
      await h.stop();
    }
  });

  it('loses no held message to kill -9: a new Haraka on the same directory lists every one with envelope and verdict', async () => {
    const spool = path.join(dir, 'crash');
    const first = await startHaraka({ env: { PHISHX_QUARANTINE_SPOOL_DIR: spool } });
    const ids: string[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        const a = await sendRaw(first.port, quarantineMessage(), { from: `sender${i}@example.com`, to: ['bob@example.org'] });
        assert.equal(a.code, 250, a.response);
        assert.match(a.response, /held for review/);
        ids.push(idFrom(a.response));
      }
      first.proc.kill('SIGKILL');
    } finally {
      await first.stop();
    }
    const second = await startHaraka({ env: { PHISHX_QUARANTINE_SPOOL_DIR: spool } });
    try {
      // Counted as it starts, before any message (the first held one does not wait for it).
      await eventually(() => assert.match(second.logs(), /phishx: quarantine holds 30 message\(s\) \(counted at start in \d+ ms\)/));
      const full = await eventually(async () => {
        const body = (await (await fetchFresh(`http://127.0.0.1:${second.sidecarPort}/health/full`)).json()) as {
          components: { store: { kind: string; quarantine_entries?: number } };
        };
        assert.equal(body.components.store.quarantine_entries, 30, JSON.stringify(body.components.store));
        return body;
      });
      assert.equal(full.components.store.kind, 'file');
      const store = new FileStore(spool, { maxEntries: 1000, maxBytes: 1 << 30 });
      try {
        for (const [i, id] of ids.entries()) {
          const held = await store.getQuarantine(id);
          assert.ok(held, `${id} lost`);
          assert.equal(held.entry.envelope.mailFrom, `sender${i}@example.com`);
          assert.equal(held.entry.verdict.action, 'quarantine');
          assert.ok(held.raw?.toString().includes('Unusual sign-in activity'));
        }
      } finally {
        await store.close();
      }
    } finally {
      await second.stop();
    }
  });

  it('answers 4xx 4.7.1 when the quarantine is full ([quarantine] max_entries), never drops', async () => {
    const h = await startHaraka({ env: { PHISHX_QUARANTINE_SPOOL_DIR: path.join(dir, 'full'), PHISHX_QUARANTINE_MAX_ENTRIES: '2' } });
    try {
      for (let i = 0; i < 2; i++) assert.equal((await sendRaw(h.port, quarantineMessage(), env)).code, 250);
      // Haraka answers a DENYSOFT from the queue hook with 450 whatever the DSN says; the enhanced code is ours.
      const a = await sendRaw(h.port, quarantineMessage(), env);
      assert.equal(a.code, 450, a.response);
      assert.match(a.response, /^450 4\.7\.1 Message could not be held for review, try again later/);
      assert.match(h.logs(), /quarantine full: 2 held messages/);
    } finally {
      await h.stop();
    }
  });
});
