import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { ConfigError } from '../../lib/errors.js';
import { channelsOf, emailMessage, pagerDutyEvent, slackMessage } from '../../lib/alerts/channels.js';
import { parseMatcher, step, type AlertRecord, type Notification, type Silence } from '../../lib/alerts/engine.js';
import { evaluate, type AlertInputs, type Observation, type Thresholds } from '../../lib/alerts/rules.js';
import { Alerting, thresholdsOf } from '../../lib/alerts/service.js';
import { RedisStore } from '../../lib/store/redis.js';
import { testRedis } from '../helpers/redis.js';
import { randomBytes } from 'node:crypto';
import { MemoryStore } from '../../lib/store/memory.js';
import type { MetricJson } from '../../lib/metrics/cluster.js';
import { durationSeconds } from '../../lib/cli/review.js';
import { startHttpServer } from '../helpers/http-server.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';

const T: Thresholds = thresholdsOf(buildConfig({}, { env: {} }).alerts);

const counter = (name: string, value: number): MetricJson => ({ name, help: '', type: 'counter', aggregator: 'sum', values: [{ value, labels: {} }] });
/** A scan-duration histogram with `n` scans of about `seconds` each. */
function scans(n: number, seconds: number): MetricJson {
  const les = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  return {
    name: 'phishx_scan_duration_seconds',
    help: '',
    type: 'histogram',
    aggregator: 'sum',
    values: [
      ...les.map((le) => ({ value: seconds <= le ? n : 0, labels: { le }, metricName: 'phishx_scan_duration_seconds_bucket' })),
      { value: n, labels: { le: '+Inf' }, metricName: 'phishx_scan_duration_seconds_bucket' },
      { value: n, labels: {}, metricName: 'phishx_scan_duration_seconds_count' },
    ],
  };
}

function inputs(over: Partial<AlertInputs> = {}): AlertInputs {
  return { now: 1_000_000, metrics: [], hourAgo: null, fiveMinAgo: null, services: [], queues: {}, datastoreMs: null, campaigns: [], ...over };
}
const find = (i: AlertInputs, alert: string, label?: string): ReturnType<typeof evaluate>[number] | undefined =>
  evaluate(i, T).find((o) => o.alert === alert && (label === undefined || Object.values(o.labels).includes(label)));

describe('alert rules', () => {
  it('scan latency: p95 of the last five minutes, not of all time', () => {
    const slowNow = inputs({ metrics: [scans(100, 0.01), scans(0, 0)].slice(0, 1), fiveMinAgo: null });
    assert.equal(find(slowNow, 'scan_latency')?.severity, null);
    // 1000 fast scans long ago, 100 of 6 s in the last five minutes: critical.
    const before = scans(1000, 0.01);
    const now = scans(1000, 0.01);
    for (const v of now.values) if (v.metricName?.endsWith('_bucket') && (v.labels.le === 10 || v.labels.le === 30 || v.labels.le === '+Inf')) v.value += 100;
    const o = find(inputs({ metrics: [now], fiveMinAgo: [before] }), 'scan_latency');
    assert.equal(o?.severity, 'critical');
    assert.ok(o.value >= 5000, String(o?.value));
  });

  it('rate-limit abuse and auth failures count the last hour (a counter reset counts from zero)', () => {
    const i = inputs({
      metrics: [counter('phishx_http_rate_limited_total', 1300), counter('phishx_http_auth_failures_total', 20)],
      hourAgo: [counter('phishx_http_rate_limited_total', 200)],
    });
    assert.equal(find(i, 'rate_limit_abuse')?.severity, 'critical');
    assert.equal(find(i, 'rate_limit_abuse')?.value, 1100);
    assert.equal(find(i, 'auth_failures')?.severity, 'warn');
    const reset = inputs({ metrics: [counter('phishx_http_auth_failures_total', 3)], hourAgo: [counter('phishx_http_auth_failures_total', 500)] });
    assert.equal(find(reset, 'auth_failures')?.value, 3);
  });

  it('services: success rate, a breaker open past the limit, a failing health check', () => {
    const i = inputs({
      now: 200_000,
      services: [
        { service: 'nlp', successes: 90, failures: 10, openSince: null },
        { service: 'reputation', successes: 1, failures: 9, openSince: null },
        { service: 'redis', successes: 0, failures: 0, openSince: 100_000 },
        { service: 'clamav', successes: 0, failures: 0, openSince: null, probeOk: false },
        { service: 'few', successes: 1, failures: 2, openSince: null },
      ],
    });
    assert.equal(find(i, 'service_availability', 'nlp')?.severity, 'warn');
    assert.equal(find(i, 'service_availability', 'reputation')?.severity, 'critical');
    assert.equal(find(i, 'service_availability', 'redis')?.severity, 'critical');
    assert.match(find(i, 'service_availability', 'redis')!.summary, /open for 100 s/);
    assert.equal(find(i, 'service_availability', 'clamav')?.severity, 'critical');
    assert.equal(find(i, 'service_availability', 'few')?.severity, null, 'three calls are too few to judge');
  });

  it('queues, store latency and campaigns', () => {
    const i = inputs({
      queues: { pending_spool: 1200, 'webhook_backlog:soar': 6000 },
      datastoreMs: 7000,
      campaigns: [{ id: 'a1', key: 'sender:evil.example', recent: 30, samples: ['a1', 'q1'] }],
    });
    assert.equal(find(i, 'queue_depth', 'pending_spool')?.severity, 'warn');
    assert.equal(find(i, 'queue_depth', 'webhook_backlog:soar')?.severity, 'critical');
    assert.equal(find(i, 'datastore_latency')?.severity, 'warn');
    const c = find(i, 'campaign_surge');
    assert.equal(c?.severity, 'warn');
    assert.deepEqual(c?.samples, ['a1', 'q1']);
  });
});

