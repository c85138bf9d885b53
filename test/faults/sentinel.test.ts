import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
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
import { quarantineMessage } from '../helpers/messages.js';
import { freePort, waitForPort } from '../helpers/ports.js';
import { idFrom, sendRaw } from '../helpers/smtp.js';

// Redis Sentinel, for real: a master, a replica and three sentinels started from Debian's
// redis-server on loopback. PhishX finds the master through the sentinels; the master is
// killed (SIGKILL) under SMTP load; the sentinels promote the replica; every message is
// answered within the scan budget + 1 s, and every message answered "held" is in the new
// master once the pending spool has been replayed. Nothing accepted is lost.

const BUDGET_MS = 10_000;

interface Proc {
  proc: ChildProcess;
  port: number;
}

async function redisServer(args: string[], port: number): Promise<Proc> {
  const proc = spawn('redis-server', args, { stdio: 'ignore' });
  await waitForPort(port, 10_000);
  return { proc, port };
}

describe('Redis Sentinel: a master failover under SMTP load loses nothing', () => {
  const procs: Proc[] = [];
  let dir: string;
  let master: Proc;
  let replica: Proc;
  let sentinelPorts: number[] = [];
  let h: HarakaInstance | undefined;
  let skip = '';

  before(async () => {
    if (spawnSync('redis-server', ['--version']).status !== 0) {
      skip = 'redis-server not installed (apt-get install redis-server)';
      return;
    }
    dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-sentinel-'));
    const mp = await freePort();
    const rp = await freePort();
    master = await redisServer(['--port', String(mp), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], mp);
    replica = await redisServer(['--port', String(rp), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--replicaof', '127.0.0.1', String(mp)], rp);
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
      procs.push(await redisServer([conf, '--sentinel'], sp));
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
    h = await startHaraka({
      env: {
        PHISHX_REDIS_URL: 'redis://mymaster/0',
        PHISHX_REDIS_SENTINELS: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
        PHISHX_QUARANTINE_REPLAY_INTERVAL_S: '1',
      },
    });
  });
  after(async () => {
    await h?.stop();
    for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('held messages answered during the failover are all in the new master afterwards; every answer within budget + 1 s', async (t) => {
    if (skip) return t.skip(skip);
    const env = { from: 'alerts@account-notice.example.net', to: ['carol@example.org'] };
    const held: string[] = [];
    const slow: string[] = [];
    const send = async (i: number): Promise<void> => {
      const t0 = Date.now();
      const a = await sendRaw(h!.port, quarantineMessage().replace('Unusual sign-in activity', `Unusual sign-in activity ${i}`), env);
      const ms = Date.now() - t0;
      if (ms > BUDGET_MS + 1000) slow.push(`${i}: ${ms} ms`);
      // 250 held (in Redis, or in the pending spool while there is no master) or 451 (try again): never lost, never hung.
      assert.ok(a.code === 250 || a.code === 451, a.response);
      if (a.code === 250) held.push(idFrom(a.response));
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
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
    } finally {
      await store.close();
    }
    t.diagnostic(`${held.length} held, ${(h!.logs().match(/pending=store-down/g) ?? []).length} of them through the pending spool while there was no master`);
    // And PhishX keeps holding mail on the new master.
    const after1 = await sendRaw(h!.port, quarantineMessage(), env);
    assert.equal(after1.code, 250, after1.response);
  });
});
