import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Fault } from '../helpers/fault-servers.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';
import { ANSWER_BOUND_MS, runScenario, type Service } from './driver.js';

const FAULTS: Record<Service, Fault[]> = {
  nlp: ['refuse', 'hang', 'slow', 'error', 'garbage', 'flap'],
  clamav: ['refuse', 'hang', 'slow', 'error', 'garbage', 'flap'],
  reputation: ['refuse', 'hang', 'error', 'garbage'],
};
/** Faults after which the breaker must have opened (slow answers are successes; flapping may or may not trip it). */
const MUST_OPEN = new Set<Fault>(['refuse', 'hang', 'error', 'garbage']);

describe('fault injection: 200 messages through real Haraka per service × fault', () => {
  let redis: TestRedis | { skip: string };
  before(async () => {
    redis = await testRedis();
  });
  after(async () => {
    if (redis && !('skip' in redis)) await redis.stop();
  });

  for (const service of Object.keys(FAULTS) as Service[]) {
    for (const fault of FAULTS[service]) {
      it(`${service} ${fault}: every message answered within budget + 1 s, none lost, Haraka up, breaker ${MUST_OPEN.has(fault) ? 'opens and closes after healing' : 'consistent'}`, async (t) => {
        if ('skip' in redis) return t.skip(redis.skip);
        const r = await runScenario(service, fault, redis.url);
        assert.equal(r.answered, r.sent, 'not every message got an SMTP answer');
        assert.ok(r.slowest <= ANSWER_BOUND_MS, `slowest session ${Math.round(r.slowest)} ms > budget + 1 s + session margin (${ANSWER_BOUND_MS} ms)`);
        assert.ok(r.harakaAlive, 'Haraka died');
        assert.equal(r.codes['0'] ?? 0, 0, 'sessions without an answer');
        // Accepted mail is either in the delivery folder or held in the quarantine store.
        assert.equal(
          r.delivered + r.held,
          r.accepted,
          `accepted ${r.accepted}, delivered ${r.delivered}, held ${r.held} (${r.pendingHeld} in the pending spool); Haraka's store lines:\n${r.logs
            .split('\n')
            .filter((l) => /quarantin|store|redis/i.test(l))
            .slice(-8)
            .join('\n')}`,
        );
        assert.equal(r.codes['451'] ?? 0, 0, 'deferred although no defer.* is set');
        if (MUST_OPEN.has(fault)) {
          assert.ok(r.breakerOpened, 'breaker did not open');
          assert.ok(r.breakerClosedAfterHeal, 'breaker did not close after the fault healed');
        }
        if (fault === 'slow') assert.ok(!r.breakerOpened, 'slow but correct answers opened the breaker');
      });
    }
  }
});
