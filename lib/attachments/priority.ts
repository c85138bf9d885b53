import { extensions } from './inspect.js';
import { OFFICE_NAME } from './office-documents.js';
import { SEVEN_ZIP_NAME } from './seven-zip.js';
import { UUENCODED_NAME } from './uuencoded.js';

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

/** Zips opened for their files, nested: a zip, a zip in it, one in that (a lure's page zipped twice to pass scanners that open one level). */
export const MAX_ZIP_DEPTH = 3;
/** Files of one zip attachment read as if attached (its documents, pages and pictures) at most. */
export const MAX_ZIPPED_FILES = 20;
/** Files taken out of the zips of one message in all (1,000 zipped pages cost ~0.3 s to read). */
export const MAX_ZIPPED_FILES_PER_MESSAGE = 100;
/**
 * Bytes taken out of a message's zips in all (a file larger is not taken): a zipped lure's
 * document is small, and 8 MiB of PDF link annotations, deflated to ~30 KB, cost ~0.16 s.
 */
export const MAX_ZIPPED_BYTES = 8 * 1024 * 1024;

/** What a file in a zip is to a reader who opens it with a click (by its path's extension; 'zip': any archive, a RAR or 7z too). */
export type ZippedKind = 'page' | 'document' | 'message' | 'calendar' | 'picture' | 'zip';

/** The kind of a file in a zip a reader opens and whose links, forms or pictures are read; null for any other. Pure. */
export function zippedKind(path: string): ZippedKind | null {
  const n = path.toLowerCase();
  if (/\.(html?|xhtml|shtml|svg)$/.test(n)) return 'page';
  if (n.endsWith('.pdf') || OFFICE_NAME.test(n)) return 'document';
  if (n.endsWith('.eml')) return 'message';
  if (/\.(ics|vcs)$/.test(n)) return 'calendar';
  if (/\.(png|jpe?g|gif)$/.test(n)) return 'picture';
  if (n.endsWith('.zip') || SEVEN_ZIP_NAME.test(n) || UUENCODED_NAME.test(n)) return 'zip';
  return null;
}

/**
 * The order a zip's files are read in (lower first): web pages (the credential form zipped
 * past filters that read attachments), then documents and attached messages, then calendar
 * files, then pictures (QR codes, the costliest to read), then zips inside it.
 */
export const ZIPPED_RANK: Readonly<Record<ZippedKind, number>> = { page: 0, document: 1, message: 1, calendar: 2, picture: 3, zip: 4 };
