/**
 * Faster code for four pieces of postal-mime 4.2, each replaced only while postal-mime's own
 * function has the known shape (its source without comments and whitespace, `known-shape.ts`),
 * so a release that changes one keeps its own code (slower, never wrong); `fastDecoders()`
 * says which were replaced and a unit test fails if any is not, so an upgrade cannot lose the
 * speed silently. Property tests hold each to postal-mime's own code.
 *
 * - Joining a part's decoded chunks (`chunk-writer#finalize`, used by the base64 and
 *   quoted-printable decoders, and `pass-through-decoder#finalize`): postal-mime builds
 *   `new Blob(chunks)` and reads it back with `await blob.arrayBuffer()`. On Node 20 that is
 *   slow for a Blob of many parts (read back through an async stream; a known Node 20
 *   regression) — once the largest single cost of a scan. `joinChunks` copies the same
 *   chunks into one ArrayBuffer directly: the same bytes.
 * - The base64 decoder's `pushChunk` (one run of base64 letters between paddings, already
 *   stripped of everything else) decodes in a JavaScript loop; `decodeBase64Native` is
 *   Node's own decoder, same bytes (`base64-decoder#pushChunk`).
 * - Its `update` runs, for every line of a base64 part, a UTF-8 decode and a regex replace,
 *   and appends the line's letters to a string — for a 1 MB attachment 13,000 lines, a third
 *   of the scan thread's time on such a message; `base64Update` keeps the same letters in
 *   one pass over the bytes into a buffer, and makes a string of them only to decode a unit
 *   or a chunk (`base64-decoder#update`, with its `finalize` taking the held letters first).
 * - The parser's own loop awaits an async `processLine` per line (a promise and a trip
 *   through the microtask queue each); a line that can only be content is fed to its part
 *   without it (`postal-mime#parse`, `fastParse` below).
 */
import path from 'node:path';
import { shapeHash, shapeOf } from './known-shape.js';

type Chunk = string | ArrayBuffer | ArrayBufferView;
type Method = (...args: never[]) => unknown;

/** postal-mime's ChunkWriter: decoded bytes collected in chunks (its `flush` moves the open one onto them). */
interface ChunkWriter {
  chunks: Chunk[];
  flush(): void;
  finalize(): Promise<ArrayBuffer>;
  append(bytes: Uint8Array): void;
}

/** The base64 decoder's state its replaced methods read and write. */
interface Base64Decoder {
  /** Letters not decoded yet, as postal-mime keeps them. */
  remainder?: string;
  decoder?: { encoding?: string };
  maxChunkSize?: number;
  output: ChunkWriter;
  pushChunk(letters: string): void;
  flushRemainder(): void;
  /** Letters not decoded yet after `remainder`, held as bytes by `base64Update` (`letterCount` bytes of it). */
  letters?: Uint8Array;
  letterCount?: number;
}

/** The pass-through decoder's state (the lines of a part are ranges of the message; the last line break waits for the next line). */
interface PassThroughDecoder {
  chunks: Chunk[];
  pendingLineBreak: Uint8Array | null;
  runEnd: number;
  continuesRun(bytes: Uint8Array): boolean;
  flushRun(): void;
}

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

/** 1 for a base64 letter (A–Z a–z 0–9 + /), 2 for "=", 0 for any other byte. */
const BASE64_CLASS = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') BASE64_CLASS[c.charCodeAt(0)] = 1;
BASE64_CLASS[0x3d] = 2;

/** The letters `base64Update` holds as bytes, as text ('' when none). */
function heldLetters(d: { letters?: Uint8Array; letterCount?: number }): string {
  return d.letterCount ? Buffer.from(d.letters!.buffer, d.letters!.byteOffset, d.letterCount).toString('latin1') : '';
}

