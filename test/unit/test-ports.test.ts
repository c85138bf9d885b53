import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { describe, it } from 'node:test';
import { freePort, reservePort } from '../helpers/ports.js';
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

  it('reserves each port across test processes: never one another live process holds, taken over from one that ended, released at exit', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'phishx-reserve-'));
    const sleeper = spawn('sleep', ['30']);
    try {
      const ended = spawnSync('true').pid;
      writeFileSync(path.join(dir, '40001'), `${sleeper.pid}\n`);
      writeFileSync(path.join(dir, '40002'), `${ended}\n`);
      writeFileSync(path.join(dir, '40003'), ''); // being written by its owner
      assert.equal(reservePort(40001, dir), false, 'held by a live process');
      assert.equal(reservePort(40002, dir), true, 'its process ended');
      assert.equal(readFileSync(path.join(dir, '40002'), 'utf8').trim(), String(process.pid));
      assert.equal(reservePort(40003, dir), false, 'a fresh file without a pid yet');
      assert.equal(reservePort(40004, dir), true);
      assert.equal(reservePort(40004, dir), false, 'not twice');
      // Released when its process exits.
      const helper = path.join(__dirname, '..', 'helpers', 'ports.js');
      const child = spawnSync(
        process.execPath,
        ['-e', `process.stdout.write(String(require(${JSON.stringify(helper)}).reservePort(40005, ${JSON.stringify(dir)})))`],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(child.stdout, 'true');
      assert.equal(existsSync(path.join(dir, '40005')), false, 'left behind at exit');
    } finally {
      sleeper.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('two test processes picking ports at once never get the same one', async () => {
    // 400 random picks each from ~12,000 ports: without the reservation ~13 would be shared.
    const helper = path.join(__dirname, '..', 'helpers', 'ports.js');
    const script = `const { freePort } = require(${JSON.stringify(helper)});
      (async () => { const ports = []; for (let i = 0; i < 400; i++) ports.push(await freePort());
        process.stdout.write(JSON.stringify(ports) + '\\n'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0)); })();`;
    const children: ChildProcessWithoutNullStreams[] = [spawn(process.execPath, ['-e', script]), spawn(process.execPath, ['-e', script])];
    try {
      // Each keeps its ports (its process runs) until both have picked.
      const picked = await Promise.all(
        children.map(
          (c) =>
            new Promise<number[]>((resolve, reject) => {
              let out = '';
              c.stdout.on('data', (d: Buffer) => {
                out += d.toString();
                if (out.endsWith('\n')) resolve(JSON.parse(out) as number[]);
              });
              c.once('exit', (code) => reject(new Error(`picker exited (${code}) before answering: ${out}`)));
            }),
        ),
      );
      assert.equal(picked[0].length, 400);
      assert.equal(picked[1].length, 400);
      const first = new Set(picked[0]);
      assert.deepEqual(
        picked[1].filter((p) => first.has(p)),
        [],
        'ports handed to both processes',
      );
    } finally {
      for (const c of children) c.stdin.end();
      await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve())));
    }
  });
});

describe('test helper spawnRedis', () => {
  it('fails at once with the end of the log when redis-server exits at start, and leaves no process behind', async () => {
    // A clean run once hung on a Cluster node that exited at start (its bus port taken): waiting
    // out the timeout, the cluster helper left the nodes it had started running, and they kept
    // the test process alive. That case is not the one tested: Redis 7 binds its own port before
    // the bus port, and on a busy machine the helper's probe connected in that window. A
    // directive it does not know makes it exit before it binds anything, every time.
    const port = await freePort();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'phishx-spawn-redis-'));
    const t0 = performance.now();
    try {
      await assert.rejects(
        // A server that starts after all is stopped at once: the test fails, it does not hang on it.
        spawnRedis(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--no-such-directive', 'yes'], port, dir).then((r) => {
          r.proc.kill('SIGKILL');
          return r;
        }),
        (err: Error) => {
          assert.match(err.message, /exited \(1\) before it listened/);
          assert.match(err.message, /Bad directive/i, 'the end of its log');
          return true;
        },
      );
      assert.ok(performance.now() - t0 < 8000, 'it did not wait for the port');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const left = spawnSync('pgrep', ['-f', `redis-server 127.0.0.1:${port}`], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '', 'a redis-server left running');
  });
});
