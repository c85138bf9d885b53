import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ClamdClient } from '../../lib/clamav/client.js';
import { buildConfig } from '../../lib/config/load.js';
import { NlpServiceError, PhishXError } from '../../lib/errors.js';
import { extractScanInput } from '../../lib/message/extract.js';
import { HttpTextClassifier } from '../../lib/nlp/http-client.js';
import { UrlExpander } from '../../lib/reputation/expand.js';
import { SafeBrowsing } from '../../lib/reputation/safe-browsing.js';
import { pumpWithoutEnd } from '../helpers/http-server.js';
import { toCrlf } from '../helpers/smtp.js';
import { check, runs, SEED } from './settings.js';

// The services PhishX asks during a scan — clamd, a remote text classifier, Safe Browsing —
// are an input boundary too: a broken one, another program on the port, or a hostile one may
// answer anything. Whatever it answers, each client gives a well-formed result or one typed,
// short error within its timeout (+ 1 s), and reads no reply without end.

const TIMEOUT_MS = 300;

type Plan =
  | { kind: 'bytes'; data: Uint8Array; close: boolean }
  | { kind: 'reset' }
  | { kind: 'stall' }
  | { kind: 'endless'; http: boolean }
  | { kind: 'http'; status: number; body: string; lie: boolean; declared: number | null }
  | { kind: 'redirect'; status: number; location: string };

/** A raw TCP server answering every connection with the current plan (after the request's first bytes). */
class JunkService {
  plan: Plan = { kind: 'stall' };
  /** Most bytes one connection was sent of a reply without end (how far a client read it). */
  endlessBytes = 0;
  server!: net.Server;
  port = 0;
  private readonly sockets = new Set<net.Socket>();

