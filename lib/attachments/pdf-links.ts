import { constants, inflateSync } from 'node:zlib';

/**
 * The web links of a PDF attachment: the `/URI` of its link annotations ("View document",
 * "Open invoice"), which a PDF reader makes clickable. A phishing PDF is usually a page with
 * one such button; 35 of the 39 PDF phish in the corpora carry their lure this way, and
 * their links (shorteners, cloud storage, fresh domains) get the URL analysis like any
 * other link.
 *
 * Not a PDF parser: annotations sit in the file as plain objects (PDF ≤ 1.4) or inside
 * compressed object streams (`/Type /ObjStm`, PDF 1.5+), so the raw bytes and the inflated
 * object streams are searched for `/URI (…)` and `/URI <…>`. Page contents, fonts and images
 * are never inflated. A full parser (pdf.js) would cost megabytes and its start-up per scan
 * thread, and phishing PDFs are often malformed; this reads what a reader would click, bounded:
 * at most `maxInflatedBytes` inflated over all streams (a failed stream counts 64 KB) and
 * `maxLinks` links; `inflatedBytes` says how much of it was used. Never throws. Pure.
 */
export function pdfLinks(
  pdf: Uint8Array,
  opts: { maxInflatedBytes: number; maxLinks: number },
): { links: string[]; inflatedBytes: number; cut: string | null } {
  const buf = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength);
  if (buf.subarray(0, 1024).indexOf('%PDF-') < 0) return { links: [], inflatedBytes: 0, cut: null };
  let cut: string | null = null;
  let escapedLeft = MAX_ESCAPED_NAMES;
  const out = new Set<string>();
  const take = (m: { value: string } | null): void => {
    const uri = m?.value.trim();
    if (uri && /^(?:https?:|ftp:|\/\/|www\.)/i.test(uri)) out.add(uri.slice(0, 4096));
  };
  // Searched as bytes: a PDF of a megabyte is not turned into a string of a megabyte (that
  // copy was an eighth of the scan of a message with such an attachment).
  const collect = (bytes: Buffer): void => {
    for (let at = bytes.indexOf('/URI'); at >= 0;) {
      if (out.size >= opts.maxLinks) return;
      const m = uriAt(bytes, at);
      if (!m) {
        at = bytes.indexOf('/URI', at + 1);
        continue;
      }
      take(m);
      at = bytes.indexOf('/URI', m.end);
    }
    // The key written with escapes (`/U#52I`, `/#55RI`: a reader decodes a name's #xx), which starts so.
    for (const start of ESCAPED_URI_STARTS)
      for (let at = bytes.indexOf(start); at >= 0; at = bytes.indexOf(start, at + 1)) {
        if (out.size >= opts.maxLinks) return;
        if (escapedLeft-- <= 0) {
          cut = `more than ${MAX_ESCAPED_NAMES} names written with escapes`;
          return;
        }
        const n = nameAt(bytes, at);
        if (n.name === 'URI') take(uriAt(bytes, at, n.end));
      }
  };
  collect(buf);
  let budget = opts.maxInflatedBytes;
  const read = (s: MarkedStream): void => {
    try {
      const inflated = inflateSync(buf.subarray(s.data, s.end), { maxOutputLength: budget, finishFlush: constants.Z_SYNC_FLUSH });
      budget -= inflated.length;
      collect(inflated);
    } catch {
      // Corrupt, not Flate, or over the budget: what was readable elsewhere still counts.
      budget -= 64 * 1024;
    }
  };
  // Object streams, found by their type (`/ObjStm`) within 600 bytes before the stream.
  const taken = new Set<number>();
  forEachMarkedStream(buf, '/ObjStm', 600, (s) => {
    if (budget <= 0 || out.size >= opts.maxLinks) return 'stop';
    if (!OBJECT_STREAM.test(buf.toString('latin1', Math.max(0, s.word - 16), s.word + 7))) return 'skipped';
    read(s);
    taken.add(s.keyword);
    return 'taken';
  });
  // And those whose dictionary writes its names with escapes (`/Obj#53tm`), each dictionary looked at once.
  const looked = forEachEscapedDictionary(buf, 600, (s, dict) => {
    if (budget <= 0 || out.size >= opts.maxLinks) return 'stop';
    if (!taken.has(s.keyword) && OBJECT_STREAM.test(dict)) read(s);
    return 'taken';
  });
  if (looked === 'cut') cut ??= `more than ${MAX_ESCAPED_DICTIONARIES} stream dictionaries near a '#'`;
  return { links: [...out], inflatedBytes: opts.maxInflatedBytes - Math.max(0, budget), cut };
}

