import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { extractScanInput } from '../../lib/message/extract.js';
import { embeddedModel } from '../../lib/nlp/model.js';
import { classifierTexts } from '../../lib/nlp/text.js';
import { forcedAction, newScanId, scanMessage, skipReason } from '../../lib/scan.js';
import { decide } from '../../lib/verdict/policy.js';
import type { Signal } from '../../lib/verdict/types.js';
import { nextOnce } from '../../lib/haraka/next-once.js';
import { phishMessage } from '../helpers/messages.js';
import { toCrlf } from '../helpers/smtp.js';
import { nestedZipBomb } from '../helpers/mime.js';

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

describe('scan ids', () => {
  it('are 16 hex digits, all different, across refills of the entropy buffer', () => {
    const ids = Array.from({ length: 5000 }, () => newScanId());
    for (const id of ids) assert.match(id, /^[0-9a-f]{16}$/);
    assert.equal(new Set(ids).size, ids.length);
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

  it('records BUDGET_EXCEEDED, and the cheap analyzers still judge a message whose other work outgrew the budget', async () => {
    const tiny = buildConfig({ main: { scan_budget_ms: 100 }, limits: { max_urls: 100000, max_decoded_bytes: 100000000 } }, { env: {} });
    const links = '<a href="http://45.33.32.156/x">y</a>\r\n'.repeat(60000);
    const raw = Buffer.from(`From: a@example.com\r\nContent-Type: text/html\r\n\r\n${links}`);
    const r = await scanMessage(raw, base, tiny);
    assert.ok(r.durationMs > 100, `scan was faster than the budget (${r.durationMs} ms): make the message heavier`);
    const codes = r.verdict.reasons.map((x) => x.code);
    assert.ok(codes.includes('BUDGET_EXCEEDED'), codes.join(' '));
    assert.ok(codes.includes('URL_IP_LITERAL'), `the URL analyzer did not run: ${codes.join(' ')}`);
  });

  it('rejects a lure whose zip bomb outlasts the budget: cheap signals first, the archive uninspectable, decompression stopped', async () => {
    // 400 zips each storing 5 MB of zeros, deflated into one (the copies compressed once: fflate took 27-117 s for 400).
    const outer = nestedZipBomb(400, 5_000_000);
    const withZip =
      phishMessage().replace(
        'Content-Type: text/html; charset=utf-8\n\n',
        'Content-Type: multipart/mixed; boundary="z1"\n\n--z1\nContent-Type: text/html; charset=utf-8\n\n',
      ) +
      `\n--z1\nContent-Type: application/zip; name="invoice.zip"\nContent-Transfer-Encoding: base64\n\n${outer.toString('base64').replace(/.{76}/g, '$&\n')}\n--z1--\n`;
    // A decompression budget larger than the scan budget allows: the scan budget must end the work.
    // 1.5 s, between the two phases: the parse (which opens the zip for its documents) must fit it
    // — 0.13 s on an idle core here, 0.9-1.3 s with two busy loops, a CI run and another test
    // suite beside it — and the archives' 1 GB of inflation must not: 4.1 s on an idle core here.
    const cfg = buildConfig(
      { main: { scan_budget_ms: 1500 }, nlp: { enabled: false }, attachments: { max_inflated_bytes: String(1024 * 1024 * 1024), max_archive_depth: '3' } },
      { env: {} },
    );
    const r = await scanMessage(toCrlf(withZip), base, cfg);
    const codes = r.verdict.reasons.map((x) => x.code);
    assert.ok(codes.includes('BUDGET_EXCEEDED'), codes.join(' '));
    assert.ok(codes.includes('ATTACHMENT_UNINSPECTABLE'), codes.join(' '));
    assert.ok(codes.includes('URL_TEXT_HREF_BRAND_MISMATCH'), codes.join(' '));
    assert.equal(r.verdict.action, 'reject');
  });

  it('scans a 200,000-character display name and subject in linear time (the sender regex once backtracked quadratically)', async () => {
    const long = 'x'.repeat(200_000);
    const raw = toCrlf(`From: "${long}" <a@example.com>\nSubject: ${long}\nTo: bob@example.org\n\nhello\n`);
    const t0 = performance.now();
    const r = await scanMessage(raw, base, buildConfig({ nlp: { enabled: false } }, { env: {} }));
    // Quadratic, this took minutes; linear, milliseconds. The bound only separates the two.
    assert.ok(performance.now() - t0 < 5000, `took ${Math.round(performance.now() - t0)} ms`);
    assert.ok(!r.verdict.reasons.some((x) => x.code === 'BUDGET_EXCEEDED'));
  });

  it('defers (SCAN_INCOMPLETE ─► tempfail) a message the budget ended before it was even parsed', () => {
    const cfg = buildConfig({}, { env: {} });
    const verdictOf = (codes: string[]): string => decide(0, [], ['example.org'], cfg, forcedAction(codes.map((code) => ({ code })) as Signal[], cfg)).action;
    assert.equal(verdictOf(['BUDGET_EXCEEDED', 'SCAN_INCOMPLETE']), 'tempfail');
    assert.equal(verdictOf(['BUDGET_EXCEEDED']), 'allow');
  });

  it('holds an unparseable message (MIME_UNPARSEABLE ─► [limits] unparseable_action), whatever its score', async () => {
    const lure = readFileSync('test/fixtures/corpus-phish-amazon-0f7adde91ff4631a.eml', 'latin1');
    const b64 = Buffer.from(lure.slice(lure.indexOf('\n\n') + 2))
      .toString('base64')
      .replace(/.{76}/g, '$&\n');
    const nest = (depth: number): Buffer => {
      let body = `Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n${b64}\n`;
      for (let d = depth; d > 0; d--) body = `Content-Type: multipart/mixed; boundary="b${d}"\n\n--b${d}\n${body}--b${d}--\n`;
      return toCrlf(`From: Amazon <service@amazon.com>\nTo: bob@example.org\nSubject: Revision to Your Amazon.com Information\nMIME-Version: 1.0\n${body}`);
    };
    const cfg = buildConfig({ nlp: { enabled: false } }, { env: {} });
    // Readable (32 deep, the default limit): the lure's link gives it away.
    const readable = await scanMessage(nest(32), base, cfg);
    assert.equal(readable.verdict.action, 'reject', readable.verdict.reasons.map((r) => r.code).join(' '));
    // One level deeper only raw base64 is left to read: low score, but held.
    const deep = await scanMessage(nest(33), base, cfg);
    assert.ok(deep.verdict.reasons.some((r) => r.code === 'MIME_UNPARSEABLE'));
    assert.ok(deep.verdict.score < cfg.thresholds.quarantine, `score ${deep.verdict.score}`);
    assert.equal(deep.verdict.action, 'quarantine');
    const verdictOf = (action: string): string => {
      const c = buildConfig({ limits: { unparseable_action: action } }, { env: {} });
      return decide(0, [], ['example.org'], c, forcedAction([{ code: 'MIME_UNPARSEABLE' }] as Signal[], c)).action;
    };
    assert.equal(verdictOf('reject'), 'reject');
    assert.equal(verdictOf('allow'), 'allow');
    assert.throws(() => buildConfig({ limits: { unparseable_action: 'deliver' } }, { env: {} }), /unparseable_action/);
  });
});

describe('text a sender shows the reader but hides from the classifier', () => {
  // A lure whose only tell is its words, and the words of a real list message to hide them.
  const lure =
    '<p>Dear Customer,</p><p>We detected unusual sign-in activity on your account. Your account has been temporarily suspended. ' +
    'To restore access, verify your identity and confirm your billing information within 24 hours, otherwise your account will ' +
    'be permanently closed.</p><p><a href="https://secure-verify-portal.example/login">Verify now</a></p><p>Account Security Team</p>';
  const hamRaw = readFileSync('test/fixtures/corpus-ham-jailhouse-1df0fc9ae7968327.eml', 'latin1');
  const ham = hamRaw
    .slice(hamRaw.indexOf('\n\n') + 2)
    .replace(/[<>&]/g, ' ')
    .slice(0, 6000);
  const head = 'From: Account Security <security@secure-verify-portal.example>\nTo: bob@example.org\nSubject: Action required\nMIME-Version: 1.0\n';
  const cfg = buildConfig({}, { env: {} });
  const env = { mailFrom: 'security@secure-verify-portal.example', rcptTo: ['bob@example.org'] };
  const nlp = async (raw: string): Promise<{ weight: number; detail: string; fullP: number }> => {
    const r = await scanMessage(toCrlf(raw), env, cfg);
    const reason = r.verdict.reasons.find((x) => x.code === 'NLP_PHISH');
    const input = await extractScanInput(toCrlf(raw), env, cfg.limits);
    return { weight: reason?.weight ?? 0, detail: reason?.detail ?? '', fullP: embeddedModel().classify(classifierTexts(input).full).p };
  };

  it('hidden salt: the text without what the HTML hides is judged too', async () => {
    for (const hidden of ['display:none', 'font-size:0', 'opacity:0', 'color:#ffffff']) {
      const r = await nlp(`${head}Content-Type: text/html\n\n<div style="${hidden}">${ham}</div>${lure}\n`);
      assert.ok(r.fullP < 0.5, `${hidden}: the salt works on the whole text (p ${r.fullP})`);
      assert.ok(r.weight >= 40, `${hidden}: NLP_PHISH ${r.weight}`);
      assert.match(r.detail, /visible text/);
    }
  });

  it('hidden salt through a <style> class: judged as when the hiding is inline', async () => {
    const r = await nlp(`${head}Content-Type: text/html\n\n<style>.note{display:none}</style><div class="note">${ham}</div>${lure}\n`);
    assert.ok(r.fullP < 0.5, `the salt works on the whole text (p ${r.fullP})`);
    assert.ok(r.weight >= 40, `NLP_PHISH ${r.weight}`);
    assert.match(r.detail, /visible text/);
  });

  it('a harmless text/plain alternative: the HTML part, what clients show, is judged too', async () => {
    const raw = `${head}Content-Type: multipart/alternative; boundary="a"\n\n--a\nContent-Type: text/plain\n\n${ham}\n--a\nContent-Type: text/html\n\n${lure}\n--a--\n`;
    const r = await nlp(raw);
    assert.ok(r.fullP < 0.5, `the text part reads as ham (p ${r.fullP})`);
    assert.ok(r.weight >= 40, `NLP_PHISH ${r.weight}`);
    assert.match(r.detail, /HTML part/);
  });

  it('no second text when the parts say the same or nothing is hidden', () => {
    const same = {
      subject: 's',
      text: 'Your order 123 has shipped and will arrive Tuesday.',
      htmlText: 'Your order 123 has shipped and will arrive Tuesday. Track it',
      htmlVisibleText: '',
    };
    assert.equal(classifierTexts(same).alt, null);
    assert.equal(classifierTexts({ ...same, text: '' }).alt, null);
    assert.equal(classifierTexts({ ...same, text: '', htmlVisibleText: 'Your order' }).alt?.basis, 'visible text');
    assert.equal(classifierTexts({ ...same, htmlText: 'Verify your account password now', htmlVisibleText: '' }).alt?.basis, 'HTML part');
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
    const n = nextOnce(() => undefined, {
      deadlineMs: 20,
      onDeadline: () => {
        fired = true;
      },
    });
    n();
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(fired, false);
  });
});