describe('alert states', () => {
  const opts = { forMs: 30_000, repeatMs: 4 * 3_600_000, historyMs: 86_400_000 };
  const crit: Observation = {
    alert: 'service_availability',
    labels: { service: 'clamav' },
    severity: 'critical',
    value: 0,
    threshold: 80,
    summary: 'clamav down',
  };
  const ok: Observation = { ...crit, severity: null, value: 100, summary: 'clamav fine' };
  const run = (seq: Array<[number, Observation[]]>, silences: Silence[] = []): Array<[number, Notification[]]> => {
    let records = new Map<string, AlertRecord>();
    const out: Array<[number, Notification[]]> = [];
    for (const [t, obs] of seq) {
      const r = step(records, obs, t, opts, silences);
      records = r.records;
      out.push([t, r.notifications]);
    }
    return out;
  };
  const kinds = (out: Array<[number, Notification[]]>): string[] => out.flatMap(([t, ns]) => ns.map((n) => `${t}:${n.kind}:${n.record.severity}`));

  it('fires once after `for`, never repeats before repeat_interval, and resolves once', () => {
    const out = run([
      [0, [crit]],
      [10_000, [crit]],
      [30_000, [crit]],
      [40_000, [crit]],
      [3_600_000, [crit]],
      [3_610_000, [ok]],
      [3_620_000, [ok]],
    ]);
    assert.deepEqual(kinds(out), ['30000:firing:critical', '3610000:resolved:critical']);
  });

  it('a blip shorter than `for` notifies nobody; repeats after repeat_interval; a severity change notifies at once', () => {
    assert.deepEqual(
      kinds(
        run([
          [0, [crit]],
          [10_000, [ok]],
          [20_000, [crit]],
          [40_000, [ok]],
        ]),
      ),
      [],
    );
    const warn: Observation = { ...crit, severity: 'warn' };
    const out = run([
      [0, [warn]],
      [30_000, [warn]],
      [40_000, [crit]],
      [40_000 + 4 * 3_600_000, [crit]],
    ]);
    assert.deepEqual(kinds(out), ['30000:firing:warn', '40000:firing:critical', `${40_000 + 4 * 3_600_000}:repeat:critical`]);
  });

  it('a silence suppresses notifications while it lasts; the alert is notified once it ends', () => {
    const silences: Silence[] = [{ id: 's1', matcher: 'service_availability{service=clamav}', until: 50_000, by: 'test', createdAt: 0 }];
    const out = run(
      [
        [0, [crit]],
        [30_000, [crit]],
        [45_000, [crit]],
        [60_000, [crit]],
      ],
      silences,
    );
    assert.deepEqual(kinds(out), ['60000:firing:critical']);
    assert.deepEqual(
      kinds(
        run(
          [
            [0, [crit]],
            [30_000, [crit]],
          ],
          [{ ...silences[0], matcher: 'service_*' }],
        ),
      ),
      [],
      'wildcards match',
    );
    assert.deepEqual(
      kinds(
        run(
          [
            [0, [crit]],
            [30_000, [crit]],
          ],
          [{ ...silences[0], matcher: 'service_availability{service=nlp}' }],
        ),
      ),
      ['30000:firing:critical'],
    );
    assert.throws(() => parseMatcher('bad matcher!'), /expected alert or alert\{label=value/);
  });
});

describe('alert channels (local servers speaking Slack, PagerDuty and SMTP)', () => {
  const n = (kind: Notification['kind']): Notification => ({
    kind,
    record: {
      fingerprint: 'service_availability{service=clamav}',
      alert: 'service_availability',
      labels: { service: 'clamav' },
      state: kind === 'resolved' ? 'resolved' : 'firing',
      severity: 'critical',
      value: 0,
      threshold: 80,
      summary: 'clamav: health check failing',
      since: 1000,
      firingSince: 31_000,
    },
  });
  const ctx = { node: 'mx1:9464', linksBaseUrl: 'https://phishx.example.com', grafanaUrl: 'https://grafana.example.com/d/phishx' };

  it('builds a Slack Block Kit message, a PagerDuty v2 trigger / resolve with one dedup key, and a mail', () => {
    const s = slackMessage([n('firing')], ctx) as {
      text: string;
      attachments: Array<{ color: string; blocks: Array<{ type: string; elements?: Array<{ url: string }> }> }>;
    };
    assert.match(s.text, /\[CRITICAL\] service_availability\{service=clamav\}/);
    assert.equal(s.attachments[0].color, '#d62728');
    assert.deepEqual(
      s.attachments[0].blocks.map((b) => b.type),
      ['section', 'section', 'actions'],
    );
    assert.deepEqual(
      s.attachments[0].blocks[2].elements!.map((e) => e.url),
      ['https://phishx.example.com/api/v1/alerts', 'https://grafana.example.com/d/phishx'],
    );
    const trig = pagerDutyEvent(n('firing'), 'R0UTING', ctx) as { event_action: string; dedup_key: string; payload: { severity: string; source: string } };
    const res = pagerDutyEvent(n('resolved'), 'R0UTING', ctx) as { event_action: string; dedup_key: string };
    assert.equal(trig.event_action, 'trigger');
    assert.equal(trig.payload.severity, 'critical');
    assert.equal(trig.payload.source, 'mx1:9464');
    assert.equal(res.event_action, 'resolve');
    assert.equal(res.dedup_key, trig.dedup_key);
    const m = emailMessage([n('firing'), n('resolved')], ctx);
    assert.match(m.subject, /2 alerts changed/);
    assert.match(m.text, /RESOLVED/);
    assert.match(m.html, /border-left:4px solid #2ca02c/);
  });

  it('sends to Slack, PagerDuty and SMTP; a refusal is an error with the status (for the retry)', async () => {
    let slackStatus = 200;
    const slack = await startHttpServer((_req, _body, res) => {
      res.writeHead(slackStatus, { 'content-type': 'text/plain' });
      res.end(slackStatus === 200 ? 'ok' : 'invalid_payload');
    });
    const pd = await startHttpServer((_req, body, res) => {
      const e = JSON.parse(body) as { dedup_key: string };
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: e.dedup_key }));
    });
    const sink = await startSmtpSink();
    const store = new MemoryStore();
    try {
      const config = buildConfig(
        {
          'alerts.slack': { url: slack.url },
          'alerts.pagerduty': { routing_key: 'R0UTING', url: pd.url },
          'alerts.email': { smtp: `127.0.0.1:${sink.port}`, to: 'soc@example.org', from: 'phishx@mx1.example', tls: 'none' },
        },
        { env: {} },
      );
      const chans = channelsOf(config, () => store, ctx);
      assert.deepEqual(
        chans.map((c) => c.name),
        ['slack', 'pagerduty', 'email'],
      );
      for (const c of chans) await c.send([n('firing')]);
      assert.equal(slack.requests.length, 1);
      assert.equal((JSON.parse(slack.requests[0].body) as { attachments: unknown[] }).attachments.length, 1);
      assert.equal((JSON.parse(pd.requests[0].body) as { routing_key: string }).routing_key, 'R0UTING');
      assert.equal(sink.messages.length, 1);
      assert.deepEqual(sink.messages[0].to, ['soc@example.org']);
      assert.match(sink.messages[0].data, /Subject: PhishX \[CRITICAL\]/);
      slackStatus = 400;
      await assert.rejects(chans[0].send([n('firing')]), (e: { status?: number; message: string }) => e.status === 400 && /invalid_payload/.test(e.message));
    } finally {
      await store.close();
      await slack.close();
      await pd.close();
      await sink.close();
    }
  });

  it('config: thresholds in order, email needs recipients, URLs are URLs; durations for the CLI', () => {
    const bad = (raw: Record<string, Record<string, string>>, re: RegExp): void =>
      assert.throws(
        () => buildConfig(raw, { env: {} }),
        (e: unknown) => e instanceof ConfigError && re.test(e.message),
      );
    bad({ alerts: { queue_warn: '9000', queue_critical: '100' } }, /\[alerts\] queue warn \(9000\) must be at most its critical threshold/);
    bad({ alerts: { availability_warn_pct: '50', availability_critical_pct: '80' } }, /availability warn \(50\) must be at least/);
    bad({ 'alerts.email': { smtp: '127.0.0.1:25' } }, /\[alerts\.email\] to: give at least one recipient/);
    bad({ 'alerts.slack': { url: 'hooks.slack.com/x' } }, /\[alerts\.slack\] url: expected an http\(s\) URL/);
    assert.equal(durationSeconds('2h'), 7200);
    assert.equal(durationSeconds('30m'), 1800);
    assert.throws(() => durationSeconds('10s'), /between 1m and 30d/);
    assert.throws(() => durationSeconds('soon'), /duration like/);
  });
});

