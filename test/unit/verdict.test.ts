import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { aggregate } from '../../lib/verdict/aggregate.js';
import { decide, stricter, tenantFor } from '../../lib/verdict/policy.js';
import { formatHeaders, smtpReply } from '../../lib/verdict/actions.js';
import type { ScanResult } from '../../lib/scan.js';

const config = buildConfig(
  { thresholds: { quarantine: 40, reject: 70 }, 'tenant.monitor.example': { mode: 'monitor' }, 'tenant.strict.example': { quarantine: 10, reject: 20 } },
  { env: {} },
);

describe('aggregate', () => {
  it('counts each reason code once, at its largest weight, keeping up to three details', () => {
    const r = aggregate([
      { code: 'URL_IP_LITERAL', detail: 'http://1.1.1.1/a' },
      { code: 'URL_IP_LITERAL', detail: 'http://1.1.1.2/b' },
      { code: 'URL_IP_LITERAL', detail: 'http://1.1.1.3/c' },
      { code: 'URL_IP_LITERAL', detail: 'http://1.1.1.4/d' },
    ]);
    assert.equal(r.score, 30);
    assert.equal(r.reasons.length, 1);
    assert.equal(r.reasons[0].detail.split('; ').length, 3);
  });

  it('caps the score at 100 and orders reasons by weight', () => {
    const r = aggregate([
      { code: 'URL_SHORTENER', detail: '' },
      { code: 'URL_BRAND_LOOKALIKE', detail: '' },
      { code: 'SENDER_BRAND_UNLISTED_DOMAIN', detail: '' },
      { code: 'URL_JAVASCRIPT', detail: '' },
    ]);
    assert.equal(r.score, 100);
    assert.deepEqual(
      r.reasons.map((x) => x.code),
      ['URL_BRAND_LOOKALIKE', 'SENDER_BRAND_UNLISTED_DOMAIN', 'URL_JAVASCRIPT', 'URL_SHORTENER'],
    );
  });

  it('applies [weights] overrides', () => {
    assert.equal(aggregate([{ code: 'URL_SHORTENER', detail: '' }], { URL_SHORTENER: 0 }).score, 0);
    assert.equal(aggregate([{ code: 'URL_SHORTENER', detail: '' }], { URL_SHORTENER: 33 }).score, 33);
  });

  it('keeps the grade of a graded signal under a [weights] override (NLP_PHISH: the override is its maximum, already applied)', () => {
    // Before: an override replaced the grade, so [weights] NLP_PHISH = 40 gave p = 0.55 the full 40.
    assert.equal(aggregate([{ code: 'NLP_PHISH', weight: 8, detail: 'p=0.550' }], { NLP_PHISH: 40 }).score, 8);
  });

  it('gives an empty signal list score 0 and no reasons', () => {
    assert.deepEqual(aggregate([]), { score: 0, reasons: [] });
  });
});

describe('policy', () => {
  it('maps the score onto allow / quarantine / reject at the thresholds (inclusive)', () => {
    assert.equal(decide(39, [], ['example.org'], config).action, 'allow');
    assert.equal(decide(40, [], ['example.org'], config).action, 'quarantine');
    assert.equal(decide(69, [], ['example.org'], config).action, 'quarantine');
    assert.equal(decide(70, [], ['example.org'], config).action, 'reject');
  });

  it('in a monitor tenant never rejects but records the would-be action', () => {
    const v = decide(90, [], ['monitor.example'], config);
    assert.equal(v.action, 'allow');
    assert.equal(v.wouldAction, 'reject');
    assert.equal(v.mode, 'monitor');
  });

  it('with recipients in several tenants, the strictest enforced action wins', () => {
    const v = decide(30, [], ['monitor.example', 'strict.example', 'example.org'], config);
    assert.equal(v.action, 'reject');
    assert.equal(v.tenant, 'strict.example');
  });

  it('a monitor tenant beside an enforce tenant does not loosen the answer', () => {
    assert.equal(decide(90, [], ['monitor.example', 'example.org'], config).action, 'reject');
  });

  it('finds a tenant by parent domain', () => {
    assert.equal(tenantFor('mail.eu.strict.example', config).name, 'strict.example');
    assert.equal(tenantFor('unknown.example', config).name, 'default');
  });

  it('orders actions tempfail > reject > quarantine > allow', () => {
    assert.equal(stricter('allow', 'quarantine'), 'quarantine');
    assert.equal(stricter('reject', 'quarantine'), 'reject');
    assert.equal(stricter('reject', 'tempfail'), 'tempfail');
  });
});

describe('actions', () => {
  const result = (over: Partial<ScanResult['verdict']> = {}): ScanResult => ({
    id: '0123456789abcdef',
    skipped: null,
    durationMs: 1,
    phases: {},
    summary: { bytes: 1, parts: 1, urls: 0, attachments: 0, subject: '', from: '' },
    verdict: {
      action: 'allow',
      wouldAction: 'allow',
      score: 12,
      mode: 'enforce',
      tenant: 'default',
      reasons: [
        { code: 'URL_SHORTENER', weight: 10, detail: 'bit.ly' },
        { code: 'SENDER_REPLY_TO_MISMATCH', weight: 0, detail: '' },
      ],
      ...over,
    },
  });

  it('writes Verdict, Score, Reasons (weighted only) and Id headers', () => {
    const h = new Map(formatHeaders(result(), 10));
    assert.equal(h.get('X-PhishX-Verdict'), 'allow');
    assert.equal(h.get('X-PhishX-Score'), '12');
    assert.equal(h.get('X-PhishX-Reasons'), 'URL_SHORTENER(10)');
    assert.equal(h.get('X-PhishX-Id'), '0123456789abcdef');
    assert.equal(h.has('X-PhishX-Would-Action'), false);
  });

  it('adds Mode and Would-Action headers in monitor mode', () => {
    const h = new Map(formatHeaders(result({ action: 'allow', wouldAction: 'reject', mode: 'monitor' }), 10));
    assert.equal(h.get('X-PhishX-Mode'), 'monitor');
    assert.equal(h.get('X-PhishX-Would-Action'), 'reject');
  });

  it('limits the reasons header and says how many were left out', () => {
    const r = result();
    r.verdict.reasons = [1, 2, 3].map(() => ({ code: 'URL_SHORTENER' as const, weight: 10, detail: '' }));
    assert.equal(new Map(formatHeaders(r, 2)).get('X-PhishX-Reasons'), 'URL_SHORTENER(10), URL_SHORTENER(10), +1');
  });

  it('puts the scan id in every SMTP reply', () => {
    for (const a of ['allow', 'quarantine', 'reject', 'tempfail'] as const) assert.match(smtpReply(a, 'abc123').text, /abc123/);
    assert.equal(smtpReply('reject', 'x').code, 550);
    assert.equal(smtpReply('tempfail', 'x').code, 451);
  });
});
