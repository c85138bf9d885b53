/**
 * A private, offline rspamd for the benchmark: the Debian package's configuration with a local
 * override directory in a temporary folder — workers on loopback ports, every module that
 * needs the network or Redis disabled (DNS pointed at a closed local port), Bayes off, logs to
 * a file. `startRspamd()` resolves null with the reason when rspamd is not installed or does
 * not start.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/ports.js';
import { eventually } from '../helpers/eventually.js';

/** Modules that reach DNS, HTTP maps, Redis or other services: off in the private instance. */
const NETWORK_MODULES = [
  'rbl',
  'surbl',
  'url_reputation',
  'fuzzy_check',
  'dmarc',
  'spf',
  'dkim',
  'asn',
  'emails',
  'phishing',
  'multimap',
  'neural',
  'ratelimit',
  'greylist',
  'history_redis',
  'replies',
  'dcc',
  'rspamd_update',
  'maillist',
  'mx_check',
  'reputation',
  'clickhouse',
  'elastic',
  'metadata_exporter',
  'external_services',
  'antivirus',
  'spamassassin',
  'dkim_signing',
  'arc',
  'milter_headers',
];

export interface Rspamd {
  port: number;
  version: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export async function startRspamd(): Promise<Rspamd | { missing: string }> {
  const v = spawnSync('rspamd', ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) return { missing: 'rspamd is not installed (apt-get install rspamd)' };
  const version = /version ([\d.]+)/.exec(v.stdout)?.[1] ?? '?';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-rspamd-'));
  const [port, controller, proxy] = [await freePort(), await freePort(), await freePort()];
  await mkdir(path.join(dir, 'local.d'));
  await mkdir(path.join(dir, 'db'));
  await mkdir(path.join(dir, 'run'));
  const local = (name: string, text: string): Promise<void> => writeFile(path.join(dir, 'local.d', name), text);
  await local('worker-normal.inc', `bind_socket = "127.0.0.1:${port}";\n`);
  await local('worker-controller.inc', `bind_socket = "127.0.0.1:${controller}";\n`);
  await local('worker-proxy.inc', `bind_socket = "127.0.0.1:${proxy}";\n`);
  await local('logging.inc', `type = "file";\nfilename = "${path.join(dir, 'rspamd.log')}";\nlevel = "error";\n`);
  await local('options.inc', 'dns { nameserver = ["127.0.0.1:9"]; timeout = 0.1s; retransmits = 0; }\n');
  await local('classifier-bayes.conf', 'enabled = false;\n');
  for (const m of NETWORK_MODULES) await local(`${m}.conf`, 'enabled = false;\n');
  const vars = ['LOCAL_CONFDIR', dir, 'DBDIR', path.join(dir, 'db'), 'RUNDIR', path.join(dir, 'run'), 'LOGDIR', dir];
  const args = ['-f', '-i', '-u', os.userInfo().username, '-g', os.userInfo().username, '-c', '/etc/rspamd/rspamd.conf'];
  for (let i = 0; i < vars.length; i += 2) args.push('--var', `${vars[i]}=${vars[i + 1]}`);
  const proc = spawn('rspamd', args, { stdio: 'ignore' });
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await eventually(
      async () => {
        if (proc.exitCode !== null) throw new Error(`rspamd exited with ${proc.exitCode}`);
        const r = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(1000) });
        if ((await r.text()).trim() !== 'pong') throw new Error('no pong');
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  } catch (err) {
    await stop();
    return { missing: `rspamd did not start: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { port, version, proc, stop };
}
