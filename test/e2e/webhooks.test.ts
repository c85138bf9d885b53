import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { PublicEvent } from '../../lib/store/types.js';
import { newSecret, signHeaders, verifyWebhook } from '../../lib/webhooks/signing.js';
import { api, fetchFresh } from '../helpers/api.js';
import { eventually } from '../helpers/eventually.js';
import { securityEvent } from '../helpers/events.js';
import { REPO, startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { startHttpServer, type TestServer } from '../helpers/http-server.js';
import { phishMessage, quarantineMessage } from '../helpers/messages.js';
import { releaseRedis, testRedis, type TestRedis } from '../helpers/redis.js';
import { idFrom, sendRaw } from '../helpers/smtp.js';

const ADMIN = `admin-${randomBytes(12).toString('hex')}`;
/** Fast retries, so a receiver that comes back is served within a second. */
const FAST = '[webhooks]\nretry_base_ms=50\nretry_max_ms=500\n';

/** A webhook consumer: answers 503 while `down`, else 200; `accepted()` are the events it took. */
async function receiver(): Promise<TestServer & { setDown: (v: boolean) => void; accepted: () => PublicEvent[]; refused: () => number }> {
  let refused = 0;
  const accepted: PublicEvent[] = [];
  const state = { down: false };
  const srv = await startHttpServer((_req, body, res) => {
    if (state.down) {
      refused++;
      res.writeHead(503, { 'retry-after': '0' });
      res.end();
      return;
    }
    accepted.push(JSON.parse(body) as PublicEvent);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  return Object.assign(srv, {
    setDown: (v: boolean) => {
      state.down = v;
    },
    refused: () => refused,
    accepted: () => [...accepted],
  });
}

/** Every request the receiver got verifies with our verifier and with standardwebhooks, for one of the secrets. */
async function assertAllSigned(rx: TestServer, secrets: string[]): Promise<void> {
  for (const r of rx.requests) {
    const headers = r.headers as Record<string, string>;
    const ours = await verifyWebhook(headers, r.body, { secrets, toleranceS: 600 });
    assert.equal(ours.ok, true, JSON.stringify(ours));
    assert.ok(
      secrets.some((s) => {
        try {
          new Webhook(s).verify(r.body, headers);
          return true;
        } catch {
          return false;
        }
      }),
      'standardwebhooks verifies it',
    );
  }
}

const ofType = (events: PublicEvent[], type: string): PublicEvent[] => events.filter((e) => e.type === type);

describe('webhooks through real Haraka (embedded store, PHISHX_WEBHOOK_URL + PHISHX_WEBHOOK_SECRET)', () => {
  const secret = newSecret();
  let rx: Awaited<ReturnType<typeof receiver>>;
  let h: HarakaInstance;

  before(async () => {
    rx = await receiver();
    h = await startHaraka({
      env: { PHISHX_WEBHOOK_URL: rx.url, PHISHX_WEBHOOK_SECRET: secret, PHISHX_API_TOKENS: ADMIN },
      phishxIni: FAST,
    });
  });
  after(async () => {
    await h?.stop();
    await rx?.close();
  });

  it('a rejected and a held message become signed message.rejected / .quarantined / soc_alert.opened events; a release sends quarantine.released', async () => {
    const rej = await sendRaw(h.port, phishMessage(), { from: 'service@paypa1-support.top', to: ['bob@example.org'] });
    assert.equal(rej.code, 550, rej.response);
    const held = await sendRaw(h.port, quarantineMessage(), { from: 'alerts@account-notice.example.net', to: ['carol@example.org'] });
    assert.equal(held.code, 250, held.response);
    const qid = idFrom(held.response);
    await eventually(() => {
      const got = rx.accepted();
      assert.equal(ofType(got, 'message.rejected').length, 1);
      assert.equal(ofType(got, 'message.quarantined').length, 1);
      assert.ok(ofType(got, 'soc_alert.opened').length >= 1);
    });
    const q = ofType(rx.accepted(), 'message.quarantined')[0];
    assert.equal(q.id, `evt_${qid}`);
    assert.equal(q.data.quarantine_id, qid);
    assert.deepEqual(q.data.envelope, { mail_from: 'alerts@account-notice.example.net', rcpt_to: ['carol@example.org'] });
    assert.match(q.created_at, /^\d{4}-\d\d-\d\dT/);
    assert.ok(!JSON.stringify(q).includes('recent sign-in'), 'never the message body');
    const r = await api(h.sidecarPort, 'POST', `/api/v1/quarantine/${qid}/release`, { token: ADMIN, body: {} });
    assert.equal(r.status, 200, r.text);
    await eventually(() => assert.equal(ofType(rx.accepted(), 'quarantine.released').length, 1));
    assert.equal(ofType(rx.accepted(), 'quarantine.released')[0].data.quarantine_id, qid);
    await assertAllSigned(rx, [secret]);
    // A delivery is recorded as delivered once the receiver's answer is back at the sender, which can be after the receiver has the event.
    await eventually(async () => {
      const list = await api(h.sidecarPort, 'GET', '/api/v1/webhooks/deliveries?status=delivered&endpoint=env', { token: ADMIN });
      assert.equal(list.status, 200, list.text);
      assert.ok((list.body.items as unknown[]).length >= 4, `${(list.body.items as unknown[]).length} delivered`);
    });
    assert.equal((await api(h.sidecarPort, 'GET', '/api/v1/webhooks/deliveries?status=lost', { token: ADMIN })).status, 400);
  });
});

for (const backend of ['file', 'redis'] as const) {
  describe(`webhooks survive a receiver outage, a restart and a kill -9 (${backend} store)`, () => {
    const secret = newSecret();
    let rx: Awaited<ReturnType<typeof receiver>>;
    let h: HarakaInstance | undefined;
    let redis: TestRedis | { skip: string } | undefined;
    const prefix = `phishx-wh:${randomBytes(4).toString('hex')}:`;

    before(async () => {
      rx = await receiver();
      const env: NodeJS.ProcessEnv = { PHISHX_WEBHOOK_URL: rx.url, PHISHX_WEBHOOK_SECRET: secret };
      if (backend === 'redis') {
        redis = await testRedis();
        if ('skip' in redis) return;
        Object.assign(env, { PHISHX_REDIS_URL: redis.url, PHISHX_REDIS_KEY_PREFIX: prefix });
      }
      h = await startHaraka({ env, phishxIni: FAST });
    });
    after(async () => {
      await h?.stop();
      await rx?.close();
      await releaseRedis(redis, prefix);
    });

    it('20 rejected messages while the receiver is down, Haraka restarted, then kill -9: once it is up, all 20 arrive (by id)', async (t) => {
      if (redis && 'skip' in redis) return t.skip(redis.skip);
      // The endpoint's consumer group starts at the log's end: let it be made before the outage.
      await eventually(async () => {
        const r = await api(h!.sidecarPort, 'GET', '/alive');
        assert.equal(r.status, 200);
      });
      await new Promise((r) => setTimeout(r, 1500));
      rx.setDown(true);
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const a = await sendRaw(h!.port, phishMessage().replace('limited', `limited ${i}`), { from: 'service@paypa1-support.top', to: ['bob@example.org'] });
        assert.equal(a.code, 550, a.response);
        ids.push(idFrom(a.response));
      }
      await eventually(() => assert.ok(rx.refused() > 0, 'deliveries were tried and refused'));
      await h!.restart();
      for (let i = 10; i < 20; i++) {
        const a = await sendRaw(h!.port, phishMessage().replace('limited', `limited ${i}`), { from: 'service@paypa1-support.top', to: ['bob@example.org'] });
        assert.equal(a.code, 550, a.response);
        ids.push(idFrom(a.response));
      }
      // The events are in the durable log; a kill -9 now must lose none of them.
      await h!.restart({ kill: true });
      rx.setDown(false);
      const want = ids.map((id) => `evt_${id}`).sort();
      await eventually(
        () => {
          const got = [...new Set(ofType(rx.accepted(), 'message.rejected').map((e) => e.id))].sort();
          assert.deepEqual(
            got,
            want,
            `missing (index in sending order): ${ids
              .map((id, i) => (got.includes(`evt_${id}`) ? '' : i))
              .filter((x) => x !== '')
              .join(', ')}`,
          );
        },
        { timeoutMs: 60_000 },
      );
      await assertAllSigned(rx, [secret]);
    });
  });
}

describe('managed signing keys with `phishx keys` (embedded store)', () => {
  let rx: TestServer;
  let h: HarakaInstance;
  const phishx = (...args: string[]): { status: number; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [path.join(REPO, 'lib', 'cli', 'phishx.cjs'), ...args, '--dir', h.dir], {
      encoding: 'utf8',
      env: { ...process.env },
    });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };

  before(async () => {
    rx = await startHttpServer((_req, _body, res) => {
      res.writeHead(200);
      res.end();
    });
    h = await startHaraka({ phishxIni: `${FAST}[webhook.soar]\nurl=${rx.url}\nevents=message.rejected\n` });
  });
  after(async () => {
    await h?.stop();
    await rx?.close();
  });

  it('signs with the primary key; after rotate both keys sign; a retired key signs no more', async () => {
    const send = async (i: number): Promise<PublicEvent & { keyIds: string }> => {
      const before = rx.requests.length;
      const a = await sendRaw(h.port, phishMessage().replace('limited', `limited k${i}`), { from: 'service@paypa1-support.top', to: ['bob@example.org'] });
      assert.equal(a.code, 550, a.response);
      const r = await eventually(() => {
        const got = rx.requests.slice(before).find((x) => (JSON.parse(x.body) as PublicEvent).id === `evt_${idFrom(a.response)}`);
        assert.ok(got);
        return got;
      });
      return { ...(JSON.parse(r.body) as PublicEvent), keyIds: String(r.headers['x-phishx-key-id']) };
    };
    const made = phishx('keys', 'new');
    assert.equal(made.status, 0, made.stderr);
    const first = made.stdout.trim();
    assert.match(first, /^whsec_/);
    const id1 = /^(key_[0-9a-f]{16})/.exec(made.stderr)?.[1];
    assert.ok(id1, made.stderr);
    assert.equal((await send(1)).keyIds, id1);
    await assertAllSigned(rx, [first]);

    const rot = phishx('keys', 'rotate', '--overlap-hours', '1');
    assert.equal(rot.status, 0, rot.stderr);
    const second = rot.stdout.trim();
    const id2 = /^(key_[0-9a-f]{16})/.exec(rot.stderr)?.[1];
    assert.deepEqual((await send(2)).keyIds.split(' '), [id2, id1], 'during the overlap both sign, the new primary first');
    const last = rx.requests.at(-1)!;
    for (const s of [first, second]) assert.equal((await verifyWebhook(last.headers as Record<string, string>, last.body, { secrets: [s] })).ok, true);

    const list = phishx('keys', 'list', '--json');
    assert.deepEqual(
      (JSON.parse(list.stdout) as Array<{ id: string; status: string }>).map((k) => [k.id, k.status]),
      [
        [id1, 'signing'],
        [id2, 'primary'],
      ],
    );
    assert.ok(!list.stdout.includes('whsec_'), 'list never prints secrets');

    assert.equal(phishx('keys', 'retire', id1).status, 0);
    const after = await send(3);
    assert.equal(after.keyIds, id2);
    const r = rx.requests.at(-1)!;
    const old = await verifyWebhook(r.headers, r.body, { secrets: [first] });
    assert.equal(old.ok ? 'ok' : old.check, 'signature', 'the retired key does not sign');
    assert.notEqual(phishx('keys', 'show', id1).status, 0, 'a retired key has no secret to show');
    assert.equal(phishx('keys', 'show', id2!).stdout.trim(), second);
  });

  it('CLI: phishx webhook verify checks a captured delivery; bad arguments exit 2 with a message', async () => {
    const r = rx.requests.at(-1)!;
    const secret = phishx('keys', 'show', String(r.headers['x-phishx-key-id'])).stdout.trim();
    const headerFile = path.join(h.dir, 'captured.headers');
    const bodyFile = path.join(h.dir, 'captured.json');
    await writeFile(
      headerFile,
      Object.entries(r.headers)
        .map(([k, v]) => `${k}: ${String(v)}`)
        .join('\r\n'),
    );
    await writeFile(bodyFile, r.body);
    const cli = (...args: string[]): { status: number; stdout: string; stderr: string } => {
      const x = spawnSync(process.execPath, [path.join(REPO, 'lib', 'cli', 'phishx.cjs'), ...args], { encoding: 'utf8' });
      return { status: x.status ?? -1, stdout: x.stdout, stderr: x.stderr };
    };
    const ok = cli('webhook', 'verify', '--headers', headerFile, '--body', bodyFile, '--secret', secret);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^ok key=#0/);
    await writeFile(bodyFile, r.body.replace('message.rejected', 'message.allowed'));
    const bad = cli('webhook', 'verify', '--headers', headerFile, '--body', bodyFile, '--secret', secret);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /^failed body_hash/);
    const usage = cli('webhook', 'verify', '--headers', headerFile);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--headers FILE and --body FILE are required/);
    assert.equal(cli('keys', 'spin', '--dir', h.dir).status, 2);
    assert.match(cli('keys', '--help').stdout, /rotate/);
  });
});

