import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimeoutError, withTimeout, withoutStack } from '../../lib/timeout.js';
import { PhishXError } from '../../lib/errors.js';

describe('withTimeout (p-timeout without the eager stack trace)', () => {
  it('passes the value or the rejection through and leaves Error.stackTraceLimit as it was', async () => {
    const before = Error.stackTraceLimit;
    assert.equal(await withTimeout(Promise.resolve(42), { milliseconds: 1000 }), 42);
    await assert.rejects(withTimeout(Promise.reject(new RangeError('boom')), { milliseconds: 1000 }), RangeError);
    // p-timeout's own argument check rejects inside the executor; the limit is restored all the same.
    await assert.rejects(withTimeout(Promise.resolve(1), { milliseconds: -1 }), TypeError);
    assert.equal(Error.stackTraceLimit, before);
    assert.match(new Error('after').stack ?? '', /\n\s+at /, 'ordinary errors keep their frames');
  });

  it('times out with a TimeoutError and p-timeout message, made without stack frames', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const never = new Promise<number>(() => undefined);
    const plain = withTimeout(never, { milliseconds: 250 });
    const custom = withTimeout(never, { milliseconds: 100, message: 'clamd: no answer within 100 ms' });
    t.mock.timers.tick(100);
    await assert.rejects(custom, (e: unknown) => {
      assert.ok(e instanceof TimeoutError);
      assert.equal(e.message, 'clamd: no answer within 100 ms');
      return true;
    });
    t.mock.timers.tick(150);
    await assert.rejects(plain, (e: unknown) => {
      assert.ok(e instanceof TimeoutError);
      assert.equal(e.message, 'Promise timed out after 250 milliseconds');
      assert.doesNotMatch(e.stack ?? '', /\n\s+at /, 'no frames captured');
      return true;
    });
  });

  it('does not time out a promise that settles first', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let settle!: (v: string) => void;
    const p = withTimeout(new Promise<string>((r) => (settle = r)), { milliseconds: 500 });
    t.mock.timers.tick(499);
    settle('in time');
    assert.equal(await p, 'in time');
  });

  it('withoutStack builds an error without frames, returns what it built, and restores the limit even when building throws', () => {
    const before = Error.stackTraceLimit;
    const e = withoutStack(() => new PhishXError('PHISHX_BUDGET_EXCEEDED', 'no scan thread free within 5 ms'));
    assert.equal(e.code, 'PHISHX_BUDGET_EXCEEDED');
    assert.equal(e.message, 'no scan thread free within 5 ms');
    assert.doesNotMatch(e.stack ?? '', /\n\s+at /, 'no frames captured');
    assert.throws(
      () =>
        withoutStack(() => {
          throw new RangeError('in make');
        }),
      RangeError,
    );
    assert.equal(Error.stackTraceLimit, before);
    assert.match(new Error('after').stack ?? '', /\n\s+at /, 'ordinary errors keep their frames');
  });
});
