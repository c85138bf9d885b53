import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { PhishXError } from '../errors.js';
import type { Store } from '../store/types.js';
import { parseFeedLine } from './normalize.js';
import { describeFeedFormat, detectFeedFormat, feedValues, type FeedFormat } from './feed-format.js';

/**
 * Largest feed file the embedded stores load. Each Haraka process (and the sidecar) keeps every
 * entry of `feed_dir` in memory — about 120 bytes of heap per URL — under the 384 MiB heap
 * `npm start` gives Haraka: 32 MiB is about 550,000 URLs and 65 MiB of heap per process (a
 * 118 MB feed of 2,000,000 URLs ran such a process out of memory). Larger feeds go into Redis,
 * which looks entries up instead of holding them.
 */
export const MAX_FEED_FILE_BYTES = 32 * 1024 * 1024;

/** A parsed export: canonical entries, how many candidates were not one, the format it was read as ("CSV, column "url""). */
export interface ParsedFeed {
  urls: string[];
  domains: string[];
  skipped: number;
  format: string;
  kind: FeedFormat['kind'];
}

/**
 * Parse a feed export — one URL or domain per line, a CSV export with a `url` column
 * (PhishTank, URLhaus) or a JSON list (feed-format.ts) — into canonical entries, sorted.
 * `columns`: the column (JSON field) names to take entries from instead of url, domain, hostname, host.
 */
export function parseFeed(text: string, columns?: readonly string[]): ParsedFeed {
  const format = detectFeedFormat(text, columns);
  const feed = new FeedParse(format);
  for (const batch of feedValues(text, format)) for (const v of batch) feed.add(v);
  return feed.result();
}

/**
 * parseFeed, giving the event loop a turn every few thousand entries, entries in file order (not
 * sorted: sorting 500,000 URLs holds the loop ~0.3 s) — Haraka keeps answering while a large feed loads.
 */
export async function parseFeedInTurns(text: string): Promise<ParsedFeed> {
  const format = detectFeedFormat(text);
  const feed = new FeedParse(format);
  for (const batch of feedValues(text, format)) {
    for (const v of batch) feed.add(v);
    await nextTurn();
  }
  return feed.result(false);
}

class FeedParse {
  private readonly urls = new Set<string>();
  private readonly domains = new Set<string>();
  private skipped = 0;

  /** Candidates are whole CSV / JSON fields, not lines an entry starts. */
  private readonly whole: boolean;

  constructor(private readonly format: FeedFormat) {
    this.whole = format.kind !== 'lines';
  }

  /** One candidate: a line, a CSV field, a JSON element (null: a row or element without one). */
  add(value: string | null): void {
    const t = value?.trim();
    if (t === '' || t?.startsWith('#') || t?.startsWith(';')) return;
    const e = t === undefined ? null : parseFeedLine(t, this.whole);
    if (!e) this.skipped++;
    else if (e.kind === 'url') this.urls.add(e.value);
    else this.domains.add(e.value);
  }

  result(sorted = true): ParsedFeed {
    const urls = [...this.urls];
    const domains = [...this.domains];
    return {
      urls: sorted ? urls.sort() : urls,
      domains: sorted ? domains.sort() : domains,
      skipped: this.skipped,
      format: describeFeedFormat(this.format),
      kind: this.format.kind,
    };
  }
}

/** Why a feed file of `bytes` cannot be held in memory (PHISHX_FEED_TOO_LARGE), or null. */
export function feedTooLarge(file: string, bytes: number): PhishXError | null {
  if (bytes <= MAX_FEED_FILE_BYTES) return null;
  return new PhishXError(
    'PHISHX_FEED_TOO_LARGE',
    `feed ${file} is ${(bytes / 2 ** 20).toFixed(1)} MiB, over the ${MAX_FEED_FILE_BYTES / 2 ** 20} MiB a feed may take without Redis ` +
      '(every Haraka process holds each entry in memory): split it into several files, or import it into Redis ([redis] url)',
  );
}

/** Feed name from a file name: `openphish.txt` ─► `openphish`. */
export function feedName(file: string): string {
  return (
    path
      .basename(file)
      .replace(/\.[a-z0-9]+$/i, '')
      .replace(/[^a-zA-Z0-9_.-]/g, '_') || 'feed'
  );
}

/**
 * Load every `*.txt` in `dir` into the store as feeds, skipping files unchanged since the
 * last call (`seen`: file ─► mtime). Used for the in-memory store; a missing dir is no feeds.
 * A file that cannot be loaded is reported to `onError` and skipped (a feed loaded from it
 * before stays) while the others load: one over MAX_FEED_FILE_BYTES once per change of the
 * file, an unreadable one at every call until it reads.
 */
export async function syncFeedDir(store: Store, dir: string, seen: Map<string, number> = new Map(), onError?: (err: unknown) => void): Promise<number> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.txt'));
  } catch {
    return 0;
  }
  let loaded = 0;
  for (const f of files) {
    const full = path.join(dir, f);
    try {
      const st = await stat(full);
      if (seen.get(full) === st.mtimeMs) continue;
      const big = feedTooLarge(full, st.size);
      if (big) {
        seen.set(full, st.mtimeMs); // said once per change of the file, not every minute
        throw big;
      }
      const { urls, domains } = await parseFeedInTurns(await readFile(full, 'utf8'));
      await store.replaceFeed(feedName(f), { urls, domains }, st.mtimeMs);
      seen.set(full, st.mtimeMs);
      loaded++;
    } catch (err) {
      onError?.(err);
    }
  }
  return loaded;
}
