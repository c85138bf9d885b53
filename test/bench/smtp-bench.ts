/**
 * `npm run bench`: SMTP throughput of bare Haraka vs Haraka + PhishX, in one run, on the
 * same machine, with the same messages and load. Prints msg/s, the ratio, p50/p99 latency
 * per message (connect to final reply), Haraka's peak RSS, and the sidecar's /health
 * latency while the load runs (single process and nodes=N, --nodes, default 2) next to a bare
 * Node HTTP server polled the same way (the floor the machine allows). Figures, not a test.
 *
 *   npm run bench -- [--messages N] [--concurrency C] [--corpus DIR] [--clamd HOST:PORT]
 *
 * With --clamd (or a clamd answering on 127.0.0.1:3310) a third run adds ClamAV, and the
 * added latency per message is printed.
 *
 * Messages: ../shared/corpus (every label) when present, else generated clean + phishing
 * mail. Both Harakas accept example.org via rcpt_to.in_host_list and discard via
 * queue/discard, so the only difference is the phishx plugin.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO, startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { cleanMessage, phishMessage, quarantineMessage } from '../helpers/messages.js';
import { sendRaw, toCrlf } from '../helpers/smtp.js';
import { drive as driveLoad } from '../helpers/load.js';
import { ClamdClient } from '../../lib/clamav/client.js';
import { killDeps } from './kill-deps.js';

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
  /** /health latency (ms) sampled while the load ran (PhishX phases). */
  health?: LatencyStats;
  /** The same probe against a bare Node HTTP server in its own process: the floor this machine allows under that load. */
  reference?: LatencyStats;
}

function loadMessages(corpus: string | undefined, limit: number): { messages: Buffer[]; source: string } {
  const dir = corpus ?? path.join(REPO, '..', 'shared', 'corpus');
  if (existsSync(path.join(dir, 'labels.csv'))) {
    const rows = readFileSync(path.join(dir, 'labels.csv'), 'utf8').trim().split(/\r?\n/).slice(1);
    // Spread over the labels: every k-th row.
    const step = Math.max(1, Math.floor(rows.length / limit));
    const picked = rows.filter((_, i) => i % step === 0).slice(0, limit);
    return {
      messages: picked.map((r) => toCrlf(readFileSync(path.join(dir, r.split(',')[0])))),
      source: `${dir} (${picked.length} messages, every ${step}th of labels.csv)`,
    };
  }
  const gen = [cleanMessage(), phishMessage(), quarantineMessage(), cleanMessage({ body: `${'Meeting notes. '.repeat(300)}\nhttps://www.example.com/notes` })];
  return { messages: gen.map((m) => toCrlf(m)), source: 'generated (no corpus found): clean, phishing, quarantine-band, 5 KB clean' };
}

function peakRss(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return Math.round(kb / 1024);
  } catch {
    return NaN;
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
        ".listen(0,'127.0.0.1',()=>console.log(s.address().port))",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    proc.stdout.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), proc }));
    proc.once('exit', (code) => reject(new Error(`reference server exited ${code}`)));
  });
}

async function drive(h: HarakaInstance, name: string, messages: Buffer[], total: number, concurrency: number, probeHealth: boolean): Promise<Phase> {
  const env = { from: 'bench@sender.example', to: ['user@example.org'] };
  // Warm-up (JIT, lazy loads), not measured.
  await Promise.all(Array.from({ length: Math.min(concurrency, 50) }, (_, i) => sendRaw(h.port, messages[i % messages.length], env)));
  const ref = probeHealth ? await referenceServer() : null;
  const poller = probeHealth ? pollHealth(h.sidecarPort, 20) : null;
  const refPoller = ref ? pollHealth(ref.port, 20) : null;
  const t0 = performance.now();
  const answers = await driveLoad(h.port, messages, total, concurrency, env);
  const seconds = (performance.now() - t0) / 1000;
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
    ...(health ? { health } : {}),
    ...(reference ? { reference } : {}),
  };
}

