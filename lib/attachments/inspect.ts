import type { AttachmentInfo } from '../message/types.js';
import type { Signal } from '../verdict/types.js';
import type { ArchiveEntry } from './archive.js';
import { CALENDAR_TYPES } from './calendar-links.js';

/** Extensions that run code when opened on Windows (or are containers that mount and run). */
export const EXECUTABLE_EXT = new Set([
  'exe',
  'scr',
  'com',
  'pif',
  'bat',
  'cmd',
  'vbs',
  'vbe',
  'js',
  'jse',
  'wsf',
  'wsh',
  'hta',
  'msi',
  'msp',
  'cpl',
  'jar',
  'ps1',
  'psm1',
  'lnk',
  'reg',
  'dll',
  'appx',
  'msix',
  'appinstaller',
  'application',
  'gadget',
  'inf',
  'scf',
  'chm',
  'iso',
  'img',
  'vhd',
  'vhdx',
  'one',
  'xll',
  'url',
  'library-ms',
  'search-ms',
]);
const MACRO_EXT = new Set(['docm', 'dotm', 'xlsm', 'xltm', 'xlam', 'pptm', 'potm', 'ppam', 'ppsm', 'sldm']);
const DOCUMENT_EXT = new Set([
  'pdf',
  'doc',
  'docx',
  'xls',
  'xlsx',
  'ppt',
  'pptx',
  'txt',
  'rtf',
  'jpg',
  'jpeg',
  'png',
  'gif',
  'odt',
  'ods',
  'csv',
  'html',
  'htm',
  'zip',
]);
const ARCHIVE_TYPES = new Set([
  'application/zip',
  'application/x-rar-compressed',
  'application/x-7z-compressed',
  'application/gzip',
  'application/x-tar',
  'application/vnd.rar',
]);
const EXECUTABLE_TYPES = new Set([
  'application/x-msdownload',
  'application/x-dosexec',
  'application/x-ms-shortcut',
  'application/vnd.microsoft.portable-executable',
  'application/x-elf',
  'application/x-mach-binary',
  'application/java-archive',
  'application/x-ms-installer',
  'application/x-msi',
]);

export function extensions(name: string): string[] {
  return name
    .toLowerCase()
    .replace(/[\s.]+$/, '')
    .split('.')
    .slice(1)
    .map((e) => e.trim());
}

/**
 * Other names mail clients declare common types under (Outlook and Windows send a zip as
 * application/x-zip-compressed, older mailers a PDF as application/x-pdf): the same family as
 * the registered name, so a legitimate attachment is not a "mismatch" for its client's naming.
 */
const DECLARED_ALIASES: Readonly<Record<string, string>> = {
  'application/x-zip-compressed': 'application/zip',
  'application/x-zip': 'application/zip',
  'application/zip-compressed': 'application/zip',
  'application/x-compressed': 'application/zip',
  'application/x-gzip': 'application/gzip',
  'application/x-gtar': 'application/x-tar',
  'application/x-rar': 'application/vnd.rar',
  'application/rar': 'application/vnd.rar',
  'application/x-7z': 'application/x-7z-compressed',
  'application/x-pdf': 'application/pdf',
  'application/acrobat': 'application/pdf',
  'application/vnd.pdf': 'application/pdf',
  'text/pdf': 'application/pdf',
  'application/x-msdos-program': 'application/x-msdownload',
  'application/x-executable': 'application/x-elf',
  'application/exe': 'application/x-msdownload',
  'application/x-exe': 'application/x-msdownload',
};

/** Families of text formats (see `family`): compatible with a declared or sniffed plain `text/…`. */
const TEXT_FORMATS = new Set(['calendar', 'contact', 'xml']);

/** Type families for declared-vs-sniffed comparison (coarse on purpose: image/png vs image/jpeg is fine). */
function family(declared: string): string {
  const mime = DECLARED_ALIASES[declared] ?? declared;
  if (EXECUTABLE_TYPES.has(mime)) return 'executable';
  if (ARCHIVE_TYPES.has(mime)) return 'archive';
  if (mime === 'application/pdf') return 'pdf';
  // XML documents (e-invoices — XRechnung, UBL, ZUGFeRD's XML — are sent as text/xml or
  // application/xml; the content sniffs as application/xml) and rich text (text/rtf, application/rtf).
  if (/^(text|application)\/([\w.-]+\+)?xml$/.test(mime)) return 'xml';
  if (mime === 'text/rtf' || mime === 'application/rtf') return 'office';
  if (mime.startsWith('image/')) return 'image';
  // Calendar and contact files are text, declared under several names (Google Calendar's
  // invite.ics is application/ics; its content sniffs as text/calendar).
  if (CALENDAR_TYPES.test(mime)) return 'calendar';
  if (/^(text\/(x-)?vcard|text\/directory|application\/vcard)$/.test(mime)) return 'contact';
  if (mime.startsWith('text/')) return 'text';
  // Office formats, and Outlook's .msg (application/vnd.ms-outlook: a compound file, x-cfb, as old Office files are).
  if (/officedocument|msword|ms-excel|ms-powerpoint|ms-outlook|ms-visio|ms-project|opendocument|x-cfb/.test(mime)) return 'office';
  if (mime.startsWith('audio/') || mime.startsWith('video/')) return 'media';
  return mime;
}

