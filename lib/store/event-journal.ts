import { open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { appendLineDurable, writeFileDurable } from '../fs-durable.js';
import type { GroupStart, LogEvent, StoredEvent } from './types.js';

/** A process rotates its journal file past this size. */
const ROTATE_BYTES = 8 * 1024 * 1024;
/** A rotated file is removed once read to its end and untouched this long (late appends landed). */
const SETTLE_MS = 60_000;
/** Bytes read per call at most. */
const READ_CHUNK = 1024 * 1024;

/**
 * The embedded stores' event log: each writing process appends to its own file
 * `<dir>/<pid>.jsonl` (one fsync'd line per event; O_APPEND, so lines never interleave) and
 * rotates it to `<pid>-<time>.jsonl` past 8 MiB. One reader per directory and group (the
 * sidecar) keeps its byte offsets in `<dir>/.<group>.offsets.json` (written durably on
 * ack); a rotated file goes once every group has read it to the end. A group made with
 * start `new` begins at the current ends. Event ids are `<file>:<end offset>`.
 */
export class FileJournal {
  private appends = 0;

  constructor(private readonly dir: string) {}

  async append(event: LogEvent): Promise<void> {
    const file = path.join(this.dir, `${process.pid}.jsonl`);
    await appendLineDurable(file, JSON.stringify(event));
    if (++this.appends % 100 === 0) {
      const s = await stat(file).catch(() => null);
      if (s && s.size > ROTATE_BYTES) await rename(file, path.join(this.dir, `${process.pid}-${Date.now()}.jsonl`)).catch(() => undefined);
    }
  }

  private offsetsFile(group: string): string {
    return path.join(this.dir, `.${group.replace(/[^A-Za-z0-9_-]/g, '_')}.offsets.json`);
  }

  private async offsets(group: string, start: GroupStart = 'oldest', names: string[] = []): Promise<Record<string, number>> {
    try {
      return JSON.parse(await readFile(this.offsetsFile(group), 'utf8')) as Record<string, number>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return {};
      // A new group: recorded at once (files are removed only once every recorded group read
      // them), at the start or, with start `new`, at the current ends.
      const ends: Record<string, number> = {};
      if (start === 'new') for (const n of names) ends[n] = (await stat(path.join(this.dir, n)).catch(() => null))?.size ?? 0;
      await writeFileDurable(this.offsetsFile(group), JSON.stringify(ends)).catch(() => undefined);
      return ends;
    }
  }

  async read(group: string, max: number, start: GroupStart = 'oldest'): Promise<StoredEvent[]> {
    const names = (await readdir(this.dir).catch(() => [] as string[])).filter((n) => /^\d+(-\d+)?\.jsonl$/.test(n)).sort();
    const offsets = await this.offsets(group, start, names);
    const out: StoredEvent[] = [];
    for (const name of names) {
      if (out.length >= max) break;
      const file = path.join(this.dir, name);
      const fh = await open(file, 'r').catch(() => null);
      if (!fh) continue;
      try {
        const size = (await fh.stat()).size;
        let pos = offsets[name] ?? 0;
        if (pos >= size) {
          await this.maybeRemove(group, name, offsets);
          continue;
        }
        const buf = Buffer.alloc(Math.min(READ_CHUNK, size - pos));
        await fh.read(buf, 0, buf.length, pos);
        let start = 0;
        for (let nl = buf.indexOf(10); nl >= 0 && out.length < max; nl = buf.indexOf(10, start)) {
          const line = buf.subarray(start, nl).toString('utf8');
          start = nl + 1;
          try {
            out.push({ id: `${name}:${pos + start}`, event: JSON.parse(line) as LogEvent });
          } catch {
            /* a line torn by a crash: skipped (acking a later event moves past it) */
          }
        }
        pos += start;
      } finally {
        await fh.close();
      }
    }
    return out;
  }

  /**
   * Rotated files, and files of processes that are gone, go once every group has read them
   * to the end and they settled (and their offset with them).
   */
  private async maybeRemove(group: string, name: string, offsets: Record<string, number>): Promise<void> {
    if (!name.includes('-') && writerAlive(Number(name.slice(0, -'.jsonl'.length)))) return;
    const file = path.join(this.dir, name);
    const s = await stat(file).catch(() => null);
    if (!s || Date.now() - s.mtimeMs < SETTLE_MS || (offsets[name] ?? 0) < s.size) return;
    const others = (await readdir(this.dir).catch(() => [] as string[])).filter(
      (n) => /^\..+\.offsets\.json$/.test(n) && n !== path.basename(this.offsetsFile(group)),
    );
    for (const o of others) {
      const theirs: Record<string, number> = await readFile(path.join(this.dir, o), 'utf8')
        .then((t) => JSON.parse(t) as Record<string, number>)
        .catch(() => ({}));
      if ((theirs[name] ?? 0) < s.size) return;
    }
    await unlink(file).catch(() => undefined);
    delete offsets[name];
    await writeFileDurable(this.offsetsFile(group), JSON.stringify(offsets));
  }

  async ack(group: string, ids: string[]): Promise<void> {
    if (!ids.length) return;
    const offsets = await this.offsets(group);
    for (const id of ids) {
      const i = id.lastIndexOf(':');
      const name = id.slice(0, i);
      const end = Number(id.slice(i + 1));
      if (Number.isFinite(end) && end > (offsets[name] ?? 0)) offsets[name] = end;
    }
    await writeFileDurable(this.offsetsFile(group), JSON.stringify(offsets));
  }
}

/** Whether the process that writes `<pid>.jsonl` still runs (a file of a gone one is complete). */
function writerAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The memory store's event log: an array and an offset per group. */
export class MemoryJournal {
  private readonly events: LogEvent[] = [];
  private base = 0;
  private readonly acked = new Map<string, number>();

  async append(event: LogEvent): Promise<void> {
    this.events.push(structuredClone(event));
    if (this.events.length > 100_000) {
      this.events.splice(0, 10_000);
      this.base += 10_000;
    }
  }

  async read(group: string, max: number, start: GroupStart = 'oldest'): Promise<StoredEvent[]> {
    if (start === 'new' && !this.acked.has(group)) this.acked.set(group, this.base + this.events.length);
    const from = Math.max(this.acked.get(group) ?? 0, this.base);
    return this.events.slice(from - this.base, from - this.base + max).map((event, i) => ({ id: String(from + i + 1), event: structuredClone(event) }));
  }

  async ack(group: string, ids: string[]): Promise<void> {
    const top = Math.max(this.acked.get(group) ?? 0, ...ids.map(Number).filter(Number.isFinite));
    this.acked.set(group, top);
  }
}
