import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startSidecar, type SidecarSources } from '../../lib/sidecar/server.js';
import { PhishXError } from '../../lib/errors.js';
import { guarded } from '../../lib/resilience/breaker.js';
import { buildConfig } from '../../lib/config/load.js';
import { MemoryStore } from '../../lib/store/memory.js';
import type { Store } from '../../lib/store/types.js';
import { hashToken } from '../../lib/sidecar/auth.js';
import type { PhishXConfig } from '../../lib/config/types.js';
import net from 'node:net';
import { rawExchange, rawRequest } from '../helpers/raw-http.js';

const TOKEN = 'test-token-0123456789abcdef';

function config(ini: Record<string, Record<string, string>> = {}): PhishXConfig {
  return buildConfig(
    { sidecar: { token_hashes: hashToken(TOKEN), ...ini.sidecar }, ...Object.fromEntries(Object.entries(ini).filter(([k]) => k !== 'sidecar')) },
    { env: {} },
  );
}

function sources(over: Partial<SidecarSources> & { cfg?: PhishXConfig } = {}): SidecarSources {
  const store = new MemoryStore();
  const cfg = over.cfg ?? config();
  return {
    config: () => cfg,
    smtpListening: () => true,
    store: () => store,
    clamd: () => null,
    nlpProbe: () => null,
    ...over,
  };
}

function downStore(): Store {
  const s = new MemoryStore();
  s.ping = async () => {
    throw new Error('redis ping failed: ECONNREFUSED');
  };
  return s;
}

