/**
 * What an Office document attachment leads to when it is opened. An OOXML file (.docx,
 * .xlsx, .pptx and their macro and template kinds) or an OpenDocument file (.odt, .ods, .odp)
 * is a zip of XML parts and media; a lure that moves its link out of the mail body ("see the
 * attached invoice", "scan the code in the document to re-enrol your MFA") puts it there:
 * - **links**: hyperlinks (OOXML relationships of type `hyperlink` with `TargetMode="External"`,
 *   OpenDocument `xlink:href`), and web addresses written in the shown parts — text, field
 *   codes (`HYPERLINK "…"`), spreadsheet formulas (`=HYPERLINK("…")`);
 * - **pictures** (PNG, JPEG, GIF in `word/media/`, `Pictures/` …), to be read for QR codes;
 * - **remote parts**: a template, OLE object, frame or sub-document the application fetches
 *   from the internet when it opens the file (`attachedTemplate`, `oleObject` … with an
 *   external URL) — the remote-template injection and Follina (CVE-2022-30190, an `mhtml:`
 *   or `ms-msdt:` object) delivery, which needs no macro.
 * Read with yauzl (as archives are) and htmlparser2 in XML mode (entities, attributes, CDATA;
 * nesting capped as for HTML, so deep nesting costs no more than flat), every inflated byte
 * counted against the message's budget (`InflateBudget`), the XML parts parsed within a
 * budget of bytes of their own (`OfficeLimits.xml`). A zip that is not an Office document (no
 * `[Content_Types].xml`, no OpenDocument `mimetype` or `content.xml`) gives null. Never throws.
 */
import type yauzl from 'yauzl';
import { errorMessage } from '../errors.js';
import { findUrls } from '../message/domain.js';
import { DepthCappedParser } from '../message/html.js';
import { BudgetExhausted, entryPrefix, openZip, type InflateBudget } from './archive.js';
import { pictureSize, type Picture } from './qr-codes.js';

export interface RemotePart {
  /** The relationship type's last word (attachedTemplate, oleObject, frame, subDocument). */
  kind: string;
  target: string;
}

export interface OfficeContent {
  links: string[];
  remote: RemotePart[];
  pictures: Picture[];
  /** Why part of it was not read (the message's decompression budget, a broken part), null when it was read whole. */
  unread: string | null;
}

export interface OfficeLimits {
  maxLinks: number;
  maxPictures: number;
  /**
   * Bytes of XML parts parsed, shared by the documents of one message (`left` goes down as
   * they are read): parsing and looking for addresses cost ~0.1 s per MB of a crafted part.
   */
  xml: { left: number; readonly total: number };
}

/** Names of the Office documents read (OOXML and OpenDocument, their macro and template kinds), lower-case. */
export const OFFICE_NAME = /\.(docx|docm|dotx|dotm|xlsx|xlsm|xltx|xltm|xlam|pptx|pptm|potx|potm|ppsx|ppsm|odt|ott|ods|ots|odp|otp|odg)$/;

/** Zip and Office attachments opened as Office documents per message at most (as many as pictures are read); the rest are uninspectable. */
export const MAX_DOCUMENTS = 50;
/** Entries of one document looked at (names only) at most: a document of many sheets has a few hundred. */
const MAX_ENTRIES = 5000;
/** XML parts read per document at most (relationships and shown parts together). */
const MAX_PARTS = 400;
/** A picture larger than this is not inflated (a phone-readable code needs far fewer bytes). */
const MAX_PICTURE_BYTES = 16 * 1024 * 1024;
/** Relationship parts are small (a list of targets): read up to this. */
const MAX_RELS_BYTES = 1024 * 1024;

/** Parts a reader is shown: their text and field codes are read for web addresses. */
const SHOWN_PART =
  /^(word\/(document|header\d*|footer\d*|footnotes|endnotes|comments|diagrams\/data\d*)\.xml|xl\/(sharedStrings|worksheets\/sheet\d*|drawings\/drawing\d*|comments\d*)\.xml|ppt\/(slides\/slide\d*|notesSlides\/notesSlide\d*|diagrams\/data\d*)\.xml|content\.xml|styles\.xml)$/i;
