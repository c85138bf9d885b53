import { readFileSync } from 'node:fs';
import SevenZip from '7z-wasm';
import { errorMessage } from '../errors.js';
import { declaredRatio, type ArchiveInfo, type InflateBudget, type ZippedFile, type ZippedFiles } from './archive.js';

/**
 * Archives of the formats other than zip that mail brings (RAR, 7z, tar, gzip, bzip2, xz,
 * cab, lzh, arj, ISO images), listed by 7-Zip itself: 7z-wasm, 7-Zip 24.09 compiled to
 * WebAssembly. Its code runs inside its own linear memory, with an in-memory file system
 * and no access to the disk; each archive gets a fresh instance (the compiled module is
 * kept), so nothing of one message's archive is left for the next. Bounds: the instance's
 * memory (`MAX_MEMORY`: an allocation past it fails, 7-Zip aborts, the archive is recorded as
 * not inspected), the lines of listing read (entries of the message's budget), the bytes
 * written (what the directory declared) and the scan's abort signal, checked at every write.
 * One archive's level at a time: an archive inside is listed when the scan takes it out.
 * Opened once per scan: the listing made to find an archive's files is kept (by its bytes)
 * for the listing it is judged by.
 */

/** Types `file-type` gives archives 7-Zip lists (zip has its own reader). */
export const SEVEN_ZIP_TYPES = new Set([
  'application/x-rar-compressed',
  'application/x-7z-compressed',
  'application/x-tar',
  'application/gzip',
  'application/x-bzip2',
  'application/x-xz',
  'application/vnd.ms-cab-compressed',
  'application/x-lzh-compressed',
  'application/x-arj',
  'application/x-iso9660-image',
  // Read by 7-Zip too (a Unix compress .Z, cpio, RPM and Debian packages, ar, Apple disk images) …
  'application/x-compress',
  'application/x-cpio',
  'application/x-rpm',
  'application/x-deb',
  'application/x-unix-archive',
  'application/x-apple-diskimage',
  // … or archives it cannot read, recorded as not inspected rather than passed unread: ACE
  // (WinRAR opened it, and "Invoice.rar" that is ACE was how its 2019 hole was used), lzip,
  // LZ4, Zstandard.
  'application/x-ace-compressed',
  'application/x-lzip',
  'application/x-lz4',
  'application/zstd',
]);

/** Names of such archives, for content `file-type` does not recognise (it is then listed if 7-Zip can read it). */
export const SEVEN_ZIP_NAME = /\.(rar|r\d\d|7z|tar|tgz|gz|bz2|tbz2?|xz|txz|cab|lzh|lha|arj|ace|z|lz|lzma|lz4|zst|cpio|rpm|deb|dmg)$/i;

/**
 * Memory one listing may take in 7-Zip's linear memory: its own 16.25 MiB and the archive's
 * directory (a 7z of 400,000 empty files, 185 KB, takes 32 MiB in all). Asked for more, 7-Zip
 * aborts and the archive is recorded as not inspected.
 */
export const MAX_MEMORY = 32 * 1024 * 1024;

/**
 * Milliseconds 7-Zip may take to read the files out of one message's archives (opening a
 * crafted one — a RAR of 100,000 empty files, a 7z whose directory fills its memory — takes
 * 0.1-0.3 s, and cannot be interrupted): past them, the rest are not opened for their files
 * (still listed). Within the scan's 10 s budget with room for everything else.
 */
export const MAX_SEVEN_ZIP_MS = 200;

/** Entries of one archive looked at for files to read (as many as a message's listing takes by default). */
export const MAX_ENTRIES_READ = 1000;

/** Archives of a message 7-Zip lists, and as many it reads files out of (a fresh instance each; past them, recorded as not inspected or not read). */
export const MAX_SEVEN_ZIP_ARCHIVES = 5;

let compiled: Promise<WebAssembly.Module> | undefined;

/** 7-Zip's WebAssembly, compiled once per thread on first use. */
function sevenZipModule(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(readFileSync(require.resolve('7z-wasm/7zz.wasm')));
  return compiled;
}

/** Thrown from 7-Zip's output to end a listing (enough lines, or the scan ended). */
class Stop extends Error {}

interface Block {
  [field: string]: string;
}

interface Listing {
  /** The archive's own errors (`ERRORS:` in its block: "Unexpected end of archive", "Headers Error"). */
  errors: string[];
  entries: Block[];
}

