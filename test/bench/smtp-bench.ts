/**
 * `npm run bench`: SMTP throughput of bare Haraka, Haraka + rspamd and Haraka + PhishX (one
 * process, and `nodes=N`), in one run, on the same machine, with the same messages, load and
 * delivery plugin. Prints msg/s, ratios, p50/p99 latency per message (connect to final reply),
 * peak RSS, CPU per message (and for one Haraka process the share of the time its main thread
 * ran and waited for a core), and the sidecar's /health latency under load next to a bare Node
 * HTTP server polled the same way (the floor the machine allows). Figures, not a test.
 *
 *   npm run bench -- [--messages N] [--concurrency C] [--sizes mix,5k,50k,1m] [--sessions 20,100]
 *                    [--corpus DIR] [--clamd HOST:PORT] [--nodes N] [--paced MSG_PER_S] [--warm-up N] [--kill-deps]
 *   npm run bench -- --flood S   (test/bench/flood.ts: one network floods, another sends)
 *   --env PHISHX_NAME=VALUE (repeatable): a setting for the PhishX rows and --soak, e.g. to measure a budget or thread count
 *
 * First the corpus mix at --concurrency sessions (with a ClamAV row when a clamd answers,
 * --clamd or 127.0.0.1:3310), then bare Haraka and PhishX paced at a fixed rate (--paced, or
 * half of PhishX's rate) for the latency a message gains; then every size of --sizes at
 * every count of --sessions.
 * Haraka + rspamd runs when `rspamd` is installed: a private offline instance (test/bench/rspamd.ts)
 * and haraka-plugin-rspamd; else its row says why it is missing.
 *
 * The load generator is test/helpers/smtp-lean.ts (no nodemailer: its client added ~40 ms per
 * session and held bare Haraka well below what the cores allow).
 * Every setup is warmed up with 3,000 messages (large messages: 256 MiB, at least one pass over
 * the set) before it is measured; the sets are in a fixed interleaved order (not sorted by label). Messages:
 * ../shared/corpus (every label) when present, else generated clean + phishing mail; sized
 * sets are corpus messages of about that size, and for 1 MB corpus messages with a PDF
 * attachment. Every Haraka accepts example.org via rcpt_to.in_host_list and discards via
 * queue/discard, so the only difference is the filter plugin.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO, startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { cleanMessage, phishMessage, quarantineMessage } from '../helpers/messages.js';
import { toCrlf } from '../helpers/smtp.js';
import { drive as driveLoad, drivePaced } from '../helpers/load.js';
import { sendLean } from '../helpers/smtp-lean.js';
import { ClamdClient } from '../../lib/clamav/client.js';
import { buildConfig } from '../../lib/config/load.js';
import { SCHEMA, envName } from '../../lib/config/schema.js';
import { prng, shuffleInPlace } from '../../lib/nlp/train.js';
import { killDeps } from './kill-deps.js';
import { flood } from './flood.js';
import { startRspamd, type Rspamd } from './rspamd.js';
import { randomBytes } from 'node:crypto';

interface LatencyStats {
  n: number;
  p50: number;
  p99: number;
  max: number;
  non200: number;
}

interface Phase {
  name: string;
  msgs: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  codes: Record<string, number>;
  peakRssMiB: number;
  /**
   * CPU time per measured message (ms, user + system): the server's processes with every
   * thread (Haraka's workers; rspamd's processes for its row), Haraka's main thread alone (one
   * process only), and the load generator (this process). On a machine the load generator
   * shares, their sum bounds the rate: cores × 1000 / sum msg/s.
   */
  cpu: { server: number; main: number | null; load: number };
  /**
   * Haraka's main thread (one process only): the share of the measured wall time it ran, and
   * the share it was ready to run but waited for a core (`/proc/<pid>/task/<pid>/schedstat`).
   * Their sum near 100 % says the SMTP event loop bounds the rate; the wait is what the other
   * threads and processes on the same cores cost it.
   */
  mainThread: { running: number; waiting: number } | null;
  /** /health latency (ms) sampled while the load ran (PhishX phases). */
  health?: LatencyStats;
  /** The same probe against a bare Node HTTP server in its own process: the floor this machine allows under that load. */
  reference?: LatencyStats;
}

