import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { RedisStore } from '../../lib/store/redis.js';
import { pendingSpoolFiles, startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { cleanMessage, quarantineMessage } from '../helpers/messages.js';
import { freePort } from '../helpers/ports.js';
import { redisArgs, spawnRedis } from '../helpers/redis.js';
import { sendRaw } from '../helpers/smtp.js';
import { ANSWER_BOUND_MS, SCAN_BUDGET_MS } from './driver.js';
import { eventually } from '../helpers/eventually.js';

const COUNT = 200;

describe('fault injection: a private Redis killed mid-run under 200 messages', () => {
  let port = 0;
  let redis: ChildProcess | null = null;
  let h: HarakaInstance | undefined;
  const skip = spawnSync('redis-server', ['--version']).status === 0 ? '' : 'no redis-server binary (apt-get install redis-server)';
  const startRedis = async (): Promise<ChildProcess> => (await spawnRedis(redisArgs(port), port)).proc;
  before(async () => {
    if (skip) return;
    port = await freePort();
    redis = await startRedis();
    h = await startHaraka({
      env: { PHISHX_REDIS_URL: `redis://127.0.0.1:${port}/0`, PHISHX_QUARANTINE_REPLAY_INTERVAL_S: '1', PHISHX_SCAN_BUDGET_MS: String(SCAN_BUDGET_MS) },
      phishxIni: '[breaker.redis]\nvolume_threshold=5\nreset_timeout_ms=500\n',
    });
  });
  after(async () => {
    await h?.stop();
    redis?.kill('SIGKILL');
  });

  it('answers every message within budget + 1 s, loses none (delivered + held = accepted), replays after Redis returns', async (t) => {
    if (skip) return t.skip(skip);
    const env = { from: 'alice@example.com', to: ['bob@example.org'] };
    const answers: Array<{ code: number; response: string; ms: number }> = [];
    let next = 0;
    const killer = (async () => {
      while (next < COUNT / 3) await new Promise((r) => setTimeout(r, 10));
      redis!.kill('SIGKILL');
      while (next < (2 * COUNT) / 3) await new Promise((r) => setTimeout(r, 10));
      redis = await startRedis();
    })();
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (;;) {
          const i = next++;
          if (i >= COUNT) return;
          answers.push(await sendRaw(h!.port, i % 2 ? quarantineMessage() : cleanMessage({ subject: `m${i}` }), env, { timeoutMs: 30_000 }));
        }
      }),
    );
    await killer;
    assert.equal(answers.length, COUNT);
    assert.ok(
      answers.every((a) => a.code !== 0),
      'a session got no answer',
    );
    assert.ok(Math.max(...answers.map((a) => a.ms)) <= ANSWER_BOUND_MS, `a session took longer than budget + 1 s + session margin (${ANSWER_BOUND_MS} ms)`);
    assert.equal(h!.proc.exitCode, null, 'Haraka died');
    const held = answers.filter((a) => a.code === 250 && /held for review/.test(a.response)).length;
    const delivered = answers.filter((a) => a.code === 250 && /delivered to local folder/.test(a.response)).length;
    assert.equal(held + delivered, answers.filter((a) => a.code === 250).length);
    assert.ok(h!.logs().includes('pending=store-down'), 'no message was held while Redis was down: the kill came too late');
    const store = new RedisStore({ url: `redis://127.0.0.1:${port}/0`, keyPrefix: 'phishx:' });
    try {
      // Held before the kill were lost with the (non-persistent) Redis; held after it were
      // replayed from disk: count those, and no pending file may remain.
      await eventually(
        async () => {
          const pending = await pendingSpoolFiles(h!.spoolDir);
          assert.equal(pending.length, 0, `${pending.length} held messages still waiting on disk`);
          assert.ok((await store.countQuarantine().catch(() => 0)) > 0, 'nothing replayed into Redis');
        },
        { intervalMs: 250 },
      );
    } finally {
      await store.close();
    }
    const files = (await readdir(h!.mailDir)).filter((f) => f.endsWith('.eml')).length;
    assert.equal(files, delivered, 'delivered count does not match the delivery folder');
  });
});
