import yauzl from 'yauzl';
import { errorMessage } from '../errors.js';

export interface ArchiveEntry {
  name: string;
  size: number;
  compressed: number;
  encrypted: boolean;
  /** Depth of the archive that holds it (1 = the attachment itself). */
  depth: number;
}

export interface ArchiveInfo {
  entries: ArchiveEntry[];
  /** Listing stopped early: more entries than the limit, or nesting deeper than allowed. */
  truncated: boolean;
  /** Declared uncompressed total / compressed size, over all listed entries. */
  ratio: number;
  /** Not a readable zip (corrupt, or not a zip despite its name / magic). */
  unreadable: boolean;
  /**
   * Why part of the archive could not be looked into (the message's decompression budget
   * ran out, the scan budget ended, an inner zip was corrupt), null when it was listed in
   * full. An archive that could not be inspected is never a silent pass.
   */
  uninspected: string | null;
  /** The listing returned (false while it runs: a scan that ended meanwhile did not see all of it). */
  done: boolean;
}

export interface ArchiveLimits {
  maxDepth: number;
  /** Inner archives above this uncompressed size are listed but not opened. */
  maxInnerBytes: number;
}

/**
 * What one message may spend on archives, shared by every attachment and nesting level:
 * entries listed and bytes inflated. Inflated bytes are counted as they stream out of
 * zlib (declared sizes are the attacker's to choose); `signal` ends all work at once
 * (the scan budget ran out), so no decompression outlives its message.
 */
export class InflateBudget {
  bytesLeft: number;
  entriesLeft: number;
  constructor(
    readonly maxBytes: number,
    readonly maxEntries: number,
    readonly signal?: AbortSignal,
  ) {
    this.bytesLeft = maxBytes;
    this.entriesLeft = maxEntries;
  }
  get aborted(): boolean {
    return this.signal?.aborted === true;
  }
}

/** The message's decompression budget is used up, or its scan ended: nothing more is inflated. */
export class BudgetExhausted extends Error {}

/** A zip in memory, its entries read one at a time (`readEntry`), kept open until closed. */
export function openZip(buf: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.fromBuffer(buf, { lazyEntries: true, validateEntrySizes: true, autoClose: false }, (err, zf) =>
      err || !zf ? reject(err ?? new Error('no zip')) : resolve(zf),
    ),
  );
}

/** Inflate one entry into memory, counting every byte against the entry limit and the message budget. */
function readEntry(zf: yauzl.ZipFile, e: yauzl.Entry, max: number, budget: InflateBudget): Promise<Buffer> {
  return inflateEntry(zf, e, max, budget, false).then((r) => r.bytes);
}

/**
 * Inflate the first `max` bytes of one entry (`cut`: it holds more), counting every byte
 * against the message budget; rejects with a `BudgetExhausted` when that is used up or the
 * scan ends. Entries whose data is not what their header says (bad CRC, size) reject.
 */
export function entryPrefix(zf: yauzl.ZipFile, e: yauzl.Entry, max: number, budget: InflateBudget): Promise<{ bytes: Buffer; cut: boolean }> {
  return inflateEntry(zf, e, max, budget, true);
}

function inflateEntry(zf: yauzl.ZipFile, e: yauzl.Entry, max: number, budget: InflateBudget, prefix: boolean): Promise<{ bytes: Buffer; cut: boolean }> {
  return new Promise((resolve, reject) => {
    zf.openReadStream(e, (err, s) => {
      if (err || !s) return reject(err ?? new Error('no stream'));
      const chunks: Buffer[] = [];
      let n = 0;
      const onAbort = (): void => void s.destroy(new BudgetExhausted('scan budget ended'));
      budget.signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => budget.signal?.removeEventListener('abort', onAbort);
      let done = false;
      s.on('data', (c: Buffer) => {
        if (done) return;
        n += c.length;
        budget.bytesLeft -= c.length;
        if (budget.bytesLeft < 0) s.destroy(new BudgetExhausted(`decompression budget of ${budget.maxBytes} bytes per message used up`));
        else if (n <= max) chunks.push(c);
        else if (!prefix) s.destroy(new Error('inner archive above limit'));
        else {
          // Enough read: the rest is not inflated.
          done = true;
          chunks.push(c.subarray(0, c.length - (n - max)));
          settle();
          s.destroy();
          resolve({ bytes: Buffer.concat(chunks), cut: true });
        }
      });
      s.on('error', (e2) => {
        settle();
        if (!done) reject(e2);
      });
      s.on('end', () => {
        settle();
        resolve({ bytes: Buffer.concat(chunks), cut: false });
      });
    });
  });
}

