import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { createStore } from '../../lib/store/index.js';
import type { Store } from '../../lib/store/types.js';
import { eventually } from '../helpers/eventually.js';
import { pendingSpoolFiles, startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { startHttpServer, type TestServer } from '../helpers/http-server.js';
import { quarantineMessage } from '../helpers/messages.js';
import { FailoverLoad, HOLD_ENV } from '../helpers/load.js';
import { newSecret } from '../../lib/webhooks/signing.js';
import { freePort } from '../helpers/ports.js';
import { killHard, onNode, redisArgs, spawnRedis, type RedisProc } from '../helpers/redis.js';
import { sendRaw } from '../helpers/smtp.js';

// Redis Sentinel, for real: a master, a replica and three sentinels started from Debian's
// redis-server on loopback. PhishX finds the master through the sentinels; the master is
// killed (SIGKILL) under SMTP load; the sentinels promote the replica; every message is
// answered within the scan budget + 1 s, and every message answered "held" is in the new
// master once the pending spool has been replayed. Nothing accepted is lost.

const BUDGET_MS = 10_000;

describe('Redis Sentinel: a master failover under SMTP load loses nothing', () => {
  const procs: RedisProc[] = [];
  let dir: string;
  let master: RedisProc;
  let replica: RedisProc;
  let sentinelPorts: number[] = [];
  let h: HarakaInstance | undefined;
  let hooks: TestServer | undefined;
  let skip = '';

  before(async () => {
    if (spawnSync('redis-server', ['--version']).status !== 0) {
      skip = 'redis-server not installed (apt-get install redis-server)';
      return;
    }
    dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-sentinel-'));
    const mp = await freePort();
    const rp = await freePort();
    master = await spawnRedis(redisArgs(mp), mp, dir);
    procs.push(master); // each as soon as it runs: after() stops what before() started, even when a later start fails
    replica = await spawnRedis([...redisArgs(rp), '--replicaof', '127.0.0.1', String(mp)], rp, dir);
    procs.push(replica);
    sentinelPorts = [await freePort(), await freePort(), await freePort()];
    for (const sp of sentinelPorts) {
      const conf = path.join(dir, `sentinel-${sp}.conf`);
      // Sentinels rewrite their config file: each its own, writable.
      await writeFile(
        conf,
        [
          `port ${sp}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor mymaster 127.0.0.1 ${mp} 2`,
          'sentinel down-after-milliseconds mymaster 1000',
          'sentinel failover-timeout mymaster 5000',
          'sentinel parallel-syncs mymaster 1',
          '',
        ].join('\n'),
      );
      procs.push(await spawnRedis([conf, '--sentinel'], sp, dir));
    }
    // The replica is in sync before the test starts.
    await eventually(async () => assert.match((await onNode(replica.port, (r) => r.info('replication'))) ?? '', /master_link_status:up/));
    hooks = await startHttpServer((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
    h = await startHaraka({
      phishxIni: '[webhooks]\nretry_base_ms=50\nretry_max_ms=500\n',
      env: {
        PHISHX_WEBHOOK_URL: hooks.url,
        PHISHX_WEBHOOK_SECRET: newSecret(),
        PHISHX_REDIS_URL: 'redis://mymaster/0',
        PHISHX_REDIS_SENTINELS: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
        PHISHX_QUARANTINE_REPLAY_INTERVAL_S: '1',
      },
    });
  });
  after(async () => {
    await h?.stop();
    await hooks?.close();
    for (const p of procs) await killHard(p.proc);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('failover under load: answers within budget + 1 s; then every held message in the new master, every allowed one delivered, webhooks sent', async (t) => {
    if (skip) return t.skip(skip);
    const load = new FailoverLoad(BUDGET_MS, (i) => i % 3 !== 2);
    for (let i = 0; i < 5; i++) await load.send(h!.port, i);
    master.proc.kill('SIGKILL');
    // Load through the failover: the sentinels need about a second to agree, then promote.
    const until = Date.now() + 8000;
    for (let i = 5; Date.now() < until; i++) await load.send(h!.port, i);
    assert.deepEqual(load.slow, []);
    assert.ok(load.held.length >= 10, `${load.held.length} held`);
    // The replica is the master now, and every held message reached it (replayed from the spool if it waited there).
    const config = buildConfig({ redis: { url: 'redis://mymaster/0', sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',') } }, { env: {} });
    const store: Store = createStore(config);
    try {
      await eventually(async () => assert.match((await onNode(replica.port, (r) => r.info('replication'))) ?? '', /role:master/), { timeoutMs: 30_000 });
      await eventually(
        async () => {
          assert.deepEqual(await pendingSpoolFiles(h!.spoolDir), [], 'the pending spool was replayed');
          assert.deepEqual(await load.missingIn(store), []);
          assert.equal((await h!.delivered()).length, load.delivered, 'every allowed message delivered');
          assert.deepEqual(load.withoutEvent(hooks!.requests), [], 'every held message has its webhook event');
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
    } finally {
      await store.close();
    }
    t.diagnostic(
      `${load.held.length} held, ${load.delivered} delivered, ${load.later} answered 451, ${(h!.logs().match(/pending=store-down/g) ?? []).length} of them through the pending spool while there was no master`,
    );
    // And PhishX keeps holding mail on the new master.
    const after1 = await sendRaw(h!.port, quarantineMessage(), HOLD_ENV);
    assert.equal(after1.code, 250, after1.response);
  });
});
