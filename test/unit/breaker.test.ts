import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { HttpTextClassifier } from '../../lib/nlp/http-client.js';
import { breakerEvents, breakerState, type BreakerStateEvent } from '../../lib/resilience/breaker.js';
import { scanMessage } from '../../lib/scan.js';
import { ClamdClient } from '../../lib/clamav/client.js';
import { json, startHttpServer, type TestServer } from '../helpers/http-server.js';
import { phishMessage } from '../helpers/messages.js';
import { toCrlf } from '../helpers/smtp.js';

const breaker = { volume_threshold: 5, error_threshold_percentage: 50, reset_timeout_ms: 300, rolling_window_ms: 10_000 };

describe('circuit breaker around the NLP service', () => {
  let flaky: TestServer;
  let healthy = false;
  before(async () => {
    flaky = await startHttpServer((_req, _b, res) => (healthy ? json(res, 200, [{ label: 'phishing', score: 0.2 }]) : json(res, 503, { error: 'overloaded' })));
  });
  after(async () => {
    await flaky.close();
  });

  it('opens after repeated 5xx, fails fast while open, probes after reset_timeout and closes when healed', async () => {
    const events: string[] = [];
    const onState = (e: BreakerStateEvent): void => {
      if (e.service === 'nlp') events.push(e.state);
    };
    breakerEvents.on('state', onState);
    const cfg = buildConfig({ nlp: { url: flaky.url, timeout_ms: 2000 } }, { env: {} });
    const c = new HttpTextClassifier(cfg.nlp, {}, breaker);
    try {
      for (let i = 0; i < 6; i++) await assert.rejects(c.classify('x'));
      assert.equal(breakerState('nlp'), 'open');
      const seen = flaky.requests.length;
      const t0 = performance.now();
      await assert.rejects(c.classify('x'), (e: unknown) => (e as { code?: string }).code === 'PHISHX_BREAKER_OPEN');
      assert.ok(performance.now() - t0 < 100, 'an open breaker should not wait for the service');
      assert.equal(flaky.requests.length, seen, 'an open breaker must not call the service');
      healthy = true;
      await new Promise((r) => setTimeout(r, 350));
      assert.equal((await c.classify('x')).p, 0.2); // the half-open probe
      assert.equal(breakerState('nlp'), 'closed');
      assert.deepEqual(events, ['open', 'half_open', 'closed']);
    } finally {
      breakerEvents.off('state', onState);
      await c.close();
    }
  });

  it('an open breaker becomes NLP_UNAVAILABLE in the scan, and the embedded model still decides', async () => {
    healthy = false;
    const cfg = buildConfig({ nlp: { url: flaky.url, timeout_ms: 2000 } }, { env: {} });
    const c = new HttpTextClassifier(cfg.nlp, {}, breaker);
    try {
      for (let i = 0; i < 6; i++) await c.classify('x').catch(() => undefined);
      const r = await scanMessage(toCrlf(phishMessage()), { mailFrom: '', rcptTo: ['bob@example.org'] }, cfg, undefined, { classifier: c });
      const nlp = r.verdict.reasons.find((x) => x.code === 'NLP_UNAVAILABLE');
      assert.match(nlp?.detail ?? '', /circuit open/);
      assert.match(r.verdict.reasons.find((x) => x.code === 'NLP_PHISH')?.detail ?? '', /embedded fallback/);
    } finally {
      await c.close();
    }
  });
});

describe('circuit breaker per clamd host', () => {
  it('skips a failing host at once after its breaker opens', async () => {
    const c = new ClamdClient(['127.0.0.1:1'], 1000, breaker);
    for (let i = 0; i < 6; i++) await assert.rejects(c.scan(Buffer.from('x')));
    assert.equal(breakerState('clamav 127.0.0.1:1'), 'open');
    await assert.rejects(c.scan(Buffer.from('x')), /circuit open/);
  });
});
