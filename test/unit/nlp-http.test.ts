import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { NlpServiceError } from '../../lib/errors.js';
import { HttpTextClassifier, phishProbability } from '../../lib/nlp/http-client.js';
import { embeddedModel } from '../../lib/nlp/model.js';
import { createNlpServer } from '../../lib/nlp/serve.js';
import { scanMessage } from '../../lib/scan.js';
import { json, jsonWithoutEnd, startHttpServer, type TestServer } from '../helpers/http-server.js';
import { phishMessage } from '../helpers/messages.js';
import { toCrlf } from '../helpers/smtp.js';

const PHISH_TEXT = 'Your account has been suspended. Verify your password now to avoid closure.';

function nlpConfig(url: string, over: Record<string, unknown> = {}): ReturnType<typeof buildConfig> {
  return buildConfig({ nlp: { url, timeout_ms: 300, ...over } }, { env: {} });
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof NlpServiceError && err.code === code);
}

describe('Hugging Face reply parsing', () => {
  const labels = ['phishing', 'label_1'];
  it('reads the flat and the nested form', () => {
    assert.equal(
      phishProbability(
        [
          { label: 'phishing', score: 0.9 },
          { label: 'legitimate', score: 0.1 },
        ],
        labels,
      ),
      0.9,
    );
    assert.equal(
      phishProbability(
        [
          [
            { label: 'LABEL_1', score: 0.7 },
            { label: 'LABEL_0', score: 0.3 },
          ],
        ],
        labels,
      ),
      0.7,
    );
  });
  it('uses 1 - score when only a non-phishing label is returned', () => {
    assert.equal(phishProbability([{ label: 'legitimate', score: 0.8 }], labels), 1 - 0.8);
  });
  it('refuses anything else', () => {
    for (const bad of [null, {}, [], [{ label: 'phishing' }], [{ label: 'phishing', score: 7 }], 'phishing', [{ label: 1, score: 0.5 }]]) {
      assert.throws(
        () => phishProbability(bad, labels),
        (e: unknown) => e instanceof NlpServiceError && e.code === 'PHISHX_NLP_BAD_RESPONSE',
        JSON.stringify(bad),
      );
    }
  });
});

