import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * postal-mime renders the text of a message part that has HTML but no plain text with its
 * `htmlToText` (text-format.js), and PhishX reads that text (links, the text model). Its
 * regexes were made linear in postal-mime 4.0.0 except one: links, `<a\b[^>]*href\s*=\s*
 * ["']?([^\s"']+)[^>]*>`, whose `([^\s"']+)` can run past the tag's `>`. After `<a href="`
 * a run without white space or quotes (a style sheet, base64, newlines already turned into
 * U+0001) is taken whole, and the engine gives it back one character at a time, each time
 * scanning `[^>]*` to the end of the input for a `>` that is not there, until it reaches the
 * last `>` inside the run: quadratic. The message fuzzer (seed 1071121732) built an 800 KB
 * message whose HTML part does this: 33 s in one regex, in the scan thread, at every retry.
 *
 * The match must end on a `>`, so it can never reach past the input's last `>`: running the
 * same sticky regex on the input cut there (a V8 sliced string, no copy) gives the same
 * matches, and the scan back stops at once. That is the one change; the rest is postal-mime
 * 4.0.0's code as it is (MIT, Andris Reinman), ported to TypeScript, so the text is the same
 * (a unit test holds the two equal on the HTML of the repository's fixtures and on random tag
 * soup).
 *
 * `useHtmlToTextFix()` installs it only while postal-mime's text-format.js is the file this
 * was written against (SHA-256 of its bytes): an upgrade that changes the file keeps its own
 * code, and `htmlToTextFixed()` turns false, which a unit test notices.
 */

const TEXT_FORMAT_SHA256 = '3a8f7748ba71e4757579d094a59274032384ff7f2c18d06a4923f684b65da4f0';

interface TextFormatModule {
  htmlToText: (html: string) => string;
  decodeHTMLEntities: (str: string) => string;
}

type Finder = (pos: number) => RegExpExecArray | null;

const LINE_TERMINATOR = /[\n\r\u2028\u2029]/g;

function lastLineTerminator(str: string): number {
  return Math.max(str.lastIndexOf('\n'), str.lastIndexOf('\r'), str.lastIndexOf('\u2028'), str.lastIndexOf('\u2029'));
}

function createFinder(str: string, regex: RegExp): Finder {
  let searchedFrom = Infinity;
  let found: RegExpExecArray | null = null;
  return (pos) => {
    if (pos < searchedFrom || (found && pos > found.index)) {
      regex.lastIndex = pos;
      found = regex.exec(str);
      searchedFrom = pos;
    }
    return found;
  };
}

function replaceClosedTags(str: string, pattern: RegExp, replacement: string): string {
  const end = str.lastIndexOf('>') + 1;
  return str.slice(0, end).replace(pattern, replacement) + str.slice(end);
}

/**
 * postal-mime's replaceTags; a pattern whose match ends on a `>` (`endsOnGt`, the links') is
 * run on the input up to its last `>` (the fix). `<li>`'s runs on into the white space after it.
 */
function replaceTags(str: string, prefix: RegExp, pattern: RegExp, endsOnGt: boolean, replacement: (...groups: string[]) => string): string {
  const parts: string[] = [];
  const closed = endsOnGt ? str.slice(0, str.lastIndexOf('>') + 1) : str;
  let copied = 0;
  let searchFrom = 0;
  for (;;) {
    prefix.lastIndex = searchFrom;
    const candidate = prefix.exec(str);
    if (!candidate) break;
    const start = candidate.index;
    pattern.lastIndex = start;
    const match = pattern.exec(closed);
    if (!match) {
      const gt = str.indexOf('>', start);
      if (gt < 0) break;
      searchFrom = gt + 1;
      continue;
    }
    parts.push(str.slice(copied, start), replacement(...match));
    copied = searchFrom = start + match[0].length;
  }
  parts.push(str.slice(copied));
  return parts.join('');
}

function replaceBlocks(str: string, open: RegExp, openToGt: boolean, close: RegExp, closeToGt: boolean, replacement: string): string {
  const nextGt = createFinder(str, />/g);
  const nextClose = createFinder(str, close);
  const nextLineEnd = createFinder(str, LINE_TERMINATOR);
  const parts: string[] = [];
  let copied = 0;
  let searchFrom = 0;
  for (;;) {
    open.lastIndex = searchFrom;
    const opener = open.exec(str);
    if (!opener) break;
    const start = opener.index;
    searchFrom = start + 1;
    let from = start + opener[0].length;
    if (openToGt) {
      const gt = nextGt(from);
      if (!gt) break;
      from = gt.index + 1;
    }
    const closer = nextClose(from);
    if (!closer) break;
    const lineEnd = nextLineEnd(from);
    if (lineEnd && lineEnd.index < closer.index) continue;
    let end = closer.index + closer[0].length;
    if (closeToGt) {
      const gt = nextGt(end);
      if (!gt) break;
      end = gt.index + 1;
    }
    parts.push(str.slice(copied, start), replacement);
    copied = searchFrom = end;
  }
  parts.push(str.slice(copied));
  return parts.join('');
}

