/**
 * postal-mime joins the decoded chunks of every MIME part with
 * `await new Blob(chunks).arrayBuffer()`. On Node 20 a Blob of many small parts is slow (one
 * native part per line, read back through an async stream; a known Node 20 regression): it was
 * the largest single cost of a scan — 1.1 ms of the 2.0 ms parse of a 17 KB corpus message.
 *
 * `useFastDecoders()` gives postal-mime's three content decoders (pass-through, base64,
 * quoted-printable) a `finalize` that concatenates the same chunks into one ArrayBuffer
 * directly: the same bytes (a Blob encodes strings as UTF-8, as here), without the Blob. It
 * replaces a decoder's `finalize` only when that method's source is still the known
 * "flush, then Blob of this.chunks" shape, so a postal-mime release that changes its decoders
 * keeps its own code (slower, never wrong); `fastDecoders()` says which ones were replaced
 * and a unit test fails if any is not, so an upgrade cannot lose the speed silently.
 *
 * The base64 decoder's `pushChunk` (one run of base64 letters between paddings, already
 * stripped of everything else) decoded in a JavaScript loop, a quarter of the parse of a
 * message with a 1.4 MB attachment; `decodeBase64Native` is Node's own decoder, same bytes
 * (a property test holds the two equal). Replaced under the same known-shape rule
 * (`base64-decoder#pushChunk` in `fastDecoders()`). Its `update` ran, for every line of a base64
 * part, a UTF-8 decode, a regex replace and a regex split — for a 1 MB attachment 13,000 lines,
 * a third of the scan thread's time on such a message; `base64Update` keeps the same letters
 * in one pass over the bytes into a buffer, and makes a string of them only to decode a unit
 * or a chunk (`base64-decoder#update`). The pass-through decoder's `update`
 * (7bit / 8bit / binary parts) pushed every line and a "\n" onto an array: for a 24,000-line
 * part 48,000 entries, each a young object stored into an old array, which with the scan
 * thread's small young generation made garbage collection most of the parse; its lines now go
 * into one growing buffer (`pass-through-decoder#update`). The parser's own loop awaited an
 * async `processLine` per line; a line that can only be content is now fed without it
 * (`postal-mime#parse`, `fastParse` below).
 */
import path from 'node:path';
import { shapeHash, shapeOf } from './known-shape.js';

type Chunk = string | ArrayBuffer | ArrayBufferView;
interface Decoder {
  chunks: Chunk[];
  /** The base64 decoder's state read by its replaced `update`: letters not yet decoded, its line decoder, chunk size and chunk decoder. */
  remainder?: string;
  decoder?: { encoding?: string };
  maxChunkSize?: number;
  pushChunk?: (letters: string) => void;
  /** The pass-through decoder's lines, each followed by "\n", when its `update` is replaced (`used` bytes of it). */
  lines?: Uint8Array;
  used?: number;
  flushRemainder?: () => void;
  /** The base64 decoder's letters not decoded yet, after its `remainder`, when its `update` is replaced (`letterCount` bytes of it). */
  letters?: Uint8Array;
  letterCount?: number;
  flushBuffer?: () => void;
}
type DecoderClass = {
  prototype: {
    finalize: (this: Decoder) => Promise<ArrayBuffer>;
    pushChunk?: (this: Decoder, base64: string) => void;
    update?: (this: Decoder, line: Uint8Array) => void;
  };
};

/** postal-mime's decoder modules, and what each `finalize` flushes before joining its chunks. */
const DECODERS = [
  { file: 'pass-through-decoder.js', flush: null },
  { file: 'base64-decoder.js', flush: 'flushRemainder' },
  { file: 'qp-decoder.js', flush: 'flushBuffer' },
] as const;

/**
 * One ArrayBuffer holding `chunks` in order: what `new Blob(chunks).arrayBuffer()` gives
 * (strings as UTF-8, a lone surrogate as U+FFFD). Two passes and one allocation: the
 * pass-through decoder pushes a "\n" string after every line, and encoding each into a
 * Uint8Array of its own made a 24,000-line attachment spend a third of its parse in GC. Pure.
 */