describe('HttpTextClassifier against the reference server (phishx nlp-serve)', () => {
  let srv: http.Server;
  let url: string;
  before(async () => {
    srv = createNlpServer(embeddedModel());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const a = srv.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/`;
  });
  after(async () => {
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  });

  it('returns the same probability as the embedded model', async () => {
    const c = new HttpTextClassifier(nlpConfig(url).nlp);
    try {
      const remote = await c.classify(PHISH_TEXT);
      assert.ok(Math.abs(remote.p - embeddedModel().classify(PHISH_TEXT).p) < 1e-9);
    } finally {
      await c.close();
    }
  });

  it('serves batches, health, and refuses bad requests', async () => {
    const batch = await (await fetch(url, { method: 'POST', body: JSON.stringify({ inputs: ['a', 'b'] }) })).json();
    assert.equal((batch as unknown[]).length, 2);
    assert.equal((await fetch(`${url}health`)).status, 200);
    assert.equal((await fetch(url, { method: 'POST', body: '{not json' })).status, 400);
    assert.equal((await fetch(url, { method: 'POST', body: JSON.stringify({ inputs: 5 }) })).status, 400);
    assert.equal((await fetch(url, { method: 'POST', body: JSON.stringify({ inputs: 'x'.repeat(2 * 1024 * 1024) }) })).status, 413);
    assert.equal((await fetch(`${url}nope`)).status, 404);
  });
});

describe('HttpTextClassifier against misbehaving services', () => {
  let hang: TestServer;
  let garbage: TestServer;
  let error500: TestServer;
  let authCheck: TestServer;
  before(async () => {
    hang = await startHttpServer(() => undefined); // never answers
    garbage = await startHttpServer((_req, _b, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html>oops</html>');
    });
    error500 = await startHttpServer((_req, _b, res) => json(res, 503, { error: 'loading' }));
    authCheck = await startHttpServer((_req, _b, res) => json(res, 200, [[{ label: 'phishing', score: 0.25 }]]));
  });
  after(async () => {
    await Promise.all([hang.close(), garbage.close(), error500.close(), authCheck.close()]);
  });

  it('times out a hanging service at timeout_ms with PHISHX_NLP_TIMEOUT', async () => {
    const c = new HttpTextClassifier(nlpConfig(hang.url).nlp);
    try {
      const t0 = Date.now();
      await Promise.all(Array.from({ length: 10 }, () => rejectsWith(c.classify('x'), 'PHISHX_NLP_TIMEOUT')));
      assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
    } finally {
      await c.close();
    }
  });

  it('aborts timed-out requests so their sockets do not pile up and block later calls', async () => {
    // Hangs on texts containing "hang", answers the rest. If timed-out requests kept their
    // sockets, all 16 pool connections would stay stuck and the later calls would time out.
    const flaky = await startHttpServer((_req, body, res) => {
      if (!body.includes('hang')) json(res, 200, [{ label: 'phishing', score: 0.1 }]);
    });
    const c = new HttpTextClassifier(nlpConfig(flaky.url).nlp);
    try {
      for (let wave = 0; wave < 3; wave++) await Promise.all(Array.from({ length: 20 }, () => rejectsWith(c.classify('hang'), 'PHISHX_NLP_TIMEOUT')));
      const ok = await Promise.all(Array.from({ length: 5 }, () => c.classify('fine')));
      assert.deepEqual(
        ok.map((v) => v.p),
        [0.1, 0.1, 0.1, 0.1, 0.1],
      );
      const open = await new Promise<number>((r) => flaky.server.getConnections((_e, n) => r(n)));
      assert.ok(open <= 16, `${open} sockets open, pool allows 16`);
    } finally {
      await c.close();
      await flaky.close();
    }
  });

  it('reports garbage as PHISHX_NLP_BAD_RESPONSE and 5xx as PHISHX_NLP_HTTP_STATUS', async () => {
    const g = new HttpTextClassifier(nlpConfig(garbage.url).nlp);
    const e = new HttpTextClassifier(nlpConfig(error500.url).nlp);
    try {
      await rejectsWith(g.classify('x'), 'PHISHX_NLP_BAD_RESPONSE');
      await rejectsWith(e.classify('x'), 'PHISHX_NLP_HTTP_STATUS');
    } finally {
      await Promise.all([g.close(), e.close()]);
    }
  });

  it('reads at most 1 MiB of a reply: one without end, or declaring more, is PHISHX_NLP_BAD_RESPONSE at once, not a timeout', async () => {
    // undici's body.json() read all a service sent until the timeout, into Haraka's memory.
    const endless = await startHttpServer((_req, _b, res) => jsonWithoutEnd(res));
    const declared = await startHttpServer((_req, _b, res) => jsonWithoutEnd(res, 64 * 1024 * 1024));
    const clients = [endless, declared].map((s) => new HttpTextClassifier(nlpConfig(s.url, { timeout_ms: 20_000 }).nlp));
    try {
      for (const c of clients)
        await assert.rejects(c.classify('x'), (err: unknown) => {
          assert.ok(err instanceof NlpServiceError && err.code === 'PHISHX_NLP_BAD_RESPONSE', String(err));
          assert.match(err.message, /reply longer than 1048576 bytes/);
          return true;
        });
    } finally {
      await Promise.all([...clients.map((c) => c.close()), endless.close(), declared.close()]);
    }
  });

  it('a 101 answer (undici throws its own assertion, three lines) is PHISHX_NLP_UNREACHABLE on one line', async () => {
    const upgrade = net.createServer((sock) => sock.on('error', () => undefined).once('data', () => sock.end('HTTP/1.1 101 Switching Protocols\r\n\r\n')));
    await new Promise<void>((r) => upgrade.listen(0, '127.0.0.1', () => r()));
    const c = new HttpTextClassifier(nlpConfig(`http://127.0.0.1:${(upgrade.address() as net.AddressInfo).port}/`).nlp);
    try {
      await assert.rejects(c.classify('x'), (err: unknown) => {
        assert.ok(err instanceof NlpServiceError && err.code === 'PHISHX_NLP_UNREACHABLE', String(err));
        assert.match(err.message, /assert\(upgrade\)/);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      });
    } finally {
      await c.close();
      await new Promise((r) => upgrade.close(r));
    }
  });

  it('a reply cut short (Content-Length not reached, then closed) is PHISHX_NLP_UNREACHABLE, not a bad reply', async () => {
    const short = net.createServer((sock) =>
      sock
        .on('error', () => undefined)
        .once('data', () => sock.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n[{"label"')),
    );
    await new Promise<void>((r) => short.listen(0, '127.0.0.1', () => r()));
    const c = new HttpTextClassifier(nlpConfig(`http://127.0.0.1:${(short.address() as net.AddressInfo).port}/`).nlp);
    try {
      await assert.rejects(c.classify('x'), (err: unknown) => {
        assert.ok(err instanceof NlpServiceError && err.code === 'PHISHX_NLP_UNREACHABLE', String(err));
        assert.match(err.message, /reply cut short/);
        return true;
      });
    } finally {
      await c.close();
      await new Promise((r) => short.close(r));
    }
  });

  it('reports a refused connection as PHISHX_NLP_UNREACHABLE', async () => {
    const c = new HttpTextClassifier(nlpConfig('http://127.0.0.1:1/').nlp);
    try {
      await rejectsWith(c.classify('x'), 'PHISHX_NLP_UNREACHABLE');
    } finally {
      await c.close();
    }
  });

  it('sends {"inputs"} truncated to max_chars and the auth header from PHISHX_NLP_AUTH', async () => {
    const c = new HttpTextClassifier(nlpConfig(authCheck.url, { max_chars: 100, auth_header: 'x-api-key' }).nlp, { PHISHX_NLP_AUTH: 'secret-token' });
    try {
      assert.equal((await c.classify('y'.repeat(500))).p, 0.25);
      const req = authCheck.requests.at(-1)!;
      assert.equal(req.method, 'POST');
      assert.equal(req.headers['x-api-key'], 'secret-token');
      assert.equal((JSON.parse(req.body) as { inputs: string }).inputs.length, 100);
    } finally {
      await c.close();
    }
  });

  it('a hanging service does not break scanning: NLP_UNAVAILABLE, embedded fallback decides', async () => {
    const t0 = Date.now();
    const r = await scanMessage(toCrlf(phishMessage()), { mailFrom: '', rcptTo: ['bob@example.org'] }, nlpConfig(hang.url));
    assert.ok(Date.now() - t0 < 2000);
    const codes = r.verdict.reasons.map((x) => x.code);
    assert.ok(codes.includes('NLP_UNAVAILABLE'), codes.join());
    assert.match(r.verdict.reasons.find((x) => x.code === 'NLP_PHISH')?.detail ?? '', /embedded fallback/);
    assert.equal(r.verdict.action, 'reject');
  });

  it('with fallback = none, a garbage service leaves only NLP_UNAVAILABLE', async () => {
    const r = await scanMessage(toCrlf(phishMessage()), { mailFrom: '', rcptTo: ['bob@example.org'] }, nlpConfig(garbage.url, { fallback: 'none' }));
    const codes = r.verdict.reasons.map((x) => x.code);
    assert.ok(codes.includes('NLP_UNAVAILABLE'));
    assert.ok(!codes.includes('NLP_PHISH'));
  });
});
