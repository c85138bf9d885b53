import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { cleanMessage } from '../helpers/messages.js';
import { inParallel } from '../helpers/load.js';
import { rawExchange, rawRequest, type RawAnswer } from '../helpers/raw-http.js';
import { sendRaw } from '../helpers/smtp.js';
import { exchange } from './gen-http.js';
import { runs, SEED } from './settings.js';

/** Every response in the bytes is well formed; a valid request (`owed`) got one, not a bare close. */
function assertWellFormed(o: RawAnswer, owed: boolean): void {
  assert.ok(o.closed, `connection neither answered nor closed within the timeout; got ${JSON.stringify(o.text.slice(0, 200))}`);
  if (!o.text) {
    assert.ok(!owed, 'a valid request got no HTTP answer (bare close)');
    return; // a clean close of garbage
  }
  assert.match(o.text, /^HTTP\/1\.[01] [1-5]\d\d /, `not an HTTP response: ${JSON.stringify(o.text.slice(0, 200))}`);
  for (const m of o.text.matchAll(/HTTP\/1\.[01] (\d{3})/g)) assert.ok(Number(m[1]) >= 100 && Number(m[1]) < 600);
}

const MODES: Array<{ name: string; nodes?: number; env?: NodeJS.ProcessEnv }> = [
  { name: 'thread (default)' },
  { name: 'inline (PHISHX_SIDECAR_THREAD=false)', env: { PHISHX_SIDECAR_THREAD: 'false' } },
  { name: 'cluster master (nodes=2)', nodes: 2 },
];

for (const mode of MODES) {
  describe(`sidecar raw-socket fuzzing, ${mode.name} (seed ${SEED})`, () => {
    let h: HarakaInstance;
    before(async () => {
      h = await startHaraka({ nodes: mode.nodes, env: { ...mode.env, PHISHX_SIDECAR_RATE_LIMIT_PER_S: '0' } });
    });
    after(async () => {
      await h?.stop();
    });

    it('answers every request with a well-formed HTTP response or a clean close, and Haraka and the sidecar stay up', async () => {
      const total = runs(300, 10_000);
      // Several connections at a time, each a fuzzed exchange; /alive checked along the way.
      const samples = fc.sample(exchange, { seed: SEED, numRuns: total });
      let requests = 0;
      await inParallel(samples.length, 8, async (i) => {
        const o = await rawExchange(h.sidecarPort, Buffer.concat(samples[i].requests), samples[i].chunk);
        requests += samples[i].requests.length;
        try {
          assertWellFormed(o, samples[i].owed);
        } catch (err) {
          throw new Error(
            `exchange ${i} (seed ${SEED}): ${(err as Error).message}\nsent: ${JSON.stringify(Buffer.concat(samples[i].requests).toString('latin1').slice(0, 300))}`,
            { cause: err },
          );
        }
        if (i % 100 === 0)
          assert.equal(
            (await rawRequest(h.sidecarPort, 'GET /alive HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status,
            200,
            `/alive down after exchange ${i}`,
          );
      });
      assert.ok(requests >= total);
      assert.equal(h.proc.exitCode, null, 'Haraka exited');
      assert.equal((await rawRequest(h.sidecarPort, 'GET /alive HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status, 200);
      assert.doesNotMatch(h.logs(), /sidecar thread exited|uncaught|Unhandled/i);
      assert.equal((await sendRaw(h.port, cleanMessage(), { from: 'alice@example.com', to: ['bob@example.org'] })).code, 250);
    });
  });
}