function corpusRows(dir: string): string[] | null {
  if (!existsSync(path.join(dir, 'labels.csv'))) return null;
  return readFileSync(path.join(dir, 'labels.csv'), 'utf8')
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((r) => path.join(dir, r.split(',')[0]));
}

/**
 * `xs` in a fixed pseudo-random order (Fisher–Yates, mulberry32, seed 19): labels.csv lists
 * ham, then phishing, then spam, and mail does not arrive at an MX sorted by verdict — a
 * sorted set sends hundreds of held messages in a row. The same order for every setup and run.
 */
function interleaved<T>(xs: readonly T[]): T[] {
  return shuffleInPlace([...xs], prng(19));
}

function loadMessages(corpus: string | undefined, limit: number): { messages: Buffer[]; source: string } {
  const dir = corpus ?? path.join(REPO, '..', 'shared', 'corpus');
  const rows = corpusRows(dir);
  if (rows) {
    // Spread over the labels: every k-th row.
    const step = Math.max(1, Math.floor(rows.length / limit));
    const picked = rows.filter((_, i) => i % step === 0).slice(0, limit);
    return {
      messages: interleaved(picked.map((f) => toCrlf(readFileSync(f)))),
      source: `${dir} (${picked.length} messages, every ${step}th of labels.csv, interleaved)`,
    };
  }
  const gen = [cleanMessage(), phishMessage(), quarantineMessage(), cleanMessage({ body: `${'Meeting notes. '.repeat(300)}\nhttps://www.example.com/notes` })];
  return { messages: gen.map((m) => toCrlf(m)), source: 'generated (no corpus found): clean, phishing, quarantine-band, 5 KB clean' };
}

const SIZES: Record<string, number> = { '5k': 5 * 1024, '50k': 50 * 1024, '1m': 1024 * 1024 };

/**
 * `message` (CRLF) with a PDF-like attachment so that it is about `size` bytes: its own body
 * becomes the first part of a multipart/mixed message, its other headers stay.
 */
function withAttachment(message: Buffer, size: number, n: number): Buffer {
  const text = message.toString('latin1');
  const sep = text.indexOf('\r\n\r\n');
  const head = sep >= 0 ? text.slice(0, sep) : text;
  const body = sep >= 0 ? text.slice(sep + 4) : '';
  const fields = head.split(/\r\n(?![ \t])/);
  const isContent = (f: string): boolean => /^(content-type|content-transfer-encoding|mime-version)\s*:/i.test(f);
  const inner = fields.filter((f) => /^content-(type|transfer-encoding)\s*:/i.test(f));
  const boundary = `phishx-bench-${n}`;
  const room = Math.max(1024, size - message.length - 600);
  const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(Math.floor((room * 3) / 4))]);
  const b64 = pdf.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    [
      ...fields.filter((f) => !isContent(f)),
      'MIME-Version: 1.0',
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      ...(inner.length ? inner : ['Content-Type: text/plain; charset=us-ascii']),
      '',
      body,
      `--${boundary}`,
      'Content-Type: application/pdf; name="statement.pdf"',
      'Content-Disposition: attachment; filename="statement.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      b64,
      `--${boundary}--`,
      '',
    ].join('\r\n'),
    'latin1',
  );
}

/** Every corpus message (CRLF), read once for all the sized sets; none without a corpus. */
function corpusMessages(corpus: string | undefined): Buffer[] {
  return (corpusRows(corpus ?? path.join(REPO, '..', 'shared', 'corpus')) ?? []).map((f) => toCrlf(readFileSync(f)));
}

