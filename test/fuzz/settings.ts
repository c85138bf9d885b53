import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { REPO } from '../helpers/haraka.js';

/**
 * Fuzz run sizes and seeds. `npm test` runs every fuzzer in a bounded, reduced form with a
 * fixed seed (the same inputs every run: CI stays deterministic); `npm run fuzz`
 * (PHISHX_FUZZ=full) runs the full counts with a fresh seed each time, printed in the test
 * names. PHISHX_FUZZ_SEED replays a reported run.
 */
export const FULL = process.env.PHISHX_FUZZ === 'full';
const FIXED_SEED = 20261201;
export const SEED = process.env.PHISHX_FUZZ_SEED ? Number(process.env.PHISHX_FUZZ_SEED) : FULL ? Date.now() % 2_147_483_647 : FIXED_SEED;

export function runs(reduced: number, full: number): number {
  return FULL ? full : reduced;
}

/** Where a message that broke a property is kept; test/unit/fuzz-fixtures.test.ts replays every file there. */
export const FIXTURE_DIR = path.join(REPO, 'test', 'fixtures', 'fuzz');

/** Save a failing message as a fixture (`lure-` prefix: it embeds a known lure) and return its path. */
export function saveFixture(raw: Buffer, lure: boolean): string {
  mkdirSync(FIXTURE_DIR, { recursive: true });
  const file = path.join(FIXTURE_DIR, `${lure ? 'lure-' : ''}${createHash('sha256').update(raw).digest('hex').slice(0, 16)}.eml`);
  writeFileSync(file, raw);
  return file;
}

/**
 * Run a property with the run's seed. A failure keeps the shrunk counterexample as a
 * fixture (when `save` says how) and fails with the seed and path that reproduce it.
 */
export async function check<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  numRuns: number,
  property: (v: T) => Promise<void>,
  save?: (v: T) => string,
): Promise<number> {
  let ran = 0;
  const details = await fc.check(
    fc.asyncProperty(arb, async (v) => {
      ran++;
      await property(v);
    }),
    // A failure is kept as it is, not shrunk: a scan that hangs would make every shrinking step wait for the limit.
    { seed: SEED, numRuns, endOnFailure: true },
  );
  if (details.failed) {
    const saved = details.counterexample && save ? `; counterexample saved as ${save(details.counterexample[0])}` : '';
    throw new Error(
      `${name}: property failed after ${details.numRuns} runs (seed ${details.seed}, path ${details.counterexamplePath})${saved}: ${String(details.errorInstance)}`,
    );
  }
  return ran;
}
