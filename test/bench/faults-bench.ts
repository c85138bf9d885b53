/**
 * `npm run bench:faults`: for each service × fault, p50 / p99 SMTP answer time over 200
 * messages through real Haraka, and the fail-fast time of an open breaker. Needs Redis
 * (127.0.0.1:6379, PHISHX_TEST_REDIS_URL, or a redis-server binary).
 */
import { guarded, breakerState } from '../../lib/resilience/breaker.js';
import type { Fault } from '../helpers/fault-servers.js';
import { testRedis } from '../helpers/redis.js';
import { BREAKER, runScenario, type Service } from '../faults/driver.js';

async function failFastMicros(): Promise<number> {
  const boom = (): Promise<never> => Promise.reject(new Error('down'));
  for (let i = 0; i < 20; i++) await guarded('bench', BREAKER, boom).catch(() => undefined);
  if (breakerState('bench') !== 'open') throw new Error('bench breaker did not open');
  const n = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await guarded('bench', BREAKER, boom).catch(() => undefined);
  return ((performance.now() - t0) / n) * 1000;
}

async function main(): Promise<void> {
  const redis = await testRedis();
  if ('skip' in redis) throw new Error(redis.skip);
  const pct = (a: number[], p: number): number => a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))];
  process.stdout.write('| service | fault | answers | p50 ms | p99 ms | max ms | breaker opened |\n|---|---|---|---:|---:|---:|---|\n');
  for (const service of ['nlp', 'clamav', 'reputation'] as Service[]) {
    for (const fault of ['ok', 'refuse', 'hang', 'slow', 'error', 'garbage', 'flap'] as Fault[]) {
      const r = await runScenario(service, fault, redis.url);
      process.stdout.write(
        `| ${service} | ${fault} | ${JSON.stringify(r.codes)} | ${pct(r.latencies, 50).toFixed(1)} | ${pct(r.latencies, 99).toFixed(1)} | ${r.slowest.toFixed(1)} | ${r.breakerOpened ? 'yes' : 'no'} |\n`,
      );
    }
  }
  process.stdout.write(`\nopen breaker fail-fast: ${(await failFastMicros()).toFixed(2)} µs per call (goal < 1 ms)\n`);
  await redis.stop();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:faults failed: ${String(err)}\n`);
  process.exitCode = 1;
});