function stripThroughLastTag(str: string, prefix: RegExp): string {
  const lineEnd = str.search(LINE_TERMINATOR);
  const limit = Math.min(lineEnd < 0 ? str.length : lineEnd, str.lastIndexOf('>'));
  let last = -1;
  prefix.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = prefix.exec(str)) && match.index < limit) last = match.index;
  return last < 0 ? str : str.slice(str.indexOf('>', last) + 1);
}

function stripFromFirstTag(str: string, prefix: RegExp): string {
  const lineEnd = lastLineTerminator(str);
  prefix.lastIndex = lineEnd < 0 ? 0 : str.lastIndexOf('>', lineEnd) + 1;
  const match = prefix.exec(str);
  return match && match.index < str.lastIndexOf('>') ? str.slice(0, match.index) : str;
}

/** postal-mime 4.0.0's htmlToText with the fix above; `decodeHTMLEntities` is postal-mime's own. */
export function htmlToTextWith(decodeHTMLEntities: (s: string) => string): (html: string) => string {
  return (input) => {
    let str = input.replace(/\r?\n/g, '\u0001');
    str = replaceBlocks(str, /<!--/g, false, /-->/g, false, ' ');
    str = replaceClosedTags(str, /<br\b[^>]*>/gi, '\n');
    str = replaceClosedTags(str, /<\/?(p|div|table|tr|td|th)\b[^>]*>/gi, '\n\n');
    str = replaceBlocks(str, /<script\b/gi, true, /<\/script\b/gi, true, ' ');
    str = stripThroughLastTag(str, /<body\b/gi);
    str = stripThroughLastTag(str, /<\/head\b/gi);
    str = stripThroughLastTag(str, /<!doctype\b/gi);
    str = stripFromFirstTag(str, /<\/body\b/gi);
    str = stripFromFirstTag(str, /<\/html\b/gi);
    str = replaceTags(str, /<a\b/gi, /<a\b[^>]*href\s*=\s*["']?([^\s"']+)[^>]*>/iy, true, (_match, href) => ` (${href}) `);
    str = replaceClosedTags(str, /<\/?(span|em|i|strong|b|u|a)\b[^>]*>/gi, '');
    // eslint-disable-next-line no-control-regex -- U+0001 stands for a line break here, as in postal-mime
    str = replaceTags(str, /<li\b/gi, /<li\b[^>]*>[\n\u0001\s]*/iy, false, () => '* ');
    str = replaceClosedTags(str, /<hr\b[^>]*>/g, '\n-------------\n');
    str = replaceClosedTags(str, /<[^>]*>/g, ' ');
    str = str
      // eslint-disable-next-line no-control-regex -- the line breaks put back
      .replace(/\u0001/g, '\n')
      .replace(/[ \t]+/g, ' ')
      .replace(/^\s+$/gm, '')
      .replace(/\n\n+/g, '\n\n')
      .replace(/^\n+/, '\n')
      .replace(/\n+$/, '\n');
    return decodeHTMLEntities(str);
  };
}

let installed: boolean | null = null;

/** postal-mime's text-format module (the instance its parser calls), when its file is the known one. */
export function knownTextFormat(): TextFormatModule | null {
  try {
    const file = path.join(path.dirname(require.resolve('postal-mime')), 'text-format.js');
    if (createHash('sha256').update(readFileSync(file)).digest('hex') !== TEXT_FORMAT_SHA256) return null;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as TextFormatModule;
  } catch {
    return null;
  }
}

/** Give postal-mime the fixed `htmlToText` (once per process); true when it was installed. */
export function useHtmlToTextFix(): boolean {
  if (installed !== null) return installed;
  const mod = knownTextFormat();
  installed = false;
  if (!mod || typeof mod.decodeHTMLEntities !== 'function') return installed;
  mod.htmlToText = htmlToTextWith(mod.decodeHTMLEntities);
  installed = true;
  return installed;
}

/** Whether `useHtmlToTextFix` installed the fix (false before it ran). */
export function htmlToTextFixed(): boolean {
  return installed === true;
}
