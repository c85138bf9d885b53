/** Worker-thread entry of the preview pool (lib/review/preview-pool.ts): one held message's preview per task. */
import { previewOf, type Preview } from './preview.js';

export default function previewTask(raw: Uint8Array): Promise<Preview> {
  // A Buffer arrives as a plain Uint8Array: view the same bytes as a Buffer again.
  return previewOf(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
}
