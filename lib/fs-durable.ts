import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/**
 * Group commit: `run` (an fsync) at most once at a time per key, and every call resolves
 * after a run that started after the call — so it covers whatever the caller wrote before
 * calling. Calls made while a run is in flight share the next run: twenty sessions holding
 * messages at once cost a few directory fsyncs instead of forty.
 */
export class GroupCommit {
  private readonly running = new Map<string, Promise<void>>();
  private readonly queued = new Map<string, Promise<void>>();
  /** Runs started (for tests and benchmarks). */
  runs = 0;

  sync(key: string, run: () => Promise<void>): Promise<void> {
    const queued = this.queued.get(key);
    if (queued) return queued; // not started yet: it will cover this call
    const current = this.running.get(key);
    if (!current) return this.start(key, run);
    // The run in flight may have started before this caller's write: wait for the next one.
    const next = current
      .catch(() => undefined)
      .then(() => {
        this.queued.delete(key);
        return this.start(key, run);
      });
    this.queued.set(key, next);
    return next;
  }

  private start(key: string, run: () => Promise<void>): Promise<void> {
    this.runs++;
    const p: Promise<void> = run().finally(() => {
      if (this.running.get(key) === p) this.running.delete(key);
    });
    this.running.set(key, p);
    return p;
  }
}

/** Directory fsyncs of this thread, grouped per directory. */
export const dirSyncs = new GroupCommit();

/** fsync a directory, so a rename or unlink in it survives a crash (not supported everywhere: best effort). */
export function syncDir(dir: string): Promise<void> {
  return dirSyncs.sync(dir, () => fsyncDir(dir));
}

async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    /* some platforms cannot fsync a directory; the rename is still atomic */
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * Write `data` to `file` so that after this resolves the file survives a crash or power
 * loss whole, and a reader never sees half of it: a private temp file in the same
 * directory, written and fsync'd, renamed over `file`, the directory fsync'd.
 */
export function writeFileDurable(file: string, data: Buffer | string): Promise<void> {
  return writeFilesDurableInOrder([[file, data]]);
}

/**
 * `writeFileDurable` for several files whose order matters (a message's bytes before the
 * entry that points at them): the contents are written and fsync'd in parallel under temp
 * names, then each is renamed into place and its directory fsync'd, in the given order — so
 * after a crash a later file never exists without the earlier ones, and the wait is one
 * data fsync instead of one per file. A failed temp write removes the others and throws.
 */
export async function writeFilesDurableInOrder(files: ReadonlyArray<readonly [string, Buffer | string]>): Promise<void> {
  const temps = await Promise.allSettled(files.map(([file, data]) => writeTemp(file, data)));
  const failed = temps.find((t) => t.status === 'rejected');
  if (failed) {
    for (const t of temps) if (t.status === 'fulfilled') await unlink(t.value).catch(() => undefined);
    throw failed.reason;
  }
  const tmp = temps.map((t) => (t as PromiseFulfilledResult<string>).value);
  for (let i = 0; i < files.length; i++) {
    try {
      await rename(tmp[i], files[i][0]);
    } catch (err) {
      for (const t of tmp.slice(i)) await unlink(t).catch(() => undefined);
      throw err;
    }
    await syncDir(path.dirname(files[i][0]));
  }
}

/** Directories this process has created or found (a store writes into the same few, thousands of times). */
const knownDirs = new Set<string>();

/**
 * `open(file, flags, mode)`, creating the file's directory first the first time this process
 * writes there; a directory removed since (an operator's cleanup) is made again.
 */
async function openCreatingDir(file: string, flags: string, mode: number): Promise<FileHandle> {
  const dir = path.dirname(file);
  if (!knownDirs.has(dir)) {
    await mkdir(dir, { recursive: true });
    knownDirs.add(dir);
  }
  try {
    return await open(file, flags, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    knownDirs.delete(dir);
    await mkdir(dir, { recursive: true });
    knownDirs.add(dir);
    return open(file, flags, mode);
  }
}

/** `data` written and fsync'd to a private temp file beside `file` (mode 0600); returns its path. */
async function writeTemp(file: string, data: Buffer | string): Promise<string> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await openCreatingDir(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  return tmp;
}

/**
 * Create `file` with `data` only if it does not exist yet: written whole and fsync'd under a
 * private temp name, then hard-linked to its name. `link` is atomic and fails when the name
 * exists, so of several processes creating the same name exactly one succeeds: a
 * compare-and-set on the file system. Returns false when the name was taken.
 */
export async function createFileDurable(file: string, data: Buffer | string): Promise<boolean> {
  const tmp = await writeTemp(file, data);
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  await syncDir(path.dirname(file));
  return true;
}

interface PendingLine {
  line: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Lines waiting to be appended, per file; a file has a queue while a batch is being written. */
const appendQueues = new Map<string, PendingLine[]>();
/** Most text appended in one write (a batch closes at the line that passes it). */
const APPEND_BATCH_BYTES = 256 * 1024;
/** Batches written (for tests and benchmarks). */
export const appendStats = { batches: 0 };

/**
 * Append one line to `file` (created 0600) and resolve once it is fsync'd. Group commit:
 * lines appended while a batch is being written and fsync'd go together in the next batch,
 * one write() and one fsync for all of them, in the order they were appended — under a burst
 * of held mail the event log costs an fsync per batch, not per message. Each batch is one
 * write() with O_APPEND, so the lines of several processes never interleave.
 */
export function appendLineDurable(file: string, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const pending = { line, resolve, reject };
    const queue = appendQueues.get(file);
    if (queue) {
      queue.push(pending);
      return;
    }
    const fresh = [pending];
    appendQueues.set(file, fresh);
    void drainAppends(file, fresh);
  });
}

async function drainAppends(file: string, queue: PendingLine[]): Promise<void> {
  while (queue.length) {
    let bytes = 0;
    let n = 0;
    while (n < queue.length && (n === 0 || bytes < APPEND_BATCH_BYTES)) bytes += queue[n++].line.length + 1;
    const batch = queue.splice(0, n);
    try {
      await appendLines(
        file,
        batch.map((p) => p.line),
      );
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
  appendQueues.delete(file);
}

async function appendLines(file: string, lines: string[]): Promise<void> {
  appendStats.batches++;
  const fh = await openCreatingDir(file, 'a', 0o600);
  try {
    const data = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    // One write() for the batch; a regular file takes it whole (a short write — a full disk —
    // goes on with the rest rather than leave a torn line).
    for (let at = 0; at < data.length;) {
      const { bytesWritten } = await fh.write(data, at);
      if (bytesWritten <= 0) throw new Error(`${file}: write made no progress`);
      at += bytesWritten;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}
