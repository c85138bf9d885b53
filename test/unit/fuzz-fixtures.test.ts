import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ScanRunner } from '../fuzz/scan-runner.js';
import { FIXTURE_DIR } from '../fuzz/settings.js';

const files = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.eml'))
  .sort();
// In a worker thread with a wall-clock limit: a fixture that makes the scan spin again fails
// its test (the worker is ended) instead of hanging the run.
const runner = new ScanRunner();

describe('messages that broke a fuzz property once (test/fixtures/fuzz)', () => {
  after(() => runner.close());

  it('has the fixtures to replay', () => {
    assert.ok(files.length >= 4, files.join(', '));
  });
  for (const f of files) {
    it(`${f}: scanned without a fault within budget + 1 s${f.startsWith('lure-') ? ', not allowed' : ''}, previewed without a fault`, async () => {
      const raw = readFileSync(path.join(FIXTURE_DIR, f));
      const r = await runner.scan(raw, 30_000);
      assert.ok(!('error' in r.preview), JSON.stringify(r.preview));
      assert.ok(r.ms <= r.budgetMs + 1000, `scan took ${Math.round(r.ms)} ms (budget ${r.budgetMs} ms)`);
      assert.ok(!r.reasons.includes('SCAN_ERROR'), r.reasons.join(' '));
      if (f.startsWith('lure-')) assert.notEqual(r.action, 'allow', r.reasons.join(' '));
    });
  }
});