describe('signed requests to the sidecar API (API keys from `phishx keys new --scope`)', () => {
  let h: HarakaInstance;
  let qid: string;
  const phishx = (...args: string[]): { status: number; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [path.join(REPO, 'lib', 'cli', 'phishx.cjs'), ...args, '--dir', h.dir], { encoding: 'utf8' });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const newKey = (...args: string[]): { id: string; secret: string } => {
    const r = phishx('keys', 'new', ...args);
    assert.equal(r.status, 0, r.stderr);
    return { id: /^(key_[0-9a-f]{16})/.exec(r.stderr)![1], secret: r.stdout.trim() };
  };
  /** Send a request signed with `key`; `tamper` changes it after signing. */
  const signed = async (
    key: { id: string; secret: string },
    method: string,
    target: string,
    body = '',
    tamper: { body?: string; target?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: { error?: string } & Record<string, unknown>; headers: Record<string, string> }> => {
    const headers = signHeaders({ body, keys: [key], id: 'req', request: { method, target } });
    const res = await fetchFresh(`http://127.0.0.1:${h.sidecarPort}${tamper.target ?? target}`, {
      method,
      headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}), ...tamper.headers },
      ...(method !== 'GET' ? { body: tamper.body ?? body } : {}),
    });
    return { status: res.status, body: (await res.json()) as { error?: string }, headers: { ...headers, ...tamper.headers } };
  };

  before(async () => {
    h = await startHaraka({});
    const a = await sendRaw(h.port, quarantineMessage(), { from: 'alerts@account-notice.example.net', to: ['carol@example.org'] });
    assert.equal(a.code, 250, a.response);
    qid = idFrom(a.response);
  });
  after(async () => {
    await h?.stop();
  });

  it('an act key lists and releases; replay, stale, changed body, moved signature and a retired key get 401 with the reason; scopes hold', async () => {
    const act = newKey('--scope', 'act');
    const read = newKey('--scope', 'read');
    const list = await signed(act, 'GET', '/api/v1/quarantine?limit=5');
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.ok((list.body.items as Array<{ id: string }>).some((i) => i.id === qid));
    // The same request again: the nonce was used.
    const replay = await fetchFresh(`http://127.0.0.1:${h.sidecarPort}/api/v1/quarantine?limit=5`, { headers: list.headers });
    assert.equal(replay.status, 401);
    assert.match(((await replay.json()) as { error: string }).error, /refused \(nonce\)/);
    const stale = await signed(act, 'GET', '/api/v1/quarantine', '', {
      headers: signHeaders({
        body: '',
        keys: [act],
        id: 'r',
        request: { method: 'GET', target: '/api/v1/quarantine' },
        timestamp: Math.floor(Date.now() / 1000) - 3600,
      }),
    });
    assert.equal(stale.status, 401);
    assert.match(stale.body.error!, /\(timestamp\)/);
    const moved = await signed(act, 'GET', '/api/v1/quarantine', '', { target: '/api/v1/audit' });
    assert.equal(moved.status, 401, 'a signature made for one route does not open another');
    assert.match(moved.body.error!, /\(signature\)/);
    const changed = await signed(act, 'POST', `/api/v1/quarantine/${qid}/release`, '{}', { body: '{"recipients":["x@evil.example"]}' });
    assert.equal(changed.status, 401);
    assert.match(changed.body.error!, /\(body_hash\)/);
    const denied = await signed(read, 'POST', `/api/v1/quarantine/${qid}/release`, '{}');
    assert.equal(denied.status, 403, 'a read key cannot release');
    const released = await signed(act, 'POST', `/api/v1/quarantine/${qid}/release`, '{}');
    assert.equal(released.status, 200, JSON.stringify(released.body));
    assert.equal(phishx('keys', 'retire', act.id).status, 0);
    const retired = await signed(act, 'GET', '/api/v1/quarantine');
    assert.equal(retired.status, 401);
    assert.match(retired.body.error!, /\(signature\)/);
    // The audit log names the key that acted.
    const admin = newKey('--scope', 'admin');
    const audit = await signed(admin, 'GET', '/api/v1/audit');
    assert.equal(audit.status, 200);
    assert.ok((audit.body.items as Array<{ action: string; actor: string }>).some((x) => x.action === 'release' && x.actor === `key:${act.id}`));
    assert.ok(!phishx('keys', 'list').stdout.includes('whsec_'));
    assert.match(phishx('keys', 'list').stdout, /\tapi read\t[\s\S]*\tapi admin\t/);
    assert.match(phishx('keys', 'list').stdout, /\tretired act\t/);
    assert.equal(phishx('keys', 'new', '--scope', 'root').status, 2);
  });
});

