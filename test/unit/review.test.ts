import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { rewritePhishXHeaders } from '../../lib/haraka/strip-headers.js';
import { addReport, claimRelease, confirmRelease, markDeleted, releaseRecipients, revertRelease, useClaim, type Decision } from '../../lib/review/lifecycle.js';
import { defang, defangText, headerList, previewOf } from '../../lib/review/preview.js';
import { releaseKey, safeActor, signMarker, verifyMarker } from '../../lib/review/release-marker.js';
import { releaseTarget } from '../../lib/review/target.js';
import { blockCode, drawnQrMessage, drawnTable, quishingMessage } from '../helpers/qr-pictures.js';
import { matchPath } from '../../lib/sidecar/router.js';
import { initialState, statusOf } from '../../lib/store/query.js';
import type { QuarantineEntry } from '../../lib/store/types.js';

const T0 = Date.UTC(2026, 11, 1, 9, 0, 0);
const DAY = 86_400_000;

function entry(overrides: Partial<QuarantineEntry> = {}): QuarantineEntry {
  const e: QuarantineEntry = {
    id: 'aaaa000000000001',
    createdAt: T0,
    expiresAt: T0 + 30 * DAY,
    envelope: { mailFrom: 'x@evil.example', rcptTo: ['Ann@corp.example', 'bob@corp.example'] },
    verdict: { action: 'quarantine', wouldAction: 'quarantine', score: 55, mode: 'enforce', tenant: 'default', reasons: [] },
    subject: 's',
    from: 'x@evil.example',
    size: 10,
    spooled: false,
    ...overrides,
  };
  return { ...e, state: e.state ?? initialState(e, 30 * DAY) };
}

function ok(d: Decision): QuarantineEntry['state'] & object {
  assert.ok(d.ok, d.ok ? '' : d.error);
  return d.state;
}

const apply = (e: QuarantineEntry, d: Decision): QuarantineEntry => ({ ...e, state: ok(d) });

