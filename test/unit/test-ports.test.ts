import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, it } from 'node:test';
import { freePort } from '../helpers/ports.js';

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
