import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { FileStore } from '../../lib/store/file.js';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { inParallel } from '../helpers/load.js';
import { sendRaw, type SmtpAnswer } from '../helpers/smtp.js';
import { anyMessage, lureWithMutatedAttachment } from './gen-messages.js';
import { runs, saveFixture, SEED } from './settings.js';

const BUDGET_MS = 10_000;
/** The promise: answered within the budget + the watchdog's 1 s; 2 s more for the SMTP session itself on a busy machine. */
const ANSWER_BOUND_MS = BUDGET_MS + 1000 + 2000;

/**
 * Generated and mutated messages over real SMTP into Haraka + PhishX with the shipped
 * defaults (embedded classifier, file store): every message answered in time with an SMTP
 * code, no lure delivered, and every accepted message either delivered or held.
 */
describe(`message fuzzing over SMTP (seed ${SEED})`, () => {
  let h: HarakaInstance;
  before(async () => {
    h = await startHaraka({ nlp: true, phishxIni: `[main]\nscan_budget_ms=${BUDGET_MS}\n` });
  });
  after(async () => {
    await h?.stop();
  });

  it('answers every message within budget + 1 s, delivers no lure, and loses no accepted message', async () => {
    const total = runs(40, 1000);
    const samples = fc.sample(
      fc.oneof(
        { weight: 2, arbitrary: anyMessage.map((raw) => ({ raw, lure: false })) },
        { weight: 1, arbitrary: lureWithMutatedAttachment.map((raw) => ({ raw, lure: true })) },
      ),
      { seed: SEED, numRuns: total },
    );
    const answers: Array<SmtpAnswer & { lure: boolean; i: number }> = [];
    await inParallel(total, 4, async (i) => {
      const a = await sendRaw(h.port, samples[i].raw, { from: 'sender@example.com', to: ['bob@example.org'] }, { timeoutMs: 60_000 });
      answers.push({ ...a, lure: samples[i].lure, i });
    });
    for (const a of answers) {
      const where = `message ${a.i} (seed ${SEED})`;
      if (!(a.code >= 200 && a.code < 600) || a.ms > ANSWER_BOUND_MS) saveFixture(samples[a.i].raw, a.lure);
      assert.ok(a.code >= 200 && a.code < 600, `${where}: no SMTP answer: ${a.response}`);
      assert.ok(a.ms <= ANSWER_BOUND_MS, `${where}: answered after ${Math.round(a.ms)} ms`);
      if (a.lure && a.code === 250) {
        if (!/held for review/.test(a.response)) saveFixture(samples[a.i].raw, true);
        assert.match(a.response, /held for review/, `${where}: a lure was delivered: ${a.response}`);
      }
    }
    // Every 250 is a message delivered to the mail folder or held in the quarantine.
    const accepted = answers.filter((a) => a.code === 250);
    const held = accepted.filter((a) => /held for review/.test(a.response)).map((a) => /PhishX id ([0-9a-f]{16})/.exec(a.response)![1]);
    const delivered = (await readdir(h.mailDir).catch(() => [] as string[])).filter((f) => f.endsWith('.eml'));
    assert.equal(delivered.length, accepted.length - held.length, 'delivered files ≠ accepted and not held');
    const store = new FileStore(h.spoolDir, { maxEntries: 1_000_000, maxBytes: 2 ** 40 });
    try {
      for (const id of held) assert.ok(await store.getQuarantine(id), `held ${id} not in the quarantine`);
    } finally {
      await store.close();
    }
    assert.equal(h.proc.exitCode, null, 'Haraka exited');
    assert.equal(answers.length, total);
    const codes = answers.reduce<Record<number, number>>((m, a) => ((m[a.code] = (m[a.code] ?? 0) + 1), m), {});
    assert.ok((codes[250] ?? 0) + (codes[550] ?? 0) >= total / 2, `most messages should be judged: ${JSON.stringify(codes)}`);
    console.log(`# smtp fuzz: ${total} messages, answers ${JSON.stringify(codes)}, ${held.length} held, ${delivered.length} delivered`);
  });
});
