import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type fc from 'fast-check';
import { ScanRunner, type WorkerScan } from './scan-runner.js';
import {
  anyMessage,
  builtMessage,
  drawnQrLureMutated,
  lureWithMutatedAttachment,
  lureWrapped,
  mutatedMessage,
  officeLureMutated,
  zippedLureMutated,
  archiveLureMutated,
  otherArchiveSeeds,
  pdfQrLureMutated,
  qrLureWithMutatedPicture,
  repeatedMessage,
} from './gen-messages.js';
import { check, FULL, runs, saveFixture, SEED } from './settings.js';

/**
 * The scan path under generated and mutated messages (`npm test`: a bounded run with a
 * fresh seed, printed; `npm run fuzz`: ≥ 10,000). Properties: it never throws, it answers
 * within the budget + 1 s (the hook watchdog's bound), the verdict is well formed, and a
 * known lure is never `allow` whatever its attachment is.
 */
const ACTIONS = new Set(['allow', 'quarantine', 'reject', 'tempfail']);
const BUDGET_MS = 10_000;
const bound = BUDGET_MS + 1000;
const runner = new ScanRunner();

/**
 * One scan in the worker: in time, well formed, no fault; and its SOC preview: no fault, at
 * most 50 links. A scan or preview that spins past the worker's limit fails (and its input is kept).
 */
async function scanWithinBudget(raw: Buffer): Promise<WorkerScan> {
  const r = await runner.scan(raw, bound + 15_000);
  assert.ok(!('error' in r.preview), `the preview threw: ${'error' in r.preview ? r.preview.error : ''}`);
  assert.ok(r.preview.links <= 50, `the preview lists ${r.preview.links} links`);
  assert.equal(r.budgetMs, BUDGET_MS);
  assert.ok(r.ms <= bound, `scan took ${Math.round(r.ms)} ms (bound ${bound})`);
  assert.ok(ACTIONS.has(r.action), `action ${r.action}`);
  assert.ok(Number.isInteger(r.score) && r.score >= 0 && r.score <= 100, `score ${r.score}`);
  assert.ok(!r.reasons.includes('SCAN_ERROR'), `SCAN_ERROR: ${r.reasons.join(' ')}`);
  return r;
}

