import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { buildConfig } from '../../lib/config/load.js';
import { DIMS } from '../../lib/nlp/features.js';
import { embeddedModel, TextModel } from '../../lib/nlp/model.js';
import { scanMessage } from '../../lib/scan.js';
import { admissionSlots, createScanPool, scanThreads } from '../../lib/scan-pool.js';
import type { PhishXError } from '../../lib/errors.js';
import { cleanMessage, garbage8bitMessage, lureWithZip, phishMessage, quarantineMessage } from '../helpers/messages.js';
import { toCrlf } from '../helpers/smtp.js';
import { eventually } from '../helpers/eventually.js';

const env = { mailFrom: 'x@example.com', rcptTo: ['bob@example.org'], remoteIp: '192.0.2.1' };

describe('scan threads', () => {
  const config = buildConfig({ nlp: { enabled: true } }, { env: {} });
  const pool = createScanPool(config, 2);
  after(() => pool.close());

  it('sizes the pool: auto is one per core but one, at least 1, and 1 per process with nodes=N; 0 means none', () => {
    assert.equal(scanThreads(config, 8, false), 7);
    assert.equal(scanThreads(config, 2, false), 1);
    assert.equal(scanThreads(config, 1, false), 1);
    assert.equal(scanThreads(config, 8, true), 1);
    assert.equal(scanThreads(buildConfig({ main: { scan_threads: 0 } }, { env: {} }), 8, false), 0);
    assert.equal(scanThreads(buildConfig({ main: { scan_threads: 3 } }, { env: {} }), 8, true), 3);
    assert.throws(() => buildConfig({ main: { scan_threads: 'many' } }, { env: {} }), /\[main\] scan_threads/);
  });

  it('admits as many scans as the threads run plus one waiting per thread; the next waits for a place, or fails at its timeout', async () => {
    assert.equal(admissionSlots(2), 6);
    const places = await Promise.all(Array.from({ length: admissionSlots(2) }, () => pool.admit(1000)));
    await assert.rejects(pool.admit(30), (err: PhishXError) => err.code === 'PHISHX_BUDGET_EXCEEDED' && /no scan thread free within 30 ms/.test(err.message));
    const waiting = pool.admit(60_000);
    places[0]();
    places[0](); // idempotent: a second call gives back nothing more
    const next = await waiting;
    await assert.rejects(pool.admit(30), /no scan thread free/);
    for (const release of [next, ...places.slice(1)]) release();
    const all = await Promise.all(Array.from({ length: admissionSlots(2) }, () => pool.admit(1000)));
    for (const release of all) release();
  });

  it('holds a new message back while `max` received ones wait for a place: one let through per place given, the rest at their timeout', async () => {
    const places = await Promise.all(Array.from({ length: admissionSlots(2) }, () => pool.admit(1000)));
    assert.equal(await pool.whenRoom(1, 60_000), 'now', 'nothing waits to be scanned yet');
    // Two received messages wait for a place.
    const queued = [pool.admit(60_000), pool.admit(60_000)];
    await eventually(() => assert.equal(pool.waitingToScan(), 2));
    assert.equal(await pool.whenRoom(3, 60_000), 'now', 'below the limit');
    let first: string | null = null;
    let second: string | null = null;
    const a = pool.whenRoom(2, 60_000).then((how) => (first = how));
    const b = pool.whenRoom(2, 60_000).then((how) => (second = how));
    assert.equal(await pool.whenRoom(2, 30), 'timeout');
    assert.equal(first, null);
    places[0](); // a place: one queued message gets it, the oldest held-back DATA goes on
    await a;
    assert.equal(first, 'waited');
    assert.equal(second, null, 'one place lets one through');
    places[1]();
    await b;
    assert.equal(second, 'waited');
    assert.equal(pool.waitingToScan(), 0);
    for (const release of places.slice(2)) release();
    await Promise.all(queued.map((q) => q.then((release) => release()))); // each gives its place to the next
  });

  it('lets held-back DATA on for a place given back with no message waiting, not only for one given to a waiting message', async () => {
    const places = await Promise.all(Array.from({ length: admissionSlots(2) }, () => pool.admit(1000)));
    const queued = pool.admit(60_000);
    await eventually(() => assert.equal(pool.waitingToScan(), 1));
    const woken: string[] = [];
    const held = ['D1', 'D2', 'D3'].map((name) => pool.whenRoom(1, 60_000).then((how) => woken.push(`${name} ${how}`)));
    places[0](); // the waiting message takes it: D1 goes on
    await eventually(() => assert.deepEqual(woken, ['D1 waited']));
    places[1](); // nobody waits for this place: D2 goes on for it (before, it waited out its 60 s beside the free place)
    await eventually(() => assert.deepEqual(woken, ['D1 waited', 'D2 waited']));
    places[1](); // given back already: nothing more
    places[2]();
    await Promise.all(held);
    assert.deepEqual(woken, ['D1 waited', 'D2 waited', 'D3 waited'], 'one per place, oldest first');
    for (const r of places.slice(3)) r();
    (await queued)();
  });

  it("shares the places between client networks: another network's DATA goes first and its message takes the next place", async () => {
    const places = await Promise.all(Array.from({ length: admissionSlots(2) }, () => pool.admit(1000, 'A')));
    const flood = [pool.admit(60_000, 'A'), pool.admit(60_000, 'A')];
    await eventually(() => assert.equal(pool.waitingToScan(), 2));
    assert.equal(await pool.whenRoom(2, 30, 'A'), 'timeout', 'the flooding network waits for room');
    assert.equal(await pool.whenRoom(2, 60_000, 'B'), 'now', 'a network with nothing waiting goes on (below twice the limit)');
    // Twice the limit waiting: B waits too, but is let on first when a place is given.
    const woken: string[] = [];
    const dataA = pool.whenRoom(1, 60_000, 'A').then((how) => woken.push(`A ${how}`));
    const dataB = pool.whenRoom(1, 60_000, 'B').then((how) => woken.push(`B ${how}`));
    places[0](); // the oldest flood message takes it; one held-back DATA goes on
    await dataB;
    assert.deepEqual(woken, ['B waited'], 'B, with no message waiting, before the older A');
    let got: string | null = null;
    const other = pool.admit(60_000, 'B').then((release) => ((got ??= 'B'), release));
    void flood[1].then(() => (got ??= 'A'));
    places[1]();
    const release = await other;
    assert.equal(got, 'B', 'the freed place went to the network holding none, not to the older waiter');
    await dataA;
    assert.deepEqual(woken, ['B waited', 'A waited']);
    release();
    for (const r of places.slice(2)) r();
    for (const r of await Promise.all(flood)) r();
    assert.equal(pool.waitingToScan(), 0);
  });

  it('gives the same verdict, reasons and summary in a thread as in-line', async () => {
    const zip = Buffer.from(zipSync({ 'invoice.html': new TextEncoder().encode('<form><input type="password"></form>') }));
    const messages = [phishMessage(), cleanMessage(), quarantineMessage(), lureWithZip(zip), garbage8bitMessage(50, 3)].map((m) => toCrlf(m));
    for (const raw of messages) {
      const here = await scanMessage(raw, env, config, 'id');
      const there = await scanMessage(raw, env, config, 'id', { local: pool.scan });
      assert.deepEqual(there.verdict, here.verdict);
      assert.deepEqual(there.summary, here.summary);
      assert.deepEqual(Object.keys(there.phases).sort(), Object.keys(here.phases).sort());
    }
  });

  it('moves a buffer handed over to the thread (no copy; empty here after), copies one that is not, and ClamAV keeps its bytes', async () => {
    const text = toCrlf(quarantineMessage());
    const copy = (): Buffer => {
      const b = Buffer.allocUnsafeSlow(text.length);
      text.copy(b);
      return b;
    };
    const here = await scanMessage(text, env, config, 'id');
    const kept = copy();
    const notHanded = await scanMessage(kept, env, config, 'id', { local: pool.scan });
    assert.equal(kept.length, text.length, 'not handed over: the caller still has its bytes');
    const given = copy();
    const handed = await scanMessage(given, env, config, 'id', { local: pool.scan, handOver: true });
    assert.equal(given.length, 0, 'handed over: the bytes moved to the thread');
    for (const r of [notHanded, handed]) {
      assert.deepEqual(r.verdict, here.verdict);
      assert.deepEqual(r.summary, here.summary, 'summary.bytes counted before the hand-over');
    }
    // ClamAV reads the same bytes beside the thread: they are copied, not moved.
    // (It reads them later, as a socket stream would.)
    const clamav = {
      scan: async (b: Buffer) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return b.length === text.length ? { status: 'clean' } : { status: 'virus', signature: 'emptied', host: 'x' };
      },
    };
    const withClam = copy();
    const r = await scanMessage(withClam, env, config, 'id', { local: pool.scan, handOver: true, clamav: clamav as never });
    assert.equal(withClam.length, text.length);
    assert.ok(!r.verdict.reasons.some((x) => x.code === 'CLAMAV_VIRUS'), JSON.stringify(r.verdict.reasons));
  });

  it('uses a model trained in this process as given (eval --cv), the shipped one only when it is the one passed', async () => {
    const raw = toCrlf(cleanMessage());
    const nlp = async (classifier?: TextModel): Promise<number | undefined> =>
      (await scanMessage(raw, env, config, 'm', classifier ? { classifier } : {})).verdict.reasons.find((r) => r.code === 'NLP_PHISH')?.weight;
    // Same class and name as the shipped model, other weights: p = 1 and p = 0 for any text.
    assert.equal(await nlp(new TextModel(new Float32Array(DIMS), 30)), 50);
    assert.equal(await nlp(new TextModel(new Float32Array(DIMS), -30)), undefined);
    assert.equal(await nlp(embeddedModel()), await nlp());
    assert.equal(await nlp(), undefined);
  });

  it('stops a thread whose scan outlives the budget (SCAN_INCOMPLETE, 451) and keeps scanning with a new one', async () => {
    const slow = buildConfig(
      { main: { scan_budget_ms: 100 }, limits: { max_urls: 100000, max_decoded_bytes: 100000000 }, nlp: { enabled: false } },
      { env: {} },
    );
    const one = createScanPool(slow, 1);
    // Scans before and after the stuck one wait with the default budget: a new thread starting on a busy machine is not what is tested.
    const patient = buildConfig({ nlp: { enabled: false } }, { env: {} });
    try {
      // ~3 s of parsing on an idle machine: past the budget + 500 ms grace.
      const links = '<a href="http://45.33.32.156/x">y</a>\r\n'.repeat(400000);
      await scanMessage(toCrlf(cleanMessage()), env, patient, 'id', { local: one.scan }); // the thread is up
      const before = one.threadIds();
      assert.equal(before.length, 1);
      const r = await scanMessage(Buffer.from(`From: a@example.com\r\nContent-Type: text/html\r\n\r\n${links}`), env, slow, 'id', { local: one.scan });
      assert.deepEqual(
        r.verdict.reasons.map((x) => x.code),
        ['BUDGET_EXCEEDED', 'SCAN_INCOMPLETE'],
      );
      assert.equal(r.verdict.action, 'tempfail');
      // The stuck thread was terminated and replaced, not left parsing.
      await eventually(() => assert.ok(one.threadIds().length === 1 && one.threadIds()[0] !== before[0], `threads ${one.threadIds().join(',')}`));
      const next = await scanMessage(toCrlf(phishMessage()), env, patient, 'id', { local: one.scan });
      assert.equal(next.verdict.action, 'reject', JSON.stringify(next.verdict.reasons));
    } finally {
      await one.close();
    }
  });
});
