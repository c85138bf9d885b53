/**
 * The one polling helper of the test suite: run `check` until it stops throwing (an
 * assertion inside it) and return its value, or rethrow its last error after `timeoutMs`.
 * Generous default: on a busy 2-core machine things take longer; only the outcome is tested.
 */
export async function eventually<T>(check: () => T | Promise<T>, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const intervalMs = opts.intervalMs ?? 50;
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() >= until) throw err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
