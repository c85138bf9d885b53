import type { Dispatcher } from 'undici';

/** A reply body longer than its reader takes. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`reply longer than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * An undici reply's body parsed as JSON, read up to `maxBytes` — a declared Content-Length
 * above it is refused before reading — so a service that answers without end costs at most
 * that much memory, not all it sends within the request's timeout (undici's `body.json()`
 * has no limit). Throws BodyTooLargeError, a SyntaxError for a body that is not JSON, or the
 * stream's error (an AbortError at the request's timeout).
 */
export async function readJsonBounded(res: Pick<Dispatcher.ResponseData, 'body' | 'headers'>, maxBytes: number): Promise<unknown> {
  const declared = Number(res.headers['content-length']);
  const chunks: Buffer[] = [];
  let read = 0;
  try {
    if (declared > maxBytes) throw new BodyTooLargeError(maxBytes);
    for await (const chunk of res.body) {
      read += (chunk as Buffer).length;
      if (read > maxBytes) throw new BodyTooLargeError(maxBytes);
      chunks.push(chunk as Buffer);
    }
  } finally {
    res.body.destroy();
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}
