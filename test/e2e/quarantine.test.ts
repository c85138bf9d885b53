import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { RedisStore } from '../../lib/store/redis.js';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { quarantineMessage } from '../helpers/messages.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';
import { idFrom, sendRaw } from '../helpers/smtp.js';

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
    const ttl = await store!.client.pttl(`${prefix}q:${id}`);
    assert.ok(ttl > 29 * 86_400_000 && ttl <= 30 * 86_400_000, `ttl ${ttl}`);
    assert.equal((await h!.delivered()).filter((m) => m.includes(id)).length, 0);
  });
});

describe('oversized quarantined message', () => {
  let h: HarakaInstance;
  before(async () => {
    h = await startHaraka({ env: { PHISHX_QUARANTINE_MAX_INLINE_BYTES: '2048' } });
  });
  after(async () => {
    await h?.stop();
  });

  it('is written whole to the spool directory, not truncated, and not delivered', async () => {
    const big = quarantineMessage().replace('Review it at', `${'padding '.repeat(1000)}\nReview it at`);
    const a = await sendRaw(h.port, big, { from: 'sender@example.com', to: ['bob@example.org'] });
    assert.equal(a.code, 250, a.response);
    const id = idFrom(a.response);
    const spooled = await readFile(`${h.spoolDir}/${id}.eml`, 'latin1');
    assert.ok(spooled.includes('padding padding'));
    assert.ok(spooled.length > 8000, `spooled ${spooled.length} bytes`);
    assert.ok(spooled.includes('Review it at'), 'spooled copy is truncated');
    assert.equal((await h.delivered()).filter((m) => m.includes(id)).length, 0);
  });
});
