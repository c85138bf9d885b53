import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAMILY_DOCS, processMetrics, processRegistry } from '../../lib/metrics/catalog.js';
import { recordServiceCall, recordVerdict } from '../../lib/metrics/collect.js';
import { degradedService, errorKind, reasonLabel, tenantLabel } from '../../lib/metrics/labels.js';
import { histogramQuantile } from '../../lib/metrics/summary.js';
import { RateLimiter } from '../../lib/sidecar/rate-limit.js';
import { CachedCheck } from '../../lib/sidecar/cache.js';
import { TokenVerifier, bearerOf, hashToken } from '../../lib/sidecar/auth.js';
import { judge, mainThreadProblem } from '../../lib/sidecar/health.js';
import { buildConfig } from '../../lib/config/load.js';
import { ConfigError, NlpServiceError } from '../../lib/errors.js';
import { BreakerOpenError } from '../../lib/resilience/breaker.js';
import type { VerdictEvent } from '../../lib/events.js';

async function sample(name: string, labels: Record<string, string> = {}): Promise<number> {
  const fam = (await processRegistry.getMetricsAsJSON()).find((m) => m.name === name);
  assert.ok(fam, name);
  return (fam.values as Array<{ value: number; labels: Record<string, unknown>; metricName?: string }>)
    .filter((v) => !v.metricName || v.metricName === name || v.metricName === `${name}_count`)
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
    .reduce((a, v) => a + v.value, 0);
}