const OBJECT_STREAM = /\/Type\s*\/ObjStm\b/;
/** How a name written with escapes that decodes to `URI` begins (the first or second letter escaped, or the third). */
const ESCAPED_URI_STARTS = ['/#55', '/U#', '/UR#'];
/**
 * Names that may be `/URI` written with escapes, and stream dictionaries near a `#`, looked
 * at per PDF at most (a real PDF has a handful; 20 MB of decoys cost ~1.6 s to decode): past
 * them the rest is not read and `cut` says so.
 */
const MAX_ESCAPED_NAMES = 100_000;
const MAX_ESCAPED_DICTIONARIES = 20_000;

/** 1 for the bytes that end a PDF name: white space and the delimiters ( ) < > [ ] { } / %. */
const NAME_END = new Uint8Array(256);
for (const b of [0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]) NAME_END[b] = 1;
const HEX_DIGIT = /^[0-9A-Fa-f]{2}$/;

/**
 * The PDF name whose `/` is at `at`, its `#xx` escapes decoded (since PDF 1.2 any character
 * of a name may be written so: `/U#52I` is `/URI` to every reader), and where it ends; at most
 * 127 bytes of it. Pure.
 */
export function nameAt(bytes: Buffer, at: number): { name: string; end: number } {
  const stop = Math.min(bytes.length, at + 128);
  let name = '';
  let i = at + 1;
  while (i < stop && !NAME_END[bytes[i]]) {
    const hex = bytes[i] === 0x23 ? bytes.toString('latin1', i + 1, i + 3) : '';
    if (HEX_DIGIT.test(hex)) {
      name += String.fromCharCode(parseInt(hex, 16));
      i += 3;
    } else name += String.fromCharCode(bytes[i++]);
  }
  return { name, end: i };
}

/** A name holding an escape, in a dictionary's text. */
const ESCAPED_NAME = /\/[^\s()<>[\]{}/%]*#[0-9A-Fa-f]{2}[^\s()<>[\]{}/%]*/g;

