import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { scanMessage, skipReason } from '../../lib/scan.js';
import { nextOnce } from '../../lib/haraka/next-once.js';
import { phishMessage } from '../helpers/messages.js';
import { toCrlf } from '../helpers/smtp.js';

const config = buildConfig({ allowlist: { domains: 'partner.example', ips: '198.51.100.0/24, 2001:db8::/32' } }, { env: {} });
const base = { mailFrom: 'x@example.com', rcptTo: ['bob@example.org'] };

describe('skip rules', () => {
  it('skips relayed / authenticated sessions by default, not when skip_relaying=false', () => {
    assert.equal(skipReason({ ...base, relaying: true }, config), 'relaying');
    assert.equal(skipReason({ ...base, relaying: true }, buildConfig({ main: { skip_relaying: false } }, { env: {} })), null);
  });

  it('skips allowlisted client IPs (IPv4 CIDR, IPv4-mapped IPv6, IPv6 CIDR)', () => {
    assert.equal(skipReason({ ...base, remoteIp: '198.51.100.7' }, config), 'allowlist');
    assert.equal(skipReason({ ...base, remoteIp: '::ffff:198.51.100.7' }, config), 'allowlist');
    assert.equal(skipReason({ ...base, remoteIp: '2001:db8::1' }, config), 'allowlist');
    assert.equal(skipReason({ ...base, remoteIp: '192.0.2.1' }, config), null);
  });

  it('skips allowlisted envelope sender domains and their subdomains', () => {
    assert.equal(skipReason({ ...base, mailFrom: 'news@partner.example' }, config), 'allowlist');
    assert.equal(skipReason({ ...base, mailFrom: 'news@mail.partner.example' }, config), 'allowlist');
    assert.equal(skipReason({ ...base, mailFrom: 'news@partner.example.evil.example' }, config), null);
  });
});

describe('scanMessage', () => {
  it('returns an id, a verdict and a summary for a phishing message', async () => {
    const r = await scanMessage(toCrlf(phishMessage()), base, config);
    assert.match(r.id, /^[0-9a-f]{16}$/);
    assert.equal(r.verdict.action, 'reject');
    assert.equal(r.summary.urls, 2);
    assert.equal(r.skipped, null);
  });

  it('records BUDGET_EXCEEDED and still answers when the work outgrows the budget', async () => {
    const tiny = buildConfig({ main: { scan_budget_ms: 100 }, limits: { max_urls: 100000, max_decoded_bytes: 100000000 } }, { env: {} });
    const links = '<a href="http://45.33.32.156/x">y</a>\r\n'.repeat(60000);
    const raw = Buffer.from(`From: a@example.com\r\nContent-Type: text/html\r\n\r\n${links}`);
    const r = await scanMessage(raw, base, tiny);
    assert.ok(r.durationMs > 100, `scan was faster than the budget (${r.durationMs} ms): make the message heavier`);
    assert.ok(r.verdict.reasons.some((x) => x.code === 'BUDGET_EXCEEDED'), JSON.stringify(r.verdict.reasons));
    assert.equal(r.verdict.action, 'allow');
  });
});

describe('nextOnce', () => {
  it('passes the first call through and reports later ones', () => {
    const calls: unknown[] = [];
    const extra: unknown[] = [];
    const n = nextOnce((code) => calls.push(code), { onSecondCall: (code) => extra.push(code) });
    n(1);
    n(2);
    assert.deepEqual(calls, [1]);
    assert.deepEqual(extra, [2]);
    assert.equal(n.called, true);
  });

  it('answers through onDeadline when the hook never finishes', async () => {
    const calls: unknown[] = [];
    nextOnce((code) => calls.push(code), { deadlineMs: 20, onDeadline: (n) => n(42) });
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(calls, [42]);
  });

  it('does not fire onDeadline after next was called', async () => {
    let fired = false;
    const n = nextOnce(() => undefined, { deadlineMs: 20, onDeadline: () => { fired = true; } });
    n();
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(fired, false);
  });
});
