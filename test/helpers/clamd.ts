import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ClamdClient } from '../../lib/clamav/client.js';
import { REPO } from './haraka.js';
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
 * on a free port, or a skip reason when the script or the clamd binary is missing.
 */
export async function startPrivateClamd(): Promise<TestClamd | { skip: string }> {
  if (!existsSync(START)) return { skip: `no ${START} (clamd test helper; not in a user's clone)` };
  if (spawnSync('sh', ['-c', 'command -v clamd']).status !== 0) return { skip: 'clamd is not installed (apt-get install clamav-daemon, or run ../shared/scripts/start-clamd.sh once)' };
  const port = await freePort();
  const state = await mkdtemp(path.join(os.tmpdir(), 'phishx-clamd-'));
  const launch = (): string | null => {
    const r = spawnSync('bash', [START], { env: { ...process.env, CLAMD_PORT: String(port), CLAMD_STATE: state, CLAMD_AUTO_INSTALL: '0', CLAMD_THREADS: '2' }, encoding: 'utf8' });
    return r.status === 0 ? null : `start-clamd.sh failed: ${r.stderr.trim().split('\n').pop()}`;
  };
  const failed = launch();
  if (failed) return { skip: failed };
  const kill = async (): Promise<void> => {
    try {
      process.kill(Number(readFileSync(path.join(state, 'clamd.pid'), 'utf8')), 'SIGTERM');
    } catch {
      /* already gone */
    }
    for (let i = 0; i < 50 && (await answers(`127.0.0.1:${port}`)); i++) await new Promise((res) => setTimeout(res, 100));
  };
  return {
    host: `127.0.0.1:${port}`,
    socket: path.join(state, 'clamd.sock'),
    eicar: eicar(),
    kill,
    revive: async () => {
      const err = launch();
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
  if (await answers(shared)) return { host: shared, ...(shared === '127.0.0.1:3310' && existsSync(sock) ? { socket: sock } : {}), eicar: eicar(), stop: async () => undefined };
  return startPrivateClamd();
}
