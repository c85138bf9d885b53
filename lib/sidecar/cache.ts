import { processMetrics } from '../metrics/catalog.js';
/**
 * A value computed by an async check and reused for `ttlMs`, so a flood of probes costs one
 * check. Concurrent callers share one computation. With `staleFactor` > 1, a value older
 * than the TTL but younger than `staleFactor × ttl` is answered at once while a refresh
 * runs in the background (probes stay fast); older ones (or none) are awaited. A failing
 * check rejects only its own callers and is retried next time.
 */
export class CachedCheck<T> {
  private value: { v: T; at: number } | null = null;
  private inFlight: Promise<T> | null = null;

  constructor(
    private readonly check: () => Promise<T>,
    private readonly ttlMs: () => number,
    private readonly staleFactor = 1,
    private readonly now: () => number = () => performance.now(),
    /** Counted in `phishx_cache_lookups_total{cache=…}` when given. */
    private readonly metricName?: string,
  ) {}

  /** The value; `staleFactor` (default: the constructor's) lets this caller accept an older one. */
  get(staleFactor = this.staleFactor): Promise<T> {
    const ttl = this.ttlMs();
    const age = this.value ? this.now() - this.value.at : Infinity;
    const hit = this.value !== null && age < ttl * staleFactor;
    if (this.metricName) processMetrics.cacheLookups.inc({ cache: this.metricName, result: hit ? 'hit' : 'miss' });
    if (this.value && age < ttl) return Promise.resolve(this.value.v);
    const refresh = this.refresh();
    if (this.value && age < ttl * staleFactor) {
      refresh.catch(() => undefined);
      return Promise.resolve(this.value.v);
    }
    return refresh;
  }

  private refresh(): Promise<T> {
    this.inFlight ??= this.check()
      .then((v) => {
        this.value = { v, at: this.now() };
        if (this.metricName) processMetrics.cacheEntries.set({ cache: this.metricName }, 1);
        return v;
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }
}