/** A file taken out of a zip to be read as if it were attached on its own. */
export interface ZippedFile {
  /** Its path inside the zip. */
  name: string;
  bytes: Buffer;
  /** Only its first bytes were taken (`opts.prefix`): the rest was not inflated. */
  cut: boolean;
}

export interface ZippedFiles {
  files: ZippedFile[];
  /** Why some of the files asked for were not taken (too large, too many, the message's budget, a broken entry), null when all were. */
  unread: string | null;
}

/**
 * The files of a zip that `wanted` ranks (by path: a number, lower first; null: not
 * wanted), inflated within the message's `budget` — each at most `maxBytes`, at most
 * `maxFiles`, smallest first within a rank. `prefix`, asked just before a file is read with
 * its declared size, may answer how many of its first bytes to take instead (0: none; the
 * file is `cut`): a budget of its own the caller keeps. First level only (a zip inside it is
 * listed by `listZip`, not opened here); encrypted entries are not read (ARCHIVE_ENCRYPTED
 * names them), and every entry looked at counts against the budget's entries. Null when
 * `buf` is not a readable zip. Never throws.
 */
export async function zippedFiles(
  buf: Buffer,
  wanted: (name: string) => number | null,
  opts: { maxBytes: number; maxFiles: number; prefix?: (name: string, declared: number) => number | null },
  budget: InflateBudget,
): Promise<ZippedFiles | null> {
  let zf: yauzl.ZipFile;
  try {
    zf = await openZip(buf);
  } catch {
    return null;
  }
  const picked: Array<{ e: yauzl.Entry; rank: number }> = [];
  const unread: string[] = [];
  await new Promise<void>((resolve) => {
    zf.on('entry', (e: yauzl.Entry) => {
      if (budget.entriesLeft <= 0 || budget.aborted) {
        unread.push(budget.aborted ? 'the scan ended while it was listed' : 'more entries than the message may list');
        return resolve();
      }
      budget.entriesLeft--;
      const rank = e.fileName.endsWith('/') || e.generalPurposeBitFlag & 1 ? null : wanted(e.fileName);
      if (rank !== null) picked.push({ e, rank });
      zf.readEntry();
    });
    zf.on('end', () => resolve());
    zf.on('error', () => {
      unread.push('its directory is broken');
      resolve();
    });
    zf.readEntry();
  });
  picked.sort((a, b) => a.rank - b.rank || a.e.uncompressedSize - b.e.uncompressedSize);
  const files: ZippedFile[] = [];
  for (const [i, { e }] of picked.entries()) {
    if (files.length >= opts.maxFiles) {
      unread.push(`${picked.length - i} file(s) past the first ${opts.maxFiles}`);
      break;
    }
    const prefix = opts.prefix?.(e.fileName, e.uncompressedSize) ?? null;
    if (prefix === null && e.uncompressedSize > opts.maxBytes) {
      unread.push(`${e.fileName}: larger than ${opts.maxBytes} bytes`);
      continue;
    }
    try {
      if (prefix === null) files.push({ name: e.fileName, bytes: await readEntry(zf, e, opts.maxBytes, budget), cut: false });
      else if (prefix <= 0) files.push({ name: e.fileName, bytes: Buffer.alloc(0), cut: true });
      else {
        const { bytes, cut } = await entryPrefix(zf, e, Math.min(prefix, opts.maxBytes), budget);
        files.push({ name: e.fileName, bytes, cut });
      }
    } catch (err) {
      if (err instanceof BudgetExhausted) {
        unread.push(`${e.fileName} and after: ${err.message}`);
        break;
      }
      unread.push(`${e.fileName}: unreadable (${errorMessage(err)})`);
    }
  }
  zf.close();
  return { files, unread: unread.length ? unread.join('; ').slice(0, 300) : null };
}

