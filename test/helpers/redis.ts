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

/**
 * Run `fn` on a short-lived connection (no retries, no queue) to the Redis at `url` or on a
 * loopback `port`; null when it cannot be reached or `fn` fails.
 */
export async function onNode<T>(where: string | number, fn: (r: Redis) => Promise<T>): Promise<T | null> {
  const r = new Redis(typeof where === 'number' ? `redis://127.0.0.1:${where}` : where, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await fn(r);
  } catch {
    return null;
  } finally {
    r.disconnect();
  }
}

const pingable = async (url: string): Promise<boolean> => (await onNode(url, (r) => r.ping())) === 'PONG';

/** Arguments of a loopback redis-server on `port` without persistence (files, if any, in its working directory). */
export const redisArgs = (port: number): string[] => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];

/** Whether a child process has not exited. */
export const running = (proc: ChildProcess): boolean => proc.exitCode === null && proc.signalCode === null;

/** SIGKILL a child process (when it runs) and wait for its exit. */
export async function killHard(proc: ChildProcess): Promise<void> {
  if (!running(proc)) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await exited;
}

/** Start a private redis-server on a free port (no persistence). Null when the binary is missing. */
export async function startPrivateRedis(): Promise<TestRedis | null> {
  if (spawnSync('redis-server', ['--version']).status !== 0) return null;
  const port = await freePort();
  const launch = async (): Promise<ChildProcess> => (await spawnRedis(redisArgs(port), port)).proc;
  const inst: TestRedis = {
    url: `redis://127.0.0.1:${port}/0`,
    proc: await launch(),
    stop: () => killHard(inst.proc!),
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

export interface RedisProc {
  proc: ChildProcess;
  port: number;
}

/**
 * Start a redis-server (or sentinel) with `args`, working directory `dir` (where it writes any
 * file), and wait until it accepts on `port`. One that exits first (a port taken, a bad
 * option) or does not listen within 10 s fails with the end of its log, and is not left
 * running: a leaked server keeps the test process alive after its tests (npm test hung on one).
 */
export async function spawnRedis(args: string[], port: number, dir?: string): Promise<RedisProc> {
  const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let log = '';
  const keep = (d: Buffer): void => void (log = (log + d.toString('utf8')).slice(-2000)); // read on: a full pipe would stall it
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const exited = new Promise<never>((_, reject) =>
    proc.once('exit', (code, signal) => reject(new Error(`redis-server for port ${port} exited (${code ?? signal}) before it listened`))),
  );
  exited.catch(() => undefined); // an exit after it listened is the test's business
  try {
    await Promise.race([waitForPort(port, 10_000), exited]);
  } catch (err) {
    await killHard(proc);
    throw new Error(`${err instanceof Error ? err.message : String(err)}; the end of its log:\n${log}`, { cause: err });
  }
  return { proc, port };
}

export interface TestRedisCluster {
  /** `host:port` of every node (masters first as created; roles change on failover). */
  nodes: string[];
  procs: RedisProc[];
  /** Wait until every live node reports cluster_state:ok and every slot has a live master. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const clusterState = (port: number): Promise<string | null> =>
  onNode(port, async (r) => /cluster_state:(\w+)/.exec(String(await r.call('CLUSTER', 'INFO')))?.[1] ?? '');

/**
 * A private Redis Cluster on loopback from Debian's redis-server: `masters` masters with
 * `replicas` replicas each, no persistence, node timeout 1 s (a killed master's replica takes
 * over within a few seconds). Null when redis-server / redis-cli are missing.
 */
export async function startRedisCluster(dir: string, masters = 3, replicas = 1): Promise<TestRedisCluster | null> {
  if (spawnSync('redis-server', ['--version']).status !== 0 || spawnSync('redis-cli', ['--version']).status !== 0) return null;
  const procs: RedisProc[] = [];
  const stop = async (): Promise<void> => {
    for (const p of procs) await killHard(p.proc);
  };
  // Any failure stops the nodes already started: a leaked one keeps the test process from ending.
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      // The cluster bus port is given too: by default it is the port + 10,000, which freePort
      // did not check (a node once could not bind it, and the cluster never formed).
      const port = await freePort();
      const busPort = await freePort();
      procs.push(
        await spawnRedis(
          [
            ...redisArgs(port),
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(busPort),
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            '1000',
            '--dir',
            dir,
          ],
          port,
          dir,
        ),
      );
    }
    const nodes = procs.map((p) => `127.0.0.1:${p.port}`);
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', String(replicas), '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const cluster: TestRedisCluster = {
      nodes,
      procs,
      waitHealthy: async (timeoutMs = 30_000) => {
        const until = Date.now() + timeoutMs;
        for (;;) {
          const states = await Promise.all(procs.filter((p) => running(p.proc)).map((p) => clusterState(p.port)));
          if (states.every((x) => x === 'ok')) return;
          if (Date.now() > until) throw new Error(`Redis Cluster not healthy within ${timeoutMs} ms: ${JSON.stringify(states)}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      },
      stop,
    };
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    await cluster.waitHealthy();
    return cluster;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Port of the master that serves `key`'s slot now (asked of any live node of `cluster`). */
export async function clusterMasterOf(cluster: TestRedisCluster, key: string): Promise<number> {
  for (const p of cluster.procs) {
    if (!running(p.proc)) continue;
    const port = await onNode(p.port, async (r) => {
      const slot = Number(await r.call('CLUSTER', 'KEYSLOT', key));
      const ranges = (await r.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, ...unknown[]]]>;
      const hit = ranges.find(([lo, hi]) => slot >= lo && slot <= hi);
      return hit ? Number(hit[2][1]) : null;
    });
    if (port) return port;
  }
  throw new Error(`no live node knows the master of ${key}`);
}