describe('quarantine lifecycle (pure)', () => {
  const ask = { by: 'token:aaaa0001', claim: 'c1', recipients: ['Ann@corp.example'], now: T0 + 1000, leaseMs: 120_000 };

  it('releases held → releasing → released, each step one version up, and refuses a second release with 409', () => {
    const held = entry();
    const releasing = apply(held, claimRelease(held, ask));
    assert.equal(releasing.state!.status, 'releasing');
    assert.equal(releasing.state!.version, 1);
    const used = apply(releasing, useClaim(releasing, 'c1', T0 + 2000));
    const done = apply(used, confirmRelease(used, 'c1', T0 + 3000, 30 * DAY));
    assert.equal(done.state!.status, 'released');
    assert.equal(done.state!.version, 3);
    assert.deepEqual(done.state!.released, { by: 'token:aaaa0001', at: T0 + 3000, recipients: ['Ann@corp.example'] });
    assert.equal(done.state!.release, undefined);
    const again = claimRelease(done, { ...ask, claim: 'c2' });
    assert.ok(!again.ok && again.status === 409 && /already released/.test(again.error));
  });

  it('lets a release claim be used once, by its own claim, within its lease', () => {
    const releasing = apply(entry(), claimRelease(entry(), ask));
    assert.ok(!useClaim(releasing, 'other', T0 + 2000).ok);
    assert.ok(!useClaim(releasing, 'c1', T0 + 1000 + 120_000).ok, 'an expired claim');
    const used = apply(releasing, useClaim(releasing, 'c1', T0 + 2000));
    const twice = useClaim(used, 'c1', T0 + 2500);
    assert.ok(!twice.ok && /already used/.test(twice.error));
  });

  it('puts a failed release back to held, and lets a stale unused claim be taken over', () => {
    const releasing = apply(entry(), claimRelease(entry(), ask));
    assert.ok(!claimRelease(releasing, { ...ask, claim: 'c2', now: T0 + 5000 }).ok, 'in progress');
    const back = apply(releasing, revertRelease(releasing, 'c1', T0 + 6000));
    assert.equal(back.state!.status, 'held');
    assert.equal(back.state!.release, undefined);
    const stale = claimRelease(releasing, { ...ask, claim: 'c3', now: T0 + 1000 + 120_001 });
    assert.equal(ok(stale).release?.claim, 'c3');
    const used = apply(releasing, useClaim(releasing, 'c1', T0 + 2000));
    assert.ok(!claimRelease(used, { ...ask, claim: 'c4', now: T0 + 1000 + 120_001 }).ok, 'a used claim is never taken over');
  });

  it('deletes held, released and expired records once, never one being released', () => {
    const del = apply(entry(), markDeleted(entry(), 'token:b', T0 + 10, 7 * DAY, 'spam'));
    assert.deepEqual(del.state!.deleted, { by: 'token:b', at: T0 + 10, note: 'spam' });
    assert.equal(del.state!.purgeAt, T0 + 10 + 7 * DAY);
    assert.ok(!markDeleted(del, 'token:b', T0 + 20, 7 * DAY).ok);
    const releasing = apply(entry(), claimRelease(entry(), ask));
    assert.ok(!markDeleted(releasing, 'token:b', T0 + 20, 7 * DAY).ok);
    const expiredAt = T0 + 31 * DAY;
    assert.equal(statusOf(entry(), expiredAt), 'expired');
    assert.ok(!claimRelease(entry(), { ...ask, now: expiredAt }).ok, 'an expired message cannot be released');
    assert.ok(markDeleted(entry(), 'token:b', expiredAt, DAY).ok);
  });

  it('keeps the newest 20 reports', () => {
    let e = entry();
    for (let i = 0; i < 25; i++) e = apply(e, addReport(e, { verdict: i % 2 ? 'phish' : 'not_phish', by: 't', at: T0 + i }, T0 + i));
    assert.equal(e.state!.reports!.length, 20);
    assert.equal(e.state!.reports![19].at, T0 + 24);
  });

  it('releases to envelope recipients only (case-insensitive), all by default', () => {
    assert.deepEqual(releaseRecipients(entry(), undefined), ['Ann@corp.example', 'bob@corp.example']);
    assert.deepEqual(releaseRecipients(entry(), ['ann@CORP.example']), ['Ann@corp.example']);
    assert.equal(releaseRecipients(entry(), ['eve@evil.example']), null);
  });
});

