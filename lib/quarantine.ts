import { readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { writeFileDurable } from './fs-durable.js';
import path from 'node:path';
import type { PhishXConfig } from './config/types.js';
import type { Envelope } from './message/types.js';
import type { ScanResult } from './verdict/types.js';
import { initialState, keepsRaw, statusOf } from './store/query.js';
import type { LogEvent, QuarantineEntry, Store } from './store/types.js';

const DAY_MS = 86_400_000;

/**
 * Hold a message: raw bytes, envelope and verdict. Messages above
 * `[quarantine] max_inline_bytes`, or that the store cannot take inline (the in-memory
 * store's `memory_max_bytes`), are written whole to `spool_dir/<id>.eml` and the store
 * entry points to the file (`spooled: true`): nothing is truncated, nothing is lost.
 * When the store fails: with `[defer] redis` the error is thrown (the caller answers 4xx 4.7.1 and
 * the sender retries); otherwise the message goes to `spool_dir/pending` and is replayed
 * into the store by `replayPending` once it answers. Disk errors and a full embedded store
 * always throw (4xx 4.7.1; Haraka answers 450 from the queue hook).
 */
export async function holdMessage(
  store: Store,
  config: Pick<PhishXConfig, 'quarantine'> & { defer?: { redis: boolean } },
  raw: Buffer,
  envelope: Envelope,
  result: ScanResult,
  now: number = Date.now(),
): Promise<QuarantineEntry> {
  const defer = config.defer?.redis === true && store.kind === 'redis';
  // The embedded file store keeps every message on disk itself; the others spool large ones.
  const spooled = store.kind !== 'file' && (raw.length > config.quarantine.max_inline_bytes || !store.canHoldInline(raw.length));
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
  entry.state = initialState(entry, config.quarantine.history_days * DAY_MS);
  if (spooled) {
    entry.spoolPath = path.join(config.quarantine.spool_dir, `${result.id}.eml`);
    await writeFileDurable(entry.spoolPath, raw);
  }
  try {
    await store.putQuarantine(entry, spooled ? null : raw);
  } catch (err) {
    // Deferred by config, a full quarantine, or a local disk that cannot take it: the sender retries (4xx).
    if (defer || store.kind !== 'redis' || (err as { code?: string }).code === 'PHISHX_STORE_FULL') throw err;
    // Redis is down: keep the message on local disk, replayed by replayPending().
    await writePending(config.quarantine.spool_dir, entry, spooled ? null : raw);
    return { ...entry, pending: true };
  }
  return entry;
}

const pendingDir = (spoolDir: string): string => path.join(spoolDir, 'pending');

/** Messages waiting in the pending spool for the store (the `queue_depth` alert). */
export async function countPending(spoolDir: string): Promise<number> {
  return (await readdir(pendingDir(spoolDir)).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).length;
}

async function writePending(spoolDir: string, entry: QuarantineEntry, raw: Buffer | null): Promise<void> {
  const dir = pendingDir(spoolDir);
  if (raw) await writeFileDurable(path.join(dir, `${entry.id}.eml`), raw);
  await writeFileDurable(path.join(dir, `${entry.id}.json`), Buffer.from(JSON.stringify(entry)));
}

/** A claimed pending file older than this belongs to a replayer that died: it goes back in the queue. */
const CLAIM_STALE_MS = 60_000;
const CLAIMED = '.claimed';

/**
 * Take one pending file for this replayer by renaming it to `<name>.claimed`: a rename is
 * atomic, so of two replayers on the spool (the next round of a slow one, another cluster
 * worker of the node) exactly one gets it. The other would have read the entry, found its
 * raw file already gone and put the record again without its bytes — the message lost.
 * Returns the claimed path, or null when another replayer has it.
 */
async function claim(dir: string, name: string): Promise<string | null> {
  const claimed = path.join(dir, `${name}${CLAIMED}`);
  return rename(path.join(dir, name), claimed).then(
    () => claimed,
    () => null,
  );
}

/** Put claims of a replayer that died mid-way back in the queue (after CLAIM_STALE_MS); returns the names requeued. */
async function requeueStaleClaims(dir: string, names: readonly string[], now: number): Promise<string[]> {
  const back: string[] = [];
  for (const n of names.filter((f) => f.endsWith(`.json${CLAIMED}`))) {
    const s = await stat(path.join(dir, n)).catch(() => null);
    if (!s || now - s.ctimeMs < CLAIM_STALE_MS) continue;
    const name = n.slice(0, -CLAIMED.length);
    const requeued = await rename(path.join(dir, n), path.join(dir, name)).then(
      () => true,
      () => false,
    );
    if (requeued) back.push(name);
  }
  return back;
}

/**
 * Replay the `*.json` files of a pending directory, each exactly once: claim it, hand the
 * claimed file to `replay`, then remove the claim (and the file `replay` names in `alsoRemove`,
 * after it). `replay` answers `replayed: false` for a file with nothing to replay (torn by a
 * crash); when it throws — the store is still down — the file goes back in the queue and the
 * drain stops. Returns how many were replayed.
 */
async function drainPending(
  dir: string,
  now: number,
  replay: (claimed: string, name: string) => Promise<{ replayed: boolean; alsoRemove?: string }>,
): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  for (const n of await requeueStaleClaims(dir, names, now)) names.push(n);
  let n = 0;
  for (const f of names.filter((x) => x.endsWith('.json') && !x.startsWith('.')).sort()) {
    const claimed = await claim(dir, f);
    if (!claimed) continue;
    let done: { replayed: boolean; alsoRemove?: string };
    try {
      done = await replay(claimed, f);
    } catch (err) {
      await rename(claimed, path.join(dir, f)).catch(() => undefined); // back in the queue
      throw err;
    }
    if (!done.replayed) {
      await unlink(claimed).catch(() => undefined);
      continue;
    }
    await unlink(claimed);
    if (done.alsoRemove) await unlink(done.alsoRemove).catch(() => undefined);
    n++;
  }
  return n;
}

