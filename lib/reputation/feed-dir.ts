import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Store } from '../store/types.js';
import { parseFeedLine } from './normalize.js';

/** Parse a feed export (one URL or domain per line, # comments) into canonical entries. */
export function parseFeed(text: string): { urls: string[]; domains: string[]; skipped: number } {
  const urls = new Set<string>();
  const domains = new Set<string>();
  let skipped = 0;
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (!t || t.startsWith('#') || t.startsWith(';')) continue;
    const e = parseFeedLine(t);
    if (!e) skipped++;
    else if (e.kind === 'url') urls.add(e.value);
    else domains.add(e.value);
  }
  return { urls: [...urls].sort(), domains: [...domains].sort(), skipped };
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
 */
export async function syncFeedDir(store: Store, dir: string, seen: Map<string, number> = new Map()): Promise<number> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.txt'));
  } catch {
    return 0;
  }
  let loaded = 0;
  for (const f of files) {
    const full = path.join(dir, f);
    const m = (await stat(full)).mtimeMs;
    if (seen.get(full) === m) continue;
    const { urls, domains } = parseFeed(await readFile(full, 'utf8'));
    await store.replaceFeed(feedName(f), { urls, domains });
    seen.set(full, m);
    loaded++;
  }
  return loaded;
}