const RELATIONSHIPS = /(^|\/)_rels\/[^/]*\.rels$/i;
const PICTURE_NAME = /\.(png|jpe?g|gif)$/i;
/** Relationship types whose external target the application loads by itself on opening. */
const REMOTE_KINDS = new Set(['attachedTemplate', 'oleObject', 'frame', 'subDocument']);
/** Targets that reach out of the machine: a web or FTP address, an `mhtml:` or Windows protocol handler (ms-msdt:, search-ms: …). */
const REACHES_OUT = /^\s*(https?:|ftp:|mhtml:|ms-[a-z-]+:|search-ms:|\\\\|\/\/)/i;
/** Elements that end a line of shown text (paragraphs, table rows, cells, slides' paragraphs). */
const LINE_END = new Set(['w:p', 'w:tr', 'w:tc', 'w:br', 'a:p', 'a:br', 'text:p', 'text:h', 'text:line-break', 'table:table-cell', 'si', 'c', 'row', 'f', 'v']);

/** The links, remote parts and pictures of an Office document; null when `buf` is not one. */
export async function officeContent(buf: Buffer, name: string, limits: OfficeLimits, budget: InflateBudget): Promise<OfficeContent | null> {
  let zf: yauzl.ZipFile;
  try {
    zf = await openZip(buf);
  } catch {
    return null;
  }
  try {
    const { entries, cut } = await listEntries(zf, budget);
    const names = new Set(entries.map((e) => e.fileName));
    if (!names.has('[Content_Types].xml') && !names.has('mimetype') && !names.has('content.xml')) return null;
    const out: OfficeContent = { links: [], remote: [], pictures: [], unread: cut };
    const links = new Set<string>();
    const addLink = (url: string): void => {
      if (links.size < limits.maxLinks) links.add(url.trim());
    };
    // Smallest first (sizes as declared: yauzl fails an entry that inflates past its own):
    // parts padded to use up the budget are read last.
    const bySize = (a: yauzl.Entry, b: yauzl.Entry): number => a.uncompressedSize - b.uncompressedSize;
    const rels = entries.filter((e) => RELATIONSHIPS.test(e.fileName)).sort(bySize);
    const shown = entries.filter((e) => SHOWN_PART.test(e.fileName)).sort(bySize);
    const pictures = limits.maxPictures > 0 ? entries.filter((e) => PICTURE_NAME.test(e.fileName) && e.uncompressedSize <= MAX_PICTURE_BYTES).sort(bySize) : [];
    let parts = 0;
    const read = async (e: yauzl.Entry, max: number): Promise<Buffer | null> => {
      if (++parts > MAX_PARTS) {
        out.unread ??= `more than ${MAX_PARTS} parts to read`;
        return null;
      }
      try {
        const { bytes, cut } = await entryPrefix(zf, e, max, budget);
        if (cut) out.unread ??= `${e.fileName} past ${max} bytes`;
        return bytes;
      } catch (err) {
        if (err instanceof BudgetExhausted) throw err;
        out.unread ??= `${e.fileName}: ${errorMessage(err)}`.slice(0, 200);
        return null;
      }
    };
    // An XML part up to what is left of the message's XML budget.
    const readXml = async (e: yauzl.Entry, max: number): Promise<Buffer | null> => {
      if (limits.xml.left <= 0) {
        out.unread ??= `XML budget of ${limits.xml.total} bytes per message used up`;
        return null;
      }
      const xml = await read(e, Math.min(max, limits.xml.left));
      limits.xml.left -= xml?.length ?? 0;
      return xml;
    };
    try {
      for (const e of rels) {
        const xml = await readXml(e, MAX_RELS_BYTES);
        if (xml) relationships(xml, addLink, out.remote);
      }
      for (const e of shown) {
        if (links.size >= limits.maxLinks) break;
        const xml = await readXml(e, Infinity);
        if (xml) for (const url of shownLinks(xml, limits.maxLinks - links.size)) addLink(url);
      }
      // Pictures last (the XML has a budget of its own, so it cannot use theirs up), smallest
      // first; only what decodes as a picture counts toward maxPictures.
      for (const e of pictures) {
        if (out.pictures.length >= limits.maxPictures) {
          out.unread ??= `more than ${limits.maxPictures} picture files`;
          break;
        }
        const bytes = await read(e, MAX_PICTURE_BYTES);
        if (bytes && pictureSize(bytes)) out.pictures.push({ name: `picture in ${name}`, bytes });
      }
    } catch (err) {
      out.unread ??= errorMessage(err);
    }
    out.links = [...links].filter(Boolean);
    return out;
  } catch (err) {
    return { links: [], remote: [], pictures: [], unread: errorMessage(err).slice(0, 200) };
  } finally {
    zf.close();
  }
}

