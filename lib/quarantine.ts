import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PhishXConfig } from './config/types.js';
import type { Envelope } from './message/types.js';
import type { ScanResult } from './scan.js';
import type { QuarantineEntry, Store } from './store/types.js';

const DAY_MS = 86_400_000;

/** Write `data` to `file` atomically (temp file + rename), creating the directory. */
export async function writeFileAtomic(file: string, data: Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data, { flag: 'w' });
  await rename(tmp, file);
}

/**
 * Hold a message: raw bytes, envelope and verdict. Messages above
 * `[quarantine] max_inline_bytes`, or that the store cannot take inline (the in-memory
 * store's `memory_max_bytes`), are written whole to `spool_dir/<id>.eml` and the store
 * entry points to the file (`spooled: true`): nothing is truncated, nothing is lost.
 * Throws (StoreError / fs errors) when the message could not be held, so the caller can
 * answer 451 and the sender retries.
 */
export async function holdMessage(
  store: Store,
  config: Pick<PhishXConfig, 'quarantine'>,
  raw: Buffer,
  envelope: Envelope,
  result: ScanResult,
  now: number = Date.now(),
): Promise<QuarantineEntry> {
  const spooled = raw.length > config.quarantine.max_inline_bytes || !store.canHoldInline(raw.length);
  const entry: QuarantineEntry = {
    id: result.id,
    createdAt: now,
    expiresAt: now + config.quarantine.ttl_days * DAY_MS,
    envelope: {
      mailFrom: envelope.mailFrom,
      rcptTo: [...envelope.rcptTo],
      ...(envelope.remoteIp ? { remoteIp: envelope.remoteIp } : {}),
      ...(envelope.helo ? { helo: envelope.helo } : {}),
    },
    verdict: result.verdict,
    subject: result.summary.subject,
    from: result.summary.from,
    size: raw.length,
    spooled,
  };
  if (spooled) {
    entry.spoolPath = path.join(config.quarantine.spool_dir, `${result.id}.eml`);
    await writeFileAtomic(entry.spoolPath, raw);
  }
  await store.putQuarantine(entry, spooled ? null : raw);
  return entry;
}
