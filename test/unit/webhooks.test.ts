import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { buildConfig } from '../../lib/config/load.js';
import { ConfigError } from '../../lib/errors.js';
import { FileStore } from '../../lib/store/file.js';
import { MemoryStore } from '../../lib/store/memory.js';
import type { KeyRing, PublicEvent, SecurityEvent, Store } from '../../lib/store/types.js';
import { backoffMs, retryAfterMs } from '../../lib/webhooks/deliver.js';
import { eventFor, groupOf, startWebhookDispatcher } from '../../lib/webhooks/dispatcher.js';
import { publicScanEvent } from '../../lib/webhooks/events.js';
import { addKey, newKey, retire, rotate, signingKeys } from '../../lib/webhooks/keys.js';
import { MemoryNonceCache, newSecret, signHeaders, verifyWebhook } from '../../lib/webhooks/signing.js';
import { parseHeaderLines } from '../../lib/cli/commands/webhook.js';
import { eventually } from '../helpers/eventually.js';
import { securityEvent } from '../helpers/events.js';
import { startHttpServer, type TestServer } from '../helpers/http-server.js';

const NOW = 1_764_600_000;

const scanEvent = (i: number, over: Partial<SecurityEvent> = {}): SecurityEvent => securityEvent(`scan${i}`, over);

