import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, readdir, readFile, rm, symlink, writeFile, copyFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './ports.js';

export const REPO = path.resolve(__dirname, '..', '..', '..');

const START_WORDS = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(/\s+/);

/**
 * Node's flags in `npm start` (package.json): tests and the bench run Haraka as a user's
 * `npm start` does (`--max-semi-space-size=8`, see docs/benchmarks.md "Memory").
 */
export const START_NODE_FLAGS: readonly string[] = START_WORDS.filter((a) => a.startsWith('--'));

/** The environment `npm start` sets before `node` (`MALLOC_ARENA_MAX=2`): tests and the bench start Haraka with it too. */
export const START_ENV: Readonly<Record<string, string>> = Object.fromEntries(
  START_WORDS.slice(0, START_WORDS.indexOf('node'))
    .map((w) => /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(w))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1], m[2]]),
);

export interface HarakaOptions {
  /** Extra phishx.ini text appended after the test defaults. */
  phishxIni?: string;
  /** Plugin list (default: phishx, phishx_local_delivery). */
  plugins?: string[];
  env?: NodeJS.ProcessEnv;
  /** Extra smtp.ini [main] lines (e.g. graceful_shutdown=true). */
  smtpIni?: string;
  /** smtp.ini nodes (default 0). */
  nodes?: number;
  /** Plugin timeout for phishx (seconds). */
  pluginTimeout?: number;
  /** Extra files to write into config/ (name ─► content). */
  files?: Record<string, string>;
  /** Extra node flags for the Haraka process (e.g. --cpu-prof for profiling). */
  nodeArgs?: string[];
  /**
   * Run the embedded text classifier (default false: most e2e tests check heuristics and
   * SMTP behaviour with hand-made messages whose scores must not move when the model is
   * retrained; the classifier has its own tests and an e2e suite with it on).
   */
  nlp?: boolean;
}

export interface HarakaInstance {
  dir: string;
  port: number;
  sidecarPort: number;
  mailDir: string;
  spoolDir: string;
  proc: ChildProcess;
  logs(): string;
  /** Delivered messages (raw text), oldest first. */
  delivered(): Promise<string[]>;
  /** Stop Haraka (gracefully, or `kill -9` with `kill`) and start it again on the same directory. */
  restart(opts?: { kill?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Start a real Haraka process in a temporary Haraka directory: its own smtp.ini on a free
 * port, the PhishX plugins (symlinked to the built repo), a private delivery folder.
 */
export async function startHaraka(opts: HarakaOptions = {}): Promise<HarakaInstance> {
  // A port is free when freePort picks it, not always when Haraka binds it: another test's
  // socket can take it in between (a clean-clone CI run once failed on EADDRINUSE). Then
  // start again on new ports; any other failure is the test's.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startHarakaOnce(opts);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof Error) || !err.message.includes('EADDRINUSE')) throw err;
    }
  }
}

async function startHarakaOnce(opts: HarakaOptions): Promise<HarakaInstance> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-haraka-'));
  const port = await freePort();
  const sidecarPort = await freePort();
  const mailDir = path.join(dir, 'mail');
  const spoolDir = path.join(dir, 'quarantine');
  await mkdir(path.join(dir, 'config'), { recursive: true });
  await mkdir(path.join(dir, 'plugins'), { recursive: true });
  for (const f of ['connection.ini', 'me', 'tls.ini']) await copyFile(path.join(REPO, 'config', f), path.join(dir, 'config', f));
  await writeFile(path.join(dir, 'config', 'log.ini'), '[main]\nlevel=info\ntimestamps=true\n');
  await writeFile(path.join(dir, 'config', 'smtp.ini'), `[main]\nlisten=127.0.0.1:${port}\nnodes=${opts.nodes ?? 0}\n${opts.smtpIni ?? ''}\n`);
  await writeFile(path.join(dir, 'config', 'plugins'), `${(opts.plugins ?? ['phishx', 'phishx_local_delivery']).join('\n')}\n`);
  await writeFile(path.join(dir, 'config', 'phishx.timeout'), `${opts.pluginTimeout ?? 30}\n`);
  await writeFile(
    path.join(dir, 'config', 'phishx.ini'),
    `[sidecar]\nlisten=127.0.0.1:${sidecarPort}\n[local_delivery]\ndir=${mailDir}\n[quarantine]\nspool_dir=${spoolDir}\n[nlp]\nenabled=${opts.nlp === true}\n${opts.phishxIni ?? ''}\n`,
  );
  for (const [name, content] of Object.entries(opts.files ?? {})) await writeFile(path.join(dir, 'config', name), content);
  for (const p of ['phishx', 'phishx_local_delivery']) await symlink(path.join(REPO, 'plugins', p), path.join(dir, 'plugins', p));
  // plugins/<name>/package.json says main: ../../dist/...; give the temp dir the same shape.
  await symlink(path.join(REPO, 'dist'), path.join(dir, 'dist'));

