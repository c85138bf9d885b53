/**
 * A safe preview of a held message for a reviewer: text only (HTML reduced to its visible
 * text), every link shown as text and defanged (`hxxps://evil[.]example/…`) so nothing
 * is clickable or fetched, no remote content, attachments listed but not opened (pictures,
 * also those in PDFs and Office documents, are read for QR codes, whose links are listed
 * first; the links of PDFs and Office documents, also zipped ones, are listed after the body's), and bounded in
 * size whatever the message holds.
 */
import PostalMime from 'postal-mime';
import { drawnCodesIn, htmlPictures, MAX_PICTURES, pictureSize, qrCodesIn, type Picture } from '../attachments/qr-codes.js';
import { blockTextGrids } from '../message/drawn-codes.js';
import { pdfPictures } from '../attachments/pdf-pictures.js';
import { pdfLinks } from '../attachments/pdf-links.js';
import { fileTypeFromBuffer } from 'file-type';
import { InflateBudget, zippedFiles } from '../attachments/archive.js';
import { MAX_SEVEN_ZIP_ARCHIVES, SEVEN_ZIP_TYPES, sevenZipFiles, UNNAMED_ARCHIVE } from '../attachments/seven-zip.js';
import { MAX_ZIP_DEPTH, MAX_ZIPPED_BYTES, MAX_ZIPPED_FILES, ZIPPED_RANK, zippedKind } from '../attachments/priority.js';
import { MAX_DOCUMENTS, officeContent } from '../attachments/office-documents.js';
import { findUrls } from '../message/domain.js';
import { scanHtml } from '../message/html.js';
import { decodeHeaderWords, useUtf7TextParts } from '../message/utf7.js';

useUtf7TextParts();

export const PREVIEW_MAX_CHARS = 8000;
const MAX_LINKS = 50;
/** Links of the HTML read for the preview (MAX_LINKS clickable ones of them are shown). */
const MAX_SCANNED_LINKS = 10_000;
const MAX_HEADERS = 100;
/** Pixels of a held message's pictures read for QR codes (~100 ms of the sidecar's CPU at most). */
const PREVIEW_QR_PIXELS = 1_000_000;
const MAX_HEADER_VALUE = 2000;

export interface Preview {
  text: string;
  truncated: boolean;
  links: Array<{ url: string; text?: string }>;
  attachments: Array<{ filename: string | null; type: string; size: number }>;
}

