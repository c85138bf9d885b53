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
 * feed, so that `phishx feeds import` takes effect within seconds; only a changed file is read.
 */
export const FEED_DIR_SYNC_MS = 10_000;

/**
 * The reputation sources for one process: imported feeds in the store (with the in-memory
 * stores, `[reputation] feed_dir` is loaded now and re-read every `syncMs`), and Safe
 * Browsing when PHISHX_SAFE_BROWSING_KEY is set.
 */
export async function createReputation(
  store: Store,
  config: PhishXConfig,
  env: NodeJS.ProcessEnv = process.env,
  syncMs = FEED_DIR_SYNC_MS,
  onError?: (err: unknown) => void,
): Promise<Reputation> {
  const sources: ReputationSource[] = [feedReputation(store)];
  let timer: NodeJS.Timeout | undefined;
  if (store.kind !== 'redis') {
    const seen = new Map<string, number>();
    await syncFeedDir(store, config.reputation.feed_dir, seen, onError);
    timer = setInterval(() => void syncFeedDir(store, config.reputation.feed_dir, seen, onError).catch((err: unknown) => onError?.(err)), syncMs);
    timer.unref();
  }
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
      if (timer) clearInterval(timer);
      await sb?.close();
      await expander?.close();
    },
  };
}
