import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import PostalMime from 'postal-mime';
import { after, before, describe, it } from 'node:test';
import { headersOf, reasonsLogged, REPO, startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { freePort, waitForPort } from '../helpers/ports.js';
import { idFrom, sendRaw } from '../helpers/smtp.js';
import { fetchFresh } from '../helpers/api.js';
import { docx, officeMessage } from '../helpers/office-documents.js';
import { blockCode, drawnQrMessage, drawnTable, qrGif, qrJpeg, qrPng, quishingMessage } from '../helpers/qr-pictures.js';
import {
  bigMessage,
  cleanMessage,
  deepNestedMessage,
  garbage8bitMessage,
  malformedMimeMessage,
  manyPartsMessage,
  phishMessage,
  quarantineMessage,
} from '../helpers/messages.js';

const env = { from: 'sender@example.com', to: ['bob@example.org'] };
const fixture = (f: string): Promise<Buffer> => readFile(path.join(REPO, 'test', 'fixtures', f));

function header(raw: string, name: string): string[] {
  return headersOf(raw)
    .filter(([k]) => k.toLowerCase() === name.toLowerCase())
    .map(([, v]) => v);
}

async function deliveredWithId(h: HarakaInstance, id: string): Promise<string | undefined> {
  return (await h.delivered()).find((m) => header(m, 'X-PhishX-Id')[0] === id);
}

describe('Haraka + PhishX over real SMTP (enforce mode)', () => {
  let h: HarakaInstance;
  before(async () => {
    h = await startHaraka();
  });
  after(async () => {
    await h?.stop();
  });

  it('accepts clean mail with 250 and delivers it with X-PhishX-Verdict, Score, Reasons and Id', async () => {
    const a = await sendRaw(h.port, cleanMessage(), env);
    assert.equal(a.code, 250, a.response);
    const mails = await h.delivered();
    const m = mails.find((x) => x.includes('Lunch on Friday?'));
    assert.ok(m, 'clean message not delivered');
    assert.deepEqual(header(m, 'X-PhishX-Verdict'), ['allow']);
    assert.match(header(m, 'X-PhishX-Score')[0], /^\d+$/);
    assert.equal(header(m, 'X-PhishX-Reasons').length, 1);
    assert.match(header(m, 'X-PhishX-Id')[0], /^[0-9a-f]{16}$/);
  });

  it('rejects a message whose link text shows paypal.com but points to an IP with 550 5.7.1 and the scan id', async () => {
    const a = await sendRaw(h.port, phishMessage(), env);
    assert.equal(a.code, 550, a.response);
    assert.match(a.response, /5\.7\.1/);
    idFrom(a.response);
  });

  it('rejects a real phishing message from the corpus (Nazario, Amazon)', async () => {
    const a = await sendRaw(h.port, await fixture('corpus-phish-amazon-0f7adde91ff4631a.eml'), env);
    assert.equal(a.code, 550, a.response);
  });

  it('accepts a real mailing-list message from the corpus as allow', async () => {
    const a = await sendRaw(h.port, await fixture('corpus-ham-jailhouse-1df0fc9ae7968327.eml'), env);
    assert.equal(a.code, 250, a.response);
    const m = (await h.delivered()).find((x) => x.includes('Do not page align'));
    assert.ok(m);
    assert.deepEqual(header(m, 'X-PhishX-Verdict'), ['allow']);
  });

  it('quarantines a mid-score message: 250 with the id, never delivered', async () => {
    const a = await sendRaw(h.port, quarantineMessage(), env);
    assert.equal(a.code, 250, a.response);
    assert.match(a.response, /held for review/);
    const id = idFrom(a.response);
    assert.equal(await deliveredWithId(h, id), undefined, 'quarantined message was delivered');
    assert.ok(!(await h.delivered()).some((x) => x.includes('Unusual sign-in activity')));
  });

  it('strips forged X-PhishX-* headers from clean mail before adding its own', async () => {
    const forged = cleanMessage({ subject: 'forged headers', extraHeaders: ['X-PhishX-Verdict: allow', 'X-PhishX-Score: 0', 'x-phishx-custom: trust me'] });
    const a = await sendRaw(h.port, forged, env);
    assert.equal(a.code, 250, a.response);
    const m = (await h.delivered()).find((x) => x.includes('forged headers'));
    assert.ok(m);
    assert.equal(header(m, 'X-PhishX-Verdict').length, 1);
    assert.equal(header(m, 'X-PhishX-Score').length, 1);
    assert.deepEqual(header(m, 'X-PhishX-Custom'), []);
    assert.ok(!m.includes('trust me'));
  });

  it('strips forged X-PhishX-* lines with whitespace before the colon, other casing or folding, at the raw level, and puts its own on top', async () => {
    // Haraka's parser does not see these as headers; postal-mime reads the first one, Python's email stops at it.
    const forgedLines = [
      'X-PhishX-Reasons : none',
      'X-PhishX-Id\t: 0000000000000000',
      'x-PHISHX-verdict   :allow',
      'X-PhishX-\n Score: 0',
      'X-PhishX-Mode monitor',
    ];
    const a = await sendRaw(h.port, cleanMessage({ subject: 'forged spaced headers', extraHeaders: forgedLines }), env);
    assert.equal(a.code, 250, a.response);
    const m = (await h.delivered()).find((x) => x.includes('forged spaced headers'));
    assert.ok(m);
    const id = /^X-PhishX-Id: ([0-9a-f]{16})\r?$/m.exec(m)?.[1];
    assert.ok(id, 'no genuine X-PhishX-Id');
    const head = m
      .slice(0, m.search(/\r?\n\r?\n/))
      .replace(/\r?\n[ \t]+/g, ' ')
      .split(/\r?\n/);
    const ours = head.filter((l) =>
      l
        .slice(0, Math.max(0, l.indexOf(':')) || l.length)
        .replace(/\s+/g, '')
        .toLowerCase()
        .startsWith('x-phishx-'),
    );
    assert.deepEqual(
      ours.map((l) => l.slice(0, l.indexOf(':'))),
      ['X-PhishX-Verdict', 'X-PhishX-Score', 'X-PhishX-Reasons', 'X-PhishX-Id'],
      ours.join('\n'),
    );
    assert.ok(ours.includes(`X-PhishX-Id: ${id}`));
    assert.ok(head.findIndex((l) => l.startsWith('X-PhishX-Verdict:')) < head.findIndex((l) => l.startsWith('From:')), "our headers are above the sender's");
    const parsed = await PostalMime.parse(m);
    assert.equal(parsed.headers.find((x) => x.key === 'x-phishx-id')?.value, id);
    assert.equal(parsed.headers.find((x) => x.key === 'x-phishx-reasons')?.value, /^X-PhishX-Reasons: (.*?)\r?$/m.exec(m)?.[1]);
    assert.equal(parsed.headers.find((x) => x.key === 'x-phishx-verdict')?.value, 'allow');
    assert.equal(parsed.headers.filter((x) => x.key.startsWith('x-phishx-')).length, 4);
  });

  it('still rejects phishing that carries a forged "X-PhishX-Verdict: allow"', async () => {
    const a = await sendRaw(h.port, phishMessage(['X-PhishX-Verdict: allow', 'X-PhishX-Score: 0']), env);
    assert.equal(a.code, 550, a.response);
  });

  it('accepts malformed MIME (unclosed boundary, bad base64, unknown charset) and records it', async () => {
    const a = await sendRaw(h.port, malformedMimeMessage(), env);
    assert.equal(a.code, 250, a.response);
    const m = (await h.delivered()).find((x) => x.includes('never-closed'));
    assert.ok(m, 'malformed message not delivered');
    assert.deepEqual(header(m, 'X-PhishX-Verdict'), ['allow']);
  });

  it('accepts a body of random 8-bit bytes', async () => {
    const a = await sendRaw(h.port, garbage8bitMessage(), env);
    assert.equal(a.code, 250, a.response);
  });

  it('handles a 20 MB message within the budget and delivers it whole', async () => {
    const big = bigMessage(20); // ~20.5 MB on the wire (base64 + CRLF)
    const a = await sendRaw(h.port, big, env);
    assert.equal(a.code, 250, a.response);
    const files = (await readdir(h.mailDir)).filter((f) => f.endsWith('.eml'));
    const sizes = await Promise.all(files.map(async (f) => (await readFile(path.join(h.mailDir, f))).length));
    assert.ok(
      sizes.some((s) => s > 20_000_000),
      `no delivered message above 20 MB (sizes ${sizes.join(',')})`,
    );
  });

  it("delivers lines that start with dots exactly as written, across the message stream's 64 KB chunks", async () => {
    // The SMTP client dot-stuffs these lines; Haraka stores them stuffed; PhishX's read undoes it once.
    const lines = ['.', '..', '...three', '.leading dot', 'plain'];
    const body: string[] = [];
    for (let i = 0; body.join('').length < 200_000; i++) body.push(`${lines[i % lines.length]}${i % 7 === 0 ? '' : ` ${'x'.repeat(i % 113)}`}\r\n`);
    const text = body.join('');
    const raw = `From: Dot Lines <sender@example.com>\r\nTo: bob@example.org\r\nSubject: dot lines ${Date.now()}\r\nMessage-ID: <dots@example.com>\r\n\r\n${text}`;
    const a = await sendRaw(h.port, raw, env);
    assert.equal(a.code, 250, a.response);
    const m = (await h.delivered()).find((x) => x.includes('Message-ID: <dots@example.com>'));
    assert.ok(m, 'not delivered');
    assert.ok(m.endsWith(`\r\n\r\n${text}`), 'the delivered body differs from the one sent');
  });

  it('handles a 1000-part message and records LIMIT_PARTS', async () => {
    const a = await sendRaw(h.port, manyPartsMessage(1000), env);
    assert.equal(a.code, 250, a.response);
    const m = (await h.delivered()).find((x) => x.includes('Subject: many parts'));
    assert.ok(m);
    assert.match(header(m, 'X-PhishX-Reasons')[0], /LIMIT_PARTS/);
  });

  it('holds MIME nested deeper than the parser limit (MIME_UNPARSEABLE): accepted, never delivered unread', async () => {
    // Nested 33 deep with its HTML base64-encoded, a corpus lure was allowed at score 20: the
    // fallback reads raw text only. What cannot be read is held for review, not passed.
    const a = await sendRaw(h.port, deepNestedMessage(60), env);
    assert.equal(a.code, 250, a.response);
    assert.match(a.response, /held for review/);
    assert.equal(await deliveredWithId(h, idFrom(a.response)), undefined, 'unparseable message was delivered');
    assert.ok(!(await h.delivered()).some((x) => x.includes('Subject: deep')));
  });

  it('keeps answering after all of the above (the server did not crash)', async () => {
    const a = await sendRaw(h.port, cleanMessage({ subject: 'still alive' }), env);
    assert.equal(a.code, 250);
    assert.equal(h.proc.exitCode, null);
  });

  it('phishx send delivers files over SMTP and prints each answer', () => {
    const files = [
      'test/fixtures/corpus-phish-amazon-0f7adde91ff4631a.eml',
      'test/fixtures/corpus-ham-jailhouse-1df0fc9ae7968327.eml',
      'test/fixtures/transactional/saas-receipt.eml',
    ];
    const r = spawnSync(process.execPath, [path.join(REPO, 'lib', 'cli', 'phishx.cjs'), 'send', '--server', `127.0.0.1:${h.port}`, ...files], {
      cwd: REPO,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /corpus-phish-amazon.*: 550 .*PhishX id [0-9a-f]{16}/);
    assert.match(lines[1], /corpus-ham-jailhouse.*: 250 /);
    // Without --from the envelope sender is the message's From, as its own server would send
    // it: the receipt keeps its sender / link alignment and is delivered, not held.
    assert.match(lines[2], /saas-receipt.*: 250 Message delivered/);
  });

  it('serves /alive and /ready on the sidecar', async () => {
    const alive = await fetchFresh(`http://127.0.0.1:${h.sidecarPort}/alive`);
    assert.equal(alive.status, 200);
    assert.equal(((await alive.json()) as { status: string }).status, 'alive');
    const ready = await fetchFresh(`http://127.0.0.1:${h.sidecarPort}/ready`);
    assert.equal(ready.status, 200);
    const nf = await fetchFresh(`http://127.0.0.1:${h.sidecarPort}/nope`);
    assert.equal(nf.status, 404);
  });
});

describe('Haraka + PhishX in monitor mode', () => {
  let h: HarakaInstance;
  before(async () => {
    h = await startHaraka({ env: { PHISHX_MODE: 'monitor' } });
  });
  after(async () => {
    await h?.stop();
  });

  it('never rejects: phishing is delivered with X-PhishX-Would-Action: reject', async () => {
    const a = await sendRaw(h.port, phishMessage(), env);
    assert.equal(a.code, 250, a.response);
    const m = (await h.delivered()).find((x) => x.includes('Your account has been limited'));
    assert.ok(m, 'monitor mode did not deliver');
    assert.deepEqual(header(m, 'X-PhishX-Verdict'), ['allow']);
    assert.deepEqual(header(m, 'X-PhishX-Would-Action'), ['reject']);
    assert.deepEqual(header(m, 'X-PhishX-Mode'), ['monitor']);
  });

  it('never holds: a quarantine-band message is delivered with X-PhishX-Would-Action: quarantine', async () => {
    const a = await sendRaw(h.port, quarantineMessage(), env);
    assert.equal(a.code, 250, a.response);
    const m = (await h.delivered()).find((x) => x.includes('Unusual sign-in activity'));
    assert.ok(m);
    assert.deepEqual(header(m, 'X-PhishX-Would-Action'), ['quarantine']);
  });
});

describe('Haraka + PhishX tenants and allowlist', () => {
  let h: HarakaInstance;
  before(async () => {
    h = await startHaraka({
      phishxIni: '[tenant.monitor.example]\nmode=monitor\n[tenant.strict.example]\nquarantine=10\nreject=40\n[allowlist]\ndomains=trusted.example\n',
    });
  });
  after(async () => {
    await h?.stop();
  });

  it('a recipient in a monitor tenant gets phishing delivered', async () => {
    const a = await sendRaw(h.port, phishMessage(), { from: 'x@example.com', to: ['carol@monitor.example'] });
    assert.equal(a.code, 250, a.response);
  });

  it('recipients in a monitor and an enforce tenant: the strictest enforced action (reject) wins', async () => {
    const a = await sendRaw(h.port, phishMessage(), { from: 'x@example.com', to: ['carol@monitor.example', 'dave@other.example'] });
    assert.equal(a.code, 550, a.response);
  });

  it('a strict tenant rejects what the default policy only quarantines', async () => {
    const a = await sendRaw(h.port, quarantineMessage(), { from: 'x@example.com', to: ['erin@strict.example'] });
    assert.equal(a.code, 550, a.response);
  });

  it('an allowlisted envelope sender domain is not scanned (SKIP_ALLOWLIST)', async () => {
    const a = await sendRaw(h.port, phishMessage(['X-Test-Case: allowlist']), { from: 'newsletter@mail.trusted.example', to: ['bob@example.org'] });
    assert.equal(a.code, 250, a.response);
    const m = (await h.delivered()).find((x) => x.includes('X-Test-Case: allowlist'));
    assert.ok(m);
    assert.match(header(m, 'X-PhishX-Reasons')[0], /SKIP_ALLOWLIST/);
  });
});

describe('Haraka + PhishX with relaying clients (outbound mail)', () => {
  let h: HarakaInstance;
  before(async () => {
    // Haraka's relay plugin marks 127.0.0.1 as a relay client, as it would a trusted submission host.
    // queue/discard also takes queue_outbound, so nothing is sent anywhere (no DNS, no network).
    h = await startHaraka({
      plugins: ['relay', 'phishx', 'queue/discard'],
      env: { YES_REALLY_DO_DISCARD: '1' },
      files: { 'relay.ini': '[relay]\nacl=true\n', relay_acl_allow: '127.0.0.1/32\n' },
    });
  });
  after(async () => {
    await h?.stop();
  });

  it('does not scan or touch mail from a relaying session (accepted for outbound delivery)', async () => {
    const a = await sendRaw(h.port, phishMessage(), { from: 'user@example.org', to: ['someone@example.net'] });
    assert.equal(a.code, 250, a.response);
    assert.match(h.logs(), /action=allow would=allow score=0 .*reasons="SKIP_RELAYING\(0\)"/);
  });
});

describe('Haraka + PhishX with the embedded text classifier (the shipped defaults)', () => {
  let h: HarakaInstance;
  before(async () => {
    h = await startHaraka({ nlp: true });
  });
  after(async () => {
    await h?.stop();
  });

  it('rejects the real phishing message and records the classifier among the reasons', async () => {
    const a = await sendRaw(h.port, await fixture('corpus-phish-amazon-0f7adde91ff4631a.eml'), env);
    assert.equal(a.code, 550, a.response);
    assert.match(h.logs(), /reasons="[^"]*NLP_PHISH\(\d+\)/);
  });

  it('rejects a QR-code lure on the link its picture holds: inline PNG, attached JPEG, data: GIF', async () => {
    const url = 'http://45.33.32.156/mfa/verify';
    for (const [as, picture] of [
      ['inline', qrPng(url)],
      ['attachment', qrJpeg(url)],
      ['data', qrGif(url)],
    ] as const) {
      const a = await sendRaw(h.port, quishingMessage(url, { as, picture }), env);
      assert.equal(a.code, 550, `${as}: ${a.response}`);
      const line = reasonsLogged(h, idFrom(a.response));
      assert.match(line, /QR_CODE_LINK\(20\).*URL_IP_LITERAL|URL_IP_LITERAL.*QR_CODE_LINK\(20\)/, `${as}: ${line}`);
    }
  });

  it('rejects a lure whose QR code is drawn without a picture: an HTML table, block characters in plain text', async () => {
    const url = 'http://45.33.32.156/mfa/verify';
    for (const [how, raw] of [
      ['table', drawnQrMessage({ html: drawnTable(url, { colspan: true }) })],
      ['text', drawnQrMessage({ text: blockCode(url, 'half') })],
    ] as const) {
      const a = await sendRaw(h.port, raw, env);
      assert.equal(a.code, 550, `${how}: ${a.response}`);
      const line = reasonsLogged(h, idFrom(a.response));
      assert.match(line, /QR_CODE_DRAWN\(30\)/, `${how}: ${line}`);
      assert.match(line, /QR_CODE_LINK\(20\)/, `${how}: ${line}`);
    }
  });

  it('rejects a lure whose link is only in an attached Word document (a hyperlink; a QR code picture)', async () => {
    const url = 'http://45.33.32.156/invoice/pay';
    for (const [how, doc] of [
      ['hyperlink', docx({ text: ['Invoice 4711'], hyperlinks: [{ text: 'View and pay the invoice', url }] })],
      ['QR code', docx({ text: ['Scan to pay'], picture: qrPng(url) })],
    ] as const) {
      const a = await sendRaw(h.port, officeMessage(doc, 'Invoice-4711.docx'), env);
      assert.equal(a.code, 550, `${how}: ${a.response}`);
      assert.match(reasonsLogged(h, idFrom(a.response)), /URL_IP_LITERAL\(30\)/, how);
    }
  });

  for (const f of [
    'amazon-shipping.eml',
    'apple-receipt.eml',
    'github-password-reset.eml',
    'google-security-alert.eml',
    'newsletter-tracked.eml',
    'saas-password-reset.eml',
    'saas-receipt.eml',
  ]) {
    it(`delivers legitimate transactional mail: ${f}`, async () => {
      const raw = await fixture(`transactional/${f}`);
      // As the real sender would: the envelope sender on the From's domain.
      const a = await sendRaw(h.port, raw, { ...env, from: envelopeFromOf(raw) });
      assert.equal(a.code, 250, a.response);
      assert.doesNotMatch(a.response, /held for review/);
    });
  }

  it('gives no brand alignment to a brand From sent from another server (spoofed): the Apple receipt is held', async () => {
    const raw = await fixture('transactional/apple-receipt.eml');
    const a = await sendRaw(h.port, raw, { ...env, from: 'bounce@mailer.attacker.example' });
    assert.equal(a.code, 250, a.response);
    assert.match(a.response, /held for review/);
    const viaSes = await sendRaw(h.port, raw, { ...env, from: '0100018c-abc@amazonses.com' });
    assert.doesNotMatch(viaSes.response, /held for review/, "a bulk-mail service's bounce domain is fine");
  });
});

describe('Haraka + haraka-plugin-dkim before PhishX: brand alignment needs an authenticated From', () => {
  let h: HarakaInstance;
  before(async () => {
    // The real DKIM verifier (DNS is not needed for unsigned mail, which is what is sent here).
    h = await startHaraka({ nlp: true, plugins: ['dkim', 'phishx', 'phishx_local_delivery'] });
  });
  after(async () => {
    await h?.stop();
  });

  it('refuses an unsigned "Apple receipt" even with the envelope sender on apple.com: SENDER_BRAND_UNAUTHENTICATED, no BRAND_ALIGNED', async () => {
    const raw = await fixture('transactional/apple-receipt.eml');
    assert.doesNotMatch(raw.toString(), /^DKIM-Signature:/im);
    const a = await sendRaw(h.port, raw, { ...env, from: envelopeFromOf(raw) });
    assert.equal(a.code, 550, a.response);
    assert.match(h.logs(), /SENDER_BRAND_UNAUTHENTICATED\(40\)/);
    assert.doesNotMatch(h.logs(), /BRAND_ALIGNED\(/);
  });

  it('delivers unsigned mail of a sender outside the brand list: unsigned is not forged', async () => {
    const raw = await fixture('transactional/saas-receipt.eml');
    const a = await sendRaw(h.port, raw, { ...env, from: envelopeFromOf(raw) });
    assert.equal(a.code, 250, a.response);
    assert.doesNotMatch(a.response, /held for review/);
  });
});

/** The From address of a raw message (used as its envelope sender). */
function envelopeFromOf(raw: Buffer | string): string {
  const m = /^From:.*<([^>]+)>/im.exec(raw.toString());
  assert.ok(m, 'fixture has a From address');
  return m[1];
}

describe('Haraka + PhishX with the text classifier over HTTP (phishx nlp-serve)', () => {
  let h: HarakaInstance;
  let nlp: ChildProcess;
  let nlpPort: number;
  before(async () => {
    nlpPort = await freePort();
    nlp = spawn(process.execPath, [path.join(REPO, 'lib', 'cli', 'phishx.cjs'), 'nlp-serve', '--listen', `127.0.0.1:${nlpPort}`], { stdio: 'ignore' });
    await waitForPort(nlpPort, 10_000);
    h = await startHaraka({ nlp: true, env: { PHISHX_NLP_URL: `http://127.0.0.1:${nlpPort}/` } });
  });
  after(async () => {
    await h?.stop();
    nlp?.kill('SIGINT');
  });

  it('scores through the service and rejects the real phishing message', async () => {
    const a = await sendRaw(h.port, await fixture('corpus-phish-amazon-0f7adde91ff4631a.eml'), env);
    assert.equal(a.code, 550, a.response);
    assert.match(h.logs(), new RegExp(`NLP_PHISH\\(\\d+\\)`));
    assert.doesNotMatch(h.logs(), /NLP_UNAVAILABLE/);
  });

  it('keeps scanning when the service dies: NLP_UNAVAILABLE and the embedded fallback', async () => {
    nlp.kill('SIGKILL');
    await new Promise((r) => nlp.once('exit', r));
    const a = await sendRaw(h.port, await fixture('corpus-phish-amazon-0f7adde91ff4631a.eml'), env);
    assert.equal(a.code, 550, a.response);
    assert.match(h.logs(), /NLP_UNAVAILABLE/);
    const b = await sendRaw(h.port, await fixture('transactional/apple-receipt.eml'), env);
    assert.equal(b.code, 250, b.response);
  });
});

describe('[defer] nlp over real SMTP', () => {
  let h: HarakaInstance;
  before(async () => {
    h = await startHaraka({ nlp: true, env: { PHISHX_NLP_URL: 'http://127.0.0.1:1/', PHISHX_DEFER_NLP: 'true' } });
  });
  after(async () => {
    await h?.stop();
  });

  it('answers 451 4.7.1 when the NLP service is unreachable and defer.nlp is on', async () => {
    const a = await sendRaw(h.port, cleanMessage({ subject: 'defer test' }), env);
    assert.equal(a.code, 451, a.response);
    assert.match(a.response, /4\.7\.1/);
  });
});