async function phase(
  name: string,
  plugins: string[],
  messages: Buffer[],
  total: number,
  concurrency: number,
  env: NodeJS.ProcessEnv = {},
  nodes = 0,
): Promise<Phase> {
  const h = await startHaraka({
    plugins,
    nodes,
    nlp: true,
    env: { YES_REALLY_DO_DISCARD: '1', ...env },
    files: { host_list: 'example.org\n', 'log.ini': '[main]\nlevel=warn\n' },
    phishxIni: '',
  });
  try {
    if (nodes) await new Promise((r) => setTimeout(r, 1500)); // let every worker start listening
    return await drive(h, name, messages, total, concurrency, plugins.includes('phishx'));
  } finally {
    await h.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '3000' },
      concurrency: { type: 'string', default: '20' },
      corpus: { type: 'string' },
      clamd: { type: 'string' },
      nodes: { type: 'string', default: '2' },
      'kill-deps': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write('Usage: npm run bench -- [--messages N] [--concurrency C] [--corpus DIR] [--clamd HOST:PORT] [--nodes N] [--kill-deps]\n');
    return;
  }
  const total = Number(values.messages);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(total) || total < 1 || !Number.isInteger(concurrency) || concurrency < 1)
    throw new Error('--messages and --concurrency must be positive integers');
  const { messages, source } = loadMessages(values.corpus, 1000);
  if (values['kill-deps']) return killDeps(messages, total, concurrency);
  const avg = Math.round(messages.reduce((a, m) => a + m.length, 0) / messages.length);
  process.stdout.write(
    `PhishX SMTP benchmark: ${total} messages, ${concurrency} concurrent sessions, one message per session\nmessages: ${source}, mean ${avg} bytes\n\n`,
  );

  const bare = await phase('bare Haraka', ['rcpt_to.in_host_list', 'queue/discard'], messages, total, concurrency);
  const px = await phase('Haraka + PhishX', ['rcpt_to.in_host_list', 'phishx', 'queue/discard'], messages, total, concurrency);
  const row = (p: Phase): string =>
    `${p.name.padEnd(18)} ${p.rate.toFixed(0).padStart(7)} msg/s   p50 ${p.p50.toFixed(1).padStart(6)} ms   p99 ${p.p99.toFixed(1).padStart(7)} ms   peak RSS ${String(p.peakRssMiB).padStart(4)} MiB   answers ${JSON.stringify(p.codes)}`;
  process.stdout.write(`${row(bare)}\n${row(px)}\n`);
  const nodes = Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1) throw new Error('--nodes must be a positive integer');
  const cluster = await phase(`PhishX, nodes=${nodes}`, ['rcpt_to.in_host_list', 'phishx', 'queue/discard'], messages, total, concurrency, {}, nodes);
  process.stdout.write(`${row(cluster)}\n`);
  const clamdHost = values.clamd ?? '127.0.0.1:3310';
  const [probe] = await new ClamdClient([clamdHost], 1000).ping();
  let clam: Phase | null = null;
  if (probe.ok) {
    clam = await phase('+ ClamAV', ['rcpt_to.in_host_list', 'phishx', 'queue/discard'], messages, total, concurrency, { PHISHX_CLAMAV_HOSTS: clamdHost });
    process.stdout.write(`${row(clam)}\n`);
  }
  process.stdout.write(`\nratio (PhishX / bare): ${(px.rate / bare.rate).toFixed(2)}   (goal >= 0.80)\n`);
  const lrow = (name: string, x: LatencyStats): string =>
    `  ${name.padEnd(28)} ${String(x.n).padStart(5)} probes   p50 ${x.p50.toFixed(2)} ms   p99 ${x.p99.toFixed(2)} ms   max ${x.max.toFixed(2)} ms   non-200 ${x.non200}\n`;
  const hrow = (p: Phase): string => (p.health ? lrow(p.name, p.health) + (p.reference ? lrow('  reference: bare Node HTTP', p.reference) : '') : '');
  process.stdout.write(
    `/health latency while the load ran (one probe every 20 ms from a separate process; goal p99 <= 5 ms):\n${hrow(px)}${hrow(cluster)}${clam ? hrow(clam) : ''}`,
  );
  if (clam)
    process.stdout.write(
      `ClamAV (${clamdHost}, ${probe.version}) adds p50 ${(clam.p50 - px.p50).toFixed(1)} ms, p99 ${(clam.p99 - px.p99).toFixed(1)} ms per message; ratio with ClamAV / bare ${(clam.rate / bare.rate).toFixed(2)}\n`,
    );
  else process.stdout.write(`(no clamd at ${clamdHost}: ClamAV run skipped; start one with ../shared/scripts/start-clamd.sh or pass --clamd)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