describe('webhook signing', () => {
  const secret = newSecret();
  const body = JSON.stringify({ id: 'evt_1', type: 'message.rejected', created_at: '2026-12-01T00:00:00.000Z', tenant: 'default', data: {} });
  const signed = (over: Partial<Parameters<typeof signHeaders>[0]> = {}): Record<string, string> =>
    signHeaders({ body, keys: [{ id: 'key_a', secret }], id: 'evt_1', timestamp: NOW, ...over });

  it('verifies with our verifier and with the standardwebhooks package (an independent implementation)', async () => {
    const h = signed();
    assert.match(h['x-phishx-signature'], /^v1=[0-9a-f]{64}$/);
    assert.match(h['x-phishx-nonce'], /^[0-9a-f]{32}$/);
    assert.equal(h['x-phishx-body-hash'], `sha256=${(await import('node:crypto')).createHash('sha256').update(body).digest('hex')}`);
    assert.deepEqual(await verifyWebhook(h, body, { secrets: [secret], now: NOW }), { ok: true, keyId: '#0', timestamp: NOW, nonce: h['x-phishx-nonce'] });
    // standardwebhooks checks the timestamp against the real clock: sign one for now.
    const fresh = signHeaders({ body, keys: [{ id: 'key_a', secret }], id: 'evt_1' });
    assert.deepEqual(new Webhook(secret).verify(body, fresh), JSON.parse(body));
  });

  it('during a rotation both keys sign, and each verifies alone (ours and standardwebhooks)', async () => {
    const old = newSecret();
    const fresh = signHeaders({
      body,
      keys: [
        { id: 'key_new', secret },
        { id: 'key_old', secret: old },
      ],
      id: 'evt_1',
    });
    assert.equal(fresh['x-phishx-key-id'], 'key_new key_old');
    assert.equal(fresh['x-phishx-signature'].split(' ').length, 2);
    assert.equal(fresh['webhook-signature'].split(' ').length, 2);
    for (const s of [secret, old]) {
      assert.equal((await verifyWebhook(fresh, body, { secrets: [s] })).ok, true);
      assert.deepEqual(new Webhook(s).verify(body, fresh), JSON.parse(body));
    }
  });

  it('says which check refused: body, timestamp, signature, replayed nonce, missing headers, retired key', async () => {
    const h = signed();
    const check = async (hh: Record<string, string>, b: string, opts = {}): Promise<string> => {
      const r = await verifyWebhook(hh, b, { secrets: [secret], now: NOW, ...opts });
      return r.ok ? 'ok' : r.check;
    };
    assert.equal(await check(h, body.replace('rejected', 'allowed')), 'body_hash', 'a changed body');
    assert.equal(await check({ ...h, 'x-phishx-body-hash': `sha256=${'0'.repeat(64)}` }, body), 'body_hash');
    assert.equal(await check(h, body, { now: NOW + 301 }), 'timestamp', 'stale');
    assert.equal(await check(h, body, { now: NOW - 301 }), 'timestamp', 'from the future');
    assert.equal(await check({ ...h, 'x-phishx-timestamp': String(NOW + 10) }, body), 'signature', 'a changed timestamp');
    assert.equal(await check({ ...h, 'x-phishx-nonce': 'f'.repeat(32) }, body), 'signature', 'a changed nonce');
    const { 'x-phishx-signature': _, ...noSig } = h;
    assert.equal(await check(noSig, body), 'headers');
    assert.equal(await check({ ...h, 'x-phishx-timestamp': 'yesterday' }, body), 'headers');
    assert.equal(
      await verifyWebhook(h, body, { secrets: [newSecret()], now: NOW }).then((r) => (r.ok ? 'ok' : r.check)),
      'signature',
      'a key not (or no longer) accepted',
    );
    const nonces = new MemoryNonceCache();
    assert.equal(await check(h, body, { nonces }), 'ok');
    assert.equal(await check(h, body, { nonces }), 'nonce', 'the same request again');
    // The standardwebhooks package refuses the tampered body too.
    const fresh = signHeaders({ body, keys: [{ id: 'k', secret }], id: 'evt_1' });
    assert.throws(() => new Webhook(secret).verify(body.replace('rejected', 'allowed'), fresh));
  });

  it('refuses secrets that are not whsec_ base64 of at least 16 bytes, and never throws on junk headers', async () => {
    assert.throws(() => signHeaders({ body, keys: [{ id: 'k', secret: 'plain' }], id: 'e' }), /whsec_/);
    assert.throws(() => signHeaders({ body, keys: [{ id: 'k', secret: 'whsec_AAAA' }], id: 'e' }), /16 bytes/);
    assert.throws(() => signHeaders({ body, keys: [], id: 'e' }), /no signing key/);
    for (const junk of [
      {},
      { 'x-phishx-signature': ['a', 'b'] },
      { 'X-PhishX-Timestamp': '1', 'x-phishx-nonce': 'zz', 'x-phishx-body-hash': 'x', 'x-phishx-signature': 'v1=zz' },
    ]) {
      const r = await verifyWebhook(junk, body, { secrets: [secret] });
      assert.equal(r.ok, false);
    }
  });

  it('reads header files as curl -D writes them', () => {
    assert.deepEqual(parseHeaderLines('HTTP/1.1 200 OK\r\nX-PhishX-Nonce: abc\r\nContent-Type: application/json\r\n\r\n'), {
      'x-phishx-nonce': 'abc',
      'content-type': 'application/json',
    });
  });
});

describe('signing keys', () => {
  it('the first key is primary; rotation keeps the old key signing for the overlap, then only the new one; a retired key never signs', () => {
    let ring: KeyRing = { version: 0, keys: [] };
    const a = newKey(1000, true);
    ring = addKey(ring, a, 1000);
    assert.deepEqual(
      signingKeys(ring, 1000).map((k) => k.id),
      [a.id],
    );
    const b = newKey(2000, true);
    ring = rotate(ring, b, 2000, 60_000);
    assert.equal(ring.version, 2);
    assert.deepEqual(
      signingKeys(ring, 2001).map((k) => k.id),
      [b.id, a.id],
      'both sign during the overlap, the new primary first',
    );
    assert.deepEqual(
      signingKeys(ring, 62_001).map((k) => k.id),
      [b.id],
      'the old one retired after it',
    );
    const c = newKey(3000, true);
    ring = addKey(ring, c, 3000);
    assert.deepEqual(
      signingKeys(ring, 3000).map((k) => k.id),
      [b.id, c.id, a.id],
    );
    ring = retire(ring, b.id, 4000)!;
    const kb = ring.keys.find((k) => k.id === b.id)!;
    assert.equal(kb.secret, '', 'a retired key loses its secret');
    assert.equal(ring.keys.find((k) => k.id === c.id)?.primary, true, 'the newest signing key becomes primary');
    assert.ok(!signingKeys(ring, 4000).some((k) => k.id === b.id));
    assert.equal(retire(ring, 'key_none', 5000), null);
  });
});