/** Up to `limit` messages of about `size` bytes from `all`: corpus messages of that size (0.6–1.6×), 1 MB ones with an attachment. */
function sizedMessages(all: readonly Buffer[], size: number, limit: number): { messages: Buffer[]; source: string } {
  if (size >= 512 * 1024) {
    const base = all.filter((m) => m.length >= 3 * 1024 && m.length <= 20 * 1024);
    const src = base.length ? base : [toCrlf(cleanMessage()), toCrlf(phishMessage())];
    const step = Math.max(1, Math.floor(src.length / limit));
    const picked = src.filter((_, i) => i % step === 0).slice(0, limit);
    return { messages: interleaved(picked.map((m, i) => withAttachment(m, size, i))), source: `${picked.length} corpus messages + a PDF attachment` };
  }
  const band = all.filter((m) => m.length >= size * 0.6 && m.length <= size * 1.6);
  if (band.length >= 10) {
    const step = Math.max(1, Math.floor(band.length / limit));
    const picked = band.filter((_, i) => i % step === 0).slice(0, limit);
    return { messages: interleaved(picked), source: `${picked.length} corpus messages of ${Math.round(size * 0.6)}–${Math.round(size * 1.6)} bytes` };
  }
  const gen = [cleanMessage(), phishMessage(), quarantineMessage()].map((m, i) => withAttachment(toCrlf(m), size, i));
  return { messages: gen, source: 'generated messages with an attachment (no corpus found)' };
}

/** A process and its children (Haraka's cluster workers, rspamd's workers). */
function processTree(pid: number): number[] {
  try {
    return [pid, ...readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)];
  } catch {
    return [pid];
  }
}

/** RSS (MiB) of a process and its children: their peaks (`VmHWM`, the default) or what they hold now (`VmRSS`). */
function peakRss(pid: number | undefined, field: 'VmHWM' | 'VmRSS' = 'VmHWM'): number {
  const line = new RegExp(`${field}:\\s+(\\d+)`);
  const kib = (p: number): number => {
    try {
      return Number(line.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      return 0;
    }
  };
  if (!pid) return NaN;
  return Math.round(processTree(pid).reduce((a, p) => a + kib(p), 0) / 1024);
}

/** User + system CPU (ms) in a /proc stat file: of a process (every thread) or of one thread; 0 once it is gone. */
function statCpuMs(file: string): number {
  try {
    const stat = readFileSync(file, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return 0;
  }
}

/** CPU (ms) used so far by the process trees of `pids` (every thread), and by the first one's main thread. */
function cpuSample(pids: readonly number[]): { server: number; main: number; load: number } {
  const server = pids.flatMap(processTree).reduce((a, p) => a + statCpuMs(`/proc/${p}/stat`), 0);
  const main = pids.length ? statCpuMs(`/proc/${pids[0]}/task/${pids[0]}/stat`) : 0;
  const own = process.cpuUsage();
  return { server, main, load: (own.user + own.system) / 1000 };
}

/** Nanoseconds a thread has run and has waited on a run queue (`schedstat`); null once it is gone. */
function schedStat(pid: number): { run: number; wait: number } | null {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return Number.isFinite(run) && Number.isFinite(wait) ? { run, wait } : null;
  } catch {
    return null;
  }
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

/** Poll the sidecar's /health every `everyMs` from a separate process until stopped. */
function pollHealth(port: number, everyMs: number): { stop(): Promise<{ lat: number[]; non200: number }> } {
  const child = fork(path.join(__dirname, 'health-poller.js'), [String(port), String(everyMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = new Promise<{ lat: number[]; non200: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { lat: number[]; non200: number }));
    child.once('exit', (code) => reject(new Error(`health poller exited ${code} without results`)));
  });
  return {
    stop: async () => {
      child.send('stop');
      return result;
    },
  };
}

/** A bare Node HTTP server in its own process answering `{}` to everything. */
function referenceServer(): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn(
    process.execPath,
    [
      '-e',
      'const ' +
        "s=require('http').createServer((q,r)=>{r.setHeader('content-type','application/json');r.end('{}')})" +
        ".listen(0,'127.0.0.1',()=>console.log(s.address().port));" +
        // stdin closes when the bench goes away, even killed: do not outlive it.
        "process.stdin.on('end',()=>process.exit(0)).resume()",
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    proc.stdout.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), proc }));
    proc.once('exit', (code) => reject(new Error(`reference server exited ${code}`)));
  });
}

