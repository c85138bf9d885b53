import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { UrlExpander } from '../../lib/reputation/expand.js';
import { isPublicAddress } from '../../lib/ip-address.js';
import { scanMessage } from '../../lib/scan.js';
import { startHttpServer, type TestServer } from '../helpers/http-server.js';
import { toCrlf } from '../helpers/smtp.js';

describe('address policy for outgoing expansion requests', () => {
  it('allows only public unicast addresses', () => {
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '0.0.0.0',
      '100.64.0.1',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '224.0.0.1',
      '::7f00:1',
      '[::7f00:1]',
      '::a00:1',
      '::a9fe:a9fe',
      '::127.0.0.1',
      '2002:7f00:1::',
      '64:ff9b::7f00:1',
      '2001::1',
    ])
      assert.equal(isPublicAddress(ip), false, ip);
    for (const ip of ['45.33.32.156', '2a00:1450:4001:80b::200e', '::2d21:209c']) assert.equal(isPublicAddress(ip), true, ip);
  });
});

describe('UrlExpander', () => {
  let short: TestServer;
  let loop: TestServer;
  let hang: TestServer;
  before(async () => {
    short = await startHttpServer((req, _b, res) => {
      if (req.url === '/abc') return res.writeHead(301, { location: '/step2' }).end();
      if (req.url === '/step2') return res.writeHead(302, { location: '/final?x=1' }).end();
      res.writeHead(200).end();
    });
    loop = await startHttpServer((_req, _b, res) => res.writeHead(302, { location: '/again' }).end());
    hang = await startHttpServer(() => undefined);
  });
  after(async () => {
    await Promise.all([short.close(), loop.close(), hang.close()]);
  });

  it('follows redirects with HEAD requests only and returns the chain', async () => {
    const e = new UrlExpander({ maxHops: 5, timeoutMs: 1000, allowPrivate: true });
    try {
      assert.deepEqual(await e.expand(`${short.url}abc`), [`${short.url}abc`, `${short.url}step2`, `${short.url}final?x=1`]);
      assert.ok(short.requests.every((r) => r.method === 'HEAD'));
    } finally {
      await e.close();
    }
  });

  it('stops after maxHops', async () => {
    const e = new UrlExpander({ maxHops: 3, timeoutMs: 1000, allowPrivate: true });
    try {
      assert.equal((await e.expand(`${loop.url}start`)).length, 4);
    } finally {
      await e.close();
    }
  });

  it('gives up at timeoutMs', async () => {
    const e = new UrlExpander({ maxHops: 3, timeoutMs: 200, allowPrivate: true });
    try {
      const t0 = Date.now();
      await assert.rejects(e.expand(`${hang.url}x`));
      assert.ok(Date.now() - t0 < 1500);
    } finally {
      await e.close();
    }
  });

  it('refuses loopback by IP literal and by name (checked after DNS resolution)', async () => {
    const e = new UrlExpander({ maxHops: 3, timeoutMs: 1000 });
    const port = new URL(short.url).port;
    const before = short.requests.length;
    try {
      await assert.rejects(e.expand(`http://127.0.0.1:${port}/abc`), /not a public address/);
      await assert.rejects(e.expand(`http://localhost:${port}/abc`), /not a public address/);
      // IPv4-compatible IPv6 (127.0.0.1 spelt ::7f00:1) passed the check before.
      await assert.rejects(e.expand(`http://[::7f00:1]:${port}/abc`), /not a public address/);
      await assert.rejects(e.expand(`http://[::ffff:7f00:1]:${port}/abc`), /not a public address/);
      assert.equal(short.requests.length, before, 'a request reached the loopback server');
    } finally {
      await e.close();
    }
  });
});

describe('short-link expansion in the scan path', () => {
  let short: TestServer;
  before(async () => {
    // The "shortener" points at a public IP; maxHops 1 records the target without requesting it.
    short = await startHttpServer((_req, _b, res) => res.writeHead(301, { location: 'http://45.33.32.156/paypal/login' }).end());
  });
  after(async () => {
    await short.close();
  });

  it('analyses the target of a short link like any other link', async () => {
    const config = buildConfig({ nlp: { enabled: false }, urls: { expand_shorteners: true, shorteners: '127.0.0.1' } }, { env: {} });
    const expander = new UrlExpander({ maxHops: 1, timeoutMs: 1000, allowPrivate: true });
    try {
      const raw = toCrlf(`From: a@example.com\nTo: b@example.org\nSubject: x\n\nPlease see ${short.url}s/1\n`);
      const r = await scanMessage(raw, { mailFrom: '', rcptTo: ['b@example.org'] }, config, undefined, { expander });
      const codes = r.verdict.reasons.map((x) => x.code);
      assert.ok(codes.includes('URL_SHORTENER_EXPANDED'), codes.join());
      assert.ok(codes.includes('URL_IP_LITERAL'), codes.join());
      const off = await scanMessage(
        raw,
        { mailFrom: '', rcptTo: ['b@example.org'] },
        buildConfig({ nlp: { enabled: false }, urls: { shorteners: '127.0.0.1' } }, { env: {} }),
        undefined,
        { expander },
      );
      assert.ok(!off.verdict.reasons.some((x) => x.code === 'URL_SHORTENER_EXPANDED'), 'expanded although expand_shorteners is off');
    } finally {
      await expander.close();
    }
  });
});