describe('delivery timing', () => {
  it('backs off exponentially with full jitter, capped, and honours a longer Retry-After', () => {
    assert.equal(
      backoffMs(1, 1000, 60_000, undefined, () => 1),
      1000,
    );
    assert.equal(
      backoffMs(4, 1000, 60_000, undefined, () => 1),
      8000,
    );
    assert.equal(
      backoffMs(30, 1000, 60_000, undefined, () => 1),
      60_000,
    );
    assert.equal(
      backoffMs(3, 1000, 60_000, undefined, () => 0),
      500,
      'never below half the base',
    );
    assert.equal(
      backoffMs(1, 1000, 60_000, 120_000, () => 0.5),
      120_000,
    );
    assert.equal(retryAfterMs('30'), 30_000);
    assert.equal(retryAfterMs('99999999'), 3_600_000, 'capped at an hour');
    assert.equal(retryAfterMs(new Date(Date.now() + 10_000).toUTCString()) !== undefined, true);
    assert.equal(retryAfterMs('soon'), undefined);
    assert.equal(retryAfterMs(undefined), undefined);
  });
});

describe('webhook endpoints in phishx.ini', () => {
  const secret = newSecret();
  it('reads [webhook.<name>] sections and PHISHX_WEBHOOK_URL; message.allowed is opt-in', () => {
    const c = buildConfig(
      { 'webhook.soar': { url: 'https://soar.example/hooks/phishx', events: 'message.rejected, quarantine.released', tenants: 'example.org' } },
      { env: { PHISHX_WEBHOOK_URL: 'http://127.0.0.1:9/x', PHISHX_WEBHOOK_SECRET: secret } },
    );
    assert.deepEqual(c.webhookEndpoints[0], {
      name: 'soar',
      url: 'https://soar.example/hooks/phishx',
      events: ['message.rejected', 'quarantine.released'],
      tenants: ['example.org'],
      secretEnv: '',
    });
    assert.equal(c.webhookEndpoints[1].name, 'env');
    assert.equal(c.webhookEndpoints[1].secretEnv, 'PHISHX_WEBHOOK_SECRET');
    assert.ok(!c.webhookEndpoints[1].events.includes('message.allowed'));
    assert.ok(buildConfig({ 'webhook.all': { url: 'https://x.example/', events: '*' } }, { env: {} }).webhookEndpoints[0].events.includes('message.allowed'));
  });

  it('refuses a bad URL, an unknown event, a missing secret variable, a bad secret, an unknown key, with the section named', () => {
    const bad = (raw: Record<string, Record<string, string>>, env: NodeJS.ProcessEnv, re: RegExp): void =>
      assert.throws(
        () => buildConfig(raw, { env }),
        (e: unknown) => e instanceof ConfigError && re.test(e.message),
      );
    bad({ 'webhook.a': { url: 'ftp://x.example/' } }, {}, /\[webhook\.a\] url: expected an http/);
    bad({ 'webhook.a': { url: 'not a url' } }, {}, /\[webhook\.a\] url = "not a url"/);
    bad({ 'webhook.a': { url: '' } }, {}, /\[webhook\.a\] url: required/);
    bad({ 'webhook.a': { url: 'https://x.example/', events: 'message.exploded' } }, {}, /unknown event type message\.exploded/);
    bad({ 'webhook.a': { url: 'https://x.example/', secret_env: 'NOPE_SECRET' } }, {}, /NOPE_SECRET is not set/);
    bad({ 'webhook.a': { url: 'https://x.example/', secret_env: 'S' } }, { S: 'hunter2' }, /S: a webhook secret starts with whsec_/);
    bad({ 'webhook.a': { url: 'https://x.example/', colour: 'red' } }, {}, /\[webhook\.a\] colour: unknown key/);
    bad({ 'webhook.a b': { url: 'https://x.example/' } }, {}, /endpoint name/);
  });
});

