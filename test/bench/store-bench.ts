/**
 * The embedded store with a large quarantine: holds of 2 KB messages into a FileStore, 100
 * at a time, up to --held (default 20,000) with `max_entries` 5 % above it, so the last holds
 * are near the limit; then CPU and wall time of one hold and of 20 at once there, and of
 * one full read of the directory (what each recount costs); then, as after a restart, a new store on
 * the directory: its first count and first listing, and the heap each record then keeps
 * (Haraka's threads count, only the sidecar's lists). Printed by `npm run bench`.
 *
 *   node dist/test/bench/store-bench.js [--held N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FileStore } from '../../lib/store/file.js';
import { heapAfterGc } from '../helpers/heap.js';
import type { QuarantineEntry } from '../../lib/store/types.js';

/** A held record with a verdict of four reasons, ~800 bytes on disk (the corpus' phish: ~530). */
function entry(i: number, t: number): QuarantineEntry {
  return {
    id: `bench${i.toString(36).padStart(8, '0')}`,
    createdAt: t,
    expiresAt: t + 30 * 86_400_000,
    envelope: { mailFrom: `billing${i % 97}@secure-pay.example`, rcptTo: [`user${i % 500}@example.org`], remoteIp: '192.0.2.7', helo: 'mail.sender.example' },
    verdict: {
      action: 'quarantine',
      wouldAction: 'quarantine',
      score: 60,
      reasons: [
        { code: 'URL_TEXT_HREF_BRAND_MISMATCH', weight: 25, detail: 'link text paypal.com points to paypa1-secure.example' },
        { code: 'NLP_PHISH', weight: 20, detail: 'classifier p=0.97' },
        { code: 'SENDER_BRAND_IMPERSONATION', weight: 10, detail: 'From display name PayPal, domain secure-pay.example' },
        { code: 'URL_BRAND_LOOKALIKE', weight: 5, detail: 'paypa1-secure.example looks like paypal.com' },
      ],
      mode: 'enforce',
      tenant: 'default',
    },
    subject: `Your account #${i} has been limited, action required`,
    from: `"PayPal Service" <billing${i % 97}@secure-pay.example>`,
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
    // countQuarantine answers from the count holds use; a sweep is a full read, what each recount costs.
    await measured('a recount (a full read: sweepQuarantine)', () => store.sweepQuarantine());
    // A restart: a new store on the directory reads every record once.
    const held = n + 21;
    const fresh = new FileStore(dir, { maxEntries: Math.ceil(n * 1.05), maxBytes: 2 ** 40 });
    try {
      const h0 = heapAfterGc();
      await measured('after a restart: the first count', () => fresh.countQuarantine());
      const counted = heapAfterGc();
      await measured('            then the first listing', () => fresh.listQuarantine({ limit: 50 }));
      const listed = heapAfterGc();
      await measured('            and a later listing', () => fresh.listQuarantine({ limit: 50 }));
      console.log(
        `  heap kept per record: ${((counted - h0) / held).toFixed(0)} bytes after counts (Haraka's threads), ${((listed - h0) / held).toFixed(0)} once listed (the sidecar's)`,
      );
    } finally {
      await fresh.close();
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