/**
 * Messages sent to each setup before it is measured: 3,000 (`--warm-up N`; the set cycled), or
 * for large messages as many as make 256 MiB but at least one pass over the set (at most
 * 1,000), never more than N. V8 keeps optimising PhishX's code for thousands of different
 * messages: after 600 warm-up messages of the 5 KB set it used 6.3–6.7 ms of CPU per message,
 * after 3,000 4.8 (6,000: 4.6), and on the mix it still compiled 85 functions per 2,000
 * messages after 15,000 — a server that runs for days is further along than any bench.
 */
const WARM_UP_MESSAGES = 3000;
const WARM_UP_BYTES = 256 * 1024 * 1024;
let warmUpMessages = WARM_UP_MESSAGES;

function warmUpCount(messages: readonly Buffer[]): number {
  if (!messages.length) return 0;
  const mean = messages.reduce((n, m) => n + m.length, 0) / messages.length;
  return Math.min(warmUpMessages, Math.max(Math.min(messages.length, 1000), Math.floor(WARM_UP_BYTES / mean)));
}

/** The envelope of every bench message (example.org is Haraka's host_list). */
const ENV = { from: 'bench@sender.example', to: ['user@example.org'] };

/** `concurrency` sessions back to back (closed loop, the rate is what is measured), or paced at `perSecond` (open loop, the latency is). */
type Load = { concurrency: number } | { perSecond: number };

async function drive(
  h: HarakaInstance,
  name: string,
  messages: Buffer[],
  total: number,
  load: Load,
  probeHealth: boolean,
  otherPids: readonly number[] = [],
): Promise<Phase> {
  // Warm-up, not measured (warmUpCount), so every setup is measured as a mail server runs for
  // days — code paths compiled, lazy loads done — and not while the JIT is still compiling.
  await driveLoad(h.port, messages, warmUpCount(messages), 'concurrency' in load ? load.concurrency : 20, ENV, { send: sendLean });
  const ref = probeHealth ? await referenceServer() : null;
  const poller = probeHealth ? pollHealth(h.sidecarPort, 20) : null;
  const refPoller = ref ? pollHealth(ref.port, 20) : null;
  const pids = [h.proc.pid ?? 0, ...otherPids].filter((p) => p > 0);
  const cpu0 = cpuSample(pids);
  const sched0 = pids.length ? schedStat(pids[0]) : null;
  const t0 = performance.now();
  const answers =
    'concurrency' in load
      ? await driveLoad(h.port, messages, total, load.concurrency, ENV, { send: sendLean })
      : await drivePaced(h.port, messages, total, load.perSecond, ENV, sendLean);
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = cpuSample(pids);
  const sched1 = pids.length ? schedStat(pids[0]) : null;
  const single = processTree(pids[0]).length === 1 && !otherPids.length;
  const wallNs = seconds * 1e9;
  const mainThread = single && sched0 && sched1 ? { running: (sched1.run - sched0.run) / wallNs, waiting: (sched1.wait - sched0.wait) / wallNs } : null;
  const stats = (r: { lat: number[]; non200: number } | undefined): LatencyStats | undefined => {
    if (!r) return undefined;
    const l = r.lat.sort((a, b) => a - b);
    return { n: l.length, p50: pct(l, 50), p99: pct(l, 99), max: l[l.length - 1] ?? NaN, non200: r.non200 };
  };
  const health = stats(await poller?.stop());
  const reference = stats(await refPoller?.stop());
  ref?.proc.kill();
  const codes: Record<string, number> = {};
  for (const a of answers) codes[a.code] = (codes[a.code] ?? 0) + 1;
  const lat = answers.map((a) => a.ms).sort((a, b) => a - b);
  return {
    name,
    msgs: total,
    seconds,
    rate: total / seconds,
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    codes,
    peakRssMiB: peakRss(h.proc.pid),
    cpu: { server: (cpu1.server - cpu0.server) / total, main: single ? (cpu1.main - cpu0.main) / total : null, load: (cpu1.load - cpu0.load) / total },
    mainThread,
    ...(health ? { health } : {}),
    ...(reference ? { reference } : {}),
  };
}

interface PhaseOptions {
  env?: NodeJS.ProcessEnv;
  /** Processes serving beside Haraka (rspamd), counted in the server's CPU. */
  otherPids?: number[];
  nodes?: number;
  /** Extra Haraka config files (name ─► content). */
  files?: Record<string, string>;
}