describe(`message fuzzing through scanMessage (seed ${SEED})`, () => {
  after(() => runner.close());

  it('scans hostile built MIME (headers, nesting, encodings, HTML) without a fault, within budget + 1 s', async () => {
    const n = await check(
      'built messages',
      builtMessage,
      runs(150, 4000),
      async (raw) => void (await scanWithinBudget(raw)),
      (raw) => saveFixture(raw, false),
    );
    assert.equal(n, runs(150, 4000));
  });

  it('scans byte-mutated seed messages (truncation, NULs, boundaries, duplicated ranges) without a fault, within budget + 1 s', async () => {
    const n = await check(
      'mutated messages',
      mutatedMessage,
      runs(150, 3000),
      async (raw) => void (await scanWithinBudget(raw)),
      (raw) => saveFixture(raw, false),
    );
    assert.equal(n, runs(150, 3000));
  });

  it('never allows a known lure, whatever bytes its attachment part holds (zips nested, bombed, truncated, bit-flipped)', async () => {
    const n = await check(
      'lures with mutated attachments',
      lureWithMutatedAttachment,
      runs(100, 3000),
      async (raw) => {
        const r = await scanWithinBudget(raw);
        assert.notEqual(r.action, 'allow', `allowed: ${r.reasons.join(' ')}`);
      },
      (raw) => saveFixture(raw, true),
    );
    assert.equal(n, runs(100, 3000));
  });

  // Lures whose text alone is held and whose link is a QR code or in a document: whatever is done to it, never allowed; left intact, its link is read.
  const linkLures: Array<[string, string, fc.Arbitrary<{ raw: Buffer; intact: boolean }>, string]> = [
    [
      'reads QR codes from broken pictures (bit-flipped, cut short, lying about their size)',
      'QR lures with mutated pictures',
      qrLureWithMutatedPicture,
      'QR_CODE_LINK',
    ],
    [
      'reads QR codes in the pictures of broken PDFs (bit-flipped, cut short, lying dictionaries)',
      'QR lures in mutated PDFs',
      pdfQrLureMutated,
      'QR_CODE_LINK',
    ],
    ['reads QR codes drawn without a picture (tables, block characters), whole or broken', 'lures with drawn QR codes', drawnQrLureMutated, 'QR_CODE_DRAWN'],
    [
      'reads the links of broken Office documents (bit-flipped, cut short, a zip directory that lies)',
      'lures in mutated Office documents',
      officeLureMutated,
      'URL_IP_LITERAL',
    ],
    [
      'reads the links of the documents, pages and pictures in broken zips (bit-flipped, cut short, a directory that lies)',
      'lures in mutated zips',
      zippedLureMutated,
      'URL_IP_LITERAL',
    ],
  ];
  for (const [title, label, arbitrary, reason] of linkLures)
    it(`${title}: no fault, an intact link read, never allow`, async () => {
      const n = await check(
        label,
        arbitrary,
        runs(60, 2000),
        async ({ raw, intact }) => {
          const r = await scanWithinBudget(raw);
          assert.notEqual(r.action, 'allow', `allowed: ${r.reasons.join(' ')}`);
          if (intact) assert.ok(r.reasons.includes(reason), `intact code not read: ${r.reasons.join(' ')}`);
        },
        ({ raw }) => saveFixture(raw, true),
      );
      assert.equal(n, runs(60, 2000));
    });

  it('reads broken RAR, 7z, tar, gzip, xz, uuencoded archives (bytes flipped, cut): no fault, intact: program named, PDF read, never allow', async () => {
    const arbitrary = archiveLureMutated(await otherArchiveSeeds());
    const n = await check(
      'lures in mutated archives',
      arbitrary,
      runs(60, 2000),
      async ({ raw, reasons }) => {
        const r = await scanWithinBudget(raw);
        assert.notEqual(r.action, 'allow', `allowed: ${r.reasons.join(' ')}`);
        for (const code of reasons) assert.ok(r.reasons.includes(code), `intact archive: ${code} missing from ${r.reasons.join(' ')}`);
      },
      ({ raw }) => saveFixture(raw, true),
    );
    assert.equal(n, runs(60, 2000));
  });

  // MIME nested past the limit, encoded, padded past the decoded-bytes limit, HTML nested past the depth cap.
  it('never allows a known lure, however it is wrapped', async () => {
    const n = await check(
      'wrapped lures',
      lureWrapped,
      runs(60, 1000),
      async (raw) => {
        const r = await scanWithinBudget(raw);
        assert.notEqual(r.action, 'allow', `allowed: ${r.reasons.join(' ')}`);
      },
      (raw) => saveFixture(raw, true),
    );
    assert.equal(n, runs(60, 1000));
  });

  // One construct repeated thousands of times, up to 1 MB (npm test) or 3 MB (npm run fuzz):
  // where a cost grows faster than the message, it shows here.
  it('scans one construct repeated thousands of times (headers, encoded words, HTML, style sheets, text, invitations, parts) within budget + 1 s', async () => {
    const n = await check(
      'repeated constructs',
      repeatedMessage(FULL ? 3_000_000 : 1_000_000),
      runs(30, 400),
      async (raw) => void (await scanWithinBudget(raw)),
      (raw) => saveFixture(raw, false),
    );
    assert.equal(n, runs(30, 400));
  });

  it('mixes all kinds in one run (the full run totals ≥ 10,000 messages)', async () => {
    const n = await check(
      'any message',
      anyMessage,
      runs(50, 1000),
      async (raw) => void (await scanWithinBudget(raw)),
      (raw) => saveFixture(raw, false),
    );
    assert.equal(n, runs(50, 1000));
  });
});
