/**
 * The embedded store with a large quarantine: holds of 2 KB messages into a FileStore, 100
 * at a time, up to --held (default 20,000) with `max_entries` 5 % above it, so the last holds
 * are near the limit; then CPU and wall time of one hold and of 20 at once there, and of
 * one full read of the directory (what a count costs). Printed by `npm run bench`.
 *
 *   node dist/test/bench/store-bench.js [--held N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FileStore } from '../../lib/store/file.js';
import type { QuarantineEntry } from '../../lib/store/types.js';

function entry(i: number, t: number): QuarantineEntry {
  return {
    id: `bench${i.toString(36).padStart(8, '0')}`,
    createdAt: t,
    expiresAt: t + 30 * 86_400_000,
    envelope: { mailFrom: 'a@sender.example', rcptTo: ['x@example.org'] },
    verdict: { action: 'quarantine', wouldAction: 'quarantine', score: 60, reasons: [], mode: 'enforce', tenant: 'default' },
    subject: 'bench',
    from: 'a@sender.example',
    size: 2048,
    spooled: false,
  };
}

async function measured(what: string, work: () => Promise<unknown>): Promise<void> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const c = process.cpuUsage(c0);
  console.log(`  ${what.padEnd(44)} ${(performance.now() - t0).toFixed(1).padStart(8)} ms wall ${((c.user + c.system) / 1000).toFixed(1).padStart(8)} ms CPU`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { held: { type: 'string', default: '20000' } } });
  const n = Number(values.held);
  if (!Number.isInteger(n) || n < 100) throw new Error(`--held must be an integer ≥ 100, got ${values.held}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'phishx-store-bench-'));
  const store = new FileStore(dir, { maxEntries: Math.ceil(n * 1.05), maxBytes: 2 ** 40 });
  const raw = Buffer.alloc(2048, 'x');
  try {
    console.log(`embedded store: ${n} held messages of 2 KB, max_entries ${Math.ceil(n * 1.05)} (CPU: this process, all threads)`);
    const t = Date.now();
    await measured(`${n} holds, 100 at a time`, async () => {
      for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, k) => store.putQuarantine(entry(i + k, t), raw)));
    });
    await measured('one hold near the limit', () => store.putQuarantine(entry(n, t), raw));
    await measured('20 holds at once near the limit', () => Promise.all(Array.from({ length: 20 }, (_, k) => store.putQuarantine(entry(n + 1 + k, t), raw))));
    await measured('a full count (countQuarantine)', () => store.countQuarantine());
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