function entrySignals(entries: readonly ArchiveEntry[], attachment: string): Signal[] {
  const out: Signal[] = [];
  const exe = entries.find((e) => {
    const ext = extensions(e.name);
    return ext.length > 0 && EXECUTABLE_EXT.has(ext[ext.length - 1]);
  });
  if (exe) out.push({ code: 'ARCHIVE_EXECUTABLE', detail: `${attachment} contains ${exe.name}` });
  if (entries.some((e) => e.encrypted)) out.push({ code: 'ARCHIVE_ENCRYPTED', detail: `${attachment} is password-protected` });
  return out;
}

/** An attachment and the files read out of it (a zip's documents, those of the zips in it, an attached message's attachments): each has its own signals. */
export function withContents(a: AttachmentInfo): AttachmentInfo[] {
  return a.contents ? [a, ...a.contents.flatMap(withContents)] : [a];
}

export interface AttachmentLimits {
  maxRatio: number;
}

/** Attachment heuristics over the extracted facts. Pure. */
export function analyzeAttachments(attachments: readonly AttachmentInfo[], limits: AttachmentLimits): Signal[] {
  const out: Signal[] = [];
  // The files read out of a zip or an attached message are judged as attachments (a zipped .docm, a forwarded login page, a program named .pdf).
  for (const a of attachments.flatMap(withContents)) {
    const name = a.filename ?? '';
    const ext = extensions(name);
    const last = ext[ext.length - 1] ?? '';
    const shown = name || `(unnamed ${a.declaredType})`;
    if (EXECUTABLE_EXT.has(last) || (a.sniffedType && EXECUTABLE_TYPES.has(a.sniffedType))) out.push({ code: 'ATTACHMENT_EXECUTABLE', detail: shown });
    if (ext.length >= 2 && EXECUTABLE_EXT.has(last) && DOCUMENT_EXT.has(ext[ext.length - 2])) out.push({ code: 'ATTACHMENT_DOUBLE_EXTENSION', detail: shown });
    if (MACRO_EXT.has(last)) out.push({ code: 'ATTACHMENT_MACRO', detail: shown });
    if (a.active && (a.active.forms > 0 || a.active.passwordFields > 0 || a.active.scripts > 0)) {
      out.push({
        code: 'ATTACHMENT_HTML_ACTIVE',
        detail: `${shown}: ${a.active.forms} form(s), ${a.active.passwordFields} password field(s), ${a.active.scripts} script(s)`,
      });
    }
    if (a.sniffedType && a.declaredType !== 'application/octet-stream') {
      const d = family(a.declaredType);
      const s = family(a.sniffedType);
      // Office (OOXML) files are zips, and zip-declared archives may sniff as their content.
      // Calendar, contact and XML files are text: declared as text/plain they are what they say.
      const containers = (d === 'office' && s === 'archive') || (d === 'archive' && s === 'office');
      const benign = containers || (d === 'text' && TEXT_FORMATS.has(s)) || (s === 'text' && TEXT_FORMATS.has(d));
      if (d !== s && !benign) out.push({ code: 'ATTACHMENT_TYPE_MISMATCH', detail: `${shown}: declared ${a.declaredType}, content ${a.sniffedType}` });
    }
    if (a.encrypted) out.push({ code: 'ATTACHMENT_ENCRYPTED', detail: `${shown} is a password-protected Office document` });
    for (const r of a.office?.remote ?? []) {
      const code = r.kind === 'attachedTemplate' ? 'ATTACHMENT_REMOTE_TEMPLATE' : 'ATTACHMENT_REMOTE_OBJECT';
      if (!out.some((s) => s.code === code)) out.push({ code, detail: `${shown}: ${r.kind} from ${r.target}`.slice(0, 300) });
    }
    if (a.archive) {
      out.push(...entrySignals(a.archive.entries, shown));
      if (a.archive.ratio > limits.maxRatio)
        out.push({ code: 'ARCHIVE_BOMB', detail: `${shown}: declared compression ratio ${Math.round(a.archive.ratio)}:1` });
      if (a.archive.truncated) out.push({ code: 'ARCHIVE_LIMIT', detail: `${shown}: more entries or nesting than the limits, rest not listed` });
      if (a.archive.unreadable) out.push({ code: 'ATTACHMENT_UNINSPECTABLE', detail: `${shown}: not a readable ${a.listed === 'zip' ? 'zip' : 'archive'}` });
      else if (a.archive.uninspected) out.push({ code: 'ATTACHMENT_UNINSPECTABLE', detail: `${shown}: ${a.archive.uninspected}` });
      else if (!a.archive.done) out.push({ code: 'ATTACHMENT_UNINSPECTABLE', detail: `${shown}: scan budget ended while the archive was read` });
    } else if (a.listed) {
      out.push({ code: 'ATTACHMENT_UNINSPECTABLE', detail: `${shown}: scan budget ended before the archive was read` });
    }
  }
  return out;
}