export function joinChunks(chunks: readonly Chunk[]): ArrayBuffer {
  let size = 0;
  for (const c of chunks) {
    if (typeof c !== 'string') size += c.byteLength;
    else size += c.length === 1 && c.charCodeAt(0) < 0x80 ? 1 : Buffer.byteLength(c, 'utf8');
  }
  const out = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (const c of chunks) {
    if (typeof c === 'string') {
      const code = c.charCodeAt(0);
      if (c.length === 1 && code < 0x80) out[at++] = code;
      else at += out.write(c, at, 'utf8');
      continue;
    }
    const bytes =
      c instanceof Uint8Array ? c : c instanceof ArrayBuffer ? new Uint8Array(c) : new Uint8Array(c.buffer as ArrayBuffer, c.byteOffset, c.byteLength);
    out.set(bytes, at);
    at += bytes.byteLength;
  }
  return out.buffer;
}

/**
 * Base64 letters (A–Z a–z 0–9 + /, no padding, no other characters) ─► their bytes, with
 * Node's decoder: what postal-mime's `decodeBase64` gives for such a run (a trailing single
 * letter, which cannot make a byte, is dropped by both). Pure.
 */
export function decodeBase64Native(letters: string): ArrayBuffer {
  const out = Buffer.allocUnsafeSlow(Buffer.byteLength(letters, 'base64'));
  const n = out.write(letters, 'base64');
  return n === out.length ? out.buffer : out.buffer.slice(0, n);
}

/** The known shape of postal-mime's base64 `pushChunk`: its own decodeBase64 of a non-empty run. */
const PUSH_CHUNK = 'pushChunk(base64Str){if(base64Str.length){this.chunks.push((0,decode_strings_js_1.decodeBase64)(base64Str));}}';

/**
 * The known shape of postal-mime's base64 `update`: the line decoded, everything but base64
 * letters and "=" removed, split at "=" runs (each piece before one decoded on its own), the
 * open remainder cut into aligned chunks past `maxChunkSize`.
 */
const BASE64_UPDATE =
  "update(buffer){letstr=this.decoder.decode(buffer).replace(/[^a-zA-Z0-9+/=]+/g,'');constunits=str.spl" +
  'it(/=+/);for(leti=0;i<units.length;i++){this.remainder+=units[i];if(i<units.length-1){this.flushRemainder();}}if(th' +
  'is.remainder.length>=this.maxChunkSize){constalignedLength=Math.floor(this.remainder.length/4)*4;this.pushChunk(thi' +
  's.remainder.substring(0,alignedLength));this.remainder=this.remainder.substring(alignedLength);}}';

/** 1 for a base64 letter (A–Z a–z 0–9 + /), 2 for "=", 0 for any other byte. */
const BASE64_CLASS = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') BASE64_CLASS[c.charCodeAt(0)] = 1;
BASE64_CLASS[0x3d] = 2;

/** The letters `base64Update` holds as bytes, as text ('' when none). */
function heldLetters(d: { letters?: Uint8Array; letterCount?: number }): string {
  return d.letterCount ? Buffer.from(d.letters!.buffer, d.letters!.byteOffset, d.letterCount).toString('latin1') : '';
}

/** The decoder's letters held as bytes, moved onto the end of its `remainder` string. */
function takeLetters(d: Decoder): void {
  if (!d.letterCount) return;
  d.remainder = (d.remainder ?? '') + heldLetters(d);
  d.letterCount = 0;
}

/**
 * Every base64 letter the decoder holds and has not decoded yet: its `remainder` and the
 * letters `base64Update` keeps as bytes — what postal-mime's own decoder has in `remainder`
 * after the same lines. Pure.
 */
export function pendingBase64(d: { remainder?: string; letters?: Uint8Array; letterCount?: number }): string {
  return (d.remainder ?? '') + heldLetters(d);
}

/**
 * postal-mime's base64 `update` — keep the base64 letters of the line (what a UTF-8 decode
 * and `replace(/[^a-zA-Z0-9+/=]+/g, '')` keep: a UTF-8 decoder turns every ASCII byte into
 * itself, even after a broken sequence, and anything else into characters that are not kept),
 * decode what stands before each run of "=" on its own, past `maxChunkSize` letters decode the
 * aligned part — with the letters kept as bytes in one growing buffer per decoder and turned
 * into a string only when decoded: no string per line (for a 1 MB attachment 13,000 of them,
 * each appended to the remainder). The same chunks as the original, in the same order.
 */