describe('the event catalogue', () => {
  it('a scan event becomes message.rejected / quarantined / allowed with a stable id and no body; filters by type and tenant', () => {
    const e = publicScanEvent(scanEvent(1, { action: 'quarantine', quarantineId: 'q1', smtpCode: 250 }));
    assert.equal(e.id, 'evt_scan1');
    assert.equal(e.type, 'message.quarantined');
    assert.equal(e.data.quarantine_id, 'q1');
    assert.deepEqual(Object.keys(e.data).sort(), [
      'action',
      'envelope',
      'from',
      'quarantine_id',
      'reasons',
      'scan_id',
      'score',
      'smtp_code',
      'subject',
      'url_hosts',
    ]);
    const ep = { name: 'a', url: 'http://x/', events: ['message.rejected'], tenants: ['example.org'], secretEnv: '' };
    assert.equal(eventFor(scanEvent(2, { action: 'quarantine' }), ep), null, 'type filtered');
    assert.equal(eventFor(scanEvent(2), ep), null, 'tenant filtered');
    assert.equal(eventFor(scanEvent(2, { tenant: 'example.org' }), ep)?.event.id, 'evt_scan2');
    const redo = { kind: 'redeliver' as const, endpoint: 'b', event: e };
    assert.equal(eventFor(redo, ep), null, 'a redelivery is for its endpoint only');
    assert.equal(eventFor({ ...redo, endpoint: 'a' }, ep)?.redelivery, true);
  });
});

