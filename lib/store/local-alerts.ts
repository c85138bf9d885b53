import { unlink } from 'node:fs/promises';
import { Mutex } from 'async-mutex';
import path from 'node:path';
import { writeFileDurable } from '../fs-durable.js';
import { alertPage } from './alert-query.js';
import { readJsonDir } from './json-dir.js';
import type { AlertQuery, SocAlert } from './types.js';

/**
 * SOC alerts of the embedded stores: in this process's memory, and with a directory, each
 * alert also on disk (`<dir>/<id>.json`, durable) and loaded on first use. One writer per
 * directory: the sidecar (the one thread or cluster master of the Haraka instance) folds
 * events into alerts and serves their actions.
 */
export class AlertTable {
  private readonly alerts = new Map<string, SocAlert>();
  private readonly keys = new Map<string, { id: string; until: number }>();
  /** Alerts changed in memory, not yet on disk (put with `defer`). */
  private readonly dirty = new Set<string>();
  /**
   * Puts and flushes one at a time: a compare-and-set and its disk write are one step (the
   * alert folder and a SOC action changing one alert at once: one wins, the other retries),
   * and a flush never renames an older version over a newer one.
   */
  private readonly writes = new Mutex();
  private loaded: Promise<void> | null = null;

  constructor(
    private readonly dir: string | null,
    private readonly now: () => number = Date.now,
  ) {}

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      if (!this.dir) return;
      for (const a of await readJsonDir<SocAlert>(this.dir, /^[0-9A-Za-z_-]+\.json$/)) {
        this.alerts.set(a.id, a);
        if (a.status !== 'resolved') for (const k of a.keys) this.keys.set(k, { id: a.id, until: a.keyUntil });
      }
    })();
    return this.loaded;
  }

  private async purge(): Promise<void> {
    const t = this.now();
    for (const [id, a] of this.alerts) {
      if (a.purgeAt > t) continue;
      this.alerts.delete(id);
      if (this.dir) await unlink(path.join(this.dir, `${id}.json`)).catch(() => undefined);
    }
  }

  async get(id: string): Promise<SocAlert | null> {
    await this.load();
    const a = this.alerts.get(id);
    return a && a.purgeAt > this.now() ? structuredClone(a) : null;
  }

  /** Compare-and-set in memory; on disk now, or with `defer` at the next flush(). */
  async put(alert: SocAlert, defer = false): Promise<boolean> {
    await this.load();
    return this.writes.runExclusive(async () => {
      const cur = this.alerts.get(alert.id);
      if ((cur?.version ?? 0) !== alert.version - 1) return false;
      if (this.dir && defer) this.dirty.add(alert.id);
      else if (this.dir) {
        await writeFileDurable(path.join(this.dir, `${alert.id}.json`), JSON.stringify(alert));
        this.dirty.delete(alert.id); // this version is newer than any deferred one
      }
      this.alerts.set(alert.id, structuredClone(alert));
      return true;
    });
  }

  /** Write every alert put with `defer` since the last flush, as it is now, in parallel; resolves once all are durable. */
  flush(): Promise<void> {
    return this.writes.runExclusive(() => this.flushNow());
  }

  private async flushNow(): Promise<void> {
    if (!this.dir || !this.dirty.size) return;
    const ids = [...this.dirty];
    this.dirty.clear();
    const dir = this.dir;
    const results = await Promise.allSettled(
      ids.map(async (id) => {
        const a = this.alerts.get(id);
        if (a) await writeFileDurable(path.join(dir, `${id}.json`), JSON.stringify(a));
      }),
    );
    const failed = ids.filter((_, i) => results[i].status === 'rejected');
    if (failed.length) {
      for (const id of failed) this.dirty.add(id); // written at the next flush
      throw (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
    }
  }

  async list(q: AlertQuery = {}): Promise<{ items: SocAlert[]; nextCursor: string | null }> {
    await this.load();
    await this.purge();
    return alertPage([...this.alerts.values()], q);
  }

  async forKey(key: string): Promise<string | null> {
    await this.load();
    const k = this.keys.get(key);
    return k && k.until > this.now() ? k.id : null;
  }

  async link(key: string, id: string, until: number): Promise<string> {
    await this.load();
    const k = this.keys.get(key);
    if (k && k.until > this.now() && k.id !== id) return k.id;
    this.keys.set(key, { id, until: Math.max(until, k?.id === id ? k.until : 0) });
    return id;
  }

  async unlink(keys: string[], id: string): Promise<void> {
    await this.load();
    for (const key of keys) if (this.keys.get(key)?.id === id) this.keys.delete(key);
  }
}
