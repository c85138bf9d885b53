import { extensions } from './inspect.js';

/** Declared types a mail client shows as a picture or as plain text, nothing it runs or renders. */
const PLAIN_TYPE = /^(?:image\/(?:jpeg|png|gif|bmp|webp|tiff|heic)|text\/(?:plain|csv))$/;
/** Name extensions of the same: a name with any other extension is opened as something else. */
const PLAIN_EXT = new Set(['txt', 'text', 'log', 'csv', 'jpg', 'jpeg', 'png', 'gif', 'bmp', 'webp', 'tif', 'tiff', 'heic']);

/** Whether a client shows this attachment as a picture or as text alone (by declared type and every extension of its name). Pure. */
export function opensAsPlain(att: { mimeType: string; filename?: string | null }): boolean {
  return PLAIN_TYPE.test(att.mimeType.toLowerCase()) && extensions(att.filename ?? '').every((e) => PLAIN_EXT.has(e));
}

/**
 * The attachments to examine when there are more than `max`: those a client opens as more
 * than a picture or text (HTML, SVG, PDF, archives, programs, documents, attached messages,
 * invitations, anything unknown) first, then the rest, each in the message's order. Hundreds
 * of text or image attachments before the lure's `invoice.html` no longer push it past the
 * bound unexamined. The same list as before when there are at most `max`. Pure.
 */
export function attachmentsToExamine<T extends { mimeType: string; filename?: string | null }>(all: readonly T[], max: number): T[] {
  if (all.length <= max) return [...all];
  const first = all.filter((a) => !opensAsPlain(a));
  const chosen = new Set([...first, ...all.filter(opensAsPlain)].slice(0, max));
  return all.filter((a) => chosen.has(a));
}
