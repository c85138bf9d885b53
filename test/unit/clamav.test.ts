import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ClamdClient, parseClamdHost, parseInstreamReply } from '../../lib/clamav/client.js';
import { buildConfig } from '../../lib/config/load.js';
import { PhishXError } from '../../lib/errors.js';
import { forcedAction, scanMessage } from '../../lib/scan.js';
import { testClamd, type TestClamd } from '../helpers/clamd.js';
import { withAttachment, zip } from '../helpers/mime.js';
import { toCrlf } from '../helpers/smtp.js';
import { eventually } from '../helpers/eventually.js';

describe('clamd protocol helpers', () => {
  it('parses TCP and unix-socket host specs', () => {
    assert.deepEqual(parseClamdHost('127.0.0.1:3310'), { kind: 'tcp', host: '127.0.0.1', port: 3310, label: '127.0.0.1:3310' });
    assert.deepEqual(parseClamdHost('[::1]:3310'), { kind: 'tcp', host: '::1', port: 3310, label: '[::1]:3310' });
    assert.equal(parseClamdHost('/run/clamav/clamd.ctl').kind, 'unix');
    assert.throws(() => parseClamdHost('clamd'));
  });

  it('reads OK, FOUND and size-limit replies, refuses others', () => {
    assert.deepEqual(parseInstreamReply('stream: OK\0', 'h'), { status: 'clean', host: 'h' });
    assert.deepEqual(parseInstreamReply('stream: Eicar-Test-Signature.UNOFFICIAL FOUND', 'h'), {
      status: 'virus',
      signature: 'Eicar-Test-Signature.UNOFFICIAL',
      host: 'h',
    });
    assert.deepEqual(parseInstreamReply('INSTREAM size limit exceeded. ERROR', 'h'), { status: 'size_limit', host: 'h' });
    assert.throws(
      () => parseInstreamReply('garbage', 'h'),
      (e: unknown) => e instanceof PhishXError && e.code === 'PHISHX_CLAMD_BAD_REPLY',
    );
  });

  it('a virus forces the configured action; an outage forces 451 only with [defer] <service>', () => {
    const c = buildConfig({}, { env: {} });
    assert.equal(forcedAction([{ code: 'CLAMAV_VIRUS', detail: '' }], c), 'reject');
    assert.equal(forcedAction([{ code: 'CLAMAV_VIRUS', detail: '' }], buildConfig({ clamav: { action: 'quarantine' } }, { env: {} })), 'quarantine');
    assert.equal(forcedAction([{ code: 'CLAMAV_UNAVAILABLE', detail: '' }], c), 'allow');
    assert.equal(forcedAction([{ code: 'CLAMAV_UNAVAILABLE', detail: '' }], buildConfig({ defer: { clamav: true } }, { env: {} })), 'tempfail');
    assert.equal(forcedAction([{ code: 'NLP_UNAVAILABLE', detail: '' }], c), 'allow');
    assert.equal(forcedAction([{ code: 'NLP_UNAVAILABLE', detail: '' }], buildConfig({ defer: { nlp: true } }, { env: {} })), 'tempfail');
    assert.equal(forcedAction([{ code: 'REPUTATION_UNAVAILABLE', detail: '' }], c), 'allow');
    assert.equal(forcedAction([{ code: 'REPUTATION_UNAVAILABLE', detail: '' }], buildConfig({ defer: { reputation: true } }, { env: {} })), 'tempfail');
  });

  it('rejects an invalid [clamav] hosts entry at load, naming the key', () => {
    assert.throws(() => buildConfig({ clamav: { hosts: 'clamd' } }, { env: {} }), /\[clamav\] hosts/);
  });
});

