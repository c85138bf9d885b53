import type { PhishXConfig } from '../config/types.js';
import { parseHostPort } from '../config/values.js';
import { FileStore } from './file.js';
import { RedisStore } from './redis.js';
import type { Store } from './types.js';

export type { Store, QuarantineEntry, HeldMessage } from './types.js';

/** Redis when `[redis] url` (or PHISHX_REDIS_URL) is set, else the durable file store in `[quarantine] spool_dir`. */
export function createStore(config: Pick<PhishXConfig, 'redis' | 'quarantine' | 'breaker.redis'>): Store {
  if (config.redis.url)
    return new RedisStore({
      url: config.redis.url,
      keyPrefix: config.redis.key_prefix,
      breaker: config['breaker.redis'],
      ...(config.redis.cluster_nodes.length ? { clusterNodes: config.redis.cluster_nodes.map((h) => parseHostPort(h)!) } : {}),
      ...(config.redis.sentinels.length ? { sentinels: config.redis.sentinels.map((h) => parseHostPort(h)!), sentinelName: config.redis.sentinel_name } : {}),
    });
  return new FileStore(config.quarantine.spool_dir, { maxEntries: config.quarantine.max_entries, maxBytes: config.quarantine.max_disk_bytes });
}