const BARE = ['rcpt_to.in_host_list', 'queue/discard'];
const WITH_PHISHX = ['rcpt_to.in_host_list', 'phishx', 'queue/discard'];
const WITH_RSPAMD = ['rcpt_to.in_host_list', 'rspamd', 'queue/discard'];

/** Servers the bench has started and not yet stopped: stopped on SIGINT / SIGTERM too, so a killed bench leaves no Haraka or rspamd behind. */
const running = new Set<() => Promise<void>>();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    process.stderr.write(`bench: ${sig}, stopping ${running.size} server(s)\n`);
    void Promise.allSettled([...running].map((stop) => stop())).then(() => process.exit(130));
  });
}

/** Run `work` with `stop` registered in `running`; stop afterwards either way. */
async function withServer<T>(stop: () => Promise<void>, work: () => Promise<T>): Promise<T> {
  running.add(stop);
  try {
    return await work();
  } finally {
    running.delete(stop);
    await stop();
  }
}

/** PhishX settings for every PhishX row (`--env`); empty: the shipped defaults. */
let phishxEnv: Record<string, string> = {};

/**
 * `--env` arguments as PhishX settings: each a known `PHISHX_*` name (docs/configuration.md)
 * with a value its setting takes; else a usage error naming it.
 */
function parseEnvSettings(args: readonly string[]): Record<string, string> {
  const known = new Set(Object.entries(SCHEMA).flatMap(([section, keys]) => Object.keys(keys).map((key) => envName(section, key))));
  const env: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (eq <= 0 || !known.has(name))
      throw new BenchUsageError(`--env: ${JSON.stringify(arg)} is not NAME=VALUE with NAME a PhishX setting (PHISHX_..., docs/configuration.md)`);
    env[name] = arg.slice(eq + 1);
  }
  try {
    buildConfig({}, { env });
  } catch (err) {
    throw new BenchUsageError(`--env: ${err instanceof Error ? err.message : String(err)}`);
  }
  return env;
}

/** A Haraka as every bench setup runs it: `plugins`, the embedded classifier on, example.org accepted, mail discarded, warnings only in the log. */
function benchHaraka(plugins: readonly string[], opts: Pick<PhaseOptions, 'nodes' | 'env' | 'files'> = {}): Promise<HarakaInstance> {
  return startHaraka({
    plugins: [...plugins],
    nodes: opts.nodes ?? 0,
    nlp: true,
    env: { YES_REALLY_DO_DISCARD: '1', ...(plugins.includes('phishx') ? phishxEnv : {}), ...opts.env },
    files: { host_list: 'example.org\n', 'log.ini': '[main]\nlevel=warn\n', ...opts.files },
    phishxIni: '',
  });
}

async function phase(name: string, plugins: string[], messages: Buffer[], total: number, load: Load, opts: PhaseOptions = {}): Promise<Phase> {
  const h = await benchHaraka(plugins, opts);
  return withServer(
    () => h.stop(),
    async () => {
      if (opts.nodes) await new Promise((r) => setTimeout(r, 1500)); // let every worker start listening
      return drive(h, name, messages, total, load, plugins.includes('phishx') && 'concurrency' in load, opts.otherPids);
    },
  );
}

/** Haraka + haraka-plugin-rspamd against a fresh private rspamd (its peak RSS added to Haraka's); null with the reason when rspamd is missing. */
async function rspamdPhase(messages: Buffer[], total: number, concurrency: number): Promise<Phase | { missing: string }> {
  const r: Rspamd | { missing: string } = await startRspamd();
  if ('missing' in r) return r;
  return withServer(
    () => r.stop(),
    async () => {
      // Scores and headers only (no reject): the same work for every message.
      // Loopback clients are checked too (the plugin skips local and private IPs by default).
      const ini = `host = 127.0.0.1\nport = ${r.port}\nadd_headers = always\n[check]\nlocal_ip = true\nprivate_ip = true\n[reject]\nspam = false\n`;
      const p = await phase(
        `Haraka + rspamd ${r.version}`,
        WITH_RSPAMD,
        messages,
        total,
        { concurrency },
        { files: { 'rspamd.ini': ini }, otherPids: r.proc.pid ? [r.proc.pid] : [] },
      );
      return { ...p, peakRssMiB: p.peakRssMiB + peakRss(r.proc.pid) };
    },
  );
}

