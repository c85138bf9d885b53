import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { buildConfig } from '../../lib/config/load.js';
import { MemoryStore } from '../../lib/store/memory.js';
import { startWebhookDispatcher, type WebhookDispatcher } from '../../lib/webhooks/dispatcher.js';
import { newSecret } from '../../lib/webhooks/signing.js';
import { eventually } from '../helpers/eventually.js';
import { securityEvent } from '../helpers/events.js';
import { check, runs, SEED } from './settings.js';

// The webhook consumer is an input boundary: whatever it answers — any status, junk
// Retry-After values, bodies too long or cut short, resets, stalls, bytes that are not HTTP,
// redirects to internal addresses — the dispatcher keeps going, follows nothing, and
// delivers every event once the consumer answers 2xx.

type Junk =
  | { kind: 'status'; status: number; retryAfter: string | null; body: number; lie: boolean }
  | { kind: 'reset' }
  | { kind: 'stall' }
  | { kind: 'garbage'; bytes: number[] }
  | { kind: 'endless' }
  | { kind: 'redirect'; status: number };

const retryAfter = fc.oneof(
  fc.constant(null),
  fc.integer({ min: 0, max: 1 }).map(String),
  fc.constantFrom('-1', '1e3', 'soon', '', ' 0 ', 'Wed, 99 Foo 2026 25:61:61 GMT', 'Thu, 01 Jan 1970 00:00:00 GMT', '0'.repeat(500)),
  fc.string({ maxLength: 40 }).filter((s) => !/[\r\n]/.test(s) && !/^\s*\d+\s*$/.test(s)),
);
const junk: fc.Arbitrary<Junk> = fc.oneof(
  fc.record({
    kind: fc.constant('status' as const),
    status: fc.oneof(fc.integer({ min: 100, max: 999 }), fc.constantFrom(400, 401, 404, 408, 409, 410, 413, 429, 500, 502, 503, 504, 204, 299)),
    retryAfter,
    body: fc.integer({ min: 0, max: 200_000 }),
    lie: fc.boolean(),
  }),
  fc.constant({ kind: 'reset' as const }),
  fc.constant({ kind: 'stall' as const }),
  fc.record({ kind: fc.constant('garbage' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 300 }) }),
  fc.constant({ kind: 'endless' as const }),
  fc.record({ kind: fc.constant('redirect' as const), status: fc.constantFrom(301, 302, 303, 307, 308) }),
);

/** A raw consumer: answers each event's first attempts with its planned junk, then 200. */
class JunkConsumer {
  readonly plans = new Map<string, Junk[]>();
  readonly attempts = new Map<string, number>();
  redirectHits = 0;
  server!: net.Server;
  port = 0;

  async start(): Promise<void> {
    this.server = net.createServer((sock) => this.serve(sock));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  private serve(sock: net.Socket): void {
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const body = buf.subarray(end + 4, end + 4 + len).toString('utf8');
        buf = buf.subarray(end + 4 + len);
        if (/^POST \/internal/.test(head)) this.redirectHits++;
        let id = '';
        try {
          id = (JSON.parse(body) as { id: string }).id;
        } catch {
          /* not an event */
        }
        const n = this.attempts.get(id) ?? 0;
        this.attempts.set(id, n + 1);
        const plan = this.plans.get(id)?.[n];
        if (!plan) {
          sock.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
          continue;
        }
        this.answer(sock, plan);
        if (plan.kind !== 'status' || plan.lie) return (sock.off('data', onData), undefined);
      }
    };
    sock.on('data', onData);
  }

  private answer(sock: net.Socket, j: Junk): void {
    switch (j.kind) {
      case 'status': {
        const body = Buffer.alloc(j.body, 'x');
        const ra = j.retryAfter === null ? '' : `retry-after: ${j.retryAfter}\r\n`;
        // `lie`: claim more body than is sent, then close.
        sock.write(`HTTP/1.1 ${j.status} Whatever\r\n${ra}content-length: ${j.lie ? j.body + 1000 : j.body}\r\n\r\n`);
        sock.write(body);
        if (j.lie) sock.end();
        return;
      }
      case 'reset':
        sock.resetAndDestroy();
        return;
      case 'stall':
        return; // never answers: the attempt's timeout ends it
      case 'garbage':
        sock.end(Buffer.from(j.bytes));
        return;
      case 'endless': {
        sock.write('HTTP/1.1 500 Oops\r\ntransfer-encoding: chunked\r\n\r\n');
        const chunk = `4000\r\n${'y'.repeat(0x4000)}\r\n`;
        const t = setInterval(() => (sock.writable ? sock.write(chunk) : clearInterval(t)), 2);
        sock.on('close', () => clearInterval(t));
        return;
      }
      case 'redirect':
        sock.end(`HTTP/1.1 ${j.status} Moved\r\nlocation: http://127.0.0.1:${this.port}/internal\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
        return;
    }
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe(`fuzz: webhook consumers answering junk (seed ${SEED})`, () => {
  const consumer = new JunkConsumer();
  const store = new MemoryStore();
  let dispatcher: WebhookDispatcher | undefined;
  const secret = newSecret();
  const logs: string[] = [];

  before(async () => {
    await consumer.start();
    process.env.PHISHX_FUZZ_WEBHOOK_SECRET = secret;
    const config = buildConfig(
      {
        webhooks: { timeout_ms: '300', retry_base_ms: '10', retry_max_ms: '100', concurrency: '4' },
        'breaker.webhook': { volume_threshold: '10000' },
        'webhook.fuzz': { url: `http://127.0.0.1:${consumer.port}/hook`, secret_env: 'PHISHX_FUZZ_WEBHOOK_SECRET' },
      },
      { env: process.env },
    );
    dispatcher = startWebhookDispatcher({ store: () => store, config: () => config, consumer: 'fuzz', log: (_l, m) => logs.push(m) });
    await new Promise((r) => setTimeout(r, 300)); // the endpoint's group is made at the log's end
  });
  after(async () => {
    await dispatcher?.stop();
    await store.close();
    await consumer.close();
  });

  it('every event is delivered once the consumer answers 2xx; no redirect is followed', async () => {
    let n = 0;
    const ran = await check('webhook responses', fc.array(junk, { minLength: 1, maxLength: 3 }), runs(60, 1000), async (plan) => {
      const id = `fz${n++}`;
      consumer.plans.set(`evt_${id}`, plan);
      const ev = securityEvent(id);
      await store.appendEvent(ev);
      await eventually(async () => assert.equal((await store.getDelivery(`evt_${id}.fuzz`))?.status, 'delivered', JSON.stringify(plan).slice(0, 300)), {
        timeoutMs: 30_000,
      });
    });
    assert.equal(ran, runs(60, 1000));
    assert.equal(consumer.redirectHits, 0, 'a redirect was followed');
    // Every planned junk answer was served (up to the first 2xx), and only then the event delivered.
    for (const [id, plan] of consumer.plans) {
      const first2xx = plan.findIndex((j) => j.kind === 'status' && j.status >= 200 && j.status < 300);
      const least = (first2xx === -1 ? plan.length : first2xx) + 1;
      assert.ok((consumer.attempts.get(id) ?? 0) >= least, `${id}: ${consumer.attempts.get(id)} attempts for ${JSON.stringify(plan).slice(0, 200)}`);
    }
    assert.ok(logs.some((m) => /retrying/.test(m)));
  });
});