/** The entries of a zip's central directory, at most MAX_ENTRIES and what is left of the message's entries; `cut`: why not all. */
function listEntries(zf: yauzl.ZipFile, budget: InflateBudget): Promise<{ entries: yauzl.Entry[]; cut: string | null }> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zf.on('entry', (e: yauzl.Entry) => {
      entries.push(e);
      budget.entriesLeft--;
      if (entries.length >= MAX_ENTRIES) resolve({ entries, cut: `more than ${MAX_ENTRIES} parts` });
      else if (budget.entriesLeft <= 0) resolve({ entries, cut: `more than ${budget.maxEntries} parts in the message's documents` });
      else zf.readEntry();
    });
    zf.on('end', () => resolve({ entries, cut: null }));
    zf.on('error', reject);
    zf.readEntry();
  });
}

/** The last word of a relationship type URI (`…/relationships/hyperlink` ─► `hyperlink`). */
function kindOf(type: string): string {
  return type.slice(type.lastIndexOf('/') + 1);
}

/** A relationships part: external hyperlinks to `addLink`, targets loaded on opening to `remote`. */
function relationships(xml: Buffer, addLink: (url: string) => void, remote: RemotePart[]): void {
  const parser = new DepthCappedParser(
    {
      onopentag(tag, attrs) {
        if (tag.toLowerCase() !== 'relationship' || (attrs.TargetMode ?? '').toLowerCase() !== 'external') return;
        const target = attrs.Target ?? '';
        const kind = kindOf(attrs.Type ?? '');
        if (kind === 'hyperlink') addLink(target);
        else if (REMOTE_KINDS.has(kind) && REACHES_OUT.test(target)) {
          if (remote.length < 20) remote.push({ kind, target: target.slice(0, 500) });
          // The web address in it gets the URL checks too (its host may be listed): `mhtml:` and
          // protocol handlers carry theirs inside.
          for (const u of findUrls(target.replace(/!/g, ' '))) if (!u.bare) addLink(u.url);
        }
      },
    },
    { xmlMode: true },
  );
  parser.end(xml.toString('utf8'));
}

/**
 * The web addresses of a shown part: written in its text, its field codes and formulas
 * (`HYPERLINK "https://…"`, split over runs or not), and OpenDocument `xlink:href` links.
 * Addresses written without a scheme or `www.` ("example.com") are names more than links: not taken.
 */
function shownLinks(xml: Buffer, max: number): string[] {
  const text: string[] = [];
  const hrefs: string[] = [];
  const parser = new DepthCappedParser(
    {
      onopentag(tag, attrs) {
        const href = attrs['xlink:href'];
        if (href && /^\s*(https?|ftp):/i.test(href)) hrefs.push(href);
        const instr = attrs['w:instr'];
        if (instr) text.push(` ${instr} `);
        if (LINE_END.has(tag)) text.push('\n');
      },
      ontext(t) {
        text.push(t);
      },
      onclosetag(tag) {
        if (LINE_END.has(tag)) text.push('\n');
      },
    },
    { xmlMode: true },
  );
  parser.end(xml.toString('utf8'));
  const out = hrefs.slice(0, max);
  // Quotes end an address: field codes and formulas quote theirs (`HYPERLINK("https://…","label")`).
  for (const u of findUrls(text.join('').replace(/"/g, ' '))) {
    if (out.length >= max) break;
    if (!u.bare) out.push(u.url);
  }
  return out;
}
