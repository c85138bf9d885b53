import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forEachInSlices } from '../../lib/sliced.js';

/** Busy for `ms` (a synchronous read that takes that long). */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('forEachInSlices', () => {
  it('runs every item once, in order, and nothing for none', async () => {
    const seen: number[] = [];
    await forEachInSlices(
      Array.from({ length: 10_000 }, (_, i) => i),
      (i) => seen.push(i),
    );
    assert.deepEqual(
      seen,
      Array.from({ length: 10_000 }, (_, i) => i),
    );
    let calls = 0;
    await forEachInSlices([], () => calls++);
    assert.equal(calls, 0);
  });

  it('gives the event loop a turn between slices, never holding it much past a slice', async () => {
    // 200 items of 1 ms in slices of 3 ms: other work (a timer, a request) runs in between.
    const turns: number[] = [];
    let done = 0;
    let longest = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      turns.push(done);
    }, 0);
    try {
      await forEachInSlices(
        Array.from({ length: 200 }, (_, i) => i),
        () => {
          busy(1);
          done++;
        },
        3,
      );
    } finally {
      clearInterval(tick);
    }
    assert.equal(done, 200);
    const during = turns.filter((n) => n > 0 && n < 200);
    assert.ok(during.length >= 20, `the loop ran ${during.length} times while items were being read`);
    // Each slice: its 3 ms plus the item that overran it (1 ms) — all 200 at once would be 200 ms; a busy machine adds its share.
    assert.ok(longest < 100, `the event loop waited ${longest.toFixed(1)} ms`);
  });
});
