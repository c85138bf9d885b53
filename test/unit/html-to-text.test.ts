import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';

/**
 * postal-mime renders the text of a part that has HTML but no plain text with its own
 * `htmlToText`. Before postal-mime 4.0.7 its link regex backtracked quadratically on an
 * unquoted run after `href=` with no `>` after it: the message fuzzer built an 800 KB message
 * (test/fixtures/fuzz/html-to-text-backtracking.eml, scanned within budget by
 * fuzz-fixtures.test) that held the scan thread 33 s, and PhishX carried a fixed copy of the
 * function. postal-mime now cuts the link pass at the last `>` itself, so the copy is gone;
 * this holds postal-mime's own function to it.
 */
describe("postal-mime's htmlToText stays linear on a link with no closing '>'", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { htmlToText } = require(path.join(path.dirname(require.resolve('postal-mime')), 'text-format.js')) as { htmlToText: (html: string) => string };

  it('renders a 200 KB unquoted link run at once (postal-mime before 4.0.7: quadratic, 33 s)', () => {
    const html = `<p>visit www.example.com/pay now</p><a href="\n<style>${'.a{color:#fff}'.repeat(14_500)}\n`;
    const t0 = performance.now();
    const text = htmlToText(html);
    const ms = performance.now() - t0;
    // The real-time bound is the promise here (~5 ms measured); the quadratic version took about 30 s.
    assert.ok(ms < 3000, `${Math.round(ms)} ms`);
    assert.ok(text.trimStart().startsWith('visit www.example.com/pay now'), JSON.stringify(text.slice(0, 40)));
  });
});
