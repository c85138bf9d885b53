import { readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { createFileDurable, writeFileDurable } from '../fs-durable.js';
import { readJsonDir } from './json-dir.js';
import { DELIVERY_KEEP, DELIVERY_KEEP_MS, deliveryOrder, deliveryPage } from './delivery-query.js';
import type { DeliveryQuery, DeliveryRecord, KeyRing } from './types.js';

const SAFE = (id: string): string => id.replace(/[^0-9A-Za-z_.-]/g, '_');

/**
 * Webhook delivery records of the embedded stores: in memory, and with a directory each
 * record also on disk (`<dir>/<id>.json`, durable), loaded on first use. One writer per
 * directory: the sidecar's dispatcher (and its API for redeliveries).
 */
export class DeliveryTable {
  private readonly records = new Map<string, DeliveryRecord>();
  private loaded: Promise<void> | null = null;

  constructor(
    private readonly dir: string | null,
    private readonly now: () => number = Date.now,
  ) {}

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      if (!this.dir) return;
      for (const d of await readJsonDir<DeliveryRecord>(this.dir)) this.records.set(d.id, d);
    })();
    return this.loaded;
  }

  async put(record: DeliveryRecord): Promise<void> {
    await this.load();
    if (this.dir) await writeFileDurable(path.join(this.dir, `${SAFE(record.id)}.json`), JSON.stringify(record));
    this.records.set(record.id, structuredClone(record));
    if (this.records.size > DELIVERY_KEEP * 1.1) await this.trim();
  }

  private async trim(): Promise<void> {
    const t = this.now();
    const sorted = [...this.records.values()].sort(deliveryOrder);
    for (const [i, d] of sorted.entries()) {
      if (i < DELIVERY_KEEP && d.updatedAt > t - DELIVERY_KEEP_MS) continue;
      this.records.delete(d.id);
      if (this.dir) await unlink(path.join(this.dir, `${SAFE(d.id)}.json`)).catch(() => undefined);
    }
  }

  async get(id: string): Promise<DeliveryRecord | null> {
    await this.load();
    const d = this.records.get(id);
    return d ? structuredClone(d) : null;
  }

  async list(q: DeliveryQuery = {}): Promise<{ items: DeliveryRecord[]; nextCursor: string | null }> {
    await this.load();
    await this.trim();
    return deliveryPage([...this.records.values()], q);
  }
}

/**
 * The signing key ring of the embedded stores. With a directory: `<dir>/keys.<version>.json`
 * (mode 0600), each version created once by a hard link (compare-and-set across the CLI and
 * the sidecar); the highest version is the ring, older ones are removed.
 */
export class KeyRingFile {
  private ring: KeyRing = { version: 0, keys: [] };

  constructor(private readonly dir: string | null) {}

  async get(): Promise<KeyRing> {
    if (!this.dir) return structuredClone(this.ring);
    const versions = (await readdir(this.dir).catch(() => [] as string[]))
      .map((n) => /^keys\.(\d{1,9})\.json$/.exec(n)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number)
      .sort((a, b) => b - a);
    for (const v of versions) {
      try {
        return JSON.parse(await readFile(path.join(this.dir, `keys.${v}.json`), 'utf8')) as KeyRing;
      } catch {
        /* unreadable: the one before */
      }
    }
    return { version: 0, keys: [] };
  }

  async put(ring: KeyRing): Promise<boolean> {
    if (!this.dir) {
      if (this.ring.version !== ring.version - 1) return false;
      this.ring = structuredClone(ring);
      return true;
    }
    if ((await this.get()).version !== ring.version - 1) return false;
    if (!(await createFileDurable(path.join(this.dir, `keys.${ring.version}.json`), JSON.stringify(ring)))) return false;
    // Older versions go (they may hold the secret of a key retired now).
    for (let v = ring.version - 1; v >= Math.max(1, ring.version - 20); v--) await unlink(path.join(this.dir, `keys.${v}.json`)).catch(() => undefined);
    return true;
  }
}

/**
 * Small shared documents of the embedded stores (alert silences and states): in memory, and
 * with a directory each also in `<dir>/<name>.json` (durable), read on first use. One writer
 * per directory: the sidecar.
 */
export class DocTable {
  private readonly docs = new Map<string, { version: number; value: unknown }>();

  constructor(private readonly dir: string | null) {}

  async get<T>(name: string): Promise<{ version: number; value: T | null }> {
    let d = this.docs.get(name);
    if (!d && this.dir) {
      d = await readFile(path.join(this.dir, `${SAFE(name)}.json`), 'utf8')
        .then((t) => JSON.parse(t) as { version: number; value: unknown })
        .catch(() => undefined);
      if (d) this.docs.set(name, d);
    }
    return d ? { version: d.version, value: structuredClone(d.value) as T } : { version: 0, value: null };
  }

  async put<T>(name: string, version: number, value: T): Promise<boolean> {
    if ((await this.get(name)).version !== version - 1) return false;
    if (this.dir) await writeFileDurable(path.join(this.dir, `${SAFE(name)}.json`), JSON.stringify({ version, value }));
    this.docs.set(name, { version, value: structuredClone(value) });
    return true;
  }
}
