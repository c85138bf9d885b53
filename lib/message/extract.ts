import { createHash } from 'node:crypto';
import PostalMime from 'postal-mime';
import { fileTypeFromBuffer } from 'file-type';
import type { PhishXConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { pdfLinks } from '../attachments/pdf-links.js';
import { pdfPictures } from '../attachments/pdf-pictures.js';
import {
  drawnCodesIn,
  htmlPictures,
  MAX_DRAWN_GRIDS,
  MAX_DRAWN_PIXELS,
  MAX_PICTURES,
  qrCodesIn,
  qrPixelBudget,
  type Picture,
} from '../attachments/qr-codes.js';
import { blockTextGrids, type DrawnGrid } from './drawn-codes.js';
import { CALENDAR_TYPES, calendarLinks, isCalendar } from '../attachments/calendar-links.js';
import {
  attachmentsToExamine,
  MAX_ZIP_DEPTH,
  MAX_ZIPPED_BYTES,
  MAX_ZIPPED_FILES,
  MAX_ZIPPED_FILES_PER_MESSAGE,
  ZIPPED_RANK,
  zippedKind,
} from '../attachments/priority.js';
import { withContents } from '../attachments/inspect.js';
import { scanHtml, type HtmlLink, type HtmlScan } from './html.js';
import { MAX_SHEET_WORK } from './stylesheet.js';
import { emptyArchiveInfo, InflateBudget, listZip, zippedFiles } from '../attachments/archive.js';
import {
  listSevenZip,
  MAX_SEVEN_ZIP_ARCHIVES,
  MAX_SEVEN_ZIP_MS,
  SEVEN_ZIP_NAME,
  SEVEN_ZIP_TYPES,
  sevenZipFiles,
  UNNAMED_ARCHIVE,
} from '../attachments/seven-zip.js';
import { listUuencoded, UUENCODED_NAME } from '../attachments/uuencoded.js';
import { mimeAmbiguities } from './mime-ambiguity.js';
import { MAX_DOCUMENTS, OFFICE_NAME, officeContent } from '../attachments/office-documents.js';
import { describeUrl, findUrls, toMailAddress } from './domain.js';
import type { AttachmentInfo, Envelope, ExtractedUrl, LimitHit, MailAddress, ScanInput, SenderAuth } from './types.js';
import { useFastDecoders } from './mime-decoders.js';
import { decodeHeaderWords, hasUtf7Words, transcodeUtf7Words, useUtf7TextParts } from './utf7.js';

useFastDecoders();
useUtf7TextParts();

type Limits = PhishXConfig['limits'];
type Parsed = Awaited<ReturnType<typeof PostalMime.parse>>;

/** Count MIME leaf parts in postal-mime's tree (internal `root`; falls back to the public view). */
function countParts(parser: unknown, parsed: Parsed): number {
  const root = (parser as { root?: { childNodes?: unknown[] } }).root;
  if (!root || !Array.isArray(root.childNodes)) return 1 + parsed.attachments.length;
  let n = 0;
  const stack: Array<{ childNodes?: unknown[] }> = [root];
  while (stack.length) {
    const node = stack.pop()!;
    const kids = node.childNodes ?? [];
    if (kids.length === 0) n++;
    for (const k of kids) stack.push(k as { childNodes?: unknown[] });
  }
  return n;
}

function firstMailbox(a: Parsed['from']): MailAddress | null {
  if (!a) return null;
  if (a.address !== undefined) return toMailAddress(a.name, a.address);
  const m = a.group?.[0];
  return m ? toMailAddress(m.name, m.address) : toMailAddress(a.name, '');
}

/** The longest From header read for its mailboxes (fromAmbiguity); a longer one is itself reported. */
const MAX_FROM_CHARS = 16_384;

/**
 * Why a message's From does not name one sender, null when it does: the header given more
 * than once, or several mailboxes in it without a Sender header (RFC 5322 3.6.2 asks for one
 * then). Which of them a reader shows and which one DMARC and PhishX check can differ — the
 * spoofing the "Composition Kills" study (USENIX Security 2020) found in mail services and
 * clients; Gmail refuses such mail as not RFC 5322 compliant. Pure.
 */
export function fromAmbiguity(headers: readonly { name: string; value: string }[]): string | null {
  const froms = headers.filter((h) => h.name === 'from');
  const quote = (v: string): string => `'${v.trim().slice(0, 60)}'`;
  if (froms.length > 1)
    return `From given ${froms.length} times: ${froms
      .slice(0, 2)
      .map((h) => quote(h.value))
      .join(' and ')}`;
  if (!froms.length || headers.some((h) => h.name === 'sender')) return null;
  const value = froms[0].value;
  // No mailer writes a From this long; parsing it whole costs ~0.5 s at 100,000 mailboxes.
  if (value.length > MAX_FROM_CHARS) return `From of ${value.length} characters`;
  if (value.indexOf('@') === value.lastIndexOf('@')) return null;
  let mailboxes: string[];
  try {
    mailboxes = PostalMime.addressParser(value, { flatten: true }).flatMap((a) => (a.address?.includes('@') ? [a.address] : []));
  } catch {
    return null; // a From the parser cannot read is SENDER_MALFORMED's to judge
  }
  return mailboxes.length > 1 ? `From names ${mailboxes.length} mailboxes and no Sender: ${mailboxes.slice(0, 2).map(quote).join(', ')}` : null;
}

/** Bound a string to `max` UTF-16 units, reporting whether it was cut. */
function bound(s: string, max: number): [string, boolean] {
  return s.length > max ? [s.slice(0, max), true] : [s, false];
}

/** Links on hosts not collected yet taken past the bound of maxCollected (see collect in extractScanInput). */
const NEW_HOSTS_PAST_BOUND = 1000;
/** Distinct links looked at past that bound (each parsed for its host) before the rest is left unread. */
const LOOKS_PAST_BOUND = 50_000;

/** How far past `[limits] max_decoded_bytes` the HTML is still read for links (linear, ~50 ms per MB). */
const LINK_SCAN_FACTOR = 16;

/** How far into a part (the body's HTML and text, an attachment) links are read. */
function linkReach(limits: Limits): number {
  return LINK_SCAN_FACTOR * limits.max_decoded_bytes;
}

/** HTML read for its links alone, as far and as many as a message's own (no text kept). */
function scanForLinks(html: string, limits: Limits): HtmlScan {
  return scanHtml(html.slice(0, linkReach(limits)), maxCollected(limits), 0);
}

/** What a reader can click or submit: every link but image sources. */
function clickable(links: readonly HtmlLink[]): string[] {
  return links.flatMap((l) => (l.kind === 'img' ? [] : [l.url]));
}

/** Links taken from one QR code's text at most (a code holds one; its text is the sender's to write). */
const MAX_LINKS_PER_CODE = 5;

const ACTIVE_TYPES = /^(text\/html|application\/xhtml\+xml|image\/svg\+xml)$/;
const MAX_INNER_ARCHIVE = 10 * 1024 * 1024;
const MAX_PDF_INFLATED_BYTES = 32 * 1024 * 1024;

const PICTURE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif']);
/** Pictures of one PDF read for QR codes at most (a lure's page has one). */
const MAX_PDF_PICTURES = 20;
/** The name of the stream a password-protected OOXML document is kept in, as a compound file's directory writes it (UTF-16LE). */
const ENCRYPTED_PACKAGE = Buffer.from('EncryptedPackage', 'utf16le');
/** Zip entries the Office documents of one message may list in all (a document has tens; listing 10,000 costs ~0.1 s). */
const MAX_DOCUMENT_ENTRIES = 10_000;
/** Bytes the Office documents of one message may inflate in all (parts read for links, pictures). */
const MAX_DOCUMENT_INFLATED_BYTES = 32 * 1024 * 1024;
/** Office documents come as zips (OOXML sniffs as one from its first bytes) or under their own types. */
const OFFICE_TYPES = /^application\/(zip|vnd\.openxmlformats-officedocument\.|vnd\.ms-[\w.]+\.(main|macroenabled)|vnd\.oasis\.opendocument\.)/;

/** What describeAttachment spends over all attachments of one message. */
interface MessageBudgets {
  /** PDFs' object streams inflated for their links. */
  pdfBytes: number;
  /** PDFs whose image objects were not all read. */
  pdfPicturesCut: number;
  /** Office documents' parts inflated. */
  documents: InflateBudget;
  /**
   * Markup inflated out of zips and parsed for links — Office documents' XML, a zip's web
   * pages, attached messages and calendar files: `[limits] max_decoded_bytes` (2 MiB at the
   * default; a few KB of a crafted zip inflate to it, and parsing that costs up to ~0.2 s).
   */
  documentXml: { left: number; readonly total: number };
  /** Files taken out of zips to be read as if attached (MAX_ZIPPED_BYTES, 10,000 entries looked at), and how many more may be. */
  zipped: InflateBudget;
  zippedFilesLeft: number;
  /** RAR, 7z, tar … archives still to be opened for their files (a 7-Zip instance each), and the milliseconds 7-Zip may still take for it. */
  sevenZipLeft: number;
  sevenZipMsLeft: number;
  /** Zip and Office attachments still to be opened as Office documents (each costs ~1 ms). */
  documentsLeft: number;
  /** What was not read of the documents, at any depth (an attached message's too): those past documentsLeft, and why part of one was left. */
  documentsUnopened: string[];
  documentsUnread: string[];
}

/** What every attachment of one message is read with: the limits, the budgets they share, and where their pictures go (to be read for QR codes). */
interface Reading {
  /** Milliseconds, for what 7-Zip takes (injected in tests). */
  clock: () => number;
  limits: Limits;
  budgets: MessageBudgets;
  pictures: Picture[];
}

/** Where an attachment is: inside an attached message (whose own attached messages are not opened), in how many zips (opened MAX_ZIP_DEPTH deep). */
interface Placement {
  inMessage?: boolean;
  zipDepth?: number;
  /** What it was taken out of: a zip (whose listing goes into the zips in it), or an archive 7-Zip read (whose listing does not). */
  parent?: 'zip' | '7-zip';
}

/** Files of a zip read as if attached, most telling first (web pages, then documents and messages, then calendar files, then pictures). */
function zippedRank(name: string): number | null {
  const kind = zippedKind(name);
  return kind ? ZIPPED_RANK[kind] : null;
}

/**
 * The facts of one attachment: type, hash, and what a reader can follow in it (links of HTML,
 * PDF, Office, calendar files and attached messages; pictures go to `reading.pictures` for QR
 * codes). A zip's documents, pages and pictures are read as if attached (`contents`).
 */
async function describeAttachment(att: Parsed['attachments'][number], reading: Reading, where: Placement = {}): Promise<AttachmentInfo> {
  const { limits, budgets, pictures } = reading;
  const inMessage = where.inMessage === true;
  const content = att.content;
  const buf =
    typeof content === 'string'
      ? Buffer.from(content, att.encoding === 'base64' ? 'base64' : 'utf8')
      : Buffer.from(content instanceof ArrayBuffer ? new Uint8Array(content) : content);
  let sniffed: string | null;
  try {
    sniffed = (await fileTypeFromBuffer(buf.subarray(0, 4100)))?.mime ?? null;
  } catch {
    sniffed = null;
  }
  const info: AttachmentInfo = {
    filename: att.filename,
    declaredType: att.mimeType,
    sniffedType: sniffed,
    size: buf.length,
    sha256: createHash('sha256').update(buf).digest('hex'),
    disposition: att.disposition,
  };
  const name = (att.filename ?? '').toLowerCase();
  if (sniffed && PICTURE_TYPES.has(sniffed) && limits.max_qr_pixels > 0)
    pictures.push({ name: att.filename ?? (att.related ? 'inline picture' : 'attached picture'), bytes: buf });
  if (ACTIVE_TYPES.test(att.mimeType) || /\.(html?|xhtml|svg|shtml)$/.test(name)) {
    // As far and as many links as the body's (no text kept): padding — pixels, hidden text —
    // before the form or link must not push it out of sight.
    const h = scanForLinks(buf.subarray(0, linkReach(limits)).toString('utf8'), limits);
    info.active = { forms: h.forms, passwordFields: h.passwordFields, scripts: h.scripts };
    info.links = clickable(h.links);
  }
  const isPdf = sniffed === 'application/pdf' || (!sniffed && name.endsWith('.pdf'));
  // A PDF's pictures too: "scan to sign" over a code is a PDF lure with no link in it.
  if (isPdf && limits.max_qr_pixels > 0) {
    const p = pdfPictures(buf, att.filename ?? 'the PDF', MAX_PDF_PICTURES);
    pictures.push(...p.pictures);
    if (p.cut) budgets.pdfPicturesCut++;
  }
  if (isPdf && budgets.pdfBytes > 0) {
    const pdf = pdfLinks(buf, { maxInflatedBytes: budgets.pdfBytes, maxLinks: maxCollected(limits) });
    info.pdf = true;
    info.links = pdf.links;
    budgets.pdfBytes -= pdf.inflatedBytes;
    if (pdf.cut) budgets.documentsUnread.push(`${att.filename ?? 'a PDF'}: ${pdf.cut}`);
  }
  // Word, Excel and PowerPoint write a password-protected document as a compound file holding an `EncryptedPackage` stream.
  if (sniffed === 'application/x-cfb' && buf.indexOf(ENCRYPTED_PACKAGE) >= 0) info.encrypted = true;
  const office = (sniffed && OFFICE_TYPES.test(sniffed)) || (!sniffed && (OFFICE_TYPES.test(att.mimeType.toLowerCase()) || OFFICE_NAME.test(name)));
  // Past them, not opened: never a silent pass (ATTACHMENT_UNINSPECTABLE), or 50 junk zips would hide the lure's document.
  if (office && budgets.documentsLeft <= 0) budgets.documentsUnopened.push(att.filename ?? `(unnamed ${att.mimeType})`);
  else if (office) {
    budgets.documentsLeft--;
    // Opened in Word, Excel, PowerPoint, LibreOffice: its links are clicked there, its pictures seen.
    const doc = await officeContent(
      buf,
      att.filename ?? 'the document',
      { maxLinks: maxCollected(limits), maxPictures: limits.max_qr_pixels > 0 ? MAX_PDF_PICTURES : 0, xml: budgets.documentXml },
      budgets.documents,
    );
    if (doc) {
      info.office = { remote: doc.remote };
      info.links = doc.links;
      pictures.push(...doc.pictures);
      if (doc.unread) budgets.documentsUnread.push(`${att.filename ?? 'an Office document'}: ${doc.unread}`);
    } else if ((where.zipDepth ?? 0) < MAX_ZIP_DEPTH) {
      // A zip that is no Office document: the invoice.html, .pdf or .docx in it is opened with a
      // click, and a lure zips it for the filters that read attachments but not archives.
      const contents = await zippedContents(buf, att.filename ?? 'the zip', reading, where, 'zip');
      if (contents) info.contents = contents;
    }
  }
  const sevenZip = (sniffed && SEVEN_ZIP_TYPES.has(sniffed)) || (!sniffed && SEVEN_ZIP_NAME.test(name));
  const nested = (where.zipDepth ?? 0) < MAX_ZIP_DEPTH;
  if (sevenZip && nested && budgets.sevenZipLeft > 0 && budgets.sevenZipMsLeft > 0) {
    // A RAR, 7z, tar …: its page, PDF or document is opened with a click as a zip's is.
    budgets.sevenZipLeft--;
    const started = reading.clock();
    const contents = await zippedContents(buf, att.filename ?? UNNAMED_ARCHIVE, reading, where, '7-zip');
    budgets.sevenZipMsLeft -= reading.clock() - started;
    if (contents) info.contents = contents;
  } else if (sevenZip && nested)
    budgets.documentsUnread.push(
      budgets.sevenZipLeft > 0
        ? `${att.filename ?? 'an archive'}: past the ${MAX_SEVEN_ZIP_MS} ms 7-Zip may take to read the message's archives`
        : `${att.filename ?? 'an archive'}: past the first ${MAX_SEVEN_ZIP_ARCHIVES} such archives of the message`,
    );
  if (CALENDAR_TYPES.test(att.mimeType.toLowerCase()) || sniffed === 'text/calendar' || /\.(ics|vcs|ifb)$/.test(name)) {
    // A meeting invitation: the client shows its description, location and URL with their
    // links clickable; as far and as many links as the body's.
    const text = buf.subarray(0, linkReach(limits)).toString('utf8');
    if (isCalendar(text)) {
      info.calendar = true;
      info.links = calendarLinks(text, maxCollected(limits));
    }
  }
  if ((att.mimeType.toLowerCase() === 'message/rfc822' || name.endsWith('.eml')) && !inMessage) {
    info.message = true;
    const read = await attachedMessage(buf, att.filename ?? 'attached message', reading, where.zipDepth ?? 0);
    const which = `attached message${att.filename ? ` ${att.filename}` : ''}`;
    if ('unreadable' in read) info.unreadable = `${which}: ${read.unreadable}`.slice(0, 200);
    else {
      info.links = read.links;
      if (read.ambiguous.length) info.ambiguous = `${which}: ${read.ambiguous.join('; ')}`.slice(0, 300);
      // Judged as attachments (a login page, a program, a rar in the forwarded lure), named `message.eml/file`.
      if (read.attachments.length) info.contents = [...(info.contents ?? []), ...read.attachments];
    }
  }
  // Listed by inspectArchives; a zip taken out of a zip is listed with the zip it is in (listZip
  // goes into it), an archive taken out of anything else on its own (a zip in a RAR, a RAR in a zip).
  const zipped = sniffed === 'application/zip' || (!sniffed && name.endsWith('.zip'));
  if (!(zipped && where.parent === 'zip')) {
    if (zipped) info.listed = 'zip';
    else if (sevenZip) info.listed = '7-zip';
    else if (!sniffed && UUENCODED_NAME.test(name)) info.listed = 'uuencoded';
    if (info.listed) archiveContent.set(info, buf);
  }
  return info;
}

/**
 * The files of a zip (or of an archive 7-Zip reads) read as if attached (`AttachmentInfo.contents`), each named `zip/path`,
 * within the message's budgets; undefined when none was taken. What is left is recorded. `kind`:
 * which reader takes them out, `zippedFiles` or 7-Zip's `sevenZipFiles`.
 */
async function zippedContents(buf: Buffer, zipName: string, reading: Reading, where: Placement, kind: 'zip' | '7-zip'): Promise<AttachmentInfo[] | undefined> {
  const { budgets } = reading;
  // Markup costs its sender nothing zipped (10 MB of tags deflate to 10 KB): pages, messages and
  // calendar files are read as far as the markup budget of the message's documents goes.
  const markup = budgets.documentXml;
  const prefix = (path: string, declared: number): number | null => {
    const kind = zippedKind(path);
    if (kind !== 'page' && kind !== 'message' && kind !== 'calendar') return null;
    const take = Math.min(declared, markup.left);
    markup.left -= take;
    return take;
  };
  const opts = { maxBytes: MAX_ZIPPED_BYTES, maxFiles: Math.min(MAX_ZIPPED_FILES, budgets.zippedFilesLeft), prefix };
  const zipped =
    kind === 'zip' ? await zippedFiles(buf, zippedRank, opts, budgets.zipped) : await sevenZipFiles(buf, zipName, zippedRank, opts, budgets.zipped);
  budgets.zippedFilesLeft -= zipped?.files.length ?? 0;
  let contents: AttachmentInfo[] | undefined;
  if (zipped?.files.length) {
    contents = [];
    for (const f of zipped.files) {
      const inner: Parsed['attachments'][number] = {
        filename: `${zipName}/${f.name}`,
        mimeType: 'application/octet-stream',
        disposition: 'attachment',
        content: f.bytes,
      };
      const placed: Placement = { inMessage: where.inMessage, zipDepth: (where.zipDepth ?? 0) + 1, parent: kind };
      if (f.bytes.length) contents.push(await describeAttachment(inner, reading, placed));
    }
    const cut = zipped.files.filter((f) => f.cut).map((f) => f.name);
    if (cut.length) budgets.documentsUnread.push(`${zipName}: ${cut.join(', ')} past the ${markup.total} bytes of markup read per message`);
  }
  if (zipped?.unread) budgets.documentsUnread.push(`${zipName}: ${zipped.unread}`);
  return contents;
}

/**
 * What a mail client shows in an attached message (`message/rfc822`, a `.eml` file: it opens
 * as a message, its links clickable): links and form targets of its HTML, links in its text,
 * as many as the message's own are read; and those of its own attachments (HTML, PDF, Office,
 * calendar files), whose pictures go to `pictures` for QR codes — a lure forwarded with its
 * PDF, a report of a phish with the phish's document, within the message's budgets. Its
 * attachments are returned too, named `message/file`, to be judged as attachments are (their
 * links are the message's: another sender's). Messages attached inside it are not opened.
 * Never throws: one the parser refuses is `unreadable` (held like an unparseable message).
 */
async function attachedMessage(
  buf: Buffer,
  messageName: string,
  reading: Reading,
  zipDepth: number,
): Promise<{ links: string[]; attachments: AttachmentInfo[]; ambiguous: string[] } | { unreadable: string }> {
  const { limits } = reading;
  let inner: Parsed;
  const parser = new PostalMime({ maxNestingDepth: limits.max_nesting_depth, attachmentEncoding: 'arraybuffer', rfc822Attachments: true });
  try {
    inner = await parser.parse(buf);
  } catch (err) {
    return { unreadable: errorMessage(err) };
  }
  // As far as the message's own links are read (padding must not hide them).
  const links = new Set(inner.html ? clickable(scanForLinks(inner.html, limits).links) : []);
  for (const u of findUrls((inner.text ?? '').slice(0, linkReach(limits)))) {
    if (links.size >= maxCollected(limits)) break;
    links.add(u.url);
  }
  const attachments: AttachmentInfo[] = [];
  for (const a of attachmentsToExamine(inner.attachments, limits.max_parts)) {
    if (links.size >= maxCollected(limits)) break;
    const found = await describeAttachment(a, reading, { inMessage: true, zipDepth });
    for (const f of withContents(found)) for (const l of f.links ?? []) links.add(l);
    attachments.push(fileOf(found, messageName));
  }
  return { links: [...links].slice(0, maxCollected(limits)), attachments, ambiguous: mimeAmbiguities(parser) };
}

/** `a` (and what was read out of it) renamed as a file of `holder`, its links left to the holder's. */
function fileOf(a: AttachmentInfo, holder: string): AttachmentInfo {
  a.filename = `${holder}/${a.filename ?? `(unnamed ${a.declaredType})`}`;
  a.links = undefined;
  for (const c of a.contents ?? []) fileOf(c, holder);
  return a;
}

/** The bytes of archive attachments, kept for `inspectArchives` (not part of the ScanInput's data). */
const archiveContent = new WeakMap<AttachmentInfo, Buffer>();

export interface ArchiveInspection {
  maxEntries: number;
  maxDepth: number;
  /** Bytes the message's archives may inflate in all (inner zips are inflated to be listed). */
  maxInflatedBytes: number;
  /** Aborted when the scan budget ends: decompression stops at once. */
  signal?: AbortSignal;
}

/**
 * List the archive attachments of `input` (zips and zips inside them; other formats by
 * 7-Zip, each level on its own: those taken out of archives too), filling each one's `archive`.
 * The heavy part of a scan, so it runs after the cheap analyzers, under one decompression
 * budget for the whole message and the scan's abort signal. Never throws.
 */
export async function inspectArchives(input: ScanInput, opts: ArchiveInspection): Promise<void> {
  const budget = new InflateBudget(opts.maxInflatedBytes, opts.maxEntries, opts.signal);
  let sevenZipLeft = MAX_SEVEN_ZIP_ARCHIVES;
  // Also the archives attached to an attached message (a forwarded lure's rar).
  for (const a of input.attachments.flatMap(withContents)) {
    const buf = archiveContent.get(a);
    if (!buf || a.archive) continue;
    const info = emptyArchiveInfo();
    a.archive = info;
    try {
      if (a.listed === '7-zip' && sevenZipLeft <= 0) {
        info.done = true;
        info.uninspected = `past the first ${MAX_SEVEN_ZIP_ARCHIVES} RAR, 7z, tar and other such archives of the message`;
      } else if (a.listed === '7-zip') {
        sevenZipLeft--;
        await listSevenZip(buf, a.filename ?? UNNAMED_ARCHIVE, budget, info);
      } else if (a.listed === 'uuencoded') listUuencoded(buf, budget, info);
      else await listZip(buf, { maxDepth: opts.maxDepth, maxInnerBytes: MAX_INNER_ARCHIVE }, budget, info);
    } catch (err) {
      info.uninspected = `archive listing failed: ${errorMessage(err)}`.slice(0, 200);
    }
  }
}

/** Links read from one message at most (each is cheap; the bound is against hostile input). */
function maxCollected(limits: Limits): number {
  return Math.max(5000, limits.max_urls * 10);
}

const SOURCE_RANK: Record<ExtractedUrl['source'], number> = { href: 0, form: 0, area: 0, qr: 0, attachment: 1, message: 1, pdf: 1, text: 1, img: 2 };

/**
 * Which distinct links the URL analyzers see when there are more than `max`: links a
 * reader clicks (anchors, forms, map areas) before links in text and attachments before
 * images, and one link of every host before a second of any, so padding a message with
 * pixels or with links to one site cannot push another host out. The rest is returned for
 * the feed lookups, which take every link. Pure.
 */
export function chooseUrls(found: readonly ExtractedUrl[], max: number): { analysed: ExtractedUrl[]; rest: ExtractedUrl[]; hostsLeftOut: number } {
  if (found.length <= max) return { analysed: [...found], rest: [], hostsLeftOut: 0 };
  const order = byUrlPriority(found);
  const analysed = new Set(order.slice(0, max));
  const hostOf = (u: ExtractedUrl): string => u.host || u.raw;
  const covered = new Set([...analysed].map(hostOf));
  const hosts = new Set(found.map(hostOf));
  return { analysed: found.filter((u) => analysed.has(u)), rest: order.slice(max), hostsLeftOut: hosts.size - covered.size };
}

/** `found` in the order links deserve a look: by source (clicked links first), and one link of every host before a second of any. Pure. */
export function byUrlPriority<T extends Pick<ExtractedUrl, 'source' | 'host' | 'raw'>>(found: readonly T[]): T[] {
  const ranked = found.map((u, i) => ({ u, i })).sort((a, b) => SOURCE_RANK[a.u.source] - SOURCE_RANK[b.u.source] || a.i - b.i);
  const hosts = new Set<string>();
  const first: T[] = [];
  const later: T[] = [];
  for (const { u } of ranked) {
    const h = u.host || u.raw;
    if (hosts.has(h)) later.push(u);
    else {
      hosts.add(h);
      first.push(u);
    }
  }
  return [...first, ...later];
}

/** Minimal header split for messages the MIME parser refuses: keeps URL analysis possible. */
function fallbackInput(raw: Buffer, envelope: Envelope, limits: Limits, reason: string): ScanInput {
  const text = raw.subarray(0, limits.max_decoded_bytes).toString('latin1');
  const sep = text.search(/\r?\n\r?\n/);
  const headerBlock = sep >= 0 ? text.slice(0, sep) : text;
  const headers = headerBlock
    .replace(/\r?\n[ \t]+/g, ' ')
    .split(/\r?\n/)
    .map((l) => {
      const i = l.indexOf(':');
      return i > 0 ? { name: l.slice(0, i).trim().toLowerCase(), value: decodeHeaderWords(l.slice(i + 1).trim()) } : null;
    })
    .filter((h): h is { name: string; value: string } => h !== null);
  const limitsHit: LimitHit[] = [{ code: 'MIME_UNPARSEABLE', detail: reason.slice(0, 200) }];
  const urls: ExtractedUrl[] = [];
  for (const u of findUrls(text)) {
    if (urls.length >= limits.max_urls) {
      limitsHit.push({ code: 'LIMIT_URLS', detail: `more than ${limits.max_urls} URLs` });
      break;
    }
    const d = describeUrl(u.url, 'text');
    if (d) urls.push(u.bare ? { ...d, bare: true } : d);
  }
  const fromHeader = headers.find((h) => h.name === 'from')?.value ?? '';
  let from: MailAddress | null = null;
  try {
    const first = fromHeader ? PostalMime.addressParser(fromHeader, { flatten: true })[0] : undefined;
    if (first && first.address !== undefined) from = toMailAddress(first.name, first.address);
  } catch {
    from = null;
  }
  const envelopeFrom = envelopeSender(envelope);
  const fromAmbiguous = fromAmbiguity(headers);
  return {
    headers,
    subject: headers.find((h) => h.name === 'subject')?.value ?? '',
    from,
    replyTo: [],
    recipients: envelope.rcptTo.map((r) => r.toLowerCase()),
    fromHeader,
    ...(fromAmbiguous ? { fromAmbiguous } : {}),
    returnPath: envelopeFrom,
    envelopeFrom,
    auth: authOf(envelope),
    text: sep >= 0 ? text.slice(sep) : '',
    html: '',
    htmlText: '',
    htmlVisibleText: '',
    passwordFields: 0,
    parts: 1,
    urls,
    moreUrls: [],
    attachments: [],
    limits: limitsHit,
    rawBytes: raw.length,
  };
}

/** The envelope MAIL FROM as an address, null when it is empty (bounces) or unknown. */
function envelopeSender(envelope: Envelope): MailAddress | null {
  return envelope.mailFrom ? toMailAddress('', envelope.mailFrom) : null;
}

/** The envelope's SPF / DKIM results, null when neither was checked. */
function authOf(envelope: Envelope): SenderAuth | null {
  return envelope.auth && (envelope.auth.spf || envelope.auth.dkim) ? envelope.auth : null;
}

/**
 * Raw RFC 5322 message ─► ScanInput. Never throws for bad input: anything the parser
 * refuses becomes a `MIME_UNPARSEABLE` limit hit and a best-effort header/text view.
 */
export async function extractScanInput(raw: Buffer, envelope: Envelope, limits: Limits, clock: () => number = () => performance.now()): Promise<ScanInput> {
  const parser = new PostalMime({ maxNestingDepth: limits.max_nesting_depth, attachmentEncoding: 'arraybuffer', rfc822Attachments: true });
  let parsed: Parsed;
  try {
    // postal-mime copies a view into a new ArrayBuffer; bytes that are a whole ArrayBuffer
    // (the exact-size copy the pool transfers) it reads in place. A buffer the plugin handed
    // over usually has room to spare at its end, so it is copied here: in the scan thread,
    // not on Haraka's main thread.
    const whole = raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength && raw.buffer instanceof ArrayBuffer;
    parsed = await parser.parse(whole ? raw.buffer : raw);
  } catch (err) {
    return fallbackInput(raw, envelope, limits, errorMessage(err));
  }

  const hits: LimitHit[] = [];
  const parts = countParts(parser, parsed);
  if (parts > limits.max_parts) hits.push({ code: 'LIMIT_PARTS', detail: `${parts} parts, ${limits.max_parts} examined` });
  const ambiguous = mimeAmbiguities(parser);
  if (ambiguous.length) hits.push({ code: 'MIME_AMBIGUOUS', detail: ambiguous.join('; ').slice(0, 300) });

  // Decoded text budget shared by text and HTML (HTML first: it carries the links).
  let budget = limits.max_decoded_bytes;
  const [html, htmlCut] = bound(parsed.html ?? '', budget);
  budget -= html.length;
  const [text, textCut] = bound(parsed.text ?? '', Math.max(0, budget));
  if (htmlCut || textCut) {
    hits.push({ code: 'LIMIT_DECODED_BYTES', detail: `text+html larger than ${limits.max_decoded_bytes} bytes, rest not analysed` });
  }

  // Every distinct link is collected first (bounded), then chosen: padding with thousands
  // of pixels must not push the real link out of the analysis. Past the bound a link on a host
  // not collected yet is still taken (NEW_HOSTS_PAST_BOUND more): thousands of one site's
  // links cannot push another site's out, only links to thousands of different hosts can,
  // and any link left out is recorded (LIMIT_URL_HOSTS).
  const found: ExtractedUrl[] = [];
  const seen = new Set<string>();
  const hosts = new Set<string>();
  let collectCut = false;
  let pastBound = 0;
  const linkBound = maxCollected(limits);
  /** No further link can be taken: the rest of a text need not be read. */
  const collectDone = (): boolean => pastBound >= LOOKS_PAST_BOUND || found.length >= linkBound + NEW_HOSTS_PAST_BOUND;
  const collect = (raw: string, source: ExtractedUrl['source'], anchorText?: string, bare = false, drawn = false): void => {
    const key = `${source === 'href' ? `href\u0000${anchorText ?? ''}` : source}\u0000${raw}`;
    if (seen.has(key)) return;
    const past = found.length >= linkBound;
    if (past) {
      if (collectDone()) {
        collectCut = true;
        return;
      }
      pastBound++;
    }
    seen.add(key); // a repeat, taken or not, costs nothing more
    const d = describeUrl(raw, source, anchorText);
    if (!d) return;
    const host = d.host || d.raw;
    if (past && hosts.has(host)) {
      collectCut = true;
      return;
    }
    hosts.add(host);
    found.push(bare || drawn ? { ...d, ...(bare ? { bare } : {}), ...(drawn ? { drawn } : {}) } : d);
  };
  let dataPictures: ReturnType<typeof htmlPictures> = { pictures: [], more: 0 };
  let shownPictures = 0;
  let drawnGrids: DrawnGrid[] = [];
  let htmlText = '';
  let htmlVisibleText = '';
  // The text a reader is shown: the HTML's visible text where there is HTML (a plain-text
  // alternative is not shown beside it), else the plain text.
  let shownText = text;
  let passwordFields = 0;
  if (html) {
    // Links past the decoded-bytes limit are still read (padding must not push a lure's link
    // out of sight): the whole HTML (and below, the text) up to LINK_SCAN_FACTOR × the limit;
    // the visible text only up to the limit.
    const whole = htmlCut ? (parsed.html ?? '').slice(0, linkReach(limits)) : html;
    const scanned = scanHtml(whole, linkBound + LOOKS_PAST_BOUND + 1, html.length);
    htmlText = scanned.text;
    if (scanned.hiddenChars) htmlVisibleText = scanned.visibleText;
    shownText = scanned.visibleText; // the whole text when nothing is hidden
    passwordFields = scanned.passwordFields;
    if (scanned.sheetWorkCut)
      hits.push({ code: 'LIMIT_STYLE_RULES', detail: `style sheets past ${MAX_SHEET_WORK} rule matches; later elements read without them` });
    for (const l of scanned.links) {
      collect(l.url, l.kind, l.anchorText);
      if (l.kind === 'img' && /^data:image\//i.test(l.url)) shownPictures++;
    }
    shownPictures += scanned.drawn.length;
    if (limits.max_qr_pixels > 0) {
      dataPictures = htmlPictures(scanned.links);
      drawnGrids = scanned.drawn;
    }
  }
  const rawSeen = new Set(found.map((u) => u.raw));
  const textForLinks = textCut ? (parsed.text ?? '').slice(0, linkReach(limits)) : text;
  for (const u of findUrls(textForLinks)) {
    if (!rawSeen.has(u.url)) collect(u.url, 'text', undefined, u.bare);
    if (collectDone()) break;
  }

  const attachments: AttachmentInfo[] = [];
  const budgets: MessageBudgets = {
    pdfBytes: MAX_PDF_INFLATED_BYTES,
    pdfPicturesCut: 0,
    documents: new InflateBudget(MAX_DOCUMENT_INFLATED_BYTES, MAX_DOCUMENT_ENTRIES),
    documentXml: { left: limits.max_decoded_bytes, total: limits.max_decoded_bytes },
    zipped: new InflateBudget(MAX_ZIPPED_BYTES, MAX_DOCUMENT_ENTRIES),
    zippedFilesLeft: MAX_ZIPPED_FILES_PER_MESSAGE,
    sevenZipLeft: MAX_SEVEN_ZIP_ARCHIVES,
    sevenZipMsLeft: MAX_SEVEN_ZIP_MS,
    documentsLeft: MAX_DOCUMENTS,
    documentsUnopened: [],
    documentsUnread: [],
  };
  const pictures: Picture[] = [];
  const reading: Reading = { clock, limits, budgets, pictures };
  for (const att of attachmentsToExamine(parsed.attachments, limits.max_parts)) attachments.push(await describeAttachment(att, reading));
  const everyFile = attachments.flatMap(withContents);
  const unreadable = everyFile.find((a) => a.unreadable);
  if (unreadable?.unreadable) hits.push({ code: 'MIME_UNPARSEABLE', detail: unreadable.unreadable });
  const attachedAmbiguous = ambiguous.length ? undefined : everyFile.find((a) => a.ambiguous)?.ambiguous;
  if (attachedAmbiguous) hits.push({ code: 'MIME_AMBIGUOUS', detail: attachedAmbiguous });
  // Links inside HTML attachments (the "open the attached invoice" lure) get the same URL
  // analysis and reputation lookups as links in the body.
  for (const a of everyFile) for (const l of a.links ?? []) collect(l, a.message ? 'message' : a.pdf ? 'pdf' : 'attachment');
  for (const unread of budgets.documentsUnread)
    hits.push({ code: 'LIMIT_DOCUMENT_PARTS', detail: `${unread}; the rest not read for links and pictures`.slice(0, 300) });
  if (budgets.documentsUnopened.length)
    hits.push({
      code: 'ATTACHMENT_UNINSPECTABLE',
      detail:
        `${budgets.documentsUnopened.length} zip or Office attachment(s) past the first ${MAX_DOCUMENTS} of the message not opened: ${budgets.documentsUnopened.join(', ')}`.slice(
          0,
          300,
        ),
    });
  const textGrids = blockTextGrids(text);
  shownPictures += textGrids.length;
  // A QR code's link is opened like a clicked one (on a phone): the same URL analysis.
  if (limits.max_qr_pixels > 0) {
    // Codes drawn without a picture (table cells, block characters) too: the way past reading pictures.
    // A message that shows little text is read further: a lure sent as one picture has nothing else to read.
    const qrBudget = qrPixelBudget(limits, shownText);
    const qr = qrCodesIn([...pictures, ...dataPictures.pictures], qrBudget);
    const unreadPictures = qr.unread + dataPictures.more;
    const drawn = drawnCodesIn([...drawnGrids, ...textGrids]);
    for (const code of [...qr.codes, ...drawn.codes]) {
      let n = 0;
      for (const u of findUrls(code.text)) {
        if (n++ >= MAX_LINKS_PER_CODE) break;
        collect(u.url, 'qr', undefined, u.bare, code.drawn === true);
      }
    }
    if (unreadPictures)
      hits.push({ code: 'LIMIT_QR_PIXELS', detail: `${unreadPictures} picture(s) not read for QR codes: past ${qrBudget} pixels or ${MAX_PICTURES} pictures` });
    if (budgets.pdfPicturesCut)
      hits.push({ code: 'LIMIT_QR_PIXELS', detail: `${budgets.pdfPicturesCut} PDF(s) of more than 5000 image objects: the rest not read for QR codes` });
    if (drawn.unread)
      hits.push({
        code: 'LIMIT_QR_PIXELS',
        detail: `${drawn.unread} drawn grid(s) not read for QR codes: past ${MAX_DRAWN_GRIDS} grids or ${MAX_DRAWN_PIXELS} pixels`,
      });
  }
  const chosen = chooseUrls(found, limits.max_urls);
  if (chosen.hostsLeftOut || collectCut) {
    hits.push({
      code: 'LIMIT_URL_HOSTS',
      detail: collectCut
        ? `more than ${maxCollected(limits)} links, rest not read`
        : `links to more than ${limits.max_urls} different hosts, ${chosen.hostsLeftOut} not analysed`,
    });
  } else if (chosen.rest.length) {
    hits.push({
      code: 'LIMIT_URLS',
      detail: `${found.length} distinct links, ${limits.max_urls} analysed (every host among them); all looked up in the feeds`,
    });
  }
  const urls = chosen.analysed;

  const headers = parsed.headers.map((h) => ({ name: h.key, value: decodeHeaderWords(h.value) }));
  // postal-mime reads encoded words in UTF-7 as windows-1252: the subject and names again, decoded (utf7.ts).
  const rawSubject = parsed.headers.find((h) => h.key === 'subject')?.value ?? '';
  const rawFrom = parsed.headers.find((h) => h.key === 'from')?.value ?? '';
  const subject = hasUtf7Words(rawSubject) ? (headers.find((h) => h.name === 'subject')?.value ?? '') : (parsed.subject ?? '');
  const fromAddress = hasUtf7Words(rawFrom) ? (PostalMime.addressParser(transcodeUtf7Words(rawFrom))[0] as Parsed['from']) : parsed.from;
  const headerRcpts = [...(parsed.to ?? []), ...(parsed.cc ?? [])].flatMap((a) =>
    a.address !== undefined ? [a.address] : (a.group ?? []).map((m) => m.address),
  );
  const recipients = [...new Set([...envelope.rcptTo, ...headerRcpts].map((r) => r.trim().toLowerCase()).filter((r) => r.includes('@')))];
  const rpHeader = parsed.returnPath ?? '';
  const envelopeFrom = envelopeSender(envelope);
  const fromAmbiguous = fromAmbiguity(headers);
  return {
    headers,
    subject,
    from: firstMailbox(fromAddress),
    replyTo: (parsed.replyTo ?? []).map((a) => firstMailbox(a)).filter((a): a is MailAddress => a !== null),
    recipients,
    fromHeader: headers.find((h) => h.name === 'from')?.value ?? '',
    ...(fromAmbiguous ? { fromAmbiguous } : {}),
    returnPath: rpHeader ? toMailAddress('', rpHeader) : envelopeFrom,
    envelopeFrom,
    auth: authOf(envelope),
    text,
    html,
    htmlText,
    htmlVisibleText,
    passwordFields,
    parts,
    urls,
    moreUrls: chosen.rest,
    attachments,
    ...(shownPictures ? { shownPictures } : {}),
    limits: hits,
    rawBytes: raw.length,
  };
}