const row = (p: Phase): string =>
  `${p.name.padEnd(26)} ${p.rate.toFixed(0).padStart(6)} msg/s   p50 ${p.p50.toFixed(1).padStart(7)} ms   p99 ${p.p99.toFixed(1).padStart(7)} ms   peak RSS ${String(p.peakRssMiB).padStart(5)} MiB   answers ${JSON.stringify(p.codes)}\n` +
  `${''.padEnd(26)} CPU per message ${p.cpu.server.toFixed(2)} ms server${p.cpu.main === null ? '' : ` (main thread ${p.cpu.main.toFixed(2)})`}, ${p.cpu.load.toFixed(2)} ms load generator` +
  (p.mainThread
    ? `\n${''.padEnd(26)} main thread ran ${(100 * p.mainThread.running).toFixed(0)} % of the time, waited for a core ${(100 * p.mainThread.waiting).toFixed(0)} %`
    : '');

/**
 * One block: every setup on one message set at one session count, then the ratios the goals
 * name. Returns the PhishX phases (the corpus mix adds ClamAV and /health to them).
 */
async function block(title: string, messages: Buffer[], total: number, sessions: number, nodes: number): Promise<{ px: Phase; cluster: Phase }> {
  process.stdout.write(`\n${title}, ${sessions} sessions, ${total} messages\n`);
  const bare = await phase('bare Haraka', BARE, messages, total, { concurrency: sessions });
  process.stdout.write(`${row(bare)}\n`);
  const rs = await rspamdPhase(messages, total, sessions);
  process.stdout.write('missing' in rs ? `Haraka + rspamd            (not run: ${rs.missing})\n` : `${row(rs)}\n`);
  const px = await phase('Haraka + PhishX', WITH_PHISHX, messages, total, { concurrency: sessions });
  process.stdout.write(`${row(px)}\n`);
  const cluster = await phase(`PhishX, nodes=${nodes}`, WITH_PHISHX, messages, total, { concurrency: sessions }, { nodes });
  process.stdout.write(`${row(cluster)}\n`);
  process.stdout.write(
    `  PhishX / bare ${(px.rate / bare.rate).toFixed(2)} (nodes=${nodes}: ${(cluster.rate / bare.rate).toFixed(2)}; goal >= 0.5)` +
      ('missing' in rs ? '' : `   PhishX / rspamd ${(Math.max(px.rate, cluster.rate) / rs.rate).toFixed(2)} (goal >= 1.5)`) +
      `   added p99 ${(px.p99 - bare.p99).toFixed(1)} ms (goal <= 50)\n`,
  );
  return { px, cluster };
}

/**
 * Added latency without queueing: bare Haraka and Haraka + PhishX each fed the same messages
 * at one fixed rate below both capacities (half of what PhishX sustained above, unless
 * `--paced R`). Back-to-back sessions measure the rate; at a saturating load their latency is
 * mostly the wait in line, which says how much slower a setup is, not what one message costs.
 */
async function pacedBlock(messages: Buffer[], total: number, perSecond: number): Promise<void> {
  const n = Math.min(total, perSecond * 20);
  process.stdout.write(`paced at ${perSecond} msg/s (${n} messages, each started on schedule; latency counted from its due time):\n`);
  const bare = await phase('bare Haraka', BARE, messages, n, { perSecond });
  process.stdout.write(`${row(bare)}\n`);
  const px = await phase('Haraka + PhishX', WITH_PHISHX, messages, n, { perSecond });
  process.stdout.write(`${row(px)}\n`);
  process.stdout.write(`  added p50 ${(px.p50 - bare.p50).toFixed(1)} ms   added p99 ${(px.p99 - bare.p99).toFixed(1)} ms (goal <= 50)\n`);
}

/**
 * Memory over uptime (`--soak N`): bare Haraka and Haraka + PhishX each take N messages of the
 * 5 KB set at `sessions` concurrent sessions; the process tree's RSS is printed after every
 * tenth. A server's memory must level off, not grow with the messages it has taken.
 */
