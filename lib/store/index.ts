import type { PhishXConfig } from '../config/types.js';
import { MemoryStore } from './memory.js';
import { RedisStore } from './redis.js';
import type { Store } from './types.js';

export type { Store, QuarantineEntry, HeldMessage } from './types.js';

/** Redis when `[redis] url` (or PHISHX_REDIS_URL) is set, else in-memory. */
export function createStore(config: Pick<PhishXConfig, 'redis' | 'quarantine' | 'breaker.redis'>): Store {
  if (config.redis.url) return new RedisStore({ url: config.redis.url, keyPrefix: config.redis.key_prefix, breaker: config['breaker.redis'] });
  return new MemoryStore(config.quarantine.memory_max_bytes);
}