function base64Update(this: Decoder, line: Uint8Array): void {
  let n = this.letterCount ?? 0;
  let buf = this.letters;
  if (!buf || n + line.length > buf.length) {
    const grown = new Uint8Array(Math.max(1024, 2 * (buf?.length ?? 0), n + line.length));
    if (buf) grown.set(buf.subarray(0, n));
    this.letters = buf = grown;
  }
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    const k = BASE64_CLASS[c];
    if (k === 1) buf[n++] = c;
    else if (k === 2 && (n || this.remainder)) {
      // "=" ends a unit: what stands before it is decoded on its own (an empty unit is nothing).
      this.letterCount = n;
      takeLetters(this);
      this.flushRemainder!();
      n = 0;
    }
  }
  this.letterCount = n;
  if (n + (this.remainder?.length ?? 0) >= this.maxChunkSize!) {
    takeLetters(this);
    const rem = this.remainder!;
    const aligned = Math.floor(rem.length / 4) * 4;
    this.pushChunk!(rem.substring(0, aligned));
    this.remainder = rem.substring(aligned);
  }
}

/** The known shape of postal-mime's pass-through `update`: the line, then a "\n" string, pushed onto its chunks. */
const PASS_THROUGH_UPDATE = "update(line){this.chunks.push(line);this.chunks.push('\\n');}";

/**
 * Append `line` and "\n" to the decoder's flat line buffer (grown by doubling, from 1 KB: a
 * message of 20,000 one-line parts must not cost 20,000 large buffers).
 */
function appendLine(d: Decoder, line: Uint8Array): void {
  const used = d.used ?? 0;
  let buf = d.lines;
  if (!buf || used + line.length + 1 > buf.length) {
    const grown = new Uint8Array(Math.max(1024, 2 * (buf?.length ?? 0), used + line.length + 1));
    if (buf) grown.set(buf.subarray(0, used));
    d.lines = buf = grown;
  }
  buf.set(line, used);
  buf[used + line.length] = 0x0a;
  d.used = used + line.length + 1;
}

/** The known shape of a postal-mime `finalize`: optional flush, then a Blob of this.chunks. */
function knownShape(fn: (...args: never[]) => unknown, flush: string | null): boolean {
  const src = shapeOf(fn);
  const join = "return(0,decode_strings_js_1.blobToArrayBuffer)(newBlob(this.chunks,{type:'application/octet-stream'}));}";
  return src === `finalize(){${flush ? `this.${flush}();` : ''}${join}`;
}

/** The parser state `fastParse` reads and writes: postal-mime's own fields and methods. */
interface Parser {
  started: boolean;
  buf: ArrayBuffer;
  av: Uint8Array;
  readPos: number;
  boundaries: unknown[];
  currentNode: { feed(line: Uint8Array): void };
  root: unknown;
  options: { forceRfc822Attachments?: boolean };
  forceRfc822Attachments: boolean;
  resolveInput(buf: unknown): Promise<ArrayBuffer>;
  readLine(): { bytes: Uint8Array; done: boolean };
  processLine(line: Uint8Array, isFinal: boolean): Promise<void>;
  hasReportParts(): boolean;
  collectNode(node: unknown, alternative: boolean, related: boolean): Promise<void>;
  renderTextContent(): void;
  buildMessage(): unknown;
  encodeAttachments(): void;
}

/** SHA-256 of postal-mime 4.0.0's `PostalMime#parse` and `#processLine` (known-shape.ts). */
const PARSE_SHAPE = '4454cdbd1156115e8fca241b9abf118bf4016b2aa442be69135946a7879666ff';
const PROCESS_LINE_SHAPE = '16dab7cf81d4b729f4040f35660735ed51ce2de6f7170b4ac6c64dcb6c5e25c9';

