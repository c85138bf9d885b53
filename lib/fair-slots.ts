/**
 * Places shared fairly between senders: a counting semaphore whose waiters are served by
 * sender (a client network) rather than by arrival. When a place frees it goes to the waiting
 * sender that holds the fewest places, the longest-waiting message of that sender first; among
 * senders holding as many, the oldest waiter. One network sending costly messages over many
 * sessions then waits behind itself, not in front of everyone: a message from elsewhere gets
 * the next free place. With one sender, or all waiters equal, it is first come, first served.
 *
 * No library found for it: async-mutex's Semaphore (used here before), p-queue, p-limit and
 * async-sema serve in arrival or priority order, and bottleneck's Group gives each key a limiter
 * of its own, not a share of one pool. O(waiting senders) per hand-over.
 */

interface Waiter {
  key: string;
  seq: number;
  grant: (release: () => void) => void;
}

export class FairSlots {
  private free: number;
  private seq = 0;
  /** Places held per sender. */
  private readonly held = new Map<string, number>();
  /** Waiters per sender, oldest first; a sender with none has no entry. */
  private readonly waiters = new Map<string, Waiter[]>();
  private waitingCount = 0;

  /**
   * @param unclaimed called when a place given back is taken by no waiter (none waits): the
   *   scan pool lets a held-back DATA command go on for it.
   */
  constructor(
    readonly capacity: number,
    private readonly unclaimed?: () => void,
  ) {
    this.free = capacity;
  }

  /** Messages waiting for a place now, in all or of one sender. */
  waiting(key?: string): number {
    return key === undefined ? this.waitingCount : (this.waiters.get(key)?.length ?? 0);
  }

  /** Whether `acquire` would give a place at once. */
  freeNow(): boolean {
    return this.free > 0 && this.waitingCount === 0;
  }

  /** Places held now by `key`. */
  holding(key: string): number {
    return this.held.get(key) ?? 0;
  }

  /**
   * A place for `key`: at once while one is free, else when the fair order reaches it, else
   * rejected with `late()` after `timeoutMs`. The function it resolves with gives the place
   * back (idempotent).
   */
  acquire(key: string, timeoutMs: number, late: () => Error): Promise<() => void> {
    if (this.freeNow()) return Promise.resolve(this.take(key));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        key,
        seq: this.seq++,
        grant: (release) => {
          clearTimeout(timer);
          resolve(release);
        },
      };
      const timer = setTimeout(
        () => {
          this.drop(waiter);
          reject(late());
        },
        Math.max(1, Math.round(timeoutMs)),
      );
      const list = this.waiters.get(key);
      if (list) list.push(waiter);
      else this.waiters.set(key, [waiter]);
      this.waitingCount++;
      this.handOver(); // a place may be free with waiters only just timed out
    });
  }

  private take(key: string): () => void {
    this.free--;
    this.held.set(key, (this.held.get(key) ?? 0) + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.free++;
      const n = (this.held.get(key) ?? 1) - 1;
      if (n > 0) this.held.set(key, n);
      else this.held.delete(key);
      this.handOver();
      if (this.freeNow()) this.unclaimed?.();
    };
  }

  private drop(waiter: Waiter): void {
    const list = this.waiters.get(waiter.key);
    const i = list ? list.indexOf(waiter) : -1;
    if (!list || i < 0) return;
    list.splice(i, 1);
    if (!list.length) this.waiters.delete(waiter.key);
    this.waitingCount--;
  }

  /** Free places to waiters, fewest places held first, then oldest. */
  private handOver(): void {
    while (this.free > 0 && this.waitingCount > 0) {
      let best: Waiter | undefined;
      let bestHeld = Infinity;
      for (const [key, list] of this.waiters) {
        const h = this.held.get(key) ?? 0;
        if (h < bestHeld || (h === bestHeld && list[0].seq < best!.seq)) {
          best = list[0];
          bestHeld = h;
        }
      }
      this.drop(best!);
      best!.grant(this.take(best!.key));
    }
  }
}