/** Declared uncompressed total / compressed size of `entries` (0 when nothing is compressed). */
export function declaredRatio(entries: readonly ArchiveEntry[]): number {
  const size = entries.reduce((a, x) => a + x.size, 0);
  const comp = entries.reduce((a, x) => a + x.compressed, 0);
  return comp > 0 ? size / comp : 0;
}

export function emptyArchiveInfo(): ArchiveInfo {
  return { entries: [], truncated: false, ratio: 0, unreadable: false, uninspected: null, done: false };
}

/**
 * List a zip's entries from its central directory, then, within the depth and size limits
 * and the message's `budget`, the entries of zips inside it (inflated to be read). Bounded
 * in entries, depth, inflated bytes and time: a bomb is measured (declared ratio), inflated
 * only as far as the budget allows, and marked `uninspected` where it was cut.
 */
export async function listZip(buf: Buffer, limits: ArchiveLimits, budget: InflateBudget, acc: ArchiveInfo = emptyArchiveInfo()): Promise<ArchiveInfo> {
  try {
    return await listZipLevel(buf, limits, budget, 1, acc);
  } finally {
    acc.done = true;
  }
}

async function listZipLevel(buf: Buffer, limits: ArchiveLimits, budget: InflateBudget, depth: number, acc: ArchiveInfo): Promise<ArchiveInfo> {
  if (budget.aborted) {
    acc.uninspected ??= 'scan budget ended before the archive was read';
    return acc;
  }
  let zf: yauzl.ZipFile;
  try {
    zf = await openZip(buf);
  } catch {
    if (depth === 1) acc.unreadable = true;
    else acc.uninspected ??= 'an inner zip is corrupt';
    return acc;
  }
  const inner: yauzl.Entry[] = [];
  await new Promise<void>((resolve) => {
    zf.on('entry', (e: yauzl.Entry) => {
      if (budget.entriesLeft <= 0) {
        acc.truncated = true;
        return resolve();
      }
      if (budget.aborted) {
        acc.uninspected ??= 'scan budget ended while the archive was listed';
        return resolve();
      }
      budget.entriesLeft--;
      const name = e.fileName;
      acc.entries.push({ name, size: e.uncompressedSize, compressed: e.compressedSize, encrypted: (e.generalPurposeBitFlag & 1) === 1, depth });
      if (/\.zip$/i.test(name) && !(e.generalPurposeBitFlag & 1)) inner.push(e);
      zf.readEntry();
    });
    zf.on('end', () => resolve());
    zf.on('error', () => {
      if (depth === 1) acc.unreadable = true;
      else acc.uninspected ??= 'an inner zip is corrupt';
      resolve();
    });
    zf.readEntry();
  });
  for (const e of inner) {
    if (depth >= limits.maxDepth) {
      acc.truncated = true;
      break;
    }
    if (e.uncompressedSize > limits.maxInnerBytes) continue;
    if (budget.aborted || budget.bytesLeft <= 0) {
      acc.uninspected ??= budget.aborted
        ? 'scan budget ended while inner archives were read'
        : `decompression budget of ${budget.maxBytes} bytes per message used up`;
      break;
    }
    try {
      await listZipLevel(await readEntry(zf, e, limits.maxInnerBytes, budget), limits, budget, depth + 1, acc);
    } catch (err) {
      if (err instanceof BudgetExhausted) {
        acc.uninspected ??= err.message;
        break;
      }
      acc.truncated = true;
    }
  }
  zf.close();
  acc.ratio = declaredRatio(acc.entries);
  return acc;
}
