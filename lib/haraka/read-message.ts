import { Writable, type Transform } from 'node:stream';
import { shapeHash } from '../message/known-shape.js';
import { dotUnstuffer } from './dot-unstuff.js';

/** The part of Haraka's message stream (haraka-message-stream) read here. */
export interface MessageStreamLike {
  pipe(destination: NodeJS.WritableStream, options?: Record<string, unknown>): unknown;
}

/**
 * The message as Haraka delivers it — headers as plugins left them, dot-unstuffed, CRLF —
 * read into one buffer that owns its memory (never a slice of Node's shared pool), so a
 * caller may hand it to a worker thread by transfer instead of copying it.
 *
 * Why not `message_stream.get_data()`: it collects the stream's lines (Buffer slices of
 * its per-chunk copies) in an array it never empties, and the message stream keeps that
 * array reachable until the transaction ends — for a 1 MB message about 13,000 Buffer
 * objects and a second copy of the bytes, held while the message waits for its scan. Here
 * each line is copied into the result as it arrives and nothing else is kept.
 *
 * `sizeHint` (the transaction's `data_bytes`) sizes the buffer; it grows if the stream
 * is longer (headers added by plugins); a hint that is not a positive number counts as 0.
 * Rejects when the stream fails.
 *
 * The message stream's `pipe` runs its stored chunks through a `LineTransformer` that splits
 * them into lines, unstuffs each and pushes each to the reader on its own — ~280 stream
 * writes for a 17 KB message, 13,000 for 1 MB, on Haraka's main thread (0.12–0.2 ms and
 * 4–5 ms per message measured alone). While `pipe` and `LineTransformer` are the known
 * shapes (haraka-message-stream 2.0.8; SHA-256 of their source, the rule of
 * lib/message/known-shape.ts), the transformer of this read alone is given a chunk-at-a-time
 * unstuffer (dot-unstuff.ts: the same bytes) when it pipes into the sink: 0.03 and 0.6 ms.
 * Another shape reads through Haraka's own transform (slower, never wrong);
 * `fastLineReads()` says which, and a unit test fails on an upgrade that loses it.
 */
export function readMessage(stream: MessageStreamLike, sizeHint = 0): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const hint = Number.isFinite(sizeHint) && sizeHint > 0 ? Math.floor(sizeHint) : 0;
    let buf = Buffer.allocUnsafeSlow(hint + 1024);
    let used = 0;
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        if (used + chunk.length > buf.length) {
          const grown = Buffer.allocUnsafeSlow(Math.max(buf.length * 2, used + chunk.length));
          buf.copy(grown, 0, 0, used);
          buf = grown;
        }
        used += chunk.copy(buf, used);
        done();
      },
      final(done) {
        resolve(buf.subarray(0, used));
        done();
      },
    });
    sink.once('error', reject);
    if (knownPipe(stream)) sink.once('pipe', (src: unknown) => unstuffByChunk(src));
    try {
      stream.pipe(sink);
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

/** SHA-256 of haraka-message-stream 2.0.8's `MessageStream#pipe` and `LineTransformer` (known-shape.ts). */
const PIPE_SHAPE = '48be58ee710ce2e5526e2cc80c57feab8f0c0a49ef85670ef3d0ed20e2a776ae';
const LINE_TRANSFORMER_SHAPE = '92fda1ba8f4f781c97e16c9576ac86abed453bae33158d0f40c03b2ef5b1eb36';

const checked = new WeakMap<object, boolean>();
function known(fn: unknown, shape: string): boolean {
  if (typeof fn !== 'function') return false;
  let ok = checked.get(fn);
  if (ok === undefined) checked.set(fn, (ok = shapeHash(fn as () => unknown) === shape));
  return ok;
}

/**
 * `pipe` with no options gives the transformer its defaults (CRLF, unstuffed, no ending dot,
 * no clamd framing) and pipes it into the sink before a byte is read. Only the source is read here.
 */
// eslint-disable-next-line @typescript-eslint/unbound-method -- its source is read, it is not called
const knownPipe = (stream: MessageStreamLike): boolean => known(stream.pipe, PIPE_SHAPE);

/** Give a known-shape `LineTransformer` (this read's, piping into its sink) a chunk-at-a-time `_transform` and `_flush`. */
function unstuffByChunk(src: unknown): void {
  const t = src as Transform;
  if (!t || typeof t !== 'object' || !known(t.constructor, LINE_TRANSFORMER_SHAPE)) return;
  const u = dotUnstuffer();
  const push = (b: Buffer): void => void t.push(b);
  t._transform = (chunk: Buffer, _enc, done) => {
    u.write(chunk, push);
    done();
  };
  t._flush = (done) => {
    u.end(push);
    done();
  };
}

/**
 * Whether `readMessage` reads `stream` without its per-line transform: the stream's `pipe`
 * and `LineTransformer` class (haraka-message-stream's `lib/line-transformer`) are the known shapes.
 */
export function fastLineReads(stream: MessageStreamLike, lineTransformer: unknown): boolean {
  return knownPipe(stream) && known(lineTransformer, LINE_TRANSFORMER_SHAPE);
}
