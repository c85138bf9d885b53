import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { buildConfig } from '../../lib/config/load.js';
import { createStore } from '../../lib/store/index.js';
import type { Store } from '../../lib/store/types.js';
import { eventually } from '../helpers/eventually.js';
import { pendingSpoolFiles, startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { startHttpServer, type TestServer } from '../helpers/http-server.js';
import { cleanMessage, quarantineMessage } from '../helpers/messages.js';
import { newSecret } from '../../lib/webhooks/signing.js';
import { freePort } from '../helpers/ports.js';
import { spawnRedis, type RedisProc } from '../helpers/redis.js';
import { idFrom, sendRaw } from '../helpers/smtp.js';

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
    master = await spawnRedis(['--port', String(mp), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], mp, dir);
    replica = await spawnRedis(
      ['--port', String(rp), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--replicaof', '127.0.0.1', String(mp)],
      rp,
      dir,
    );
    procs.push(master, replica);
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
    await eventually(async () => {
      const r = new Redis(replica.port, '127.0.0.1', { lazyConnect: true });
      try {
        await r.connect();
        assert.match(await r.info('replication'), /master_link_status:up/);
      } finally {
        r.disconnect();
      }
    });
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
    for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('failover under load: answers within budget + 1 s; then every held message in the new master, every allowed one delivered, webhooks sent', async (t) => {
    if (skip) return t.skip(skip);
    const held: string[] = [];
    let allowed = 0;
    const slow: string[] = [];
    const send = async (i: number): Promise<void> => {
      const t0 = Date.now();
      const hold = i % 3 !== 2;
      const a = hold
        ? await sendRaw(h!.port, quarantineMessage().replace('Unusual sign-in activity', `Unusual sign-in activity ${i}`), {
            from: 'alerts@account-notice.example.net',
            to: ['carol@example.org'],
          })
        : await sendRaw(h!.port, cleanMessage({ subject: `Lunch ${i}` }), { from: 'alice@example.com', to: ['bob@example.org'] });
      const ms = Date.now() - t0;
      if (ms > BUDGET_MS + 1000) slow.push(`${i}: ${ms} ms`);
      // 250 held / delivered (held in Redis, or in the pending spool while there is no master) or 451 (try again): never lost, never hung.
      assert.ok(a.code === 250 || a.code === 451, a.response);
      if (a.code === 250 && hold) held.push(idFrom(a.response));
      else if (a.code === 250) allowed++;
    };
    for (let i = 0; i < 5; i++) await send(i);
    master.proc.kill('SIGKILL');
    // Load through the failover: the sentinels need about a second to agree, then promote.
    const until = Date.now() + 8000;
    for (let i = 5; Date.now() < until; i++) await send(i);
    assert.deepEqual(slow, []);
    assert.ok(held.length >= 10, `${held.length} held`);
    // The replica is the master now, and every held message reached it (replayed from the spool if it waited there).
    const config = buildConfig({ redis: { url: 'redis://mymaster/0', sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',') } }, { env: {} });
    const store: Store = createStore(config);
    try {
      await eventually(
        async () => {
          const r = new Redis(replica.port, '127.0.0.1', { lazyConnect: true });
          try {
            await r.connect();
            assert.match(await r.info('replication'), /role:master/);
          } finally {
            r.disconnect();
          }
        },
        { timeoutMs: 30_000 },
      );
      await eventually(
        async () => {
          assert.deepEqual(await pendingSpoolFiles(h!.spoolDir), [], 'the pending spool was replayed');
          const missing: string[] = [];
          for (const id of held) if (!(await store.getQuarantine(id))) missing.push(id);
          assert.deepEqual(missing, []);
          assert.equal((await h!.delivered()).length, allowed, 'every allowed message delivered');
          const sent = new Set(hooks!.requests.map((r) => (JSON.parse(r.body) as { id: string }).id));
          assert.deepEqual(
            held.filter((id) => !sent.has(`evt_${id}`)),
            [],
            'every held message has its webhook event',
          );
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
    } finally {
      await store.close();
    }
    t.diagnostic(
      `${held.length} held, ${allowed} delivered, ${(h!.logs().match(/pending=store-down/g) ?? []).length} of them through the pending spool while there was no master`,
    );
    // And PhishX keeps holding mail on the new master.
    const after1 = await sendRaw(h!.port, quarantineMessage(), { from: 'alerts@account-notice.example.net', to: ['carol@example.org'] });
    assert.equal(after1.code, 250, after1.response);
  });
});