describe('webhook dispatcher (real local HTTP receiver)', () => {
  const secret = newSecret();
  process.env.PHISHX_TEST_WEBHOOK_SECRET = secret;

  function configFor(url: string, extra: Record<string, string> = {}): ReturnType<typeof buildConfig> {
    return buildConfig(
      {
        webhooks: { retry_base_ms: '20', retry_max_ms: '200', ...extra },
        'webhook.rx': { url, secret_env: 'PHISHX_TEST_WEBHOOK_SECRET' },
      },
      { env: process.env },
    );
  }

  async function withStore(kind: 'memory' | 'file', fn: (store: Store) => Promise<void>): Promise<void> {
    const dir = kind === 'file' ? await mkdtemp(path.join(os.tmpdir(), 'phishx-wh-')) : null;
    const store = dir ? new FileStore(dir, { maxEntries: 100, maxBytes: 1 << 20 }) : new MemoryStore();
    try {
      await fn(store);
    } finally {
      await store.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  for (const kind of ['memory', 'file'] as const) {
    it(`${kind} store: delivers signed events, retries a failing receiver (503, Retry-After), each event once by id`, async () => {
      let fail = 3;
      const rx: TestServer = await startHttpServer((_req, _body, res) => {
        if (fail-- > 0) {
          res.writeHead(503, { 'retry-after': '0' });
          res.end('busy');
          return;
        }
        res.writeHead(204);
        res.end();
      });
      await withStore(kind, async (store) => {
        const config = configFor(rx.url);
        // The endpoint's group starts at the log's end: make it now, as the dispatcher's first read would.
        await store.readEvents(groupOf('rx'), 'test', 1, 'new');
        const d = startWebhookDispatcher({ store: () => store, config: () => config, consumer: 'test', log: () => undefined });
        try {
          for (let i = 0; i < 5; i++) await store.appendEvent(scanEvent(i));
          await eventually(async () => {
            const ok = rx.requests.filter((r) => r.headers['x-phishx-signature']);
            const delivered = (await store.listDeliveries({ status: ['delivered'] })).items;
            assert.equal(delivered.length, 5);
            return ok;
          });
          const bodies = new Map<string, PublicEvent>();
          for (const r of rx.requests) {
            const v = await verifyWebhook(r.headers, r.body, { secrets: [secret] });
            assert.equal(v.ok, true, JSON.stringify(v));
            assert.deepEqual(new Webhook(secret).verify(r.body, r.headers as Record<string, string>), JSON.parse(r.body));
            const e = JSON.parse(r.body) as PublicEvent;
            assert.equal(r.headers['webhook-id'], e.id);
            bodies.set(e.id, e);
          }
          assert.deepEqual([...bodies.keys()].sort(), [0, 1, 2, 3, 4].map((i) => `evt_scan${i}`).sort());
          assert.equal(rx.requests.length, 5 + 3, 'three refused attempts were retried');
          const first = (await store.listDeliveries({})).items.find((x) => x.attempts > 1);
          assert.ok(first, 'a delivery record shows its retries');
        } finally {
          await d.stop();
          await rx.close();
        }
      });
    });
  }

  it('gives up an event older than max_age_h into the dead letters, and delivers it again when redelivered', async () => {
    let up = false;
    const rx = await startHttpServer((_req, _body, res) => {
      res.writeHead(up ? 200 : 500);
      res.end();
    });
    await withStore('memory', async (store) => {
      const config = configFor(rx.url, { max_age_h: '1' });
      await store.readEvents(groupOf('rx'), 'test', 1, 'new'); // the endpoint's group, at the log's end
      const d = startWebhookDispatcher({ store: () => store, config: () => config, consumer: 'test', log: () => undefined });
      try {
        await store.appendEvent(scanEvent(9, { at: Date.now() - 2 * 3_600_000 }));
        const dead = await eventually(async () => {
          const items = (await store.listDeliveries({ status: ['dead'] })).items;
          assert.equal(items.length, 1);
          return items[0];
        });
        assert.equal(dead.lastStatus, 500);
        assert.equal(dead.attempts, 1);
        up = true;
        await store.appendEvent({ kind: 'redeliver', endpoint: 'rx', event: dead.event });
        await eventually(async () => assert.equal((await store.getDelivery(dead.id))?.status, 'delivered'));
        assert.equal(JSON.parse(rx.requests.at(-1)!.body).id, 'evt_scan9');
      } finally {
        await d.stop();
        await rx.close();
      }
    });
  });

  it('does not follow a redirect, and reads at most 64 KiB of an endless answer', async () => {
    const target = await startHttpServer((_req, _body, res) => {
      res.writeHead(200);
      res.end();
    });
    let n = 0;
    const rx = await startHttpServer((_req, _body, res) => {
      if (n++ === 0) {
        res.writeHead(307, { location: target.url });
        res.end();
        return;
      }
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const timer = setInterval(() => res.write(chunk), 1);
      res.on('close', () => clearInterval(timer));
    });
    await withStore('memory', async (store) => {
      const config = configFor(rx.url);
      await store.readEvents(groupOf('rx'), 'test', 1, 'new'); // the endpoint's group, at the log's end
      const d = startWebhookDispatcher({ store: () => store, config: () => config, consumer: 'test', log: () => undefined });
      try {
        await store.appendEvent(scanEvent(1));
        const rec = await eventually(async () => {
          const r = await store.getDelivery('evt_scan1.rx');
          assert.equal(r?.status, 'delivered');
          return r;
        });
        assert.equal(rec.attempts, 2, 'the 307 was a failed attempt');
        assert.equal(target.requests.length, 0, 'the redirect target never got the event');
      } finally {
        await d.stop();
        await rx.close();
        await target.close();
      }
    });
  });
});