describe('sidecar', () => {
  it('answers /alive 200, /ready 200 and /health HEALTHY when everything is up', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, sources());
    try {
      const base = `http://127.0.0.1:${s.address.port}`;
      assert.equal((await fetch(`${base}/alive`)).status, 200);
      const ready = await fetch(`${base}/ready`);
      assert.equal(ready.status, 200);
      assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { config: true, smtp: true, store: true });
      const health = (await (await fetch(`${base}/health`)).json()) as { status: string; workers: { asked: number } };
      assert.equal(health.status, 'HEALTHY');
      assert.equal(health.workers.asked, 0);
    } finally {
      await s.close();
    }
  });

  it('answers /ready 503 with the failing check when the store is down or SMTP not listening', async () => {
    const store = downStore();
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, sources({ store: () => store, smtpListening: () => false }));
    try {
      const r = await fetch(`http://127.0.0.1:${s.address.port}/ready`);
      assert.equal(r.status, 503);
      const body = (await r.json()) as { checks: Record<string, boolean>; store_error: string };
      assert.equal(body.checks.store, false);
      assert.equal(body.checks.smtp, false);
      assert.match(body.store_error, /ECONNREFUSED/);
      assert.equal((await fetch(`http://127.0.0.1:${s.address.port}/health`)).status, 503);
      const full = await fetch(`http://127.0.0.1:${s.address.port}/health/full`);
      assert.equal(full.status, 503);
      const fb = (await full.json()) as { status: string; problems: string[] };
      assert.equal(fb.status, 'UNHEALTHY');
      assert.ok(
        fb.problems.some((p) => /store \(memory\): .*ECONNREFUSED/.test(p)),
        fb.problems.join('\n'),
      );
      assert.ok(fb.problems.some((p) => /smtp: Haraka is not listening/.test(p)));
    } finally {
      await s.close();
    }
  });

  it('answers request targets that are not origin-form paths over HTTP and stays up (// authority, bad port, absolute URL, *)', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, sources());
    const port = s.address.port;
    try {
      // `GET //x:99999/` made WHATWG URL parsing throw outside the router's error handling.
      for (const target of ['//x:99999/', '//x:99999/alive', '//[::1', '///', '/%', '/\\x']) {
        const r = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        assert.equal(r.status, 404, `${target}: ${r.text.slice(0, 200)}`);
      }
      for (const target of ['http://x:99999/alive', '*', 'x']) {
        const r = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        assert.ok(r.status === 400, `${target}: ${r.text.slice(0, 200)}`);
      }
      assert.equal((await rawRequest(port, 'GET /alive?%zz&a=%ff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${port}/alive`)).status, 200);
    } finally {
      await s.close();
    }
  });

  it('answers /alive while one address holds a thousand idle sockets: connections beyond the per-address limit are closed at once', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, sources());
    const sockets: net.Socket[] = [];
    try {
      // The flood comes from 127.0.0.2 (loopback), the probe from 127.0.0.1.
      const closedAtOnce = await Promise.all(
        Array.from(
          { length: 1000 },
          () =>
            new Promise<boolean>((resolve) => {
              const c = net.connect({ port: s.address.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
              sockets.push(c);
              c.on('error', () => resolve(true));
              c.on('close', () => resolve(true));
              // "At once" = long before the 5 s header timeout would close it; 3 s leaves room
              // for a machine whose cores are busy (500 ms missed there beside two busy loops).
              c.on('connect', () => setTimeout(() => resolve(c.destroyed), 3000));
            }),
        ),
      );
      const stillOpen = sockets.filter((c) => !c.destroyed).length;
      assert.ok(stillOpen <= 64, `${stillOpen} idle sockets of one address held open`);
      assert.ok(closedAtOnce.filter(Boolean).length >= 900);
      const r = await rawRequest(s.address.port, 'GET /alive HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(r.status, 200);
      const metrics = await (await fetch(`http://127.0.0.1:${s.address.port}/metrics`)).text();
      assert.match(metrics, /^phishx_http_connections_refused_total \d{3}/m);
    } finally {
      for (const c of sockets) c.destroy();
      await s.close();
    }
  });

  it('answers 408 and closes a connection whose request headers do not arrive within 5 s', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, sources());
    try {
      const r = await rawRequest(s.address.port, 'GET /alive HTTP/1.1\r\nHost: x\r\n', 15_000);
      assert.equal(r.timedOut, false, 'the server kept a half-sent request open');
      assert.equal(r.status, 408, r.text.slice(0, 100));
    } finally {
      await s.close();
    }
  });

  it('answers CONNECT, Upgrade and unparseable requests while the client is still sending its body', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, sources());
    try {
      const body = 'x'.repeat(3000);
      const upgrade = Buffer.from(
        `GET /alive HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      const badThenMore = Buffer.from(`GET /alive HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\n${body}`);
      for (const [what, bytes, status] of [
        ['Upgrade (served as the plain request)', upgrade, 200],
        ['CONNECT', Buffer.from('CONNECT x:1 HTTP/1.1\r\nHost: x\r\n\r\n' + body), 405],
        ['bad Content-Length', badThenMore, 400],
      ] as const) {
        // Written in 16-byte pieces: most of the request is still on its way when the server answers.
        const r = await rawExchange(s.address.port, bytes, 16);
        assert.equal(r.status, status, `${what}: ${JSON.stringify(r.text.slice(0, 120))}`);
      }
      assert.equal((await fetch(`http://127.0.0.1:${s.address.port}/alive`)).status, 200);
    } finally {
      await s.close();
    }
  });

  it('closes gracefully after its answer: a client still sending (pipelined requests, junk) is not reset', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, sources());
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    /** Send `first`, read the answer up to the server's end, then keep writing; any error is a reset. */
    const afterTheAnswer = (first: string): Promise<{ text: string; error: string | null }> =>
      new Promise((resolve) => {
        const c = net.connect({ port: s.address.port, host: '127.0.0.1', allowHalfOpen: true });
        let text = '';
        let error: string | null = null;
        c.on('data', (d: Buffer) => (text += d.toString('latin1')));
        c.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
        c.on('close', () => resolve({ text, error }));
        c.on('end', () => {
          // The server has answered and half-closed; a client that had pipelined more sends it now.
          void (async () => {
            await sleep(20);
            c.write('GET /alive HTTP/1.1\r\nHost: x\r\n\r\n');
            await sleep(20);
            c.write('junk after the answer');
            await sleep(20);
            c.end();
          })();
        });
        c.write(first);
      });
    try {
      for (const [what, first, status] of [
        ['Connection: close', 'GET /alive HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 200],
        ['HTTP/1.0', 'GET /alive HTTP/1.0\r\n\r\n', 200],
        ['unparseable request', 'GET /alive HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\n', 400],
      ] as const) {
        const r = await afterTheAnswer(first);
        assert.match(r.text, new RegExp(`^HTTP/1\\.[01] ${status} `), `${what}: ${JSON.stringify(r.text.slice(0, 120))}`);
        assert.equal(r.error, null, `${what}: the connection was reset after the answer`);
      }
    } finally {
      await s.close();
    }
  });

  it('answers a request whose unread chunked body passes the body limit without waiting for its end', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, sources({ cfg: config({ sidecar: { max_body_bytes: '1024' } }) }));
    try {
      // 2,000 bytes of a chunked body that never ends, to a path with no route.
      const r = await rawRequest(s.address.port, `POST /nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n${'x'.repeat(2000)}\r\n`, 4000);
      assert.equal(r.timedOut, false, 'no answer while the body went on');
      assert.equal(r.status, 404, r.text.slice(0, 120));
    } finally {
      await s.close();
    }
  });

  it('turns a route handler that throws synchronously or rejects into a 500 and keeps serving', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, sources());
    try {
      s.router.add({
        method: 'GET',
        path: '/boom',
        auth: 'none',
        limited: false,
        handler: () => {
          throw new Error('sync boom');
        },
      });
      s.router.add({ method: 'GET', path: '/reject', auth: 'none', limited: false, handler: () => Promise.reject(new Error('async boom')) });
      s.router.add({
        method: 'GET',
        path: '/badheader',
        auth: 'none',
        limited: false,
        handler: () => ({ status: 200, body: {}, headers: { 'x-bad': 'a\nb' } }),
      });
      const base = `http://127.0.0.1:${s.address.port}`;
      assert.equal((await fetch(`${base}/boom`)).status, 500);
      assert.equal((await fetch(`${base}/reject`)).status, 500);
      assert.equal((await fetch(`${base}/badheader`)).status, 500);
      assert.equal((await fetch(`${base}/alive`)).status, 200);
    } finally {
      await s.close();
    }
  });

  it('answers unknown routes 404 (JSON) and other methods 405 with Allow', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, sources());
    try {
      const nf = await fetch(`http://127.0.0.1:${s.address.port}/nope`);
      assert.equal(nf.status, 404);
      assert.match(nf.headers.get('content-type') ?? '', /application\/json/);
      const r = await fetch(`http://127.0.0.1:${s.address.port}/alive`, { method: 'POST' });
      assert.equal(r.status, 405);
      assert.equal(r.headers.get('allow'), 'GET');
    } finally {
      await s.close();
    }
  });

  it('fails with a clear PHISHX_SIDECAR_LISTEN error when the port is taken', async () => {
    const a = await startSidecar({ host: '127.0.0.1', port: 0 }, sources());
    try {
      await assert.rejects(startSidecar({ host: '127.0.0.1', port: a.address.port }, sources()), (err: unknown) => {
        assert.ok(err instanceof PhishXError);
        assert.equal(err.code, 'PHISHX_SIDECAR_LISTEN');
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${a.address.port}: address already in use`));
        return true;
      });
    } finally {
      await a.close();
    }
  });

  it('reports breakers in /health and turns DEGRADED (200) while one is open', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, sources({ cfg: config({ sidecar: { health_cache_ms: '0' } }) }));
    try {
      const settings = { volume_threshold: 2, error_threshold_percentage: 50, reset_timeout_ms: 60_000, rolling_window_ms: 10_000 };
      for (let i = 0; i < 3; i++) await guarded('sidecar-test', settings, () => Promise.reject(new Error('down'))).catch(() => undefined);
      const r = await fetch(`http://127.0.0.1:${s.address.port}/health`);
      assert.equal(r.status, 200);
      const body = (await r.json()) as { status: string; breakers: Array<{ service: string; state: string; success_rate: number | null }> };
      assert.equal(body.status, 'DEGRADED');
      const b = body.breakers.find((x) => x.service === 'sidecar-test');
      assert.equal(b?.state, 'open');
      assert.equal(b?.success_rate, 0);
      const full = (await (await fetch(`http://127.0.0.1:${s.address.port}/health/full`)).json()) as { status: string; problems: string[] };
      assert.equal(full.status, 'DEGRADED');
      assert.ok(full.problems.includes('breaker sidecar-test: open'));
    } finally {
      await s.close();
    }
  });

  it('caches health checks: a flood of probes costs one store ping per cache period', async () => {
    const store = new MemoryStore();
    let pings = 0;
    const ping = store.ping.bind(store);
    store.ping = async () => {
      pings++;
      return ping();
    };
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, sources({ store: () => store, cfg: config({ sidecar: { health_cache_ms: '60000' } }) }));
    try {
      const rs = await Promise.all(Array.from({ length: 50 }, () => fetch(`http://127.0.0.1:${s.address.port}/health`)));
      assert.ok(rs.every((r) => r.status === 200));
      assert.equal(pings, 1);
    } finally {
      await s.close();
    }
  });

  it('requires a bearer token on /metrics/summary: 401 + WWW-Authenticate without or with a wrong one, 200 with it', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, sources());
    const url = `http://127.0.0.1:${s.address.port}/metrics/summary`;
    try {
      const none = await fetch(url);
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="phishx"');
      const wrong = await fetch(url, { headers: { authorization: 'Bearer not-the-token-xxxxxxxx' } });
      assert.equal(wrong.status, 401);
      assert.match(wrong.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      const ok = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(ok.status, 200);
      const body = (await ok.json()) as { messages: { scanned: number }; status: string; breakers: Array<{ service: string }> };
      assert.equal(typeof body.messages.scanned, 'number');
      // The breaker opened by the test above is still open in this process.
      assert.equal(body.status, 'DEGRADED');
      assert.ok(body.breakers.some((b) => b.service === 'sidecar-test'));
      // The failures are counted.
      const metrics = await (await fetch(`http://127.0.0.1:${s.address.port}/metrics`)).text();
      assert.match(metrics, /phishx_http_auth_failures_total\{route="\/metrics\/summary",reason="missing"\} [1-9]/);
      assert.match(metrics, /phishx_http_auth_failures_total\{route="\/metrics\/summary",reason="invalid"\} [1-9]/);
    } finally {
      await s.close();
    }
  });

  it('protects /metrics only when [sidecar] metrics_auth is on', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, sources({ cfg: config({ sidecar: { metrics_auth: 'true' } }) }));
    try {
      const url = `http://127.0.0.1:${s.address.port}/metrics`;
      assert.equal((await fetch(url)).status, 401);
      const ok = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(ok.status, 200);
      assert.match(ok.headers.get('content-type') ?? '', /text\/plain; version=0\.0\.4/);
      assert.equal((await fetch(`http://127.0.0.1:${s.address.port}/health`)).status, 200, 'probes stay open');
    } finally {
      await s.close();
    }
  });

  it('rate-limits each client with 429 + Retry-After, never the probes', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, sources({ cfg: config({ sidecar: { rate_limit_per_s: '1', rate_limit_burst: '3' } }) }));
    const base = `http://127.0.0.1:${s.address.port}`;
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await fetch(`${base}/health/full`)).status);
      assert.deepEqual(codes, [200, 200, 200, 429, 429]);
      const r = await fetch(`${base}/health/full`);
      assert.equal(r.status, 429);
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
      for (let i = 0; i < 10; i++) assert.equal((await fetch(`${base}/health`)).status, 200);
      // A client with its own token has its own bucket.
      assert.equal((await fetch(`${base}/metrics/summary`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
    } finally {
      await s.close();
    }
  });

  it('refuses oversized, non-JSON and malformed request bodies (413 / 415 / 400) on body routes', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, sources({ cfg: config({ sidecar: { max_body_bytes: '1024' } }) }));
    s.router.add({ method: 'POST', path: '/echo', auth: 'token', limited: true, handler: (ctx) => ({ status: 200, body: { got: ctx.body } }) });
    const url = `http://127.0.0.1:${s.address.port}/echo`;
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    try {
      assert.equal((await fetch(url, { method: 'POST', headers: auth, body: JSON.stringify({ x: 'y'.repeat(2000) }) })).status, 413);
      assert.equal((await fetch(url, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'hello' })).status, 415);
      const bad = await fetch(url, { method: 'POST', headers: auth, body: '{"x":' });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { error: string }).error, /not valid JSON/);
      const ok = await fetch(url, { method: 'POST', headers: auth, body: '{"x":1}' });
      assert.deepEqual(await ok.json(), { got: { x: 1 } });
    } finally {
      await s.close();
    }
  });
});
