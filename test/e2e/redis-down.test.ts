import assert from 'node:assert/strict';
import { api } from '../helpers/api.js';
import { eventually } from '../helpers/eventually.js';

const TOKEN = 'redis-down-test-token-0123456789';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { RedisStore } from '../../lib/store/redis.js';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { quarantineMessage, cleanMessage } from '../helpers/messages.js';
import { freePort } from '../helpers/ports.js';
import { redisArgs, spawnRedis, startPrivateRedis } from '../helpers/redis.js';
import { idFrom, sendRaw } from '../helpers/smtp.js';

const env = { from: 'alice@example.com', to: ['bob@example.org'] };

describe('a private Redis killed mid-run', () => {
  let port = 0;
  let redis: ChildProcess | null = null;
  let h: HarakaInstance | undefined;
  let skip = '';
  const startRedisOn = async (p: number): Promise<ChildProcess> => (await spawnRedis(redisArgs(p), p)).proc;
  before(async () => {
    const probe = await startPrivateRedis();
    if (!probe) {
      skip = 'no redis-server binary (apt-get install redis-server)';
      return;
    }
    await probe.stop();
    port = await freePort();
    redis = await startRedisOn(port);
    h = await startHaraka({ env: { PHISHX_REDIS_URL: `redis://127.0.0.1:${port}/0`, PHISHX_QUARANTINE_REPLAY_INTERVAL_S: '1', PHISHX_API_TOKENS: TOKEN } });
  });
  after(async () => {
    await h?.stop();
    redis?.kill('SIGKILL');
  });

  it('keeps answering, holds quarantined mail on disk while Redis is dead, and replays it when Redis returns', async (t) => {
    if (skip) return t.skip(skip);
    const first = await sendRaw(h!.port, quarantineMessage(), env);
    assert.match(first.response, /held for review/);
    // Its SOC alert first: the alert folder has made its consumer group, which the restarted
    // (empty) Redis will not have — the folder must make it again.
    const firstId = idFrom(first.response);
    await eventually(async () => {
      const r = await api(h!.sidecarPort, 'GET', '/api/v1/soc/alerts', { token: TOKEN });
      assert.ok(
        (r.body?.items ?? []).some((a: { quarantine_ids: string[] }) => a.quarantine_ids.includes(firstId)),
        r.text,
      );
    });

    redis!.kill('SIGKILL');
    await new Promise((r) => redis!.once('exit', r));
    const during = await sendRaw(h!.port, quarantineMessage(), env);
    assert.equal(during.code, 250, during.response);
    assert.match(during.response, /held for review/);
    const id = idFrom(during.response);
    assert.equal((await sendRaw(h!.port, cleanMessage({ subject: 'while redis is down' }), env)).code, 250);
    assert.match(h!.logs(), new RegExp(`id=${id} quarantined .*pending=store-down`));

    redis = await startRedisOn(port);
    const store = new RedisStore({ url: `redis://127.0.0.1:${port}/0`, keyPrefix: 'phishx:' });
    try {
      const held = await eventually(
        async () => {
          const q = await store.getQuarantine(id).catch(() => null);
          assert.ok(q, `message ${id} was not replayed into Redis`);
          return q;
        },
        { intervalMs: 250 },
      );
      assert.ok(held.raw?.toString().includes('Unusual sign-in activity'));
    } finally {
      await store.close();
    }
    // Its security event waited on disk too: the SOC alert comes once Redis is back.
    await eventually(async () => {
      const r = await api(h!.sidecarPort, 'GET', '/api/v1/soc/alerts', { token: TOKEN });
      assert.ok(
        (r.body?.items ?? []).some((a: { quarantine_ids: string[] }) => a.quarantine_ids.includes(id)),
        r.text,
      );
    });
    assert.equal(h!.proc.exitCode, null, 'Haraka died');
  });
});