async function soak(corpus: string | undefined, total: number, sessions: number): Promise<void> {
  const set = sizedMessages(corpusMessages(corpus), SIZES['5k'], 300);
  const step = Math.ceil(total / 10);
  process.stdout.write(
    `memory over uptime: ${total} messages (${set.source}), ${sessions} sessions; RSS (MiB) of the process tree after every ${step}, peak at the end\n`,
  );
  for (const [name, plugins] of [
    ['bare Haraka', BARE],
    ['Haraka + PhishX', WITH_PHISHX],
  ] as const) {
    const h = await benchHaraka(plugins);
    await withServer(
      () => h.stop(),
      async () => {
        const marks: number[] = [];
        for (let sent = 0; sent < total; sent += step) {
          await driveLoad(h.port, set.messages, Math.min(step, total - sent), sessions, ENV, { send: sendLean });
          marks.push(peakRss(h.proc.pid, 'VmRSS'));
        }
        process.stdout.write(`${name.padEnd(20)} ${marks.map((m) => String(m).padStart(4)).join(' ')}   peak ${peakRss(h.proc.pid)}\n`);
      },
    );
  }
}

/** A bad argument: printed as one line with the usage, exit 2 (other failures print their stack). */
class BenchUsageError extends Error {}

const USAGE =
  'Usage: npm run bench -- [--messages N] [--concurrency C] [--sizes mix,5k,50k,1m] [--sessions 20,100]\n' +
  '                        [--corpus DIR] [--clamd HOST:PORT] [--nodes N] [--paced MSG_PER_S] [--warm-up N] [--kill-deps]\n' +
  '       npm run bench -- --soak N [--sessions S]   (memory over uptime only: N messages at S sessions, default 100)\n' +
  '       npm run bench -- --flood S   (S sessions of costly messages from one network, an ordinary message a second from another)\n' +
  '       --env PHISHX_NAME=VALUE (repeatable): a PhishX setting for the PhishX rows and --soak (docs/configuration.md), e.g. --env PHISHX_SCAN_THREADS=2\n';

