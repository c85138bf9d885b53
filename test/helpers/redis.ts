import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, waitForPort } from './ports.js';

export interface TestRedis {
  url: string;
  /** Set when this helper started a private redis-server (stop it after). */
  proc?: ChildProcess;
  stop(): Promise<void>;
  /** Private servers only: start it again on the same port after stop(). */
  revive?(): Promise<void>;
}

async function pingable(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** Start a private redis-server on a free port (no persistence). Null when the binary is missing. */
export async function startPrivateRedis(): Promise<TestRedis | null> {
  if (spawnSync('redis-server', ['--version']).status !== 0) return null;
  const port = await freePort();
  const launch = async (): Promise<ChildProcess> => {
    const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitForPort(port, 10_000);
    return p;
  };
  const inst: TestRedis = {
    url: `redis://127.0.0.1:${port}/0`,
    proc: await launch(),
    stop: async () => {
      const proc = inst.proc!;
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await new Promise((r) => proc.once('exit', r));
      }
    },
    revive: async () => {
      inst.proc = await launch();
    },
  };
  return inst;
}

/**
 * A Redis for tests: PHISHX_TEST_REDIS_URL, else the one on 127.0.0.1:6379, else a private
 * redis-server when the binary exists. Returns a skip reason when none can be had.
 */
export async function testRedis(): Promise<TestRedis | { skip: string }> {
  const url = process.env.PHISHX_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
  if (await pingable(url)) return { url, stop: async () => undefined };
  const priv = await startPrivateRedis();
  if (priv) return priv;
  return { skip: `no Redis at ${url} and no redis-server binary to start one (apt-get install redis-server)` };
}

/** Remove every key under `prefix` (a test's private namespace) and stop the test Redis. */
export async function releaseRedis(redis: TestRedis | { skip: string } | undefined, prefix: string): Promise<void> {
  if (!redis || 'skip' in redis) return;
  const { Redis } = await import('ioredis');
  const c = new Redis(redis.url);
  try {
    const keys = await c.keys(`${prefix}*`);
    if (keys.length) await c.del(...keys);
  } finally {
    c.disconnect();
    await redis.stop();
  }
}