/** The decoder's letters held as bytes, moved onto the end of its `remainder` string. */
function takeLetters(d: Base64Decoder): void {
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

/** The known shape of postal-mime's ChunkWriter `finalize`: flush, then a Blob of its chunks. */
const CHUNK_WRITER_FINALIZE =
  "finalize(){this.flush();return(0,decode_strings_js_1.blobToArrayBuffer)(newBlob(this.chunks,{type:'application/octet-stream'}));}";

/** SHA-256 of postal-mime 4.2.0's pass-through `finalize` (the pending line break kept unless a boundary ended the part, then a Blob of its chunks). */
const PASS_THROUGH_FINALIZE = '0388019505eadd22f0532f2b03f1cfa1c4c4c49695e834cc97a25750bddd3f6a';

/** postal-mime's pass-through `finalize`, joining with `joinChunks` instead of a Blob. */
function passThroughFinalize(this: PassThroughDecoder, boundaryEnded = false): Promise<ArrayBuffer> {
  const pending = this.pendingLineBreak;
  if (!boundaryEnded && pending) {
    if (this.continuesRun(pending)) this.runEnd += pending.byteLength;
    else {
      this.flushRun();
      this.chunks.push(pending);
    }
  }
  this.flushRun();
  return Promise.resolve(joinChunks(this.chunks));
}

/** The known shape of postal-mime's base64 `pushChunk`: its own decodeBase64 of a non-empty run, appended to the output. */
const PUSH_CHUNK = 'pushChunk(base64Str){if(base64Str.length){this.output.append(newUint8Array((0,decode_strings_js_1.decodeBase64)(base64Str)));}}';

/** The known shape of postal-mime's base64 `finalize`: the remainder decoded, then the output joined. */
const BASE64_FINALIZE = 'finalize(){this.flushRemainder();returnthis.output.finalize();}';

/**
 * SHA-256 of postal-mime 4.2.0's base64 `update`: the line decoded, everything but base64
 * letters and "=" removed, what stands before each "=" decoded on its own, the open remainder
 * cut into aligned chunks past `maxChunkSize`.
 */
const BASE64_UPDATE = '3c9be62c935d896953d8cf577e4ae3356d610134051a118fe05c8bce61998534';

/**
 * postal-mime's base64 `update` — keep the base64 letters of the line (what a UTF-8 decode
 * and `replace(/[^a-zA-Z0-9+/=]+/g, '')` keep: a UTF-8 decoder turns every ASCII byte into
 * itself, even after a broken sequence, and anything else into characters that are not kept),
 * decode what stands before each "=" on its own, past `maxChunkSize` letters decode the
 * aligned part — with the letters kept as bytes in one growing buffer per decoder and turned
 * into a string only when decoded: no string per line. The same chunks as the original, in
 * the same order.
 */
function base64Update(this: Base64Decoder, line: Uint8Array): void {
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
      this.flushRemainder();
      n = 0;
    }
  }
  this.letterCount = n;
  if (n + (this.remainder?.length ?? 0) >= this.maxChunkSize!) {
    takeLetters(this);
    const rem = this.remainder!;
    const aligned = Math.floor(rem.length / 4) * 4;
    this.pushChunk(rem.substring(0, aligned));
    this.remainder = rem.substring(aligned);
  }
}

/** The parser state `fastParse` reads and writes: postal-mime's own fields and methods. */
interface Parser {
  started: boolean;
  buf: ArrayBuffer;
  av: Uint8Array;
  readPos: number;
  boundaries: unknown[];
  currentNode: { feed(line: Uint8Array, lineBreak: Uint8Array): boolean };
  root: unknown;
  options: { forceRfc822Attachments?: boolean };
  forceRfc822Attachments: boolean;
  rfc822NestingDepth: number;
  resolveInput(buf: unknown): Promise<ArrayBuffer>;
  readLine(): { bytes: Uint8Array; lineBreak: Uint8Array; done: boolean };
  processLine(line: Uint8Array, lineBreak: Uint8Array, isFinal: boolean): Promise<void>;
  hasReportParts(): boolean;
  collectNode(node: unknown, alternative: boolean, related: boolean): Promise<void>;
  renderTextContent(): void;
  buildMessage(): unknown;
  encodeAttachments(): void;
}

/** SHA-256 of postal-mime 4.2.0's `PostalMime#parse` and `#processLine` (known-shape.ts). */
const PARSE_SHAPE = 'fe8773e5f5c50c867b8cefe350704127b402cd42cbedef3aaa19b047c7581c26';
const PROCESS_LINE_SHAPE = '0885238983e99843e97f9e5840d95457f756731dfa2ee0574a48aa958367581e';

/** postal-mime's own `parse`, kept by `useFastDecoders` (it throws postal-mime's error for a parser used twice). */
let originalParse: Method | null = null;

/**
 * postal-mime's `parse`, whose loop awaits the async `processLine` for every line of the
 * message — a promise and a trip through the microtask queue per line, 13,000 for 1 MB.
 * For a line that is not the last and cannot be a boundary (no multipart open, or not
 * starting with "--") `processLine` does nothing but `this.currentNode.feed(line, lineBreak)`,
 * and reads the line again when `feed` says the headers ended just before it: such a line is
 * fed here directly, and read again by `processLine` when `feed` asks; every other line still
 * goes through `processLine`. The same calls in the same order; a throw from `feed` (headers
 * over their limit) still rejects the parse.
 */