describe('release marker', () => {
  const key = Buffer.from('k'.repeat(32));
  const m = { id: 'aaaa000000000001', claim: 'ab'.repeat(16), exp: Math.floor(T0 / 1000) + 60, by: 'token:1a2b3c4d' };

  it('verifies its own signature and refuses any change, another key, or a marker past its time', () => {
    const v = signMarker(key, m);
    assert.deepEqual(verifyMarker(key, v, T0), m);
    assert.equal(verifyMarker(Buffer.from('x'.repeat(32)), v, T0), null);
    assert.equal(verifyMarker(key, v.replace(m.claim, 'cd'.repeat(16)), T0), null);
    assert.equal(verifyMarker(key, v.replace('token:1a2b3c4d', 'token:00000000'), T0), null);
    assert.equal(verifyMarker(key, v, (m.exp + 1) * 1000), null);
    for (const junk of ['', 'v1', 'v2; id=a', `v1; id=../x; claim=${m.claim}; exp=1; by=a; sig=${'A'.repeat(43)}`, 'v1; id; claim'])
      assert.equal(verifyMarker(key, junk, T0), null, junk);
  });

  it('makes actor text header-safe', () => {
    assert.equal(safeActor('token:1a2b3c4d'), 'token:1a2b3c4d');
    assert.equal(safeActor('a b;\r\nX-Evil: 1'), 'a_b___X-Evil:_1');
  });

  it('makes one key file on first use and reads the same key after; PHISHX_RELEASE_KEY wins', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-key-'));
    try {
      const [a, b] = await Promise.all([releaseKey(dir, {}), releaseKey(dir, {})]);
      assert.ok(a.equals(b) && a.length >= 32);
      assert.ok((await releaseKey(dir, {})).equals(a));
      assert.equal((await releaseKey(dir, { PHISHX_RELEASE_KEY: 'z'.repeat(40) })).toString(), 'z'.repeat(40));
      await assert.rejects(releaseKey(dir, { PHISHX_RELEASE_KEY: 'short' }), /at least 32/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('safe preview', () => {
  it('defangs links so that none stays clickable', () => {
    assert.equal(defang('https://login.evil.example/a?b=c.d'), 'hxxps://login[.]evil[.]example/a?b=c.d');
    assert.equal(defang('http://user@1.2.3.4:8080/x'), 'hxxp://user[@]1[.]2[.]3[.]4:8080/x');
    assert.equal(defangText('see www.evil.example/x and https://a.b/c.'), 'see www[.]evil[.]example/x and hxxps://a[.]b/c.');
  });

  it('reduces HTML to text, lists links and attachments, and bounds the text', async () => {
    const raw = Buffer.from(
      [
        'From: a@b.example',
        'Subject: =?UTF-8?B?w4RwZmVs?=',
        'Content-Type: multipart/mixed; boundary=XX',
        '',
        '--XX',
        'Content-Type: text/html',
        '',
        `<p>Pay <a href="https://pay.evil.example/x">here</a><img src="https://track.evil.example/p.gif"><script>alert(1)</script></p><p>${'long '.repeat(3000)}</p>`,
        '--XX',
        'Content-Type: application/pdf; name=inv.pdf',
        'Content-Transfer-Encoding: base64',
        '',
        'JVBERi0=',
        '--XX--',
        '',
      ].join('\r\n'),
    );
    const p = await previewOf(raw, 1000);
    assert.ok(p.text.startsWith('Pay here'));
    assert.ok(!p.text.includes('alert(1)'));
    assert.ok(p.text.length <= 1000 && p.truncated);
    assert.deepEqual(p.links, [{ url: 'hxxps://pay[.]evil[.]example/x', text: 'here' }]);
    assert.deepEqual(p.attachments, [{ filename: 'inv.pdf', type: 'application/pdf', size: 5 }]);
    assert.deepEqual(
      headerList(raw).find(([k]) => k === 'Subject'),
      ['Subject', 'Äpfel'],
    );
  });

  it("shows the lure's link behind padding (pixels, one link repeated, thousands of text links)", async () => {
    const pixels = Array.from({ length: 500 }, (_, n) => `<img src="https://t.example.com/${n}.gif">`).join('');
    const same = '<a href="https://www.paypal.com/">PayPal</a>'.repeat(500);
    const html = await previewOf(Buffer.from(`Content-Type: text/html\r\n\r\n${pixels}${same}<a href="https://evil.example/x">here</a>\r\n`), 1000);
    assert.deepEqual(
      html.links.map((l) => l.url),
      ['hxxps://www[.]paypal[.]com/', 'hxxps://evil[.]example/x'],
    );
    const text = await previewOf(Buffer.from(`Content-Type: text/plain\r\n\r\n${'https://x.example/ '.repeat(200_000)}https://evil.example/x\r\n`), 1000);
    assert.deepEqual(
      text.links.map((l) => l.url),
      ['hxxps://x[.]example/', 'hxxps://evil[.]example/x'],
    );
  });

  it("lists a QR code's link first, defanged, with the picture it is in", async () => {
    for (const as of ['inline', 'attachment', 'data'] as const) {
      const p = await previewOf(Buffer.from(quishingMessage('http://45.33.32.156/mfa', { as })), 1000);
      assert.deepEqual(
        p.links[0],
        { url: 'hxxp://45[.]33[.]32[.]156/mfa', text: `QR code in ${as === 'data' ? 'picture in the HTML' : as === 'inline' ? 'code' : 'scan-me'}` },
        as,
      );
    }
    // Behind 60 attachments that are not pictures.
    const lure = quishingMessage('http://45.33.32.156/mfa', { as: 'attachment' });
    const notes = Array.from(
      { length: 60 },
      (_, i) => `--q-b\r\nContent-Type: text/plain; name="n${i}.txt"\r\nContent-Disposition: attachment\r\n\r\nnote ${i}\r\n`,
    ).join('');
    const padded = await previewOf(Buffer.from(lure.replace('--q-b\r\nContent-Type: image/', `${notes}--q-b\r\nContent-Type: image/`)), 1000);
    assert.equal(padded.attachments.length, 61);
    assert.equal(padded.links[0]?.url, 'hxxp://45[.]33[.]32[.]156/mfa');
  });

  it('lists the link of a QR code drawn as a table or with block characters', async () => {
    const table = await previewOf(Buffer.from(drawnQrMessage({ html: drawnTable('http://45.33.32.156/mfa') })), 1000);
    assert.deepEqual(table.links[0], { url: 'hxxp://45[.]33[.]32[.]156/mfa', text: 'QR code in a table of coloured cells' });
    const text = await previewOf(Buffer.from(drawnQrMessage({ text: blockCode('http://45.33.32.156/mfa', 'half') })), 1000);
    assert.deepEqual(text.links[0], { url: 'hxxp://45[.]33[.]32[.]156/mfa', text: 'QR code in block characters of the text' });
  });

  it('shows a UTF-7 body and subject decoded, as a mail client would display them', async () => {
    const raw = Buffer.from(
      [
        'From: a@b.example',
        'Subject: =?utf-7?Q?Caf+AOk-?=',
        'Content-Type: text/plain; charset=utf-7',
        '',
        '+AFAAYQB5- +AGgAZQByAGU-: https://pay.evil.example/x',
        '',
      ].join('\r\n'),
    );
    const p = await previewOf(raw, 1000);
    assert.equal(p.text.trim(), 'Pay here: hxxps://pay[.]evil[.]example/x');
    assert.deepEqual(
      headerList(raw).find(([k]) => k === 'Subject'),
      ['Subject', 'Café'],
    );
  });
});

describe('release plumbing', () => {
  it('rewrites X-PhishX-* header lines (folded ones too) and leaves the body alone', () => {
    const raw = Buffer.from(
      'X-PhishX-Verdict: quarantine\r\nX-PhishX-Reasons: A,\r\n B\r\nSubject: hi\r\nx-phishx-id : 1\r\n\r\nX-PhishX-Verdict: body text\r\n',
    );
    const out = rewritePhishXHeaders(raw, [['X-PhishX-Released', 'yes']]).toString();
    assert.equal(out, 'X-PhishX-Released: yes\r\nSubject: hi\r\n\r\nX-PhishX-Verdict: body text\r\n');
  });

  it("delivers to [release] smtp, else to this Haraka's first listen address (any-address as loopback)", () => {
    assert.deepEqual(releaseTarget('relay.example:2525', '/nonexistent'), { host: 'relay.example', port: 2525 });
    assert.deepEqual(releaseTarget('[::1]:25', '/nonexistent'), { host: '::1', port: 25 });
    assert.deepEqual(releaseTarget('', '/nonexistent'), { host: '::1', port: 25 });
    assert.throws(() => releaseTarget('nonsense', '/x'), /host:port/);
  });

  it('matches route patterns with one decoded segment per parameter', () => {
    assert.deepEqual(matchPath('/api/v1/quarantine/{id}', '/api/v1/quarantine/abc'), { id: 'abc' });
    assert.deepEqual(matchPath('/api/v1/quarantine/{id}/raw', '/api/v1/quarantine/a%20b/raw'), { id: 'a b' });
    assert.equal(matchPath('/api/v1/quarantine/{id}', '/api/v1/quarantine/'), null);
    assert.equal(matchPath('/api/v1/quarantine/{id}', '/api/v1/quarantine/a/b'), null);
    assert.equal(matchPath('/api/v1/quarantine/{id}', '/api/v1/quarantine/%E0%A4%A'), null);
    assert.equal(matchPath('/api/v1/quarantine/{id}', '/api/v1/quarantine/a%2Fb'), null);
  });
});