/**
 * Move messages held while the store was down into the store. Stops at the first store
 * failure (the store is still down) and leaves the rest for the next round. Each message
 * is claimed first, so replayers running at once put every message exactly once, with its
 * bytes. Returns how many were replayed.
 */
export async function replayPending(store: Store, spoolDir: string, now: number = Date.now()): Promise<number> {
  const dir = pendingDir(spoolDir);
  return drainPending(dir, now, async (claimed, name) => {
    const rawFile = path.join(dir, `${name.slice(0, -'.json'.length)}.eml`);
    const entry = JSON.parse(await readFile(claimed, 'utf8')) as QuarantineEntry;
    const raw = entry.spooled ? null : await readFile(rawFile).catch(() => null);
    await store.putQuarantine(entry, raw); // throws while the store is down
    return { replayed: true, ...(raw ? { alsoRemove: rawFile } : {}) };
  });
}

/** Spooled raw files younger than this are left alone (their entry may be on its way into the store). */
const SPOOL_GRACE_MS = 3_600_000;

/**
 * Remove spooled raw files (`spool_dir/<id>.eml`, stores that keep large messages outside
 * themselves) whose message is no longer kept: its record purged (a key TTL deletes no
 * file), deleted or expired.
 * Without it the spool would grow without bound. Stops at the first store failure (the
 * store cannot say what is held). Returns how many files went.
 */
export async function collectSpool(store: Store, spoolDir: string, now: number = Date.now()): Promise<number> {
  if (store.kind === 'file') return 0; // keeps its own files
  let names: string[];
  try {
    names = (await readdir(spoolDir)).filter((f) => /^[0-9A-Za-z_-]+\.eml$/.test(f));
  } catch {
    return 0;
  }
  let n = 0;
  for (const f of names) {
    const file = path.join(spoolDir, f);
    const s = await stat(file).catch(() => null);
    if (!s || now - s.mtimeMs < SPOOL_GRACE_MS) continue;
    const held = await store.getQuarantine(f.slice(0, -4)); // throws while the store is down
    if (held && keepsRaw(statusOf(held.entry, now))) continue;
    await unlink(file).catch(() => undefined);
    n++;
  }
  return n;
}

const pendingEventsDir = (spoolDir: string): string => path.join(spoolDir, 'pending-events');

/**
 * Append a security event to the store's event log; when the store cannot take it (Redis
 * down), keep it in `spool_dir/pending-events/` for `replayPending` (so its SOC alert is
 * late, not lost). Throws only when the disk fails too.
 */
export async function recordEvent(store: Store, spoolDir: string, event: LogEvent & { id: string; at: number }): Promise<'logged' | 'spooled'> {
  try {
    await store.appendEvent(event);
    return 'logged';
  } catch (err) {
    if (store.kind !== 'redis') throw err;
    await writeFileDurable(path.join(pendingEventsDir(spoolDir), `${event.at}-${event.id.replace(/[^0-9A-Za-z_-]/g, '_')}.json`), JSON.stringify(event));
    return 'spooled';
  }
}

/** Move spooled events into the store's event log, oldest first; stops at the first failure. Returns how many went. */
export async function replayEvents(store: Store, spoolDir: string, now: number = Date.now()): Promise<number> {
  // One replayer per event: no SOC alert twice.
  return drainPending(pendingEventsDir(spoolDir), now, async (claimed) => {
    let event: LogEvent;
    try {
      event = JSON.parse(await readFile(claimed, 'utf8')) as LogEvent;
    } catch {
      return { replayed: false }; // torn by a crash: nothing to replay
    }
    await store.appendEvent(event); // throws while the store is down
    return { replayed: true };
  });
}
