import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import PostalMime from 'postal-mime';
import { htmlToTextFixed, htmlToTextWith, knownTextFormat, useHtmlToTextFix } from '../../lib/message/html-to-text.js';
import '../../lib/message/extract.js'; // installs the fix as a scan does
import { REPO } from '../helpers/haraka.js';

type TextFormat = { htmlToText: (s: string) => string; decodeHTMLEntities: (s: string) => string };

/** postal-mime's own text-format module, loaded fresh (the one its parser uses has the fixed htmlToText). */
function originalTextFormat(): TextFormat {
  const file = path.join(path.dirname(require.resolve('postal-mime')), 'text-format.js');
  const patched = require.cache[file];
  delete require.cache[file];
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as TextFormat;
  } finally {
    require.cache[file] = patched;
  }
}

const original = originalTextFormat();
const fixed = htmlToTextWith(original.decodeHTMLEntities);

/**
 * HTML of every text/html part of the repository's test fixtures (mail of every kind the tests
 * send), but the one postal-mime's own function takes ~30 s on (the third test's case).
 */
async function fixtureHtml(): Promise<string[]> {
  const out: string[] = [];
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  for (const f of walk(path.join(REPO, 'test', 'fixtures')).filter((x) => x.endsWith('.eml') && !x.endsWith('html-to-text-backtracking.eml'))) {
    const parsed = await PostalMime.parse(readFileSync(f));
    if (parsed.html) out.push(parsed.html);
  }
  return out;
}

describe("postal-mime's htmlToText with linear link matching", () => {
  it('is installed while text-format.js is the known file (an upgrade that changes it fails here: re-check the fix, update the hash)', () => {
    assert.ok(knownTextFormat(), "postal-mime's text-format.js changed");
    assert.equal(useHtmlToTextFix(), true);
    assert.equal(htmlToTextFixed(), true);
    assert.notEqual(knownTextFormat()!.htmlToText, original.htmlToText, "the parser's module has the fixed function");
  });

  it('gives the text postal-mime gives on the fixtures and on random tag soup', async () => {
    const pages = await fixtureHtml();
    assert.ok(pages.length >= 5, `${pages.length} HTML parts`);
    for (const html of pages) assert.equal(fixed(html), original.htmlToText(html));
    const token = fc.constantFrom(
      '<a ',
      '<A\tclass=x ',
      'href=',
      'HREF = ',
      '"',
      "'",
      '>',
      '<',
      ' ',
      '\n',
      '\r\n',
      '\u2028',
      'x',
      'http://e.example/p?q=1',
      '<li>',
      '<br>',
      '</a>',
      '<!--',
      '-->',
      '<script>',
      '</script>',
      '<body>',
      '</body>',
      '</html>',
      '<p>',
      '&amp;',
      '&#x41;',
      '.a{color:#fff}',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), (parts) => {
        const html = parts.join('');
        assert.equal(fixed(html), original.htmlToText(html), JSON.stringify(html));
      }),
      { seed: 7, numRuns: 3000 },
    );
  });

  it('renders a link whose unquoted run has no `>` after it at once (postal-mime: quadratic, 33 s for 200 KB)', () => {
    const html = `<a href="\n<style>${'.a{color:#fff}'.repeat(14_500)}\n`;
    const t0 = performance.now();
    const text = fixed(html);
    const ms = performance.now() - t0;
    assert.ok(text.startsWith(' (\n<style) '), JSON.stringify(text.slice(0, 40)));
    // The real-time bound is this fix's promise; postal-mime's own takes about 30 s here.
    assert.ok(ms < 3000, `${Math.round(ms)} ms`);
    // The same answer as postal-mime's on a piece it renders in reasonable time.
    const small = `<a href="\n<style>${'.a{color:#fff}'.repeat(300)}\n`;
    assert.equal(fixed(small), original.htmlToText(small));
  });
});