describe('metric catalog', () => {
  it('has at least 40 uniquely named phishx_ families in base units, counters ending in _total', () => {
    assert.ok(FAMILY_DOCS.length >= 40, String(FAMILY_DOCS.length));
    assert.equal(new Set(FAMILY_DOCS.map((f) => f.name)).size, FAMILY_DOCS.length);
    for (const f of FAMILY_DOCS) {
      assert.match(f.name, /^phishx_[a-z0-9_]+$/);
      assert.equal(f.type === 'counter', f.name.endsWith('_total'), f.name);
      assert.doesNotMatch(f.name, /_(ms|milliseconds|kb|mb)(_|$)/, `${f.name}: use base units`);
      assert.ok(f.help.length > 10);
    }
  });

  it('labels stay bounded: unknown tenants and reason codes collapse, error kinds come from codes', () => {
    assert.equal(tenantLabel('example.org', new Set(['example.org'])), 'example.org');
    assert.equal(tenantLabel('attacker-chosen.example', new Set(['example.org'])), 'other');
    assert.equal(tenantLabel('default', new Set()), 'default');
    assert.equal(reasonLabel('URL_IP_LITERAL'), 'URL_IP_LITERAL');
    assert.equal(reasonLabel('NOT_A_CODE'), 'other');
    // The degraded service comes from the reason table's flag, not from the code's spelling.
    assert.equal(degradedService('NLP_UNAVAILABLE'), 'nlp');
    assert.equal(degradedService('CLAMAV_UNAVAILABLE'), 'clamav');
    assert.equal(degradedService('REPUTATION_UNAVAILABLE'), 'reputation');
    assert.equal(degradedService('URL_SHORTENER'), null);
    assert.equal(errorKind(new NlpServiceError('PHISHX_NLP_TIMEOUT', 'x')), 'timeout');
    assert.equal(errorKind(new NlpServiceError('PHISHX_NLP_HTTP_STATUS', 'x')), 'http_status');
    assert.equal(errorKind(new NlpServiceError('PHISHX_NLP_BAD_RESPONSE', 'x')), 'bad_response');
    assert.equal(errorKind(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), 'unreachable');
    assert.equal(errorKind(new BreakerOpenError('nlp')), 'breaker_open');
    assert.equal(errorKind(new Error('x', { cause: Object.assign(new Error('y'), { code: 'ECONNRESET' }) })), 'unreachable');
    assert.equal(errorKind('weird'), 'other');
  });

  it('records a verdict event: action × tenant, histograms, reasons, degraded services, held bytes', async () => {
    const before = await sample('phishx_messages_scanned_total', { action: 'quarantine', tenant: 'other' });
    const heldBytes = await sample('phishx_quarantine_held_bytes_total');
    const ev: VerdictEvent = {
      smtpCode: 250,
      quarantineId: 'q1',
      heldIn: 'spool',
      at: new Date(),
      envelope: { mailFrom: 'a@b.example', rcptTo: ['x@unconfigured.example'] },
      result: {
        id: 'x',
        skipped: null,
        durationMs: 12,
        phases: { parse: 2, nlp: 1 },
        summary: { bytes: 1234, parts: 2, urls: 3, attachments: 0, subject: '', from: '' },
        verdict: {
          action: 'quarantine',
          wouldAction: 'quarantine',
          score: 55,
          mode: 'enforce',
          tenant: 'unconfigured.example',
          reasons: [
            { code: 'NLP_UNAVAILABLE', weight: 0, detail: '' },
            { code: 'URL_IP_LITERAL', weight: 25, detail: '' },
          ],
        },
      },
    };
    recordVerdict(ev, new Set());
    assert.equal(await sample('phishx_messages_scanned_total', { action: 'quarantine', tenant: 'other' }), before + 1);
    assert.equal(await sample('phishx_quarantine_held_bytes_total'), heldBytes + 1234);
    assert.ok((await sample('phishx_quarantine_held_total', { where: 'spool' })) >= 1);
    assert.ok((await sample('phishx_scans_degraded_total', { service: 'nlp' })) >= 1);
    assert.ok((await sample('phishx_reasons_total', { code: 'URL_IP_LITERAL' })) >= 1);
    assert.ok((await sample('phishx_analyzer_duration_seconds', { analyzer: 'parse' })) >= 1);
  });

  it('records service calls by outcome and error kind, and availability', async () => {
    recordServiceCall({ service: 'unit-svc', outcome: 'success', seconds: 0.01 });
    recordServiceCall({ service: 'unit-svc', outcome: 'failure', seconds: 0.5, error: new NlpServiceError('PHISHX_NLP_TIMEOUT', 't') });
    assert.equal(await sample('phishx_service_calls_total', { service: 'unit-svc', outcome: 'failure' }), 1);
    assert.equal(await sample('phishx_service_errors_total', { service: 'unit-svc', kind: 'timeout' }), 1);
    assert.equal(await sample('phishx_service_available', { service: 'unit-svc' }), 0);
    processMetrics.serviceUp.remove({ service: 'unit-svc' });
  });
});

describe('histogramQuantile', () => {
  it('interpolates within buckets like PromQL', () => {
    const v = (le: string, value: number) => ({ value, labels: { le }, metricName: 'h_bucket' });
    const values = [v('0.1', 50), v('0.5', 90), v('1', 100), v('+Inf', 100)];
    assert.equal(histogramQuantile(values, 0.5), 0.1);
    assert.ok(Math.abs(histogramQuantile(values, 0.7)! - 0.3) < 1e-9);
    assert.equal(histogramQuantile([], 0.5), null);
  });
});

describe('RateLimiter', () => {
  it('allows a burst, then the sustained rate, with Retry-After in whole seconds', () => {
    const rl = new RateLimiter(2, 3);
    assert.ok([0, 0, 0].every((t) => rl.take('a', t).ok));
    const denied = rl.take('a', 0);
    assert.deepEqual(denied, { ok: false, retryAfterS: 1 });
    assert.ok(rl.take('b', 0).ok, 'clients are independent');
    assert.ok(rl.take('a', 500).ok, 'one token back after 0.5 s at 2/s');
    assert.equal(rl.take('a', 500).ok, false);
  });

  it('is off at 0/s and bounded in clients', () => {
    assert.ok(new RateLimiter(0, 1).take('x', 0).ok);
    const rl = new RateLimiter(1, 1, 100);
    for (let i = 0; i < 1000; i++) rl.take(`ip:${i}`, i);
    assert.ok(rl.size <= 100, String(rl.size));
  });
});

