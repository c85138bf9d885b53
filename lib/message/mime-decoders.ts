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
 * (`base64-decoder#pushChunk` in `fastDecoders()`). The pass-through decoder's `update`
 * (7bit / 8bit / binary parts) pushed every line and a "\n" onto an array: for a 24,000-line
 * part 48,000 entries, each a young object stored into an old array, which with the scan
 * thread's small young generation made garbage collection most of the parse; its lines now go
 * into one growing buffer (`pass-through-decoder#update`).
 */
import path from 'node:path';

type Chunk = string | ArrayBuffer | ArrayBufferView;
interface Decoder {
  chunks: Chunk[];
  /** The pass-through decoder's lines, each followed by "\n", when its `update` is replaced (`used` bytes of it). */
  lines?: Uint8Array;
  used?: number;
  flushRemainder?: () => void;
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

/** Source of a function without comments and whitespace, to compare with a known shape. */
const shapeOf = (fn: (...args: never[]) => unknown): string =>
  fn
    .toString()
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\s+/g, '');

/** The known shape of postal-mime's base64 `pushChunk`: its own decodeBase64 of a non-empty run. */
const PUSH_CHUNK = 'pushChunk(base64Str){if(base64Str.length){this.chunks.push((0,decode_strings_js_1.decodeBase64)(base64Str));}}';

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

let installed: string[] | null = null;

/** Replace the decoders' Blob join (once per process); returns the decoders replaced. */
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
  }
  return installed;
}

/** The decoders `useFastDecoders` replaced (empty before it ran). */
export function fastDecoders(): readonly string[] {
  return installed ?? [];
}