  async start(): Promise<void> {
    this.server = net.createServer((sock) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
      sock.on('error', () => undefined);
      sock.once('data', () => this.answer(sock, this.plan));
      sock.resume();
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  private answer(sock: net.Socket, p: Plan): void {
    switch (p.kind) {
      case 'bytes':
        if (p.close) sock.end(Buffer.from(p.data));
        else sock.write(Buffer.from(p.data));
        return;
      case 'reset':
        sock.resetAndDestroy();
        return;
      case 'stall':
        return;
      case 'endless': {
        if (p.http) sock.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n[');
        pumpWithoutEnd(sock, (sent) => (this.endlessBytes = Math.max(this.endlessBytes, sent)));
        return;
      }
      case 'http': {
        const body = Buffer.from(p.body, 'utf8');
        const length = p.declared ?? (p.lie ? body.length + 1000 : body.length);
        sock.write(`HTTP/1.1 ${p.status} Whatever\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`);
        if (p.lie || p.declared !== null) sock.end(body);
        else sock.write(body);
        return;
      }
      case 'redirect': // every hop gets the same answer: one that points back here loops until the hop limit
        sock.end(Buffer.from(`HTTP/1.1 ${p.status} Moved\r\nlocation: ${p.location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`, 'utf8'));
        return;
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

const rawBytes = fc.uint8Array({ minLength: 0, maxLength: 600 });
const text = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

/** clamd's own replies, near misses and junk, with or without the NUL that ends a reply. */
const clamdPlan: fc.Arbitrary<Plan> = fc.oneof(
  fc
    .record({
      reply: fc.oneof(
        fc.constantFrom('stream: OK', 'stream: Eicar-Signature FOUND', 'INSTREAM size limit exceeded. ERROR', 'PONG', 'ClamAV 1.4.6/27000/Mon Jan 1 2026'),
        fc.string({ maxLength: 200 }),
        fc.string({ maxLength: 40 }).map((s) => `stream: ${s} FOUND`),
        fc.string({ maxLength: 5000 }).map((s) => `x: ${s}`),
      ),
      nul: fc.boolean(),
      close: fc.boolean(),
    })
    .map(({ reply, nul, close }) => ({ kind: 'bytes' as const, data: text(nul ? `${reply}\0` : reply), close })),
  rawBytes.map((data) => ({ kind: 'bytes' as const, data, close: true })),
  fc.constantFrom<Plan>({ kind: 'reset' }, { kind: 'stall' }, { kind: 'endless', http: false }),
);

/** Hugging Face text-classification replies, near misses and junk JSON. */
const hfJson = fc.oneof(
  fc.array(
    fc.record({
      label: fc.oneof(fc.constantFrom('phishing', 'LABEL_1', 'legitimate', 'PHISHING'), fc.string({ maxLength: 20 })),
      score: fc.oneof(fc.double(), fc.constantFrom(0, 1, 0.5, -1, 2), fc.string({ maxLength: 5 })),
    }),
    { maxLength: 5 },
  ),
  fc.jsonValue({ maxDepth: 3 }),
);
const nested = hfJson.chain((v) => fc.constantFrom(v, [v]));

/** Safe Browsing threatMatches:find replies, near misses and junk JSON. */
const sbJson = fc.oneof(
  fc.record(
    {
      matches: fc.oneof(
        fc.array(
          fc.record(
            {
              threatType: fc.oneof(fc.constantFrom('SOCIAL_ENGINEERING', 'MALWARE'), fc.jsonValue({ maxDepth: 1 })),
              threat: fc.oneof(
                fc.record({ url: fc.oneof(fc.constant('https://clean.example/'), fc.jsonValue({ maxDepth: 1 })) }),
                fc.jsonValue({ maxDepth: 1 }),
              ),
              cacheDuration: fc.oneof(fc.constantFrom('300s', '0s', '-5s', 'NaNs', '1e308s'), fc.jsonValue({ maxDepth: 1 })),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 4 },
        ),
        fc.jsonValue({ maxDepth: 2 }),
      ),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 3 }),
);

function httpPlan(json: fc.Arbitrary<unknown>): fc.Arbitrary<Plan> {
  return fc.oneof(
    fc.record({
      kind: fc.constant('http' as const),
      status: fc.oneof(fc.constant(200), fc.integer({ min: 100, max: 999 })),
      body: fc.oneof(
        json.map((v) => JSON.stringify(v) ?? 'null'),
        fc.string({ maxLength: 300 }),
      ),
      lie: fc.boolean(),
      declared: fc.oneof(fc.constant(null), fc.constantFrom(64 * 1024 * 1024, 1e12)),
    }),
    rawBytes.map((data) => ({ kind: 'bytes' as const, data, close: true })),
    fc.constantFrom<Plan>({ kind: 'reset' }, { kind: 'stall' }, { kind: 'endless', http: true }),
  );
}

/**
 * Most of a reply without end a client may have been sent: its limit (4 MiB at most) plus what
 * the loopback socket buffers hold (Linux: up to ~10 MiB), far below what reading until the
 * timeout takes in (~40 MiB in 300 ms here).
 */
const ENDLESS_READ_MAX = 24 * 1024 * 1024;

const REPUTATION_CODES = ['PHISHX_REPUTATION_HTTP_STATUS', 'PHISHX_REPUTATION_BAD_RESPONSE', 'PHISHX_REPUTATION_TIMEOUT', 'PHISHX_REPUTATION_UNREACHABLE'];
const reputationError = (err: unknown): boolean => err instanceof PhishXError && REPUTATION_CODES.includes(err.code);

const NLP_CODES = ['PHISHX_NLP_HTTP_STATUS', 'PHISHX_NLP_BAD_RESPONSE', 'PHISHX_NLP_TIMEOUT', 'PHISHX_NLP_UNREACHABLE'];

/** The error a client gave: short enough for a log line and a reason's detail. */
function assertShort(err: unknown, plan: Plan): void {
  assert.ok(err instanceof Error, `not an Error: ${String(err)}`);
  assert.ok(err.message.length > 0 && err.message.length < 400, `${err.message.length}-character error for ${JSON.stringify(plan).slice(0, 200)}`);
  assert.ok(!/[\r\n]/.test(err.message), `a message over several lines: ${JSON.stringify(err.message)}`);
}

describe(`fuzz: dependencies answering junk (seed ${SEED})`, () => {
  const service = new JunkService();
  before(() => service.start());
  after(() => service.close());

  it('clamd: a result of a known status or a typed clamd error, within the deadline', async () => {
    const client = new ClamdClient([`127.0.0.1:${service.port}`], TIMEOUT_MS);
    const ran = await check('clamd replies', clamdPlan, runs(80, 1500), async (plan) => {
      service.plan = plan;
      service.endlessBytes = 0;
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      try {
        const r = await client.scan(Buffer.from('hello'));
        assert.ok(['clean', 'virus', 'size_limit'].includes(r.status), JSON.stringify(r));
        if (r.status === 'virus') assert.equal(typeof r.signature, 'string');
      } catch (err) {
        assert.ok(err instanceof PhishXError && ['PHISHX_CLAMD_UNAVAILABLE', 'PHISHX_CLAMD_BAD_REPLY'].includes(err.code), String(err));
        assertShort(err, plan);
      }
      // A reply without end is given up at once, not read (and searched) until the deadline.
      const cpu = process.cpuUsage(cpu0);
      if (plan.kind === 'endless')
        assert.ok((cpu.user + cpu.system) / 1000 < TIMEOUT_MS / 3, `${(cpu.user + cpu.system) / 1000} ms of CPU on a reply without end`);
      const [health] = await client.ping();
      assert.equal(typeof health.ok, 'boolean');
      if (health.version !== undefined) assert.ok(health.version.length <= 200);
      assert.ok(performance.now() - t0 < 2 * TIMEOUT_MS + 1000, `took ${Math.round(performance.now() - t0)} ms`);
    });
    assert.equal(ran, runs(80, 1500));
  });

  /**
   * One HTTP client against every plan of `plans`: `call` gives a value `wellFormed` accepts
   * or fails with an error `typed` accepts; either way within the timeout (+ 1 s) and without
   * reading a reply without end.
   */
  async function fuzzHttpClient<T>(
    name: string,
    plans: fc.Arbitrary<Plan>,
    call: () => Promise<T>,
    wellFormed: (v: T) => void,
    typed: (err: unknown) => boolean,
  ): Promise<void> {
    const ran = await check(name, plans, runs(80, 1500), async (plan) => {
      service.plan = plan;
      service.endlessBytes = 0;
      const t0 = performance.now();
      const outcome = await call().then(
        (value) => ({ value }),
        (err: unknown) => ({ err }),
      );
      if ('value' in outcome) wellFormed(outcome.value);
      else {
        assert.ok(typed(outcome.err), `untyped: ${String(outcome.err)}`);
        assertShort(outcome.err, plan);
      }
      assert.ok(service.endlessBytes < ENDLESS_READ_MAX, `${service.endlessBytes} bytes of a reply without end sent (read)`);
      assert.ok(performance.now() - t0 < TIMEOUT_MS + 1000, `took ${Math.round(performance.now() - t0)} ms`);
    });
    assert.equal(ran, runs(80, 1500));
  }

  it('remote text classifier: a probability in [0, 1] or a typed NLP error, within the timeout', async () => {
    const client = new HttpTextClassifier(buildConfig({ nlp: { url: `http://127.0.0.1:${service.port}/`, timeout_ms: TIMEOUT_MS } }, { env: {} }).nlp);
    try {
      await fuzzHttpClient(
        'classifier replies',
        httpPlan(nested),
        () => client.classify('Verify your account'),
        (v) => assert.ok(Number.isFinite(v.p) && v.p >= 0 && v.p <= 1, `p = ${v.p}`),
        (err) => err instanceof NlpServiceError && NLP_CODES.includes(err.code),
      );
    } finally {
      await client.close();
    }
  });

  it('short-link expander: a chain of at most max_hops + 1 links or one short error, within the timeout', async () => {
    // The hops after a shortener are the phisher's servers. allowPrivate: they are on loopback here.
    const maxHops = 4;
    const expander = new UrlExpander({ maxHops, timeoutMs: TIMEOUT_MS, allowPrivate: true });
    const here = `http://127.0.0.1:${service.port}`;
    const location = fc.oneof(
      fc.constantFrom(
        `${here}/next`,
        '/relative',
        '?q=1',
        '//127.0.0.1:1/x',
        'javascript:alert(1)',
        'ftp://x.example/',
        'http://[::1',
        'http://%zz/',
        '',
        `${here}/${'a'.repeat(60_000)}`,
      ),
      fc.string({ maxLength: 200 }).filter((x) => !/[\r\n\0]/.test(x)),
    );
    const plans = fc.oneof(
      fc.record({
        kind: fc.constant('redirect' as const),
        status: fc.oneof(fc.constantFrom(301, 302, 303, 307, 308), fc.integer({ min: 100, max: 999 })),
        location,
      }),
      httpPlan(fc.jsonValue({ maxDepth: 1 })),
    );
    try {
      await fuzzHttpClient(
        'expander hops',
        plans,
        () => expander.expand(`${here}/short`),
        (chain) => {
          assert.ok(chain.length >= 1 && chain.length <= maxHops + 1, `${chain.length} links`);
          for (const link of chain) assert.ok(URL.canParse(link), link.slice(0, 100));
        },
        reputationError,
      );
    } finally {
      await expander.close();
    }
  });

  it('Safe Browsing: URL_SAFE_BROWSING signals or one short error, within the timeout', async () => {
    const config = buildConfig(
      { reputation: { safe_browsing_url: `http://127.0.0.1:${service.port}/v4/threatMatches:find`, timeout_ms: TIMEOUT_MS, cache_ttl_s: 1 } },
      { env: {} },
    );
    const input = await extractScanInput(
      Buffer.from(toCrlf('From: a@sender.example\nTo: b@example.org\nSubject: x\nContent-Type: text/html\n\n<a href="https://clean.example/">x</a>\n')),
      { mailFrom: 'a@sender.example', rcptTo: ['b@example.org'] },
      config.limits,
    );
    let clock = 0;
    const client = new SafeBrowsing(config.reputation, 'key', () => (clock += 10_000)); // nothing served from the cache
    try {
      await fuzzHttpClient(
        'safe browsing replies',
        httpPlan(sbJson),
        () => client.check(input.urls, TIMEOUT_MS),
        (signals) => {
          for (const signal of signals) assert.equal(signal.code, 'URL_SAFE_BROWSING');
        },
        reputationError,
      );
    } finally {
      await client.close();
    }
  });
});