describe('CachedCheck', () => {
  it('shares one computation among concurrent callers and reuses it within the TTL', async () => {
    let now = 0;
    let calls = 0;
    const c = new CachedCheck(
      async () => ++calls,
      () => 1000,
      1,
      () => now,
    );
    assert.deepEqual(await Promise.all([c.get(), c.get(), c.get()]), [1, 1, 1]);
    now = 999;
    assert.equal(await c.get(), 1);
    now = 1000;
    assert.equal(await c.get(), 2);
  });

  it('answers a recent stale value at once and refreshes behind it (staleFactor 2)', async () => {
    let now = 0;
    let calls = 0;
    const c = new CachedCheck(
      async () => ++calls,
      () => 100,
      2,
      () => now,
    );
    assert.equal(await c.get(), 1);
    now = 150;
    assert.equal(await c.get(), 1, 'stale answer');
    await new Promise((r) => setImmediate(r));
    assert.equal(await c.get(), 2, 'refreshed in the background');
    now = 1000;
    assert.equal(await c.get(), 3, 'too old: awaited');
  });

  it('a failing check rejects its callers and is retried next time', async () => {
    let fail = true;
    const c = new CachedCheck(
      async () => {
        if (fail) throw new Error('down');
        return 'up';
      },
      () => 1000,
    );
    await assert.rejects(c.get(), /down/);
    fail = false;
    assert.equal(await c.get(), 'up');
  });
});

describe('API tokens', () => {
  it('verifies against stored hashes only, and parses Bearer headers strictly', () => {
    const v = new TokenVerifier([
      { hash: hashToken('first-token-0123456789'), scope: 'admin' },
      { hash: hashToken('second-token-0123456789'), scope: 'read', tenant: 'example.org' },
    ]);
    const p = v.verify('second-token-0123456789');
    assert.match(p?.id ?? '', /^token:[0-9a-f]{8}$/);
    assert.equal(p?.scope, 'read');
    assert.equal(p?.tenant, 'example.org');
    assert.equal(v.verify('first-token-0123456789')?.tenant, null);
    assert.equal(v.verify('second-token-012345678'), null);
    assert.equal(new TokenVerifier([]).verify('anything'), null);
    assert.equal(bearerOf('Bearer abc'), 'abc');
    assert.equal(bearerOf('bearer   abc '), 'abc');
    assert.equal(bearerOf('Basic abc'), null);
    assert.equal(bearerOf('Bearer a b'), null);
    assert.equal(bearerOf(undefined), null);
  });

  it('config accepts sha256 hashes, refuses plain tokens, and hashes PHISHX_API_TOKENS', () => {
    const h = hashToken('a-token-from-the-file-123');
    assert.deepEqual(buildConfig({ sidecar: { token_hashes: h } }, { env: {} }).sidecar.token_hashes, [h]);
    assert.throws(
      () => buildConfig({ sidecar: { token_hashes: 'hunter2-plain-token' } }, { env: {} }),
      (e: unknown) =>
        e instanceof ConfigError && e.key === 'sidecar.token_hashes' && /not sha256:<64 hex>/.test(e.message) && !e.message.includes('hunter2-plain-token'),
    );
    const scoped = buildConfig(
      { sidecar: { token_hashes: `${h}:read:Example.ORG, ${hashToken('act-token-0123456789')}:act` } },
      { env: { PHISHX_API_TOKENS_READ: 'read-token-0123456789' } },
    ).sidecar.tokens;
    assert.deepEqual(scoped, [
      { hash: h, scope: 'read', tenant: 'example.org' },
      { hash: hashToken('act-token-0123456789'), scope: 'act' },
      { hash: hashToken('read-token-0123456789'), scope: 'read' },
    ]);
    assert.throws(
      () => buildConfig({ sidecar: { token_hashes: `${h}:root` } }, { env: {} }),
      (e: unknown) => e instanceof ConfigError && /read\|act\|admin/.test(e.message),
    );
    assert.throws(
      () => buildConfig({}, { env: { PHISHX_API_TOKENS_ACT: 'short' } }),
      (e: unknown) => e instanceof ConfigError && /PHISHX_API_TOKENS_ACT/.test(e.message),
    );
    const fromEnv = buildConfig({}, { env: { PHISHX_API_TOKENS: 'env-token-0123456789, other-token-0123456789' } }).sidecar.token_hashes;
    assert.deepEqual(fromEnv, [hashToken('env-token-0123456789'), hashToken('other-token-0123456789')]);
    assert.throws(() => buildConfig({}, { env: { PHISHX_API_TOKENS: 'short' } }), /at least 16 characters/);
  });
});

