import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FairSlots } from '../../lib/fair-slots.js';
import { clientNetwork } from '../../lib/ip-address.js';

const late = (): Error => new Error('late');
/** Let granted promises' callbacks run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('fair scan places (FairSlots)', () => {
  it('gives free places at once, then hands a freed place to the waiting sender holding the fewest', async () => {
    const slots = new FairSlots(2);
    const a1 = await slots.acquire('A', 60_000, late);
    const a2 = await slots.acquire('A', 60_000, late);
    assert.equal(slots.freeNow(), false);
    const order: string[] = [];
    const waits = [
      slots.acquire('A', 60_000, late).then((r) => (order.push('A3'), r)),
      slots.acquire('A', 60_000, late).then((r) => (order.push('A4'), r)),
      slots.acquire('B', 60_000, late).then((r) => (order.push('B1'), r)),
      slots.acquire('B', 60_000, late).then((r) => (order.push('B2'), r)),
    ];
    assert.equal(slots.waiting(), 4);
    assert.equal(slots.waiting('B'), 2);
    a1();
    a1(); // idempotent
    await settle();
    assert.deepEqual(order, ['B1'], 'B holds none, A two: B first although A waited longer');
    a2();
    await settle();
    assert.deepEqual(order, ['B1', 'A3'], 'A and B hold one each: the oldest waiter');
    assert.equal(slots.holding('A'), 1);
    assert.equal(slots.holding('B'), 1);
    const granted = await Promise.all(waits.slice(0, 1).concat(waits.slice(2, 3)));
    for (const r of granted) r();
    await settle();
    assert.deepEqual(order, ['B1', 'A3', 'A4', 'B2']);
    for (const r of await Promise.all([waits[1], waits[3]])) r();
    assert.equal(slots.waiting(), 0);
    assert.equal(slots.freeNow(), true);
  });

  it('serves one sender first come, first served, and drops a waiter at its timeout', async () => {
    const slots = new FairSlots(1);
    const first = await slots.acquire('A', 60_000, late);
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) => slots.acquire('A', 60_000, late).then((r) => (order.push(n), r)));
    await assert.rejects(slots.acquire('B', 20, late), /late/);
    assert.equal(slots.waiting('B'), 0, 'the timed-out waiter is gone');
    first();
    for (const w of waits) (await w)();
    assert.deepEqual(order, [1, 2, 3]);
  });

  it('says when a place given back is taken by no waiter, once per such place', async () => {
    let unclaimed = 0;
    const slots = new FairSlots(2, () => unclaimed++);
    const [a, b] = [await slots.acquire('A', 60_000, late), await slots.acquire('A', 60_000, late)];
    const waiter = slots.acquire('B', 60_000, late);
    a(); // taken by the waiter
    const c = await waiter;
    assert.equal(unclaimed, 0);
    b();
    b(); // idempotent
    assert.equal(unclaimed, 1);
    c();
    assert.equal(unclaimed, 2);
  });

  it('never holds more than its places, never strands a waiter while a place is free, and serves the fewest-holding sender', async () => {
    // Random programs of acquires (senders A–D) and releases of held places, checked at every step.
    const step = fc.oneof(
      fc.record({ op: fc.constant('acquire' as const), key: fc.constantFrom('A', 'B', 'C', 'D') }),
      fc.record({ op: fc.constant('release' as const), pick: fc.nat(20) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(step, { maxLength: 60 }), async (capacity, steps) => {
        const slots = new FairSlots(capacity);
        const held: Array<{ key: string; release: () => void }> = [];
        const waiting: Array<{ key: string; seq: number }> = [];
        let seq = 0;
        for (const s of steps) {
          if (s.op === 'acquire') {
            const me = { key: s.key, seq: seq++ };
            waiting.push(me);
            void slots.acquire(s.key, 60_000, late).then((release) => {
              // At the moment of the grant, no other waiting sender held fewer places.
              const i = waiting.indexOf(me);
              waiting.splice(i, 1);
              const mine = held.filter((h) => h.key === me.key).length;
              for (const w of waiting) assert.ok(held.filter((h) => h.key === w.key).length >= mine, `${me.key} served before ${w.key}, which held fewer`);
              held.push({ key: me.key, release });
            });
          } else if (held.length) {
            held.splice(s.pick % held.length, 1)[0].release();
          }
          await settle();
          assert.ok(held.length <= capacity);
          assert.equal(slots.waiting(), waiting.length);
          if (waiting.length) assert.equal(held.length, capacity, 'a waiter while a place is free');
        }
        while (held.length || waiting.length) {
          await settle();
          for (const h of held.splice(0)) h.release();
        }
        assert.equal(slots.freeNow(), true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('clientNetwork', () => {
  it('names the /24 of an IPv4 address and the /48 of an IPv6 one; IPv6 forms of IPv4 as IPv4', () => {
    assert.equal(clientNetwork('203.0.113.77'), '203.0.113.0/24');
    assert.equal(clientNetwork('::ffff:203.0.113.5'), '203.0.113.0/24');
    assert.equal(clientNetwork('2001:db8:abcd:12::1'), '2001:db8:abcd::/48');
    assert.equal(clientNetwork('2001:db8:abcd:ffff:1:2:3:4'), '2001:db8:abcd::/48');
    assert.notEqual(clientNetwork('2001:db8:abce::1'), clientNetwork('2001:db8:abcd::1'));
    for (const bad of [undefined, null, '', 'localhost', '999.1.1.1']) assert.equal(clientNetwork(bad), 'other');
  });

  it('takes any string (a PROXY header names the address): a network label or `other`, the same for every address of a /24 or /48', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.ipV4(), fc.ipV4Extended(), fc.ipV6()), (ip) => {
        assert.match(clientNetwork(ip), /^(other|\d+\.\d+\.\d+\.0\/24|[0-9a-f]{1,4}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/48)$/);
      }),
    );
    fc.assert(
      fc.property(fc.ipV4(), fc.nat(255), (ip, last) => {
        assert.equal(clientNetwork(ip.replace(/\d+$/, String(last))), clientNetwork(ip));
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), fc.array(fc.nat(0xffff), { minLength: 5, maxLength: 5 }), (ip, tail) => {
        const head = clientNetwork(ip);
        if (head === 'other' || head.endsWith('/24')) return; // an IPv4 address spelt in IPv6
        const [a, b, c] = head.split(':');
        const again = clientNetwork([a, b, c, ...tail.map((n) => n.toString(16))].join(':'));
        if (!again.endsWith('/24')) assert.equal(again, head);
      }),
    );
  });
});