describe('dead letters and redelivery through the API', () => {
  let rx: TestServer;
  let h: HarakaInstance;
  let up = false;
  const secret = newSecret();

  before(async () => {
    rx = await startHttpServer((_req, _body, res) => {
      res.writeHead(up ? 200 : 500);
      res.end();
    });
    // max_age_h is at least 1: a receiver that fails on an event older than that gives it up at once.
    h = await startHaraka({
      env: { PHISHX_WEBHOOK_URL: rx.url, PHISHX_WEBHOOK_SECRET: secret, PHISHX_API_TOKENS: ADMIN, PHISHX_WEBHOOKS_MAX_AGE_H: '1' },
      phishxIni: FAST,
    });
  });
  after(async () => {
    await h?.stop();
    await rx?.close();
  });

  it('a delivery given up is listed as dead, and POST …/retry delivers it once the receiver works', async () => {
    // Fake an old event: write it into the log the way the plugin does (the file store's journal).
    const { FileStore } = await import('../../lib/store/file.js');
    const store = new FileStore(h.spoolDir, { maxEntries: 10, maxBytes: 1 << 20 });
    await new Promise((r) => setTimeout(r, 1500));
    await store.appendEvent(securityEvent('oldscan1', { at: Date.now() - 2 * 3_600_000 }));
    await store.close();
    // The rejected message also opens a SOC alert as old as it (soc_alert.opened, given up
    // likewise once the fold batch writes it): the scan event's delivery is the one followed.
    const dead = await eventually(async () => {
      const r = await api(h.sidecarPort, 'GET', '/api/v1/webhooks/deliveries?status=dead', { token: ADMIN });
      assert.equal(r.status, 200, r.text);
      const mine = (r.body.items as Array<{ id: string; last_status: number; event: { id: string; type: string } }>).filter(
        (d) => d.event.id === 'evt_oldscan1',
      );
      assert.equal(mine.length, 1, JSON.stringify(r.body.items));
      return mine[0];
    });
    assert.equal(dead.event.id, 'evt_oldscan1');
    assert.equal(dead.last_status, 500);
    assert.equal((await api(h.sidecarPort, 'POST', `/api/v1/webhooks/deliveries/nope.env/retry`, { token: ADMIN })).status, 404);
    up = true;
    const retry = await api(h.sidecarPort, 'POST', `/api/v1/webhooks/deliveries/${dead.id}/retry`, { token: ADMIN });
    assert.equal(retry.status, 202, retry.text);
    await eventually(async () => {
      const r = await api(h.sidecarPort, 'GET', '/api/v1/webhooks/deliveries?status=delivered', { token: ADMIN });
      assert.ok((r.body.items as Array<{ id: string }>).some((d) => d.id === dead.id));
    });
    assert.equal((await api(h.sidecarPort, 'POST', `/api/v1/webhooks/deliveries/${dead.id}/retry`, { token: ADMIN })).status, 409, 'only dead ones');
    const audit = await api(h.sidecarPort, 'GET', '/api/v1/audit', { token: ADMIN });
    assert.ok((audit.body.items as Array<{ action: string }>).some((a) => a.action === 'webhook_retry'));
    assert.equal((await api(h.sidecarPort, 'GET', '/api/v1/webhooks/deliveries')).status, 401);
  });
});
