import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { scanMessage } from '../../lib/scan.js';
import { FIXTURE_DIR } from '../fuzz/settings.js';

const config = buildConfig({}, { env: {} });
const files = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.eml'))
  .sort();

describe('messages that broke a fuzz property once (test/fixtures/fuzz)', () => {
  it('has the fixtures to replay', () => {
    assert.ok(files.length >= 4, files.join(', '));
  });
  for (const f of files) {
    it(`${f}: scanned without a fault within budget + 1 s${f.startsWith('lure-') ? ', not allowed' : ''}`, async () => {
      const raw = readFileSync(path.join(FIXTURE_DIR, f));
      const t0 = performance.now();
      const r = await scanMessage(raw, { mailFrom: 'sender@example.com', rcptTo: ['bob@example.org'] }, config);
      assert.ok(performance.now() - t0 <= config.main.scan_budget_ms + 1000);
      assert.ok(!r.verdict.reasons.some((x) => x.code === 'SCAN_ERROR'), JSON.stringify(r.verdict.reasons));
      if (f.startsWith('lure-')) assert.notEqual(r.verdict.action, 'allow', JSON.stringify(r.verdict.reasons));
    });
  }
});