describe('alerting on several nodes (one Redis)', () => {
  it('exactly one node notifies, and a node taking over does not notify again', async (t) => {
    const r = await testRedis();
    if ('skip' in r) return t.skip(r.skip);
    const prefix = `phishx-al:${randomBytes(4).toString('hex')}:`;
    const stores = [new RedisStore({ url: r.url, keyPrefix: prefix }), new RedisStore({ url: r.url, keyPrefix: prefix })];
    const config = buildConfig({ alerts: { for_s: '0', interval_s: '1' } }, { env: {} });
    const nodes = stores.map(
      (store, i) =>
        new Alerting({
          store: () => store,
          config: () => config,
          metrics: async () => [],
          health: async () => ({ probes: { clamav: false }, storeMs: 1 }),
          breakers: async () => [],
          node: `node-${i}`,
          log: () => undefined,
        }),
    );
    try {
      const sent: string[] = [];
      for (let round = 0; round < 3; round++)
        for (const [i, n] of nodes.entries()) for (const x of await n.tick()) sent.push(`node-${i}:${x.kind}:${x.record.fingerprint}`);
      assert.deepEqual(sent, ['node-0:firing:service_availability{service=clamav}']);
      // node-0 goes away: its lease runs out, node-1 takes over with the stored state, silently.
      await stores[0].client.del(`${prefix}lease:alerts`);
      assert.deepEqual(await nodes[1].tick(), []);
      assert.equal((await stores[1].getDoc<unknown[]>('alerts-state')).value?.length, 1);
    } finally {
      for (const n of nodes) n.stop();
      const keys = await stores[0].client.keys(`${prefix}*`);
      if (keys.length) await stores[0].client.del(...keys);
      for (const s of stores) await s.close();
      await r.stop();
    }
  });
});
