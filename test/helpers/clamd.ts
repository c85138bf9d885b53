import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ClamdClient } from '../../lib/clamav/client.js';
import { REPO } from './haraka.js';
import { eventually } from './eventually.js';
import { freePort } from './ports.js';

const START = path.join(REPO, '..', 'shared', 'scripts', 'start-clamd.sh');

export interface TestClamd {
  host: string;
  /** Its unix socket, when known. */
  socket?: string;
  /** The EICAR test file the clamd's signatures detect. */
  eicar: Buffer;
  stop(): Promise<void>;
  /** Private clamd only: kill it (keeping its state) and start it again on the same port. */
  kill?(): Promise<void>;
  revive?(): Promise<void>;
}

function eicar(): Buffer {
  // Assembled at run time so that no file in the repository is itself a test virus.
  return Buffer.from(`X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR${'-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'}`, 'latin1');
}

async function answers(host: string): Promise<boolean> {
  const r = await new ClamdClient([host], 1500).ping();
  return r[0].ok;
}

/**
 * A private clamd (offline, EICAR signatures) started with ../shared/scripts/start-clamd.sh
 * on a free port, or a skip reason when the script or the clamd binary is missing. clamd
 * runs in the foreground as our child (CLAMD_FOREGROUND=1), and readiness is its PONG:
 * clamd's own daemon mode has a start-up race in which the parent waits for a signal
 * from its child that never comes, and a synchronous wait for the script then hangs the
 * test process for good (seen on a busy machine).
 */
export async function startPrivateClamd(): Promise<TestClamd | { skip: string }> {
  if (!existsSync(START)) return { skip: `no ${START} (clamd test helper; not in a user's clone)` };
  if (spawnSync('sh', ['-c', 'command -v clamd']).status !== 0)
    return { skip: 'clamd is not installed (apt-get install clamav-daemon, or run ../shared/scripts/start-clamd.sh once)' };
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const state = await mkdtemp(path.join(os.tmpdir(), 'phishx-clamd-'));
  let child: ChildProcess | null = null;
  const launch = async (): Promise<string | null> => {
    const c = spawn('bash', [START], {
      env: { ...process.env, CLAMD_PORT: String(port), CLAMD_STATE: state, CLAMD_AUTO_INSTALL: '0', CLAMD_THREADS: '2', CLAMD_FOREGROUND: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = c;
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    const exited = new Promise<string>((r) => c.once('exit', (code) => r(`start-clamd.sh / clamd exited (${code}): ${stderr.trim().split('\n').pop() ?? ''}`)));
    const up = eventually(async () => assert.ok(await answers(host), 'no PONG yet'), { timeoutMs: 60_000, intervalMs: 100 }).then(() => null);
    return Promise.race([up, exited]).catch((err: unknown) => `clamd did not answer PING: ${String(err)}`);
  };
  const failed = await launch();
  if (failed) return { skip: failed };
  const kill = async (): Promise<void> => {
    const c = child;
    child = null;
    if (c && c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await gone;
    }
    await eventually(async () => assert.equal(await answers(host), false, 'clamd still answers'), { timeoutMs: 10_000, intervalMs: 100 });
  };
  return {
    host,
    socket: path.join(state, 'clamd.sock'),
    eicar: eicar(),
    kill,
    revive: async () => {
      const err = await launch();
      if (err) throw new Error(err);
    },
    stop: async () => {
      await kill();
      await rm(state, { recursive: true, force: true });
    },
  };
}

/** The clamd for tests: PHISHX_TEST_CLAMD or 127.0.0.1:3310 when it answers, else a private one. */
export async function testClamd(): Promise<TestClamd | { skip: string }> {
  const shared = process.env.PHISHX_TEST_CLAMD ?? '127.0.0.1:3310';
  const sock = '/tmp/phishx-clamd/clamd.sock';
  if (await answers(shared))
    return { host: shared, ...(shared === '127.0.0.1:3310' && existsSync(sock) ? { socket: sock } : {}), eicar: eicar(), stop: async () => undefined };
  return startPrivateClamd();
}