/** `https://login.evil.example/x` ─► `hxxps://login[.]evil[.]example/x`. Pure. */
export function defang(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*):(\/\/)?([^/?#]*)(.*)$/is.exec(url.trim());
  if (!m) return url.replace(/\./g, '[.]');
  const scheme = m[1].replace(/^http/i, 'hxxp').replace(/^ftp/i, 'fxp');
  return `${scheme}:${m[2] ?? ''}${m[3].replace(/\./g, '[.]').replace(/@/g, '[@]')}${m[4]}`;
}

const URL_IN_TEXT = /\b(?:https?|ftp):\/\/[^\s<>"']+|\bwww\.[^\s<>"']+/gi;

/** Defang every link written in a text. */
export function defangText(text: string): string {
  return text.replace(URL_IN_TEXT, (u) => defang(u));
}

/** Header lines of the raw message, unfolded and decoded, bounded. */
export function headerList(raw: Buffer): Array<[string, string]> {
  const head = raw.subarray(0, 65536).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const lines = (end < 0 ? head : head.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/);
  const out: Array<[string, string]> = [];
  for (const l of lines) {
    const c = l.indexOf(':');
    if (c <= 0) continue;
    const value = decodeHeaderWords(l.slice(c + 1).trim());
    out.push([l.slice(0, c).trim(), value.slice(0, MAX_HEADER_VALUE)]);
    if (out.length === MAX_HEADERS) break;
  }
  return out;
}

/** Bytes the PDFs, and the Office documents, of one held message may inflate for the preview. */
const PREVIEW_DOCUMENT_BYTES = 32 * 1024 * 1024;
/** Bytes of Office documents' XML read for the preview's links (the scan's default). */
const PREVIEW_DOCUMENT_XML = 2 * 1024 * 1024;

interface AttachmentContent {
  /** Attached and inline PNG, JPEG, GIF, and the pictures of PDFs and Office documents. */
  pictures: Picture[];
  /** The links of PDFs and Office documents, with the file they are in. */
  links: Array<{ url: string; file: string }>;
}

/** The files of an archive the preview reads: PDFs, Office documents, pictures and zips (pages are not shown). */
function zippedWanted(path: string): number | null {
  const kind = zippedKind(path);
  return kind === 'document' || kind === 'picture' || kind === 'zip' ? ZIPPED_RANK[kind] : null;
}

/** Whether `bytes` are a RAR, 7z, tar … archive (by their magic bytes) that 7-Zip reads. */
async function sevenZipType(bytes: Uint8Array): Promise<boolean> {
  try {
    const mime = (await fileTypeFromBuffer(bytes.subarray(0, 4100)))?.mime;
    return mime !== undefined && SEVEN_ZIP_TYPES.has(mime);
  } catch {
    return false;
  }
}

/** What a reader sees in a message's attachments: pictures (to be read for QR codes) and the links of its documents, also those in zips and other archives. */
async function attachmentContent(parsed: Awaited<ReturnType<typeof PostalMime.parse>>): Promise<AttachmentContent> {
  const out: AttachmentContent = { pictures: [], links: [] };
  const documents = new InflateBudget(PREVIEW_DOCUMENT_BYTES, 10_000);
  const xml = { left: PREVIEW_DOCUMENT_XML, total: PREVIEW_DOCUMENT_XML };
  let pdfBytes = PREVIEW_DOCUMENT_BYTES;
  let documentsLeft = MAX_DOCUMENTS;
  // Files taken out of zips and other archives: as many bytes and archives as the scan takes.
  const zippedBudget = new InflateBudget(MAX_ZIPPED_BYTES, 10_000);
  let sevenZipLeft = MAX_SEVEN_ZIP_ARCHIVES;
  const full = (): boolean => out.pictures.length >= MAX_PICTURES && out.links.length >= MAX_LINKS;
  const read = async (bytes: Uint8Array, name: string | null, zipDepth: number): Promise<void> => {
    const room = MAX_PICTURES - out.pictures.length;
    if (pictureSize(bytes)) {
      if (room > 0) out.pictures.push({ name: name ?? 'inline picture', bytes });
    } else if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
      if (documentsLeft-- <= 0) return;
      const file = name ?? 'the document';
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const doc = await officeContent(buf, file, { maxLinks: MAX_LINKS, maxPictures: room, xml }, documents);
      out.pictures.push(...(doc?.pictures ?? []));
      out.links.push(...(doc?.links ?? []).map((url) => ({ url, file })));
      if (doc || zipDepth >= MAX_ZIP_DEPTH) return;
      // A zip: its PDFs, Office documents, pictures and zips, as the scan reads them.
      const zipped = await zippedFiles(buf, zippedWanted, { maxBytes: MAX_ZIPPED_BYTES, maxFiles: MAX_ZIPPED_FILES }, zippedBudget);
      for (const f of zipped?.files ?? []) if (!full()) await read(f.bytes, `${file}/${f.name}`, zipDepth + 1);
    } else if (zipDepth < MAX_ZIP_DEPTH && (await sevenZipType(bytes))) {
      // A RAR, 7z, tar …: its PDFs, Office documents, pictures and zips, as the scan reads them.
      if (sevenZipLeft-- <= 0) return;
      const file = name ?? UNNAMED_ARCHIVE;
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const files = await sevenZipFiles(buf, file, zippedWanted, { maxBytes: MAX_ZIPPED_BYTES, maxFiles: MAX_ZIPPED_FILES }, zippedBudget);
      for (const f of files?.files ?? []) if (!full()) await read(f.bytes, `${file}/${f.name}`, zipDepth + 1);
    } else {
      const file = name ?? 'the PDF';
      out.pictures.push(...pdfPictures(bytes, file, room).pictures);
      const pdf = pdfLinks(bytes, { maxInflatedBytes: pdfBytes, maxLinks: MAX_LINKS });
      pdfBytes -= pdf.inflatedBytes;
      out.links.push(...pdf.links.map((url) => ({ url, file })));
    }
  };
  for (const a of parsed.attachments ?? []) {
    if (full()) break;
    if (typeof a.content !== 'string') await read(new Uint8Array(a.content), a.filename ?? null, 0);
  }
  return out;
}

export async function previewOf(raw: Buffer, maxChars = PREVIEW_MAX_CHARS): Promise<Preview> {
  let parsed: Awaited<ReturnType<typeof PostalMime.parse>>;
  try {
    parsed = await new PostalMime({ maxNestingDepth: 32, attachmentEncoding: 'arraybuffer' }).parse(raw);
  } catch {
    return { text: '(the message could not be parsed as MIME)', truncated: false, links: [], attachments: [] };
  }
  // Every kind of link counts toward scanHtml's bound, images too: a wider one, so that pixels
  // before it cannot push the links the analyst is shown out.
  const html = parsed.html ? scanHtml(parsed.html.slice(0, 2_000_000), MAX_SCANNED_LINKS) : null;
  const body = (parsed.text && parsed.text.trim() ? parsed.text : (html?.text ?? '')).replace(/\r\n/g, '\n');
  const truncated = body.length > maxChars;
  const links: Preview['links'] = [];
  const seen = new Set<string>();
  // QR codes first: a lure that carries its link so has no other (the analyst sees where it leads).
  const drawn = drawnCodesIn([...(html?.drawn ?? []), ...blockTextGrids((parsed.text ?? '').slice(0, 2_000_000))]);
  const attached = await attachmentContent(parsed);
  const pictures = [...attached.pictures, ...htmlPictures(html?.links ?? []).pictures];
  for (const code of [...qrCodesIn(pictures, PREVIEW_QR_PIXELS).codes, ...drawn.codes])
    for (const { url } of findUrls(code.text)) {
      if (seen.has(url) || links.length >= MAX_LINKS) continue;
      seen.add(url);
      links.push({ url: defang(url), text: defangText(`QR code in ${code.image}`).slice(0, 200) });
    }
  for (const l of html?.links ?? []) {
    if (l.kind !== 'href' && l.kind !== 'form' && l.kind !== 'area') continue;
    if (seen.has(l.url) || links.length >= MAX_LINKS) continue;
    seen.add(l.url);
    links.push({ url: defang(l.url), ...(l.anchorText ? { text: defangText(l.anchorText).slice(0, 200) } : {}) });
  }
  // Then the links of attached documents (a lure that moved its link out of the body).
  for (const { url, file } of attached.links) {
    if (links.length >= MAX_LINKS) break;
    if (seen.has(url)) continue;
    seen.add(url);
    links.push({ url: defang(url), text: defangText(`link in ${file}`).slice(0, 200) });
  }
  // One match at a time (a held message of millions of links is not listed whole).
  for (const [u] of body.matchAll(URL_IN_TEXT)) {
    if (links.length >= MAX_LINKS) break;
    if (seen.has(u)) continue;
    seen.add(u);
    links.push({ url: defang(u) });
  }
  return {
    text: defangText(body.slice(0, maxChars)),
    truncated,
    links,
    attachments: (parsed.attachments ?? [])
      .slice(0, 100)
      .map((a) => ({ filename: a.filename ?? null, type: a.mimeType, size: typeof a.content === 'string' ? a.content.length : a.content.byteLength })),
  };
}
