/**
 * The SOC preview of a held message, read in a thread of its own within a deadline. The
 * preview reads the same hostile bytes the scan did — MIME, HTML, pictures, PDFs, Office
 * documents, zips — and were one of those readers ever to loop or run long on some input
 * (a PDF search did, for a word at one exact distance before a stream), the sidecar thread
 * that serves `/health`, `/metrics` and the API must not wait with it: past the deadline the
 * thread is ended (piscina terminates a worker whose task is aborted) and the analyst gets
 * the record with a preview that says so. One thread, started on the first preview and
 * ended after a minute without one (analysts open messages one at a time; the first costs
 * the thread's start, ~0.1 s).
 */
import path from 'node:path';
import Piscina from 'piscina';
import type { Preview } from './preview.js';

/** How long one preview may take (a held message's largest reading takes well under a second). */
export const PREVIEW_TIMEOUT_MS = 5000;

let pool: Piscina<Uint8Array, Preview> | null = null;

/** The preview of `raw`, or one that says it was stopped after `timeoutMs`. Never throws. */
export async function previewWithin(raw: Uint8Array, timeoutMs = PREVIEW_TIMEOUT_MS): Promise<Preview> {
  pool ??= new Piscina<Uint8Array, Preview>({
    filename: path.join(__dirname, 'preview-thread.js'),
    minThreads: 0,
    maxThreads: 1,
    idleTimeout: 60_000,
  });
  try {
    // Its own copy, moved to the thread: a view of a larger buffer would be cloned whole.
    const copy = new Uint8Array(raw);
    return await pool.run(copy, { signal: AbortSignal.timeout(timeoutMs), transferList: [copy.buffer] });
  } catch (err) {
    const why = err instanceof Error && err.name === 'AbortError' ? `took longer than ${timeoutMs} ms and was stopped` : 'failed';
    return {
      text: `(no preview: reading the message ${why}; the message is kept, its headers are shown, and it can be released or deleted as usual)`,
      truncated: false,
      links: [],
      attachments: [],
    };
  }
}

/** End the preview thread (the sidecar closes). */
export async function closePreviewPool(): Promise<void> {
  const p = pool;
  pool = null;
  await p?.destroy();
}
