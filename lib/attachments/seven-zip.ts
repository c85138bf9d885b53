import { readFileSync } from 'node:fs';
import SevenZip from '7z-wasm';
import { errorMessage } from '../errors.js';
import type { ArchiveInfo, InflateBudget } from './archive.js';

/**
 * Archives of the formats other than zip that mail brings (RAR, 7z, tar, gzip, bzip2, xz,
 * cab, lzh, arj, ISO images), listed by 7-Zip itself: 7z-wasm, 7-Zip 24.09 compiled to
 * WebAssembly. Its code runs inside its own linear memory, with an in-memory file system
 * and no access to the disk; each archive gets a fresh instance (the compiled module is
 * kept), so nothing of one message's archive is left for the next. Bounds: the instance's
 * memory (`MAX_MEMORY`: an allocation past it fails, 7-Zip reports the archive unreadable),
 * the lines of listing read (entries of the message's budget) and the scan's abort signal,
 * checked at every line 7-Zip writes. Only the first level is listed: an archive inside is
 * named, not opened.
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
]);

/** Names of such archives, for content `file-type` does not recognise (it is then listed if 7-Zip can read it). */
export const SEVEN_ZIP_NAME = /\.(rar|r\d\d|7z|tar|tgz|gz|bz2|tbz2?|xz|txz|cab|lzh|lha|arj)$/i;

/**
 * Memory one listing may take in 7-Zip's linear memory: its own 16.25 MiB and the archive's
 * directory (a 7z of 400,000 empty files, 185 KB, takes 32 MiB in all). Asked for more, 7-Zip
 * aborts and the archive is recorded as not inspected.
 */
export const MAX_MEMORY = 32 * 1024 * 1024;

/** Archives a message may have listed by 7-Zip (each listing is a fresh instance; the rest are recorded as not inspected). */
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

/** A name 7-Zip's file system takes: the attachment's last path part, safe characters only (a gzip without a stored name lists as this name less `.gz`). */
function fileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const safe = base.replace(/[^\w.\- ]/g, '_').slice(-100);
  return safe && safe !== '.' && safe !== '..' ? safe : 'archive';
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
    const mod = await sevenZipModule();
    const out: string[] = [];
    const errors: string[] = [];
    let stop: string | null = null;
    // 7-Zip asked for more memory than it may have (it then aborts).
    let denied = false;
    // Every entry writes 10-25 lines; a few more for the archive's own block.
    const maxLines = Math.max(0, budget.entriesLeft) * 40 + 64;
    const sz = await SevenZip({
      print: (line: string) => {
        if (out.length >= maxLines) stop ??= 'entries';
        else if (budget.aborted) stop ??= 'aborted';
        else out.push(line);
      },
      printErr: (line: string) => {
        if (errors.length < 20) errors.push(line);
      },
      // No terminal to ask a password on: end of input.
      stdin: () => null as unknown as number,
      instantiateWasm(imports: Record<string, Record<string, unknown>>, done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) {
        const env = imports.env;
        const grow = env.emscripten_resize_heap as (size: number) => number;
        env.emscripten_resize_heap = (size: number): number => {
          if (size <= maxMemory) return grow(size);
          denied = true;
          return 0;
        };
        const write = env.fd_write as (...args: number[]) => number;
        env.fd_write = (...args: number[]): number => {
          if (stop) throw new Stop(stop);
          return write(...args);
        };
        void WebAssembly.instantiate(mod, imports).then((instance) => done(instance, mod));
        return {};
      },
    } as Parameters<typeof SevenZip>[0]);
    const path = `/${fileName(name)}`;
    sz.FS.writeFile(path, buf);
    let failed = false;
    // Emscripten's exit sets the thread's process.exitCode to 7-Zip's (2 for an archive it
    // cannot read): put back, or a test process or the Haraka process would exit with it.
    const exitCode = process.exitCode;
    try {
      // -p: a wrong password rather than a prompt; -bsp0: no progress lines.
      sz.callMain(['l', '-slt', '-bsp0', '-pphishx', path]);
    } catch (err) {
      // 7-Zip's own exceptions sometimes leave it as bare numbers (a 7z whose names are
      // encrypted, read with a wrong password, is one such case).
      if (!(err instanceof Stop)) failed = true;
    } finally {
      process.exitCode = exitCode;
    }
    const listing = parseListing(out);
    const entries = listing.entries.filter((b) => b.Folder !== '+' && !/^D/.test(b.Attributes ?? ''));
    for (const e of entries) {
      if (budget.entriesLeft <= 0) {
        acc.truncated = true;
        break;
      }
      budget.entriesLeft--;
      acc.entries.push({
        name: e.Path ?? streamName(fileName(name)),
        size: Number(e.Size) || 0,
        compressed: Number(e['Packed Size']) || 0,
        encrypted: e.Encrypted === '+',
        depth: 1,
      });
    }
    if (stop === 'entries') acc.truncated = true;
    if (stop === 'aborted') acc.uninspected ??= 'scan budget ended while the archive was listed';
    const said = [...listing.errors, ...errors.filter((l) => /ERROR|Can ?not|Can't/i.test(l))].join(' ');
    if (!entries.length && /encrypted archive|Wrong password/i.test(said)) {
      // Names encrypted too (rar -hp, 7z -mhe): nothing to list, and nothing to scan.
      acc.entries.push({ name: '(names encrypted)', size: 0, compressed: buf.length, encrypted: true, depth: 1 });
    } else if (!entries.length && /open the file as|not archive/i.test(said)) {
      acc.unreadable = true;
    } else if (denied || /Can't allocate|memory/i.test(said)) {
      acc.uninspected ??= `7-Zip needed more than ${Math.round(maxMemory / 1024 / 1024)} MiB to list it`;
    } else if (failed || said) {
      // Part of it listed, or nothing: what is not listed may hold the program.
      acc.uninspected ??= (
        entries.length ? `damaged after ${entries.length} entries${said ? `: ${said}` : ''}` : 'damaged, or its names are encrypted: 7-Zip could not list it'
      ).slice(0, 200);
    }
    const size = acc.entries.reduce((a, x) => a + x.size, 0);
    const comp = acc.entries.reduce((a, x) => a + x.compressed, 0);
    acc.ratio = comp > 0 ? size / comp : 0;
  } catch (err) {
    acc.uninspected ??= `archive listing failed: ${errorMessage(err)}`.slice(0, 200);
  } finally {
    acc.done = true;
  }
  return acc;
}