/**
 * 7-Zip's technical listing (`l -slt`): the archive's block after a `--` line (its type, and
 * `ERRORS:` followed by what went wrong), then after `----------` one block of `Field =
 * value` lines per entry, blank lines between.
 */
function parseListing(lines: readonly string[]): Listing {
  const errors: string[] = [];
  const entries: Block[] = [];
  let part: 'head' | 'archive' | 'entries' = 'head';
  let inErrors = false;
  let cur: Block | null = null;
  for (const line of lines) {
    if (line === '--' && part === 'head') part = 'archive';
    else if (line === '----------' && part !== 'entries') part = 'entries';
    else if (part === 'archive') {
      if (line === 'ERRORS:') inErrors = true;
      else if (line.includes(' = ') || line === '') inErrors = false;
      else if (inErrors) errors.push(line);
    } else if (part === 'entries') {
      const eq = line.indexOf(' = ');
      if (eq < 0) {
        cur = null;
        continue;
      }
      cur ??= entries[entries.push({}) - 1];
      cur[line.slice(0, eq)] = line.slice(eq + 3);
    }
  }
  return { errors, entries };
}

/**
 * What a compressed file without a stored name (bzip2, xz, a gzip made without one) holds, as
 * 7-Zip and Windows name it on extracting: the archive's name less its suffix (`.tgz` is a `.tar`).
 */
function streamName(archive: string): string {
  const m = /^(.*)\.(t?)(gz|bz2?|xz|z)$/i.exec(archive);
  if (!m) return archive;
  return m[2] ? `${m[1]}.tar` : m[1];
}

/**
 * What an attachment without a name is called for 7-Zip: its files are shown under it, and the
 * scan reads and lists it under the same (the listing is kept by name, see `keptListing`).
 */
export const UNNAMED_ARCHIVE = 'the archive';

/** A name 7-Zip's file system takes: the attachment's last path part, safe characters only (a gzip without a stored name lists as this name less `.gz`). */
function fileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const safe = base.replace(/[^\w.\- ]/g, '_').slice(-100);
  return safe && safe !== '.' && safe !== '..' ? safe : 'archive';
}

/** Where the archive named `name` is written in 7-Zip's file system. */
function archivePath(name: string): string {
  return `/${fileName(name)}`;
}

/**
 * One 7-Zip instance over one archive (written to its in-memory file system as `path`): its
 * commands run one after another, each one's output kept in `out` (at most `maxLines` lines)
 * and `errors`; `written` counts the bytes it writes to files (extracting), at most
 * `maxWritten`. Past a bound, or once the scan has ended (`budget`'s signal), 7-Zip's next
 * write throws `Stop` out of it.
 */
class SevenZipSession {
  out: string[] = [];
  errors: string[] = [];
  /** Why the last command was stopped: 'entries' (lines), 'bytes' (written), 'aborted' (the scan ended). */
  stop: string | null = null;
  /** The last command ended in an exception of 7-Zip's (not a Stop). */
  failed = false;
  /** 7-Zip asked for more memory than it may have (it then aborts). */
  denied = false;
  maxLines = Infinity;
  written = 0;
  maxWritten = Infinity;
  private constructor(
    private readonly sz: Awaited<ReturnType<typeof SevenZip>>,
    readonly path: string,
    readonly maxMemory: number,
  ) {}

