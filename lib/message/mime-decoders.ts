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
 */
import path from 'node:path';

type Chunk = string | ArrayBuffer | ArrayBufferView;
interface Decoder {
  chunks: Chunk[];
  flushRemainder?: () => void;
  flushBuffer?: () => void;
}
type DecoderClass = { prototype: { finalize: (this: Decoder) => Promise<ArrayBuffer> } };

/** postal-mime's decoder modules, and what each `finalize` flushes before joining its chunks. */
const DECODERS = [
  { file: 'pass-through-decoder.js', flush: null },
  { file: 'base64-decoder.js', flush: 'flushRemainder' },
  { file: 'qp-decoder.js', flush: 'flushBuffer' },
] as const;

const encoder = new TextEncoder();

/** One ArrayBuffer holding `chunks` in order: what `new Blob(chunks).arrayBuffer()` gives. Pure. */
export function joinChunks(chunks: readonly Chunk[]): ArrayBuffer {
  const parts: Uint8Array[] = new Array<Uint8Array>(chunks.length);
  let size = 0;
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i];
    const p =
      c instanceof Uint8Array
        ? c
        : typeof c === 'string'
          ? encoder.encode(c)
          : c instanceof ArrayBuffer
            ? new Uint8Array(c)
            : new Uint8Array(c.buffer as ArrayBuffer, c.byteOffset, c.byteLength);
    parts[i] = p;
    size += p.byteLength;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out.buffer;
}

/** The known shape of a postal-mime `finalize`: optional flush, then a Blob of this.chunks. */
function knownShape(fn: (...args: never[]) => unknown, flush: string | null): boolean {
  const src = fn
    .toString()
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\s+/g, '');
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
      return Promise.resolve(joinChunks(this.chunks));
    };
    installed.push(file.replace(/\.js$/, ''));
  }
  return installed;
}

/** The decoders `useFastDecoders` replaced (empty before it ran). */
export function fastDecoders(): readonly string[] {
  return installed ?? [];
}