describe('ClamdClient against a real clamd', () => {
  let clamd: TestClamd | { skip: string };
  before(async () => {
    clamd = await testClamd();
  });
  after(async () => {
    if (clamd && !('skip' in clamd)) await clamd.stop();
  });

  it('finds EICAR over TCP, and answers clean for clean data', async (t) => {
    if ('skip' in clamd) return t.skip(clamd.skip);
    const c = new ClamdClient([clamd.host], 5000);
    const v = await c.scan(clamd.eicar);
    assert.equal(v.status, 'virus');
    assert.match((v as { signature: string }).signature, /Eicar/i);
    assert.equal((await c.scan(Buffer.from('hello, this is fine'))).status, 'clean');
  });

  it('finds EICAR over the unix socket', async (t) => {
    if ('skip' in clamd) return t.skip(clamd.skip);
    if (!clamd.socket) return t.skip('this clamd has no known unix socket');
    assert.equal((await new ClamdClient([clamd.socket], 5000).scan(clamd.eicar)).status, 'virus');
  });

  it('streams a multi-chunk message (zipped EICAR in base64) and finds it', async (t) => {
    if ('skip' in clamd) return t.skip(clamd.skip);
    const big = toCrlf(withAttachment('docs.zip', zip({ 'photo.raw': randomBytes(300_000), 'eicar.com': clamd.eicar })));
    assert.ok(big.length > 3 * 64 * 1024);
    assert.equal((await new ClamdClient([clamd.host], 5000).scan(big)).status, 'virus');
  });

  it('fails over to the next host when the first refuses', async (t) => {
    if ('skip' in clamd) return t.skip(clamd.skip);
    const r = await new ClamdClient(['127.0.0.1:1', clamd.host], 5000).scan(clamd.eicar);
    assert.equal(r.status, 'virus');
    assert.equal(r.host, clamd.host);
  });

  it('answers PING and VERSION for health checks', async (t) => {
    if ('skip' in clamd) return t.skip(clamd.skip);
    const [p] = await new ClamdClient([clamd.host], 5000).ping();
    assert.equal(p.ok, true);
    assert.match(p.version ?? '', /ClamAV/);
  });

  it('rejects mail with a virus through the scan path', async (t) => {
    if ('skip' in clamd) return t.skip(clamd.skip);
    const config = buildConfig({ nlp: { enabled: false }, clamav: { hosts: clamd.host } }, { env: {} });
    const r = await scanMessage(toCrlf(withAttachment('invoice.com', clamd.eicar)), { mailFrom: '', rcptTo: ['bob@example.org'] }, config, undefined, {
      clamav: new ClamdClient([clamd.host], 5000),
    });
    assert.equal(r.verdict.action, 'reject');
    assert.ok(r.verdict.reasons.some((x) => x.code === 'CLAMAV_VIRUS'));
  });
});

