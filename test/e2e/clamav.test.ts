import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { headersOf, REPO, startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { startPrivateClamd, testClamd, type TestClamd } from '../helpers/clamd.js';
import { nestedAttachment, withAttachment, zip } from '../helpers/mime.js';
import { sendRaw } from '../helpers/smtp.js';

const env = { from: 'alice@example.com', to: ['bob@example.org'] };
const reasonsOf = (m: string): string => headersOf(m).find(([k]) => k === 'X-PhishX-Reasons')?.[1] ?? '';
const connectionIni = readFileSync(path.join(REPO, 'config', 'connection.ini'), 'utf8').replace('bytes=26214400', 'bytes=67108864');

describe('ClamAV through real Haraka and a real clamd', () => {
  let clamd: TestClamd | { skip: string };
  let h: HarakaInstance | undefined;
  before(async () => {
    clamd = await testClamd();
    if ('skip' in clamd) return;
    h = await startHaraka({ env: { PHISHX_CLAMAV_HOSTS: clamd.host, PHISHX_CLAMAV_MAX_SIZE: '104857600' }, files: { 'connection.ini': connectionIni } });
  });
  after(async () => {
    await h?.stop();
    if (clamd && !('skip' in clamd)) await clamd.stop();
  });

  for (const [name, build] of [
    ['as a base64 attachment', (e: Buffer) => withAttachment('invoice.com', e)],
    ['zipped', (e: Buffer) => withAttachment('invoice.zip', zip({ 'invoice.com': e }), 'application/zip')],
    ['base64 in nested multipart', (e: Buffer) => nestedAttachment('scan.bin', e)],
  ] as const) {
    it(`rejects EICAR ${name} with 550 5.7.1`, async (t) => {
      if ('skip' in clamd) return t.skip(clamd.skip);
      const a = await sendRaw(h!.port, build(clamd.eicar), env);
      assert.equal(a.code, 550, a.response);
      assert.match(a.response, /5\.7\.1/);
      assert.match(h!.logs(), /CLAMAV_VIRUS\(0\)/);
    });
  }

  it('delivers mail with a clean attachment', async (t) => {
    if ('skip' in clamd) return t.skip(clamd.skip);
    const a = await sendRaw(h!.port, withAttachment('report.pdf', Buffer.from('%PDF-1.4 clean report'), 'application/pdf'), env);
    assert.equal(a.code, 250, a.response);
  });

  it("accepts a 30 MB attachment above clamd's StreamMaxLength (25 MiB) and records CLAMAV_SIZE_LIMIT", async (t) => {
    if ('skip' in clamd) return t.skip(clamd.skip);
    if (clamd.host !== '127.0.0.1:3310' && !clamd.socket) return t.skip('unknown StreamMaxLength');
    const a = await sendRaw(h!.port, withAttachment('video.bin', randomBytes(30 * 1024 * 1024)), env);
    assert.equal(a.code, 250, a.response);
    const m = (await h!.delivered()).find((x) => x.includes('Subject: file video.bin'));
    assert.ok(m, 'not delivered');
    assert.match(reasonsOf(m), /CLAMAV_SIZE_LIMIT/);
  });
});

describe('ClamAV stopped mid-run', () => {
  let clamd: TestClamd | { skip: string };
  let open: HarakaInstance | undefined;
  let deferring: HarakaInstance | undefined;
  before(async () => {
    clamd = await startPrivateClamd();
    if ('skip' in clamd) return;
    open = await startHaraka({ env: { PHISHX_CLAMAV_HOSTS: clamd.host, PHISHX_DEFER_CLAMAV: 'false' } });
    deferring = await startHaraka({ env: { PHISHX_CLAMAV_HOSTS: clamd.host, PHISHX_DEFER_CLAMAV: 'true' } });
  });
  after(async () => {
    await open?.stop();
    await deferring?.stop();
    if (clamd && !('skip' in clamd)) await clamd.stop();
  });

  it('scans while clamd runs, then: defer=false accepts with CLAMAV_UNAVAILABLE, defer=true answers 451 4.7.1', async (t) => {
    if ('skip' in clamd) return t.skip(clamd.skip);
    assert.equal((await sendRaw(open!.port, withAttachment('x.com', clamd.eicar), env)).code, 550);
    await clamd.stop();
    const a = await sendRaw(open!.port, withAttachment('notes.txt', Buffer.from('meeting notes')), env);
    assert.equal(a.code, 250, a.response);
    const m = (await open!.delivered()).find((x) => x.includes('Subject: file notes.txt'));
    assert.ok(m);
    assert.match(reasonsOf(m), /CLAMAV_UNAVAILABLE/);
    const d = await sendRaw(deferring!.port, withAttachment('notes.txt', Buffer.from('meeting notes')), env);
    assert.equal(d.code, 451, d.response);
    assert.match(d.response, /4\.7\.1/);
  });
});
