/**
 * Per-client token buckets: each client may make `burst` requests at once and `perSecond`
 * on average. Pure apart from the clock passed in. The table is bounded: idle clients
 * (bucket full again) are dropped first, and at `maxClients` the oldest entry goes, so a
 * flood of source addresses cannot grow memory.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxClients = 10_000,
  ) {}

  get enabled(): boolean {
    return this.perSecond > 0;
  }

  /** Take one request for `client` at time `nowMs`: allowed, or the seconds to wait. */
  take(client: string, nowMs: number): { ok: true } | { ok: false; retryAfterS: number } {
    if (!this.enabled) return { ok: true };
    let b = this.buckets.get(client);
    if (b) {
      b.tokens = Math.min(this.burst, b.tokens + ((nowMs - b.at) / 1000) * this.perSecond);
      b.at = nowMs;
      this.buckets.delete(client); // re-insert: Map order is least recently used first
    } else {
      b = { tokens: this.burst, at: nowMs };
      if (this.buckets.size >= this.maxClients) this.evict(nowMs);
    }
    this.buckets.set(client, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private lastSweep = 0;

  private evict(nowMs: number): void {
    if (nowMs - this.lastSweep >= 1000) {
      this.lastSweep = nowMs;
      for (const [k, v] of this.buckets) {
        if (v.tokens + ((nowMs - v.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(k);
      }
    }
    while (this.buckets.size >= this.maxClients) this.buckets.delete(this.buckets.keys().next().value!);
  }
}
