import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { describe, it } from 'node:test';
import { freePort } from '../helpers/ports.js';
import { spawnRedis } from '../helpers/redis.js';

/** The test helper every spawned test server takes its port from (Haraka, Redis, Sentinel, clamd, Prometheus). */
describe('test helper freePort', () => {
  it('hands out distinct bindable ports below the ephemeral range, where no outgoing connection takes one', async () => {
    const lo = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const ports: number[] = [];
    for (let i = 0; i < 200; i++) ports.push(await freePort());
    assert.equal(new Set(ports).size, ports.length, 'a port handed out twice');
    for (const p of ports) assert.ok(p >= 20000 && p < lo, `port ${p} is not in [20000, ${lo})`);
    // Each one binds (none was left open by the check).
    for (const p of ports.slice(0, 20)) {
      const s = net.createServer();
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(p, '127.0.0.1', resolve);
      });
      await new Promise((r) => s.close(r));
    }
  });
});

describe('test helper spawnRedis', () => {
  it('fails at once with the end of the log when redis-server exits at start, and leaves no process behind', async () => {
    // A Cluster node whose bus port is taken exits at start, its own port never listening (a
    // clean run once hung there: waiting out the timeout, the cluster helper left the nodes it
    // had started running, and they kept the test process alive after its tests).
    const port = await freePort();
    const busPort = await freePort();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'phishx-spawn-redis-'));
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(busPort, '127.0.0.1', resolve));
    const t0 = performance.now();
    try {
      await assert.rejects(
        spawnRedis(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--cluster-enabled', 'yes', '--cluster-port', String(busPort)], port, dir),
        (err: Error) => {
          assert.match(err.message, /exited \(1\) before it listened/);
          assert.match(err.message, /address already in use/i, 'the end of its log');
          return true;
        },
      );
      assert.ok(performance.now() - t0 < 8000, 'it did not wait for the port');
    } finally {
      await new Promise((r) => taken.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
    const left = spawnSync('pgrep', ['-f', `redis-server 127.0.0.1:${port}`], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '', 'a redis-server left running');
  });
});