describe('health judge', () => {
  const cfg = buildConfig({}, { env: {} });
  const deferClam = buildConfig({ defer: { clamav: 'true' } }, { env: {} });
  const base = () => ({
    components: {
      config: { ok: true },
      smtp: { ok: true },
      store: { ok: true, kind: 'redis' },
      clamav: { enabled: true, ok: true, hosts: [{ host: 'a:3310', ok: true }] },
      nlp: { mode: 'embedded' as const, ok: true },
    },
    breakers: [] as ReturnType<typeof import('../../lib/metrics/cluster.js').mergeBreakers>,
    workers: { asked: 0, responding: 0, silent: 0 },
  });

  it('HEALTHY when everything answers', () => {
    assert.deepEqual(judge(base(), cfg), { status: 'HEALTHY', problems: [] });
  });

  it('clamd down is DEGRADED when mail flows, UNHEALTHY when [defer] clamav answers 451', () => {
    const h = base();
    h.components.clamav = { enabled: true, ok: false, hosts: [{ host: 'a:3310', ok: false, error: 'ECONNREFUSED' } as never] };
    assert.equal(judge(h, cfg).status, 'DEGRADED');
    assert.match(judge(h, cfg).problems[0], /clamav: no clamd answered \(a:3310: ECONNREFUSED\); mail flows unscanned for viruses/);
    assert.equal(judge(h, deferClam).status, 'UNHEALTHY');
  });

  it('main thread: no heartbeat for 2 s is DEGRADED, for 30 s UNHEALTHY; numbers that did not arrive DEGRADED', () => {
    assert.equal(mainThreadProblem(500, 'responding'), null);
    assert.equal(mainThreadProblem(2500, 'responding')?.level, 'degraded');
    assert.match(mainThreadProblem(2500, 'responding')!.text, /no heartbeat for 2\.5 s/);
    assert.equal(mainThreadProblem(31_000, 'responding')?.level, 'bad');
    assert.equal(mainThreadProblem(100, 'silent')?.level, 'degraded');
    const h = base();
    assert.equal(judge({ ...h, main_thread: 'responding', main_thread_lag_ms: 31_000 }, cfg).status, 'UNHEALTHY');
    assert.equal(judge({ ...h, main_thread: 'responding', main_thread_lag_ms: 2500 }, cfg).status, 'DEGRADED');
  });

  it('store down, no worker answering or SMTP not listening is UNHEALTHY; one silent worker DEGRADED', () => {
    const s = base();
    s.components.store = { ok: false, kind: 'redis', error: 'ECONNREFUSED' } as never;
    assert.equal(judge(s, cfg).status, 'UNHEALTHY');
    const w = base();
    w.workers = { asked: 2, responding: 1, silent: 1 };
    assert.equal(judge(w, cfg).status, 'DEGRADED');
    w.workers = { asked: 2, responding: 0, silent: 2 };
    assert.equal(judge(w, cfg).status, 'UNHEALTHY');
    const smtp = base();
    smtp.components.smtp = { ok: false };
    assert.equal(judge(smtp, cfg).status, 'UNHEALTHY');
  });
});