  static async open(buf: Buffer, name: string, budget: InflateBudget, maxMemory = MAX_MEMORY): Promise<SevenZipSession> {
    const mod = await sevenZipModule();
    let session: SevenZipSession | null = null;
    let memory: { buffer: ArrayBuffer } | null = null;
    const sz = await SevenZip({
      print: (line: string) => {
        if (!session) return;
        if (session.out.length >= session.maxLines) session.stop ??= 'entries';
        else if (budget.aborted) session.stop ??= 'aborted';
        else session.out.push(line);
      },
      printErr: (line: string) => {
        if (session && session.errors.length < 20) session.errors.push(line);
      },
      // No terminal to ask a password on: end of input.
      stdin: () => null as unknown as number,
      instantiateWasm(imports: Record<string, Record<string, unknown>>, done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) {
        const env = imports.env;
        const grow = env.emscripten_resize_heap as (size: number) => number;
        env.emscripten_resize_heap = (size: number): number => {
          if (size <= maxMemory) return grow(size);
          if (session) session.denied = true;
          return 0;
        };
        const write = env.fd_write as (fd: number, iov: number, iovcnt: number, pnum: number) => number;
        env.fd_write = (fd: number, iov: number, iovcnt: number, pnum: number): number => {
          if (session?.stop) throw new Stop(session.stop);
          if (session && fd > 2 && memory) {
            // A file being extracted: iovcnt (pointer, length) pairs.
            const view = new DataView(memory.buffer);
            for (let i = 0; i < iovcnt; i++) session.written += view.getUint32(iov + i * 8 + 4, true);
            if (session.written > session.maxWritten) {
              session.stop = 'bytes';
              throw new Stop(session.stop);
            }
            if (budget.aborted) {
              session.stop = 'aborted';
              throw new Stop(session.stop);
            }
          }
          return write(fd, iov, iovcnt, pnum);
        };
        void WebAssembly.instantiate(mod, imports).then((instance) => {
          memory = instance.exports.memory as { buffer: ArrayBuffer };
          done(instance, mod);
        });
        return {};
      },
    } as Parameters<typeof SevenZip>[0]);
    session = new SevenZipSession(sz, archivePath(name), maxMemory);
    sz.FS.writeFile(session.path, buf);
    return session;
  }

  /** Run one 7-Zip command (its arguments after the program name). */
  run(args: string[]): void {
    this.out = [];
    this.errors = [];
    this.stop = null;
    this.failed = false;
    // Emscripten's exit sets the thread's process.exitCode to 7-Zip's (2 for an archive it
    // cannot read): put back, or a test process or the Haraka process would exit with it.
    const exitCode = process.exitCode;
    try {
      this.sz.callMain(args);
    } catch (err) {
      // 7-Zip's own exceptions sometimes leave it as bare numbers (a 7z whose names are
      // encrypted, read with a wrong password, is one such case).
      if (!(err instanceof Stop)) this.failed = true;
    } finally {
      process.exitCode = exitCode;
    }
  }

  /** The technical listing of the archive (-p: a wrong password rather than a prompt; -bsp0: no progress lines). */
  list(): Listing {
    this.run(['l', '-slt', '-bsp0', '-pphishx', this.path]);
    return parseListing(this.out);
  }

  writeFile(path: string, data: string): void {
    this.sz.FS.writeFile(path, data);
  }

  /** A file 7-Zip wrote, null when there is none. */
  readFile(path: string): Buffer | null {
    try {
      return Buffer.from(this.sz.FS.readFile(path));
    } catch {
      return null;
    }
  }

