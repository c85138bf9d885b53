import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import parsePrometheus from 'parse-prometheus-text-format';
import { sampleSum } from '../helpers/metrics.js';
import { FAMILY_DOCS } from '../../lib/metrics/catalog.js';
import { hashToken } from '../../lib/sidecar/auth.js';
import { startPrivateClamd, type TestClamd } from '../helpers/clamd.js';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { cleanMessage, phishMessage, quarantineMessage } from '../helpers/messages.js';
import { startPrivateRedis, type TestRedis } from '../helpers/redis.js';
import { sendRaw } from '../helpers/smtp.js';
import { fetchFresh } from '../helpers/api.js';

/**
 * Sidecar observability against real Haraka processes (single process and `nodes=2`), a
 * private Redis and a private clamd that the test stops and restarts.
 */
const env = { from: 'sender@example.com', to: ['bob@example.org'] };
const TOKEN = 'e2e-observability-token-0123456789';

interface Family {
  name: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string }>;
}

async function scrape(h: HarakaInstance): Promise<{ text: string; families: Family[] }> {
  const r = await fetchFresh(`http://127.0.0.1:${h.sidecarPort}/metrics`);
  assert.equal(r.status, 200);
  const text = await r.text();
  lastText = text;
  return { text, families: parsePrometheus(text) as Family[] };
}

/**
 * Sum of the samples of `name` (a counter/gauge, or a histogram's `_count`) whose labels
 * include `labels`. Families and types are checked with the parser above (and promtool);
 * this reads sample values, which that parser flattens for labelled histograms.
 */
function value(families: Family[], name: string, labels: Record<string, string> = {}): number {
  const f = families.find((x) => x.name === name);
  assert.ok(f, `${name} missing from /metrics`);
  return sampleSum(lastText, f.type === 'HISTOGRAM' ? `${name}_count` : name, labels);
}
let lastText = '';

async function fullHealth(h: HarakaInstance): Promise<{ http: number; status: string; problems: string[]; components: Record<string, { ok: boolean }> }> {
  const r = await fetchFresh(`http://127.0.0.1:${h.sidecarPort}/health/full`);
  return { http: r.status, ...((await r.json()) as { status: string; problems: string[]; components: Record<string, { ok: boolean }> }) };
}