  let haraka = spawnHaraka(dir, opts.env, opts.nodeArgs);
  const withSidecar = (opts.plugins ?? ['phishx']).includes('phishx') && !/^\s*listen\s*=/m.test(opts.phishxIni ?? '');
  const ports = withSidecar ? [port, sidecarPort] : [port];

  const inst: HarakaInstance = {
    dir,
    port,
    sidecarPort,
    mailDir,
    spoolDir,
    get proc() {
      return haraka.proc;
    },
    logs: () => haraka.logs(),
    async restart(r = {}) {
      if (r.kill) {
        haraka.proc.kill('SIGKILL');
        await haraka.stop();
      } else await haraka.stop();
      haraka = spawnHaraka(dir, opts.env, opts.nodeArgs);
      await haraka.ready(ports, 20_000);
    },
    async delivered() {
      let files: string[];
      try {
        files = (await readdir(mailDir)).filter((f) => f.endsWith('.eml')).sort();
      } catch {
        return [];
      }
      return Promise.all(files.map((f) => readFile(path.join(mailDir, f), 'latin1')));
    },
    async stop() {
      await haraka.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    // SMTP, and the sidecar when PhishX runs (it starts in its own thread, a little later).
    await haraka.ready(ports, 20_000);
  } catch (err) {
    await inst.stop();
    throw err;
  }
  return inst;
}

/** A Haraka process running on a Haraka directory. */
export interface HarakaProcess {
  proc: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  logs(): string;
  /** Resolves once every port listens; rejects with the logs when Haraka exits first or time runs out. */
  ready(ports: number[], timeoutMs: number): Promise<void>;
  /** SIGINT, SIGKILL after 5 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * Start this repository's Haraka (`haraka -c dir`) with the environment plus `env`; PHISHX_*
 * variables of the test runner's own environment are dropped, so only `env` configures PhishX.
 */
export function spawnHaraka(dir: string, env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): HarakaProcess {
  const out: string[] = [];
  const childEnv = { ...process.env, ...START_ENV, ...env };
  for (const k of Object.keys(childEnv)) if (k.startsWith('PHISHX_') && !(k in env)) delete childEnv[k];
  const proc = spawn(process.execPath, [...START_NODE_FLAGS, ...nodeArgs, path.join(REPO, 'node_modules', 'Haraka', 'bin', 'haraka'), '-c', dir], {
    cwd: dir,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (d: Buffer) => out.push(d.toString()));
  proc.stderr.on('data', (d: Buffer) => out.push(d.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const logs = (): string => out.join('');
  return {
    proc,
    logs,
    ready: (ports, timeoutMs) =>
      Promise.race([
        Promise.all(ports.map((p) => waitForPort(p, timeoutMs))).then(
          () => undefined,
          (err: unknown) => {
            throw new Error(`${err instanceof Error ? err.message : String(err)}; Haraka's output:\n${logs()}`);
          },
        ),
        exited.then(() => {
          throw new Error(`Haraka exited during start:\n${logs()}`);
        }),
      ]),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGINT');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/** Held messages waiting in `spool_dir/pending` for the store (Redis down or too slow): their file names. */
export async function pendingSpoolFiles(spoolDir: string): Promise<string[]> {
  return (await readdir(path.join(spoolDir, 'pending')).catch(() => [] as string[])).filter((f) => f.endsWith('.json'));
}

/** Parse the header block of a raw message into [name, value] pairs (unfolded). */
export function headersOf(raw: string): Array<[string, string]> {
  const end = raw.search(/\r?\n\r?\n/);
  return raw
    .slice(0, end < 0 ? raw.length : end)
    .replace(/\r?\n[ \t]+/g, ' ')
    .split(/\r?\n/)
    .map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]);
}

/** The log line with the reasons of the message Haraka answered with PhishX id `id` ('' when there is none). */
export function reasonsLogged(h: { logs(): string }, id: string): string {
  return (
    h
      .logs()
      .split('\n')
      .find((l) => l.includes(id) && l.includes('reasons=')) ?? ''
  );
}