async function fastParse(this: Parser, buf: unknown): Promise<unknown> {
  if (this.started) return originalParse!.call(this as never, buf as never);
  this.started = true;
  this.buf = await this.resolveInput(buf);
  this.av = new Uint8Array(this.buf);
  this.readPos = 0;
  while (this.readPos < this.av.length) {
    const { bytes, lineBreak, done } = this.readLine();
    if (done || (this.boundaries.length && bytes.length > 2 && bytes[0] === 0x2d && bytes[1] === 0x2d)) await this.processLine(bytes, lineBreak, done);
    else if (this.currentNode.feed(bytes, lineBreak)) await this.processLine(bytes, lineBreak, false);
  }
  this.forceRfc822Attachments = Boolean(this.options.forceRfc822Attachments) || this.hasReportParts();
  await this.collectNode(this.root, false, false);
  if (this.rfc822NestingDepth === 0) this.renderTextContent();
  const message = this.buildMessage();
  this.encodeAttachments();
  return message;
}

let installed: string[] | null = null;

/** A class of postal-mime's module `file` (the module instance its parser uses; its exports map hides them), or null. */
function postalClass(dir: string, file: string): { prototype: Record<string, Method | undefined> } | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.join(dir, file)) as { prototype: Record<string, Method | undefined> };
  } catch {
    return null;
  }
}

/** `proto[name]` replaced by `fast` when its shape (source, or SHA-256 of it for a 64-hex `shape`) is the known one; records `label`. */
function replaceKnown(proto: Record<string, Method | undefined> | undefined, name: string, shape: string, fast: Method, label: string): boolean {
  const fn = proto?.[name];
  if (!proto || typeof fn !== 'function') return false;
  if ((/^[0-9a-f]{64}$/.test(shape) ? shapeHash(fn) : shapeOf(fn)) !== shape) return false;
  proto[name] = fast;
  installed!.push(label);
  return true;
}

/** Replace postal-mime's chunk joins, base64 decoding and per-line await (once per process); returns what was replaced. */
export function useFastDecoders(): readonly string[] {
  if (installed) return installed;
  installed = [];
  let dir: string;
  try {
    dir = path.dirname(require.resolve('postal-mime'));
  } catch {
    return installed;
  }
  replaceKnown(
    postalClass(dir, 'chunk-writer.js')?.prototype,
    'finalize',
    CHUNK_WRITER_FINALIZE,
    function finalize(this: ChunkWriter): Promise<ArrayBuffer> {
      this.flush();
      return Promise.resolve(joinChunks(this.chunks));
    },
    'chunk-writer#finalize',
  );
  replaceKnown(postalClass(dir, 'pass-through-decoder.js')?.prototype, 'finalize', PASS_THROUGH_FINALIZE, passThroughFinalize, 'pass-through-decoder#finalize');
  const base64 = postalClass(dir, 'base64-decoder.js')?.prototype;
  replaceKnown(
    base64,
    'pushChunk',
    PUSH_CHUNK,
    function pushChunk(this: Base64Decoder, letters: string): void {
      if (letters.length) this.output.append(new Uint8Array(decodeBase64Native(letters)));
    },
    'base64-decoder#pushChunk',
  );
  const update = base64?.update;
  // The replaced update holds letters its finalize must take first: both or neither.
  if (base64 && typeof update === 'function' && typeof base64.finalize === 'function' && shapeOf(base64.finalize) === BASE64_FINALIZE) {
    const fastUpdate = function (this: Base64Decoder, line: Uint8Array): void {
      // Only a UTF-8 line decoder reads ASCII bytes as themselves (postal-mime's default).
      if (this.decoder?.encoding === 'utf-8') base64Update.call(this, line);
      else update.call(this as never, line as never);
    };
    if (replaceKnown(base64, 'update', BASE64_UPDATE, fastUpdate, 'base64-decoder#update'))
      replaceKnown(
        base64,
        'finalize',
        BASE64_FINALIZE,
        function finalize(this: Base64Decoder): Promise<ArrayBuffer> {
          takeLetters(this);
          this.flushRemainder();
          return this.output.finalize();
        },
        'base64-decoder#finalize',
      );
  }
  const parser = postalClass(dir, 'postal-mime.js')?.prototype;
  const parse = parser?.parse;
  if (parser && typeof parser.processLine === 'function' && shapeHash(parser.processLine) === PROCESS_LINE_SHAPE)
    if (replaceKnown(parser, 'parse', PARSE_SHAPE, fastParse, 'postal-mime#parse')) originalParse = parse!;
  return installed;
}

/** The decoders `useFastDecoders` replaced (empty before it ran). */
export function fastDecoders(): readonly string[] {
  return installed ?? [];
}