function list(v: string | undefined, what: string, ok: (x: string) => boolean): string[] {
  const items = (v ?? '')
    .split(',')
    .map((x) => x.trim().toLowerCase())
    .filter(Boolean);
  for (const x of items) if (!ok(x)) throw new BenchUsageError(`${what}: ${JSON.stringify(x)} is not one of the accepted values`);
  return items;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        messages: { type: 'string', default: '3000' },
        concurrency: { type: 'string', default: '20' },
        sizes: { type: 'string', default: 'mix,5k,50k,1m' },
        sessions: { type: 'string', default: '20,100' },
        corpus: { type: 'string' },
        clamd: { type: 'string' },
        nodes: { type: 'string', default: '2' },
        paced: { type: 'string' },
        'warm-up': { type: 'string' },
        'kill-deps': { type: 'boolean' },
        flood: { type: 'string' },
        env: { type: 'string', multiple: true },
        soak: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new BenchUsageError(err instanceof Error ? err.message : String(err));
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const total = Number(values.messages);
  const concurrency = Number(values.concurrency);
  const nodes = Number(values.nodes);
  if (!Number.isInteger(total) || total < 1 || !Number.isInteger(concurrency) || concurrency < 1)
    throw new BenchUsageError('--messages and --concurrency must be positive integers');
  if (!Number.isInteger(nodes) || nodes < 1) throw new BenchUsageError('--nodes must be a positive integer');
  if (values.paced !== undefined && !/^[1-9]\d{0,4}$/.test(values.paced)) throw new BenchUsageError('--paced must be a rate in messages per second (1–99999)');
  if (values['warm-up'] !== undefined) {
    if (!/^\d{1,6}$/.test(values['warm-up'])) throw new BenchUsageError('--warm-up must be a number of messages (0–999999)');
    warmUpMessages = Number(values['warm-up']);
  }
  phishxEnv = parseEnvSettings(values.env ?? []);
  if (Object.keys(phishxEnv).length && (values.flood !== undefined || values['kill-deps']))
    throw new BenchUsageError('--env applies to the throughput, paced and soak runs, not to --flood or --kill-deps');
  const sizes = list(values.sizes, '--sizes', (x) => x === 'mix' || x in SIZES);
  const sessions = list(values.sessions, '--sessions', (x) => /^[1-9]\d{0,3}$/.test(x)).map(Number);
  if (values.flood !== undefined) {
    if (!/^[1-9]\d{0,3}$/.test(values.flood)) throw new BenchUsageError('--flood must be a number of sessions (1–9999)');
    return flood(Number(values.flood));
  }
  if (values.soak !== undefined) {
    const n = Number(values.soak);
    if (!Number.isInteger(n) || n < 10) throw new BenchUsageError('--soak must be a number of messages (at least 10)');
    return soak(values.corpus, n, sessions[sessions.length - 1] ?? 100); // --sessions S; by default the last of 20,100
  }
  const { messages, source } = loadMessages(values.corpus, 1000);
  if (values['kill-deps']) return killDeps(messages, total, concurrency);
  const avg = Math.round(messages.reduce((a, m) => a + m.length, 0) / messages.length);
  process.stdout.write(`PhishX SMTP benchmark: one message per session; Node ${process.version}, ${os.availableParallelism()} cores\n`);
  const settings = Object.entries(phishxEnv).map(([k, v]) => `${k}=${v}`);
  if (settings.length) process.stdout.write(`PhishX rows with ${settings.join(' ')}\n`);

  if (sizes.includes('mix')) {
    const { px, cluster } = await block(`corpus mix: ${source}, mean ${avg} bytes`, messages, total, concurrency, nodes);
    const clamdHost = values.clamd ?? '127.0.0.1:3310';
    const [probe] = await new ClamdClient([clamdHost], 1000).ping();
    let clam: Phase | null = null;
    if (probe.ok) {
      clam = await phase('+ ClamAV', WITH_PHISHX, messages, total, { concurrency }, { env: { PHISHX_CLAMAV_HOSTS: clamdHost } });
      process.stdout.write(`${row(clam)}\n`);
    }
    const lrow = (name: string, x: LatencyStats): string =>
      `  ${name.padEnd(28)} ${String(x.n).padStart(5)} probes   p50 ${x.p50.toFixed(2)} ms   p99 ${x.p99.toFixed(2)} ms   max ${x.max.toFixed(2)} ms   non-200 ${x.non200}\n`;
    const hrow = (p: Phase): string => (p.health ? lrow(p.name, p.health) + (p.reference ? lrow('  reference: bare Node HTTP', p.reference) : '') : '');
    process.stdout.write(
      `/health latency while the load ran (one probe every 20 ms from a separate process):\n${hrow(px)}${hrow(cluster)}${clam ? hrow(clam) : ''}`,
    );
    if (clam)
      process.stdout.write(
        `ClamAV (${clamdHost}, ${probe.version}) adds p50 ${(clam.p50 - px.p50).toFixed(1)} ms, p99 ${(clam.p99 - px.p99).toFixed(1)} ms per message\n`,
      );
    else process.stdout.write(`(no clamd at ${clamdHost}: ClamAV run skipped; start one with ../shared/scripts/start-clamd.sh or pass --clamd)\n`);
    await pacedBlock(messages, total, Number(values.paced ?? 0) || Math.max(10, Math.round(px.rate / 20) * 10));
  }
  const corpusAll = sizes.some((x) => x !== 'mix') ? corpusMessages(values.corpus) : [];
  for (const size of sizes.filter((x) => x !== 'mix')) {
    const bytes = SIZES[size];
    const set = sizedMessages(corpusAll, bytes, 300);
    const mean = Math.round(set.messages.reduce((a, m) => a + m.length, 0) / set.messages.length);
    // Fewer big messages: each run stays about as long.
    const n = Math.max(100, Math.round(total / Math.max(1, Math.sqrt(bytes / 5120) * 1.5)));
    for (const s of sessions) await block(`${size} messages (${set.source}, mean ${mean} bytes)`, set.messages, Math.max(n, 2 * s), s, nodes);
  }
}

main().catch((err: unknown) => {
  if (err instanceof BenchUsageError) {
    process.stderr.write(`bench: ${err.message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