/**
 * postal-mime's `parse`, whose loop awaited the async `processLine` for every line of the
 * message — a promise and a trip through the microtask queue per line, 13,000 for 1 MB.
 * `processLine` does nothing but `this.currentNode.feed(line)` for a line that is not the last
 * and cannot be a boundary (no multipart open, or not starting with "--"): such a line is fed
 * here directly, every other line still goes through `processLine`. The same calls in the same
 * order; a throw from `feed` (headers over their limit) still rejects the parse.
 */
async function fastParse(this: Parser, buf: unknown): Promise<unknown> {
  if (this.started) throw new Error('Can not reuse parser, create a new PostalMime object');
  this.started = true;
  this.buf = await this.resolveInput(buf);
  this.av = new Uint8Array(this.buf);
  this.readPos = 0;
  while (this.readPos < this.av.length) {
    const { bytes, done } = this.readLine();
    if (!done && !(this.boundaries.length && bytes.length > 2 && bytes[0] === 0x2d && bytes[1] === 0x2d)) this.currentNode.feed(bytes);
    else await this.processLine(bytes, done);
  }
  this.forceRfc822Attachments = Boolean(this.options.forceRfc822Attachments) || this.hasReportParts();
  await this.collectNode(this.root, false, false);
  this.renderTextContent();
  const message = this.buildMessage();
  this.encodeAttachments();
  return message;
}

let installed: string[] | null = null;

/** Replace the decoders' Blob join and the parser's per-line await (once per process); returns what was replaced. */
export function useFastDecoders(): readonly string[] {
  if (installed) return installed;
  installed = [];
  let dir: string;
  try {
    dir = path.dirname(require.resolve('postal-mime'));
  } catch {
    return installed;
  }
  for (const { file, flush } of DECODERS) {
    let cls: DecoderClass;
    try {
      // postal-mime's exports map hides its decoders; this is the module instance its parser uses.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      cls = require(path.join(dir, file)) as DecoderClass;
    } catch {
      continue;
    }
    const original = cls.prototype.finalize;
    if (typeof original !== 'function' || !knownShape(original, flush)) continue;
    cls.prototype.finalize = function finalize(this: Decoder): Promise<ArrayBuffer> {
      takeLetters(this);
      if (flush) this[flush]!();
      if (this.lines) this.chunks.push(this.lines.subarray(0, this.used));
      return Promise.resolve(joinChunks(this.chunks));
    };
    installed.push(file.replace(/\.js$/, ''));
    // Only with finalize replaced above: it is what reads the flat buffer.
    const update = cls.prototype.update;
    if (file === 'pass-through-decoder.js' && typeof update === 'function' && shapeOf(update) === PASS_THROUGH_UPDATE) {
      cls.prototype.update = function update(this: Decoder, line: Uint8Array): void {
        appendLine(this, line);
      };
      installed.push('pass-through-decoder#update');
    }
    const push = cls.prototype.pushChunk;
    if (file === 'base64-decoder.js' && typeof push === 'function' && shapeOf(push) === PUSH_CHUNK) {
      cls.prototype.pushChunk = function pushChunk(this: Decoder, letters: string): void {
        if (letters.length) this.chunks.push(decodeBase64Native(letters));
      };
      installed.push('base64-decoder#pushChunk');
    }
    if (file === 'base64-decoder.js' && typeof update === 'function' && shapeOf(update) === BASE64_UPDATE) {
      cls.prototype.update = function update(this: Decoder, line: Uint8Array): void {
        // Only a UTF-8 line decoder reads ASCII bytes as themselves (postal-mime's default).
        if (this.decoder?.encoding === 'utf-8') base64Update.call(this, line);
        else update.call(this, line);
      };
      installed.push('base64-decoder#update');
    }
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const parser = require(path.join(dir, 'postal-mime.js')) as { prototype: Record<'parse' | 'processLine', (...args: never[]) => unknown> };
    if (shapeHash(parser.prototype.parse) === PARSE_SHAPE && shapeHash(parser.prototype.processLine) === PROCESS_LINE_SHAPE) {
      parser.prototype.parse = fastParse;
      installed.push('postal-mime#parse');
    }
  } catch {
    // Another layout: postal-mime parses with its own loop.
  }
  return installed;
}

/** The decoders `useFastDecoders` replaced (empty before it ran). */
export function fastDecoders(): readonly string[] {
  return installed ?? [];
}