describe('ClamdClient against broken clamds', () => {
  let hang: net.Server;
  let garbage: net.Server;
  let hangPort = 0;
  let garbagePort = 0;
  const sockets = new Set<net.Socket>();
  const track = (s: net.Server): net.Server => s.on('connection', (c: net.Socket) => void (sockets.add(c), c.on('close', () => sockets.delete(c))));
  before(async () => {
    // A clamd that reads the request and never answers.
    hang = net.createServer((sock) => sock.on('error', () => undefined).resume());
    garbage = net.createServer((s) => s.end('WHAT?\0'));
    track(hang);
    track(garbage);
    await Promise.all([hang, garbage].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))));
    hangPort = (hang.address() as net.AddressInfo).port;
    garbagePort = (garbage.address() as net.AddressInfo).port;
  });
  after(async () => {
    for (const c of sockets) c.destroy();
    await Promise.all([hang, garbage].map((s) => new Promise((r) => s.close(r))));
  });

  it('gives up at once on a server that answers without end (another service on the clamd port), not at the deadline', async () => {
    // Before, every chunk was appended to all the reply so far and searched again until the
    // deadline: ~1 s of CPU per second of the scan budget, on Haraka's event loop.
    const chunk = Buffer.alloc(64 * 1024, 'A');
    const flood = track(
      net.createServer((s) => {
        s.on('error', () => undefined).resume();
        const pump = (): void => {
          while (!s.destroyed && s.write(chunk));
          if (!s.destroyed) s.once('drain', pump);
        };
        pump();
      }),
    );
    await new Promise<void>((r) => flood.listen(0, '127.0.0.1', () => r()));
    const host = `127.0.0.1:${(flood.address() as net.AddressInfo).port}`;
    try {
      const client = new ClamdClient([host], 20_000);
      await assert.rejects(client.scan(Buffer.from('x')), (e: unknown) => {
        assert.ok(e instanceof PhishXError && e.code === 'PHISHX_CLAMD_UNAVAILABLE');
        assert.match(e.message, /bytes of reply without its end/);
        assert.ok(e.message.length < 300);
        return true;
      });
      const [health] = await client.ping();
      assert.equal(health.ok, false);
      assert.match(health.error ?? '', /bytes of reply without its end/);
    } finally {
      await new Promise((r) => flood.close(r));
    }
  });

  it('gives up on a silent clamd at the deadline and destroys the socket', async () => {
    const t0 = Date.now();
    await assert.rejects(
      new ClamdClient([`127.0.0.1:${hangPort}`], 300).scan(Buffer.from('x')),
      (e: unknown) => e instanceof PhishXError && e.code === 'PHISHX_CLAMD_UNAVAILABLE',
    );
    assert.ok(Date.now() - t0 < 1500);
    await eventually(async () => {
      const open = await new Promise<number>((r) => hang.getConnections((_e, n) => r(n)));
      assert.equal(open, 0, 'the timed-out socket was not closed');
    });
  });

  it('records CLAMAV_UNAVAILABLE and lets mail flow without defer; 451 with defer', async () => {
    const raw = toCrlf(withAttachment('a.txt', Buffer.from('fine')));
    const env = { mailFrom: '', rcptTo: ['bob@example.org'] };
    const client = new ClamdClient([`127.0.0.1:${garbagePort}`], 1000);
    const open = await scanMessage(raw, env, buildConfig({ nlp: { enabled: false } }, { env: {} }), undefined, { clamav: client });
    assert.equal(open.verdict.action, 'allow');
    assert.ok(open.verdict.reasons.some((x) => x.code === 'CLAMAV_UNAVAILABLE'));
    const deferred = await scanMessage(raw, env, buildConfig({ nlp: { enabled: false }, defer: { clamav: true } }, { env: {} }), undefined, { clamav: client });
    assert.equal(deferred.verdict.action, 'tempfail');
  });

  it("reads a reset in the middle of a stream as clamd's size limit, not as an outage", async () => {
    // Like clamd past StreamMaxLength: read a little, then drop the connection.
    const limit = net.createServer((sock) => {
      let n = 0;
      sock
        .on('error', () => undefined)
        .on('data', (d: Buffer) => {
          n += d.length;
          if (n > 200_000) sock.resetAndDestroy();
        });
    });
    track(limit);
    await new Promise<void>((r) => limit.listen(0, '127.0.0.1', () => r()));
    try {
      const r = await new ClamdClient([`127.0.0.1:${(limit.address() as net.AddressInfo).port}`], 3000).scan(randomBytes(4 * 1024 * 1024));
      assert.equal(r.status, 'size_limit');
    } finally {
      for (const c of sockets) c.destroy();
      await new Promise((r) => limit.close(r));
    }
  });

  it('a virus scan not answered within the budget (a long parse beside it) counts as unavailable (defer applies)', async () => {
    const client = new ClamdClient([`127.0.0.1:${hangPort}`], 1000);
    const links = '<a href="http://45.33.32.156/x">y</a>\r\n'.repeat(60000);
    const raw = Buffer.from(`From: a@example.com\r\nContent-Type: text/html\r\n\r\n${links}`);
    const config = buildConfig(
      { nlp: { enabled: false }, main: { scan_budget_ms: 100 }, limits: { max_urls: 100000, max_decoded_bytes: 100000000 }, defer: { clamav: true } },
      { env: {} },
    );
    const r = await scanMessage(raw, { mailFrom: '', rcptTo: ['bob@example.org'] }, config, undefined, { clamav: client });
    assert.ok(
      r.verdict.reasons.some((x) => x.code === 'CLAMAV_UNAVAILABLE' && /budget|no answer within 100 ms/.test(x.detail)),
      JSON.stringify(r.verdict.reasons),
    );
    assert.equal(r.verdict.action, 'tempfail');
  });

  it('does not send messages above [clamav] max_size', async () => {
    const client = new ClamdClient([`127.0.0.1:${hangPort}`], 1000);
    const r = await scanMessage(
      toCrlf(withAttachment('big.bin', Buffer.alloc(4000))),
      { mailFrom: '', rcptTo: ['bob@example.org'] },
      buildConfig({ nlp: { enabled: false }, clamav: { max_size: 2048 } }, { env: {} }),
      undefined,
      { clamav: client },
    );
    assert.deepEqual(
      r.verdict.reasons.map((x) => x.code),
      ['CLAMAV_SKIPPED_SIZE'],
    );
  });
});
