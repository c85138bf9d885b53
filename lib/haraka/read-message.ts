import { Writable } from 'node:stream';

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
    try {
      stream.pipe(sink);
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