  /** What went wrong with the last command: the archive's ERRORS and 7-Zip's error lines. */
  said(listing?: Listing): string {
    return [...(listing?.errors ?? []), ...this.errors.filter((l) => /ERROR|Can ?not|Can't/i.test(l))].join(' ');
  }
}

/** What one listing of an archive gave: the entries, how it ended, what 7-Zip said. */
interface Listed {
  /** The archive's name in 7-Zip's file system (a nameless gzip's entry is named after it). */
  path: string;
  /** Lines it was allowed to print, and memory 7-Zip was allowed. */
  maxLines: number;
  maxMemory: number;
  listing: Listing;
  stop: string | null;
  failed: boolean;
  denied: boolean;
  said: string;
}

/**
 * The listing `sevenZipFiles` made of an archive, by its bytes, for `listSevenZip` to list it
 * from: opening an archive is most of 7-Zip's cost (0.1-0.3 s for a crafted directory, an
 * instance of 2-10 ms for any), and the scan takes an archive's files out before it lists it.
 */
const listedBefore = new WeakMap<Buffer, Listed>();

/** List the archive of session `s` (at most `maxLines` lines), kept for `buf`. */
function listOnce(s: SevenZipSession, buf: Buffer, maxLines: number): Listed {
  s.maxLines = maxLines;
  const listing = s.list();
  const listed: Listed = { path: s.path, maxLines, maxMemory: s.maxMemory, listing, stop: s.stop, failed: s.failed, denied: s.denied, said: s.said(listing) };
  // Cut short by the scan's end, a listing says nothing of what a longer one would.
  if (listed.stop !== 'aborted') listedBefore.set(buf, listed);
  return listed;
}

/** The listing kept for `buf` under `name`, when it holds every line a listing of `maxLines` within `maxMemory` would. */
function keptListing(buf: Buffer, name: string, maxLines: number, maxMemory: number): Listed | null {
  const kept = listedBefore.get(buf);
  if (!kept || kept.path !== archivePath(name) || kept.maxMemory !== maxMemory) return null;
  return kept.stop === null || kept.maxLines >= maxLines ? kept : null;
}

/** Lines of 7-Zip's technical listing to read for `entries` entries: 10-25 each, a few more for the archive's own block. */
function listingLines(entries: number): number {
  return Math.max(0, entries) * 40 + 64;
}

/** An entry's path; a compressed file without a stored name (bzip2, xz …) is named after the archive `name`. */
function entryPath(e: Block, name: string): string {
  return e.Path ?? streamName(fileName(name));
}

/** The files an entry is (not a folder). */
function isFile(b: Block): boolean {
  return b.Folder !== '+' && !/^D/.test(b.Attributes ?? '');
}

/**
 * List `buf` (an attachment named `name`) with 7-Zip into `acc`: entries (counted against
 * `budget`), encrypted entries, an archive whose names are encrypted (one entry, `encrypted`),
 * `unreadable` when 7-Zip cannot open it; within `maxMemory` of 7-Zip's memory. Never throws.
 */
export async function listSevenZip(buf: Buffer, name: string, budget: InflateBudget, acc: ArchiveInfo, maxMemory = MAX_MEMORY): Promise<ArchiveInfo> {
  try {
    if (budget.aborted) {
      acc.uninspected ??= 'scan budget ended before the archive was read';
      return acc;
    }
    if (budget.entriesLeft <= 0) {
      // The message's other archives listed all it may list (ARCHIVE_LIMIT).
      acc.truncated = true;
      return acc;
    }
    const maxLines = listingLines(budget.entriesLeft);
    const s = keptListing(buf, name, maxLines, maxMemory) ?? listOnce(await SevenZipSession.open(buf, name, budget, maxMemory), buf, maxLines);
    const { listing, said } = s;
    const entries = listing.entries.filter(isFile);
    for (const e of entries) {
      if (budget.entriesLeft <= 0) {
        acc.truncated = true;
        break;
      }
      budget.entriesLeft--;
      acc.entries.push({
        name: entryPath(e, name),
        size: Number(e.Size) || 0,
        compressed: Number(e['Packed Size']) || 0,
        encrypted: e.Encrypted === '+',
        depth: 1,
      });
    }
    if (s.stop === 'entries') acc.truncated = true;
    if (s.stop === 'aborted') acc.uninspected ??= 'scan budget ended while the archive was listed';
    if (!entries.length && /encrypted archive|Wrong password/i.test(said)) {
      // Names encrypted too (rar -hp, 7z -mhe): nothing to list, and nothing to scan.
      acc.entries.push({ name: '(names encrypted)', size: 0, compressed: buf.length, encrypted: true, depth: 1 });
    } else if (!entries.length && /open the file as|not archive/i.test(said)) {
      acc.unreadable = true;
    } else if (s.denied || /Can't allocate|memory/i.test(said)) {
      acc.uninspected ??= `7-Zip needed more than ${Math.round(maxMemory / 1024 / 1024)} MiB to list it`;
    } else if (s.failed || said) {
      // Part of it listed, or nothing: what is not listed may hold the program.
      acc.uninspected ??= (
        entries.length ? `damaged after ${entries.length} entries${said ? `: ${said}` : ''}` : 'damaged, or its names are encrypted: 7-Zip could not list it'
      ).slice(0, 200);
    }
    acc.ratio = declaredRatio(acc.entries);
  } catch (err) {
    acc.uninspected ??= `archive listing failed: ${errorMessage(err)}`.slice(0, 200);
  } finally {
    acc.done = true;
  }
  return acc;
}

/**
 * The files of an archive 7-Zip reads that `wanted` ranks (by path: a number, lower first;
 * null: not wanted), as `zippedFiles` takes a zip's: each at most `maxBytes` (declared), at
 * most `maxFiles`, smallest first within a rank, within the message's `budget` — entries
 * looked at, and bytes 7-Zip decompresses to reach them: in a solid archive (7z blocks, solid
 * RAR) the files before a wanted one in its block are decompressed too, and count. `prefix`
 * (asked with a file's declared size) may answer how many of its first bytes to keep (the file
 * is `cut`). Encrypted entries are not read. Null when 7-Zip lists nothing in it (the listing
 * says why). Never throws.
 */
export async function sevenZipFiles(
  buf: Buffer,
  name: string,
  wanted: (path: string) => number | null,
  opts: { maxBytes: number; maxFiles: number; prefix?: (path: string, declared: number) => number | null },
  budget: InflateBudget,
): Promise<ZippedFiles | null> {
  try {
    if (budget.aborted || budget.entriesLeft <= 0)
      return { files: [], unread: budget.aborted ? 'the scan ended before it was read' : 'more entries than the message may list' };
    const s = await SevenZipSession.open(buf, name, budget);
    const looked = Math.min(MAX_ENTRIES_READ, budget.entriesLeft);
    const { listing, stop } = listOnce(s, buf, listingLines(looked));
    if (!listing.entries.length) return null;
    const unread: string[] = [];
    if (stop === 'entries') unread.push(`entries past the first ${looked} not looked at`);
    // Bytes decompressed to reach each entry: its own, and in a solid run those before it.
    const picked: Array<{ path: string; size: number; known: boolean; rank: number; cost: number }> = [];
    let key: string | null = null;
    let run = 0;
    for (const [i, e] of listing.entries.entries()) {
      if (budget.entriesLeft <= 0) break;
      budget.entriesLeft--;
      // Unknown for a bzip2 or xz stream (and some gzips): as large as a file may be.
      const known = e.Size !== undefined && e.Size !== '';
      const size = known ? Number(e.Size) || 0 : opts.maxBytes;
      // The solid run an entry is in: a 7z block, or a RAR's files since the last one not marked solid.
      let k: string | null = null;
      if (e.Block !== undefined && e.Block !== '') k = `7z ${e.Block}`;
      else if (e.Solid === '+' && key?.startsWith('rar')) k = key;
      else if (e.Solid !== undefined && e.Block === undefined) k = `rar ${i}`;
      run = k !== null && k === key ? run + size : size;
      key = k;
      if (!isFile(e) || e.Encrypted === '+') continue;
      const path = entryPath(e, name);
      const rank = wanted(path);
      if (rank !== null) picked.push({ path, size, known, rank, cost: run });
    }
    picked.sort((a, b) => a.rank - b.rank || a.size - b.size);
    const chosen: typeof picked = [];
    let bytes = 0;
    for (const [i, p] of picked.entries()) {
      if (chosen.length >= opts.maxFiles) {
        unread.push(`${picked.length - i} file(s) past the first ${opts.maxFiles}`);
        break;
      }
      if (p.size > opts.maxBytes) unread.push(`${p.path}: larger than ${opts.maxBytes} bytes`);
      else if (p.cost > budget.bytesLeft - bytes) unread.push(`${p.path}: past the message's ${budget.maxBytes} bytes to decompress`);
      else {
        chosen.push(p);
        bytes += p.cost;
      }
    }
    const files: ZippedFile[] = [];
    if (chosen.length) {
      s.writeFile('/wanted.txt', chosen.map((c) => c.path).join('\n'));
      // Bytes written: what was chosen, a little slack for sizes declared low; -spd: names are not wildcards.
      s.maxWritten = Math.min(budget.bytesLeft, chosen.reduce((a, c) => a + c.size, 0) + 65536);
      s.run(['x', '-o/out', '-y', '-spd', '-bsp0', '-pphishx', '-scsUTF-8', s.path, '@/wanted.txt']);
      budget.bytesLeft -= s.written;
      if (s.stop === 'bytes') unread.push('it holds more than its directory says');
      if (s.stop === 'aborted') unread.push('the scan ended while it was read');
      for (const c of chosen) {
        const data = s.readFile(`/out/${c.path}`);
        if (!data || (c.known ? data.length !== c.size : data.length > opts.maxBytes)) {
          unread.push(`${c.path}: unreadable`);
          continue;
        }
        const keep = opts.prefix?.(c.path, c.size) ?? null;
        if (keep === null) files.push({ name: c.path, bytes: data, cut: false });
        else files.push({ name: c.path, bytes: data.subarray(0, Math.max(0, keep)), cut: keep < data.length });
      }
    }
    return { files, unread: unread.length ? unread.join('; ').slice(0, 300) : null };
  } catch (err) {
    return { files: [], unread: `7-Zip failed: ${errorMessage(err)}`.slice(0, 300) };
  }
}
