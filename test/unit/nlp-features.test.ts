import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { replaceEmails, tokenize } from '../../lib/nlp/features.js';

describe('text features', () => {
  it('folds addresses exactly as /\\S+@\\S+\\.\\w+/g did (the trained models depend on it), on 20,000 random strings', () => {
    const unit = fc.constantFrom('a', 'b', 'x', '1', '_', '-', 'é', '@', '@', '.', '.', ' ', '\u00a0', '\n');
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), (s) => s.replace(/\S+@\S+\.\w+/g, ' xemailx ') === replaceEmails(s)),
      { seed: 20261201, numRuns: 20_000 },
    );
    assert.equal(replaceEmails('mail jane.doe@example.co.uk, or a@b.c!'), 'mail  xemailx , or  xemailx !');
  });

  it('tokenizes a 12,000-character run of "@" and "." in linear time (the address regex backtracked cubically)', () => {
    const run = 'ä@ä.'.repeat(3000);
    const t0 = performance.now();
    tokenize(`subject\n${run}`);
    // Cubic, this took minutes; linear, milliseconds. The bound only separates the two.
    assert.ok(performance.now() - t0 < 2000, `took ${Math.round(performance.now() - t0)} ms`);
  });
});
