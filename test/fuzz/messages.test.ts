import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { scanMessage } from '../../lib/scan.js';
import { anyMessage, builtMessage, lureWithMutatedAttachment, mutatedMessage } from './gen-messages.js';
import { check, runs, saveFixture, SEED } from './settings.js';

/**
 * The scan path under generated and mutated messages (`npm test`: a bounded run with a
 * fresh seed, printed; `npm run fuzz`: ≥ 10,000). Properties: it never throws, it answers
 * within the budget + 1 s (the hook watchdog's bound), the verdict is well formed, and a
 * known lure is never `allow` whatever its attachment is.
 */
const config = buildConfig({}, { env: {} });
const env = { mailFrom: 'sender@example.com', rcptTo: ['bob@example.org'], remoteIp: '192.0.2.1' };
const ACTIONS = new Set(['allow', 'quarantine', 'reject', 'tempfail']);
const bound = config.main.scan_budget_ms + 1000;

async function scanWithinBudget(raw: Buffer): Promise<Awaited<ReturnType<typeof scanMessage>>> {
  const t0 = performance.now();
  const r = await scanMessage(raw, env, config);
  const ms = performance.now() - t0;
  assert.ok(ms <= bound, `scan took ${Math.round(ms)} ms (bound ${bound})`);
  assert.ok(ACTIONS.has(r.verdict.action), `action ${r.verdict.action}`);
  assert.ok(Number.isInteger(r.verdict.score) && r.verdict.score >= 0 && r.verdict.score <= 100, `score ${r.verdict.score}`);
  assert.ok(!r.verdict.reasons.some((x) => x.code === 'SCAN_ERROR'), `SCAN_ERROR: ${JSON.stringify(r.verdict.reasons)}`);
  return r;
}

describe(`message fuzzing through scanMessage (seed ${SEED})`, () => {
  it('scans hostile built MIME (headers, nesting, encodings, HTML) without a fault, within budget + 1 s', async () => {
    const n = await check('built messages', builtMessage, runs(150, 4000), async (raw) => void (await scanWithinBudget(raw)), (raw) => saveFixture(raw, false));
    assert.equal(n, runs(150, 4000));
  });

  it('scans byte-mutated seed messages (truncation, NULs, boundaries, duplicated ranges) without a fault, within budget + 1 s', async () => {
    const n = await check('mutated messages', mutatedMessage, runs(150, 3000), async (raw) => void (await scanWithinBudget(raw)), (raw) => saveFixture(raw, false));
    assert.equal(n, runs(150, 3000));
  });

  it('never allows a known lure, whatever bytes its attachment part holds (zips nested, bombed, truncated, bit-flipped)', async () => {
    const n = await check(
      'lures with mutated attachments',
      lureWithMutatedAttachment,
      runs(100, 3000),
      async (raw) => {
        const r = await scanWithinBudget(raw);
        assert.notEqual(r.verdict.action, 'allow', `allowed: ${JSON.stringify(r.verdict.reasons)}`);
      },
      (raw) => saveFixture(raw, true),
    );
    assert.equal(n, runs(100, 3000));
  });

  it('mixes all three kinds in one run (the full run totals ≥ 10,000 messages)', async () => {
    const n = await check('any message', anyMessage, runs(50, 1000), async (raw) => void (await scanWithinBudget(raw)), (raw) => saveFixture(raw, false));
    assert.equal(n, runs(50, 1000));
  });
});
