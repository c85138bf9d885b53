import { watch, type FSWatcher } from 'node:fs';
import type { PhishXConfig } from '../config/types.js';
import type { Store } from '../store/types.js';
import { syncFeedDir } from './feed-dir.js';
import { SafeBrowsing } from './safe-browsing.js';
import { feedReputation, type ReputationSource } from './sources.js';
import { UrlExpander } from './expand.js';

export type { ReputationSource } from './sources.js';

export interface Reputation {
  sources: ReputationSource[];
  /** Present when `[urls] expand_shorteners` is on. */
  expander?: UrlExpander;
  close(): Promise<void>;
}

/**
 * How often `[reputation] feed_dir` is looked at for changed files: a `readdir` and a `stat` per
 * feed; only a changed file is read. Besides, the folder is watched (`fs.watch`: inotify on
 * Linux), so that `phishx feeds import` and a SOC block take effect at once; the poll is for
 * what a watch misses (network file systems, a folder created later).
 */
export const FEED_DIR_SYNC_MS = 10_000;
/** A burst of changes (a feed written, then renamed into place) is read once, this long after its last event. */
export const FEED_DIR_SETTLE_MS = 100;

/**
 * Keep `dir`'s feeds in `store`: read now, then on every change seen by a watch (settled) and
 * every `syncMs`. One sync at a time; a change during one makes one more after it.
 */
async function followFeedDir(store: Store, dir: string, syncMs: number, onError?: (err: unknown) => void): Promise<() => void> {
  const seen = new Map<string, number>();
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const sync = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = syncFeedDir(store, dir, seen, onError)
      .then(
        () => undefined,
        (err: unknown) => onError?.(err),
      )
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          sync();
        }
      });
  };
  await syncFeedDir(store, dir, seen, onError);
  const timer = setInterval(sync, syncMs);
  timer.unref();
  let settle: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { persistent: false }, () => {
      clearTimeout(settle);
      settle = setTimeout(sync, FEED_DIR_SETTLE_MS);
      settle.unref();
    });
    watcher.on('error', () => watcher?.close()); // the folder went away: the poll goes on
  } catch {
    // No folder yet, or no watch here: the poll alone.
  }
  return () => {
    stopped = true; // a sync under way finishes; none starts after
    clearInterval(timer);
    clearTimeout(settle);
    watcher?.close();
  };
}

/**
 * The reputation sources for one process: imported feeds in the store (with the in-memory
 * stores, `[reputation] feed_dir` is loaded now and followed: re-read when it changes and every
 * `syncMs`), and Safe Browsing when PHISHX_SAFE_BROWSING_KEY is set.
 */
export async function createReputation(
  store: Store,
  config: PhishXConfig,
  env: NodeJS.ProcessEnv = process.env,
  syncMs = FEED_DIR_SYNC_MS,
  onError?: (err: unknown) => void,
): Promise<Reputation> {
  const sources: ReputationSource[] = [feedReputation(store)];
  const stopFollowing = store.kind !== 'redis' ? await followFeedDir(store, config.reputation.feed_dir, syncMs, onError) : undefined;
  const key = env.PHISHX_SAFE_BROWSING_KEY;
  const sb = key ? new SafeBrowsing(config.reputation, key, Date.now, config['breaker.reputation']) : null;
  if (sb) sources.push(sb);
  const expander = config.urls.expand_shorteners
    ? new UrlExpander({ maxHops: config.urls.expand_max_hops, timeoutMs: config.urls.expand_timeout_ms })
    : undefined;
  return {
    sources,
    ...(expander ? { expander } : {}),
    close: async () => {
      stopFollowing?.();
      await sb?.close();
      await expander?.close();
    },
  };
}
