import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileDurable } from '../fs-durable.js';
import type { FeedbackRecord } from './types.js';

const ID_RE = /^[0-9A-Za-z_-]{1,128}$/;

/**
 * Reports with a copy of their message, for the embedded stores: in memory, or with a
 * directory as `<dir>/<id>.eml` + `<id>.json` (durable; the message first). Kept until
 * exported and removed by hand: they are training data, not quarantine.
 */
export class FeedbackShelf {
  private readonly mem = new Map<string, { record: FeedbackRecord; raw: Buffer }>();

  constructor(private readonly dir: string | null) {}

  async put(record: FeedbackRecord, raw: Buffer): Promise<void> {
    if (!ID_RE.test(record.id)) throw new Error(`not a quarantine id: ${JSON.stringify(record.id.slice(0, 40))}`);
    if (!this.dir) {
      this.mem.set(record.id, { record: structuredClone(record), raw: Buffer.from(raw) });
      return;
    }
    await writeFileDurable(path.join(this.dir, `${record.id}.eml`), raw);
    await writeFileDurable(path.join(this.dir, `${record.id}.json`), JSON.stringify(record));
  }

  async list(): Promise<FeedbackRecord[]> {
    if (!this.dir) return [...this.mem.values()].map((v) => structuredClone(v.record)).sort((a, b) => a.at - b.at);
    const names = (await readdir(this.dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
    const out: FeedbackRecord[] = [];
    for (const n of names) {
      try {
        out.push(JSON.parse(await readFile(path.join(this.dir, n), 'utf8')) as FeedbackRecord);
      } catch {
        /* torn: skipped */
      }
    }
    return out.sort((a, b) => a.at - b.at);
  }

  async raw(id: string): Promise<Buffer | null> {
    if (!ID_RE.test(id)) return null;
    if (!this.dir) return this.mem.get(id)?.raw ?? null;
    return readFile(path.join(this.dir, `${id}.eml`)).catch(() => null);
  }
}