/** `text` (a dictionary) with the escapes of its names decoded (`/Obj#53tm` ─► `/ObjStm`). Pure. */
export function decodeNames(text: string): string {
  return text.replace(ESCAPED_NAME, (n) => n.replace(/#([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))));
}

/**
 * Visit the streams whose dictionary (the `reach` bytes before the `stream` keyword) writes a
 * name with escapes, with that text decoded: each stream once, in file order (a `#` is a
 * byte of binary data as often as an escape; the walk goes on past the keyword whatever
 * `visit` answers, unless it answers `stop`), at most MAX_ESCAPED_DICTIONARIES ('cut' past
 * them). For what the byte searches for `/ObjStm` and `/Image` do not see when a sender
 * escapes the names they look for.
 */
export function forEachEscapedDictionary(buf: Buffer, reach: number, visit: (s: MarkedStream, dict: string) => 'taken' | 'stop'): 'done' | 'cut' {
  let left = MAX_ESCAPED_DICTIONARIES;
  let cut = false;
  forEachMarkedStream(buf, '#', reach, (s) => {
    if (left-- <= 0) {
      cut = true;
      return 'stop';
    }
    // From the end of the stream before it, if that is nearer: a dictionary does not reach back past one.
    const from = Math.max(0, s.keyword - reach);
    const previous = buf.subarray(from, s.keyword).lastIndexOf('endstream');
    const raw = buf.toString('latin1', previous >= 0 ? from + previous + 9 : from, s.keyword);
    ESCAPED_NAME.lastIndex = 0;
    if (!ESCAPED_NAME.test(raw)) return 'taken';
    return visit(s, decodeNames(raw));
  });
  return cut ? 'cut' : 'done';
}

/** A stream of a PDF whose dictionary holds a marker word (`/ObjStm`, `/Image`). */
export interface MarkedStream {
  /** Where the marker word is. */
  word: number;
  /** Where the `stream` keyword is. */
  keyword: number;
  /** Where its data begins (after the keyword's end of line) and ends (before `endstream`, or the file's end). */
  data: number;
  end: number;
}

/**
 * Visit the streams whose dictionary holds `word` within `reach` bytes before the `stream`
 * keyword, in file order: each occurrence of the word with the first `stream` keyword after it,
 * when a dictionary's `>>` stands just before the keyword and an end of line (LF or CR LF)
 * just after it. `visit` says whether it took the stream (the search goes on past its
 * keyword), skipped it (on past the word), or that the walk is over. Linear however many
 * words, keywords or streams the file holds: the next keyword comes from a kept answer
 * (NextIndex), words out of reach of any stream are jumped, and nothing is copied before
 * the checks on the bytes pass.
 */
export function forEachMarkedStream(buf: Buffer, word: string, reach: number, visit: (s: MarkedStream) => 'taken' | 'skipped' | 'stop'): void {
  const streams = new NextIndex(buf, 'stream');
  const ends = new NextIndex(buf, 'endstream');
  for (let at = buf.indexOf(word); at >= 0; at = buf.indexOf(word, at + 1)) {
    const keyword = streams.after(at);
    if (keyword < 0) return;
    if (keyword - at > reach) {
      // None before keyword - reach is within reach of a stream either: search on from there (at
      // keyword - reach - 1 the same word was found again, for ever).
      at = keyword - reach - 1;
      continue;
    }
    if (!endsDictionary(buf, keyword)) continue;
    let data = keyword + 6;
    if (buf[data] === 0x0d) data++;
    if (buf[data] !== 0x0a) continue;
    data++;
    const end = ends.after(data);
    const answer = visit({ word: at, keyword, data, end: end < 0 ? buf.length : end });
    if (answer === 'stop') return;
    if (answer === 'taken') at = keyword;
  }
}

/**
 * The first occurrence of `needle` at or after a position, for positions asked in increasing
 * order: the last answer is kept while it still lies ahead, so a million `/ObjStm` before one
 * far `stream` cost one search, not a million (linear over the file, never quadratic).
 */
export class NextIndex {
  private found = -2;
  private from = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly needle: string,
  ) {}

  after(pos: number): number {
    // The kept answer is the first after `from`; for pos in [from, found] it is also the first after pos.
    if (this.found === -1 && pos >= this.from) return -1;
    if (this.found < pos || pos < this.from) {
      this.from = pos;
      this.found = this.buf.indexOf(this.needle, pos);
    }
    return this.found;
  }
}

/**
 * Whether a dictionary's `>>` (then white space only) stands just before the `stream` keyword
 * at `at`: read on the bytes, nothing copied — so that the keyword repeated millions of times
 * (or met inside `endstream` and binary data) costs no copy of the bytes before it each time.
 */
export function endsDictionary(buf: Buffer, at: number): boolean {
  let i = at - 1;
  while (i > 0 && at - i < 8 && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i--;
  return buf[i] === 0x3e && buf[i - 1] === 0x3e;
}

/** 1 for the bytes JavaScript's `\s` matches read as Latin-1 (tab, LF, VT, FF, CR, space, NBSP). */
const SPACE = new Uint8Array(256);
for (const b of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0]) SPACE[b] = 1;
/** 1 for a hex digit or a `\s` byte: what a PDF hex string may hold. */
const HEX_OR_SPACE = SPACE.slice();
for (const c of '0123456789ABCDEFabcdef') HEX_OR_SPACE[c.charCodeAt(0)] = 1;

/**
 * The string of the `/URI` at `at`: `/URI`, white space, then a literal string `( … )` of at
 * most 4,096 characters or escapes, or a hex string `< … >` of at most 8,192 digits and
 * spaces; `end` is just past it. Null when none stands there. `from`: where the key ends (it
 * may be written with escapes, `/U#52I`). What the regular expression
 * `/\/URI\s*(?:\(((?:\\[\s\S]|[^\\)]){0,4096})\)|<([0-9A-Fa-f\s]{0,8192})>)/` matches at
 * `at` (each part has one way to match, so a scan decides it). Pure.
 */
export function uriAt(bytes: Buffer, at: number, from = at + 4): { value: string; end: number } | null {
  let i = from;
  while (i < bytes.length && SPACE[bytes[i]]) i++;
  if (bytes[i] === 0x28) {
    const start = ++i;
    for (let units = 0; units < 4096 && i < bytes.length; units++) {
      const c = bytes[i];
      if (c === 0x29) break;
      if (c !== 0x5c) i++;
      else if (i + 1 < bytes.length) i += 2;
      else return null; // a backslash with nothing after it
    }
    return bytes[i] === 0x29 ? { value: literalString(bytes.toString('latin1', start, i)), end: i + 1 } : null;
  }
  if (bytes[i] === 0x3c) {
    const start = ++i;
    const stop = Math.min(bytes.length, start + 8192);
    while (i < stop && HEX_OR_SPACE[bytes[i]]) i++;
    return bytes[i] === 0x3e ? { value: hexString(bytes.toString('latin1', start, i)), end: i + 1 } : null;
  }
  return null;
}

/** A PDF literal string's bytes (escapes `\n \r \t \b \f \( \) \\`, octal `\ddd`, line continuations). */
function literalString(s: string): string {
  return s.replace(/\\(?:([0-7]{1,3})|(\r\n|\r|\n)|([\s\S]))/g, (_, oct: string | undefined, eol: string | undefined, c: string | undefined) => {
    if (oct !== undefined) return String.fromCharCode(parseInt(oct, 8) & 0xff);
    if (eol !== undefined) return '';
    return ({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' } as Record<string, string>)[c ?? ''] ?? c ?? '';
  });
}

/** A PDF hex string's bytes (an odd last digit counts as followed by 0). */
function hexString(s: string): string {
  const hex = s.replace(/\s+/g, '');
  let out = '';
  for (let i = 0; i < hex.length; i += 2) out += String.fromCharCode(parseInt(hex.slice(i, i + 2).padEnd(2, '0'), 16));
  return out;
}