/** Poll /health/full until `want` holds; returns the seconds it took. */
async function waitHealth(h: HarakaInstance, want: (x: Awaited<ReturnType<typeof fullHealth>>) => boolean, timeoutMs = 15_000): Promise<number> {
  const t0 = Date.now();
  let last: Awaited<ReturnType<typeof fullHealth>> | undefined;
  while (Date.now() - t0 < timeoutMs) {
    last = await fullHealth(h);
    if (want(last)) return (Date.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`health never reached the expected state in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

function promtool(text: string): { skip: string } | { status: number; output: string } {
  if (spawnSync('sh', ['-c', 'command -v promtool']).status !== 0) return { skip: 'promtool not installed (Debian: apt-get install prometheus)' };
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

describe('sidecar observability through real Haraka', () => {
  let redis: TestRedis | null = null;
  let clamd: TestClamd | { skip: string } = { skip: 'not started' };
  let single: HarakaInstance | undefined;

  const ini = (): string =>
    `[sidecar]\nhealth_cache_ms=200\nrate_limit_per_s=0\ntoken_hashes=${hashToken(TOKEN)}\n[redis]\nurl=${redis!.url}\nkey_prefix=phishx-obs:\n` +
    `[breaker.redis]\nreset_timeout_ms=1000\n[breaker.clamav]\nreset_timeout_ms=1000\n` +
    ('skip' in clamd ? '' : `[clamav]\nhosts=${clamd.host}\ntimeout_ms=3000\n`);

  before(async () => {
    redis = await startPrivateRedis();
    clamd = await startPrivateClamd();
  });
  after(async () => {
    await single?.stop();
    await redis?.stop();
    if (!('skip' in clamd)) await clamd.stop();
  });

  it('single process: /metrics has ≥ 40 documented phishx_ families with real counts, parsed and linted', async (t) => {
    if (!redis) return t.skip('redis-server is not installed (apt-get install redis-server)');
    if ('skip' in clamd) return t.skip(clamd.skip);
    single = await startHaraka({ phishxIni: ini() });
    const sessionsBefore = value((await scrape(single)).families, 'phishx_smtp_sessions_total');
    for (const m of [cleanMessage(), cleanMessage({ subject: 'second' }), phishMessage(), quarantineMessage()]) await sendRaw(single.port, m, env);
    await fetchFresh(`http://127.0.0.1:${single.sidecarPort}/metrics/summary`); // one 401, counted
    const { text, families } = await scrape(single);

    const phishx = families.filter((f) => f.name.startsWith('phishx_'));
    assert.ok(phishx.length >= 40, `only ${phishx.length} phishx_ families`);
    for (const doc of FAMILY_DOCS) {
      const f = families.find((x) => x.name === doc.name);
      assert.ok(f, `documented family ${doc.name} missing from /metrics`);
      assert.equal(f.type.toLowerCase(), doc.type, doc.name);
    }
    assert.ok(
      families.some((f) => f.name === 'process_resident_memory_bytes'),
      'process default metrics',
    );
    assert.equal(value(families, 'phishx_messages_scanned_total'), 4);
    assert.equal(value(families, 'phishx_messages_scanned_total', { action: 'reject' }), 1);
    assert.equal(value(families, 'phishx_messages_scanned_total', { action: 'quarantine', tenant: 'default' }), 1);
    assert.equal(value(families, 'phishx_scan_duration_seconds'), 4);
    assert.equal(value(families, 'phishx_quarantine_held_total', { where: 'store' }), 1);
    assert.equal(value(families, 'phishx_quarantine_entries'), 1);
    assert.equal(value(families, 'phishx_verdict_answers_total', { code: '550' }), 1);
    assert.equal(value(families, 'phishx_smtp_answers_total', { class: '5xx', hook: 'data_post' }), 1);
    assert.equal(value(families, 'phishx_smtp_sessions_total') - sessionsBefore, 4);
    assert.ok(value(families, 'phishx_service_calls_total', { outcome: 'success' }) >= 4, 'clamd and redis calls counted');
    assert.ok(value(families, 'phishx_redis_command_duration_seconds', { command: 'putQuarantine' }) >= 1);
    assert.equal(value(families, 'phishx_redis_connected'), 1);
    assert.ok(value(families, 'phishx_reasons_total') > 0);
    assert.equal(value(families, 'phishx_http_auth_failures_total', { route: '/metrics/summary', reason: 'missing' }), 1);
    assert.equal(value(families, 'phishx_component_up', { component: 'clamav' }), 1);
    assert.ok(value(families, 'phishx_redis_used_memory_bytes') > 0);
    assert.equal(value(families, 'phishx_cluster_workers', { state: 'responding' }), 0);

    // promtool: the whole exposition must parse; PhishX's own families must pass its lint.
    // (prom-client's default nodejs_active_*_total gauges are the only lint findings allowed.)
    const lint = promtool(text);
    if ('skip' in lint) return t.skip(lint.skip);
    const findings = lint.output.split('\n').filter(Boolean);
    assert.deepEqual(
      findings.filter((l) => !/^nodejs_active_\w+_total non-counter metrics should not have "_total" suffix$/.test(l)),
      [],
      lint.output,
    );
    const own = promtool(
      text
        .split('\n')
        .filter((l) => /^(# (HELP|TYPE) )?phishx_/.test(l))
        .join('\n') + '\n',
    );
    assert.ok(!('skip' in own));
    assert.equal(own.status, 0, `promtool check metrics (phishx_ families):\n${own.output}`);
  });

  it('single process: /health/full turns DEGRADED when clamd stops, UNHEALTHY when Redis stops, HEALTHY when they return', async (t) => {
    if (!redis || !single) return t.skip('needs the single-process instance (previous test)');
    if ('skip' in clamd) return t.skip(clamd.skip);
    assert.equal((await fullHealth(single)).status, 'HEALTHY');
    await clamd.kill!();
    const s1 = await waitHealth(single, (x) => x.status === 'DEGRADED' && x.problems.some((p) => p.startsWith('clamav: no clamd answered')));
    assert.ok(s1 < 5, `clamd stop seen after ${s1} s`);
    await clamd.revive!();
    await waitHealth(single, (x) => x.status === 'HEALTHY');

    await redis.stop();
    const s2 = await waitHealth(single, (x) => x.http === 503 && x.status === 'UNHEALTHY' && !x.components.store.ok);
    assert.ok(s2 < 5, `Redis stop seen after ${s2} s`);
    assert.equal((await fetchFresh(`http://127.0.0.1:${single.sidecarPort}/ready`)).status, 503);
    await redis.revive!();
    await waitHealth(single, (x) => x.status === 'HEALTHY', 20_000);
    const t0 = Date.now();
    while ((await fetchFresh(`http://127.0.0.1:${single.sidecarPort}/ready`)).status !== 200) {
      assert.ok(Date.now() - t0 < 3000, '/ready still 503 3 s after Redis returned');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('nodes=2: counters are summed across both workers and /health/full sees a stopped clamd', async (t) => {
    if (!redis) return t.skip('redis-server is not installed (apt-get install redis-server)');
    if ('skip' in clamd) return t.skip(clamd.skip);
    await single?.stop();
    single = undefined;
    const h = await startHaraka({ phishxIni: ini(), nodes: 2 });
    try {
      // Wait until both workers listen (the master reports SMTP ready once one does).
      const t0 = Date.now();
      while (!/worker 2 listening/.test(h.logs()) || !/worker 1 listening/.test(h.logs())) {
        assert.ok(Date.now() - t0 < 20_000, `workers did not start:\n${h.logs().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const before = value((await scrape(h)).families, 'phishx_smtp_sessions_total');
      const n = 24;
      // One connection per message: the cluster hands connections to workers in turn.
      const answers = await Promise.all(Array.from({ length: n }, (_, i) => sendRaw(h.port, cleanMessage({ subject: `cluster ${i}` }), env)));
      assert.ok(answers.every((a) => a.code === 250));
      const { families } = await scrape(h);
      assert.equal(value(families, 'phishx_cluster_workers', { state: 'responding' }), 2);
      assert.equal(value(families, 'phishx_cluster_workers', { state: 'silent' }), 0);
      assert.equal(value(families, 'phishx_messages_scanned_total'), n, 'sum over both workers');
      assert.equal(value(families, 'phishx_smtp_sessions_total') - before, n);

      // Both workers did scan: /metrics/summary breaks the scans down per process.
      const perProcess = async (): Promise<Array<{ pid: number; role: string; scanned: number; stale_ms?: number }>> =>
        (
          (await (await fetchFresh(`http://127.0.0.1:${h.sidecarPort}/metrics/summary`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
            processes: Array<{ pid: number; role: string; scanned: number; stale_ms?: number }>;
          }
        ).processes;
      const procs = (await perProcess()).filter((p) => p.role === 'worker');
      assert.equal(procs.length, 2, JSON.stringify(procs));
      assert.ok(
        procs.every((p) => p.scanned > 0),
        `scans per worker: ${JSON.stringify(procs)}`,
      );
      assert.equal(procs[0].scanned + procs[1].scanned, n);

      // A silent worker (stopped with SIGSTOP) does not hang the scrape: it is left out after
      // worker_timeout_ms and its last numbers are reused, so no counter goes down.
      const workers = spawnSync('pgrep', ['-P', String(h.proc.pid)], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n')
        .map(Number)
        .filter(Boolean);
      assert.equal(workers.length, 2, `worker pids: ${workers.join(', ')}`);
      process.kill(workers[0], 'SIGSTOP');
      try {
        const t1 = Date.now();
        const partial = (await scrape(h)).families;
        const took = Date.now() - t1;
        assert.ok(took < 3000, `scrape with a silent worker took ${took} ms`);
        assert.equal(value(partial, 'phishx_cluster_workers', { state: 'silent' }), 1);
        assert.equal(value(partial, 'phishx_messages_scanned_total'), n, "the silent worker's last counts are kept");
        const stale = (await perProcess()).find((p) => p.pid === workers[0]);
        assert.ok(stale && typeof stale.stale_ms === 'number', JSON.stringify(stale));
        // /health answers from its cache at once and turns DEGRADED when the refresh sees the silent worker.
        const t2 = Date.now();
        let quick = '';
        while (Date.now() - t2 < 5000 && quick !== 'DEGRADED') {
          quick = ((await (await fetchFresh(`http://127.0.0.1:${h.sidecarPort}/health`)).json()) as { status: string }).status;
          if (quick !== 'DEGRADED') await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(quick, 'DEGRADED');
      } finally {
        process.kill(workers[0], 'SIGCONT');
      }
      await waitHealth(h, (x) => x.status === 'HEALTHY'); // the stopped worker is back
      await clamd.kill!();
      const s = await waitHealth(h, (x) => x.status === 'DEGRADED' && x.problems.some((p) => p.startsWith('clamav:')));
      assert.ok(s < 5, `clamd stop seen after ${s} s`);
      await clamd.revive!();
      await waitHealth(h, (x) => x.status === 'HEALTHY');
    } finally {
      await h.stop();
    }
  });
});
