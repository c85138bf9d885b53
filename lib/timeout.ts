/**
 * p-timeout without its per-call stack trace. p-timeout builds its TimeoutError (with
 * `Error.captureStackTrace`) when it is called, not when the timeout fires, so that the
 * error points at the caller. The scan path calls it two to four times per message and
 * almost never times out: the stack captures were 3 % of the SMTP thread's CPU under load
 * (`--cpu-prof`, docs/benchmarks.md). Here the error is made with no frames; a timeout is
 * still a `TimeoutError` with p-timeout's message (the callers report it by code, never by
 * stack).
 */
import pTimeout, { TimeoutError, type Options } from 'p-timeout';

export { TimeoutError };

/** Whether `Error.stackTraceLimit` may be set (not under `--frozen-intrinsics`). */
const CAN_MUTE = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')?.writable === true;

/**
 * `make()` with V8's stack capture off: for an error built in advance on a hot path that is
 * almost never thrown (its code says what happened; its stack would only say who asked).
 */
export function withoutStack<T>(make: () => T): T {
  if (!CAN_MUTE) return make();
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** `pTimeout(promise, options)`, without the stack capture of its TimeoutError. */
export function withTimeout<T>(promise: PromiseLike<T>, options: Options<T>): Promise<T> {
  // pTimeout makes its error synchronously, in the Promise executor: only it sees the 0.
  return withoutStack(() => pTimeout(promise, options));
}
