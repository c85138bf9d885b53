import type { Next } from './types.js';

export interface GuardedNext {
  (code?: number, msg?: unknown): void;
  readonly called: boolean;
}

/**
 * Wrap Haraka's `next` so it runs exactly once (later calls are reported, not executed)
 * and, when `deadlineMs` is given, so that a hook that never finishes answers anyway via
 * `onDeadline` before Haraka's own plugin timeout would answer `DENYSOFT plugin timeout`.
 */
export function nextOnce(
  next: Next,
  opts: { deadlineMs?: number; onDeadline?: (n: GuardedNext) => void; onSecondCall?: (code?: number) => void } = {},
): GuardedNext {
  let called = false;
  let timer: NodeJS.Timeout | undefined;
  const guarded = ((code?: number, msg?: unknown) => {
    if (called) {
      opts.onSecondCall?.(code);
      return;
    }
    called = true;
    if (timer) clearTimeout(timer);
    next(code, msg);
  }) as GuardedNext;
  Object.defineProperty(guarded, 'called', { get: () => called });
  if (opts.deadlineMs !== undefined && opts.onDeadline) {
    const onDeadline = opts.onDeadline;
    timer = setTimeout(() => {
      if (!called) onDeadline(guarded);
    }, opts.deadlineMs);
    timer.unref();
  }
  return guarded;
}
