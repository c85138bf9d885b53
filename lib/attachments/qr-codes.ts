/**
 * QR codes in a message's pictures. A lure that carries its link as a QR code ("scan to keep
 * your mailbox", quishing) has no link for a URL check to see, and the reader opens it on a
 * phone, off the protected desktop. The pictures a reader sees — attached and inline PNG,
 * JPEG and GIF images, `data:` images of the HTML — are decoded and read for one QR code
 * each, within a pixel budget per message.
 *
 * Libraries: image-size reads a picture's dimensions from its header (nothing is decoded past
 * the budget); pngjs, jpeg-js and gifuct-js decode PNG, JPEG and GIF in JavaScript (no native
 * build; omggif loops forever on some broken GIFs, gifuct-js does not); `qr` (paulmillr/qr)
 * finds and reads the code — zero dependencies, maintained, and at its default effort it runs
 * no time-boxed retries, so what it reads does not depend on the machine's speed.
 */
import { imageSize } from 'image-size';
import jpeg from 'jpeg-js';
import { decompressFrame, parseGIF } from 'gifuct-js';
import { PNG } from 'pngjs';
import decodeQR, { _QRScanner } from 'qr/decode.js';
import { widthOf, type DrawnGrid } from '../message/drawn-codes.js';

/**
 * A picture of the message: where it was (a file name, "inline image", "image in the HTML")
 * and its bytes (PNG, JPEG, GIF) — or, for samples without a picture format of their own (a
 * PDF's image), its size and a function that gives its RGBA pixels (null when it cannot).
 */
export type Picture = { name: string; bytes: Uint8Array } | RawPicture;

export interface RawPicture {
  name: string;
  width: number;
  height: number;
  pixels: () => Uint8Array | null;
}

export interface QrCode {
  /** The picture it was read from. */
  image: string;
  /** What the code says (at most MAX_TEXT characters). */
  text: string;
  /** Drawn without a picture (table cells, block characters). */
  drawn?: true;
}

export interface QrReading {
  codes: QrCode[];
  /** Pictures that could hold a code but were not read: past the pixel budget. */
  unread: number;
}

/** A QR code is at least 21 modules and a quiet zone wide: anything narrower holds none that a phone reads. */
export const MIN_SIDE = 25;
/**
 * Pictures read per message at most (each costs a decode even when small: ~0.2 ms for a tiny
 * PNG, of which ~0.01 ms the look for a code by the message's one scanner). As many as the
 * parts a message has examined (`[limits] max_parts`' default): padding a lure with tiny decoy
 * pictures ahead of its code takes 500 of them (at that many `data:` pictures the links past
 * `[limits] max_urls` earn LIMIT_URL_HOSTS too).
 */
export const MAX_PICTURES = 500;
/** Pictures of at most this many pixels a side are read by one scanner per message (see codeReader); larger ones each by their own. */
const SHARED_SIDE = 1024;
/** Longest text kept of a code (a version 40 code holds 2,953 bytes). */
const MAX_TEXT = 4096;
/** A message showing fewer characters of text than this (blanks not counted) says what it says in pictures. */
export const PICTURE_MAIL_CHARS = 500;

/**
 * Whether a message's shown text is under PICTURE_MAIL_CHARS characters, blanks not
 * counted: a lure sent as one picture (the whole mail a screenshot, its code inside) — such
 * a message has nothing else to read and gets `[limits] max_qr_pixels_picture_mail`. Stops
 * counting at the bound. Pure.
 */
export function showsLittleText(shown: string): boolean {
  let n = 0;
  for (let i = 0; i < shown.length; i++) {
    const c = shown.charCodeAt(i);
    // Blanks (space, tab, line breaks, no-break space) are not text; other characters count once per UTF-16 unit.
    if (c === 32 || (c >= 9 && c <= 13) || c === 160) continue;
    if (++n >= PICTURE_MAIL_CHARS) return false;
  }
  return true;
}

/** The pixels of pictures read for a message: `max_qr_pixels`, or the larger picture-mail budget for a message that shows little text; 0 = off. */
export function qrPixelBudget(limits: { max_qr_pixels: number; max_qr_pixels_picture_mail: number }, shown: string): number {
  if (limits.max_qr_pixels <= 0) return 0;
  return showsLittleText(shown) ? Math.max(limits.max_qr_pixels, limits.max_qr_pixels_picture_mail) : limits.max_qr_pixels;
}

type Kind = 'png' | 'jpg' | 'gif';

interface Candidate {
  picture: Picture;
  kind: Kind | 'raw';
  width: number;
  height: number;
  order: number;
}

/** The kind and size of a picture from its header, null for anything else or a header that does not parse. */
export function pictureSize(bytes: Uint8Array): { kind: Kind; width: number; height: number } | null {
  try {
    const s = imageSize(bytes);
    if (s.type !== 'png' && s.type !== 'jpg' && s.type !== 'gif') return null;
    const width = s.width;
    const height = s.height;
    // An EXIF orientation swaps the sides, not the count: the decoder reads the stored ones.
    return width > 0 && height > 0 ? { kind: s.type, width, height } : null;
  } catch {
    return null;
  }
}

/** RGBA pixels of a picture; throws for a broken one. */
function decode(kind: Kind, bytes: Uint8Array, maxPixels: number): { width: number; height: number; data: Uint8Array } {
  if (kind === 'png') {
    const p = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { width: p.width, height: p.height, data: p.data };
  }
  if (kind === 'jpg') {
    const j = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: Math.ceil((maxPixels * 16) / 1048576) + 16,
    });
    return { width: j.width, height: j.height, data: j.data };
  }
  // The first frame with a picture, read by its own size (checked before anything is inflated).
  const gif = parseGIF(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  const frame = gif.frames.find((f) => 'image' in f);
  if (!frame || !('image' in frame)) throw new Error('no picture in the GIF');
  const { width, height } = frame.image.descriptor;
  if (!(width > 0 && height > 0 && width * height <= maxPixels)) throw new Error('GIF frame past the pixel budget');
  const data = decompressFrame(frame, gif.gct, true).patch;
  if (data.length !== width * height * 4) throw new Error('GIF frame cut short');
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** Transparent pixels as a mail client shows them, on white (a code drawn on a transparent background reads as black on black otherwise). */
function onWhite(data: Uint8Array): void {
  for (let i = 3; i < data.length; i += 4) {
    const a = data[i];
    if (a === 255) continue;
    const keep = a / 255;
    const white = 255 - a;
    data[i - 3] = data[i - 3] * keep + white;
    data[i - 2] = data[i - 2] * keep + white;
    data[i - 1] = data[i - 1] * keep + white;
    data[i] = 255;
  }
}

/** Pixels as `qr` reads them. */
type Pixels = { width: number; height: number; data: Uint8Array };
/** Reads the code of one picture's pixels; throws when it holds none. */
type CodeReader = (img: Pixels) => string;

/** decodeQR: a scanner of the picture's own size for each picture. */
const readAlone: CodeReader = (img) => decodeQR(img, { format: 'RGBA' });

/**
 * A reader that reads every picture of up to `width` × `height` pixels with one scanner, the
 * rest with decodeQR. `qr` builds a scanner's working arrays for its largest picture (its
 * payload parser alone makes some 3,700 typed-array views): through decodeQR that is ~0.2 ms
 * for every 30 × 30 picture, through one reused scanner ~0.01 ms. One scanner reads picture
 * after picture as `qr`'s own decodeQRBatch does (addImage, then decode restages every
 * per-picture field), and gives the answers decodeQR gives (a unit test holds it to them).
 * `_QRScanner` is `qr`'s export for such reuse; the version is pinned, and without the export
 * every picture is read by decodeQR.
 */
function codeReader(width: number, height: number): CodeReader {
  if (width <= 0 || height <= 0 || typeof _QRScanner !== 'function') return readAlone;
  let scanner: _QRScanner | null = null;
  return (img) => {
    if (img.width > width || img.height > height) return readAlone(img);
    scanner ??= new _QRScanner({ maxSize: { width, height } });
    scanner.addImage(img, 'RGBA');
    const result = scanner.decode()[0];
    if (result instanceof Error) throw result;
    return result;
  };
}

/** The text of the QR code in one picture, null when it holds none or cannot be decoded. Never throws. */
export function readQrCode(bytes: Uint8Array, maxPixels = 4_000_000): string | null {
  const size = pictureSize(bytes);
  return size ? readSized(bytes, size, maxPixels, readAlone) : null;
}

/** readQrCode for a picture whose header was read already. */
function readSized(bytes: Uint8Array, size: { kind: Kind; width: number; height: number }, maxPixels: number, read: CodeReader): string | null {
  if (size.width < MIN_SIDE || size.height < MIN_SIDE || size.width * size.height > maxPixels) return null;
  try {
    const img = decode(size.kind, bytes, maxPixels);
    if (img.width * img.height > maxPixels || img.data.length !== img.width * img.height * 4) return null;
    if (size.kind !== 'jpg') onWhite(img.data);
    const text = read(img);
    return text ? text.slice(0, MAX_TEXT) : null;
  } catch {
    return null; // no code found (the reader throws), or a broken picture
  }
}

/** readQrCode for a picture given as pixels. */
function readRaw(p: RawPicture, read: CodeReader): string | null {
  try {
    const data = p.pixels();
    if (!data || data.length !== p.width * p.height * 4) return null;
    const text = read({ width: p.width, height: p.height, data });
    return text ? text.slice(0, MAX_TEXT) : null;
  } catch {
    return null; // no code found, or samples that do not inflate
  }
}

/**
 * Read the QR codes of a message's pictures, at most `maxPixels` pixels in all. Squarer
 * pictures first (a code is square; a banner or a photo seldom is), then in message order:
 * padding with wide pictures cannot use the budget up before the code. Pure but for time.
 */
export function qrCodesIn(pictures: Iterable<Picture>, maxPixels: number): QrReading {
  const candidates: Candidate[] = [];
  let order = 0;
  for (const picture of pictures) {
    const size = 'bytes' in picture ? pictureSize(picture.bytes) : { kind: 'raw' as const, width: picture.width, height: picture.height };
    if (size && size.width >= MIN_SIDE && size.height >= MIN_SIDE) candidates.push({ picture, ...size, order: order++ });
  }
  const squareness = (c: Candidate): number => Math.min(c.width, c.height) / Math.max(c.width, c.height);
  candidates.sort((a, b) => squareness(b) - squareness(a) || a.order - b.order);
  let left = maxPixels;
  let unread = 0;
  const picks: Candidate[] = [];
  for (const c of candidates) {
    const pixels = c.width * c.height;
    if (pixels > left || picks.length >= MAX_PICTURES) {
      unread++;
      continue;
    }
    left -= pixels;
    picks.push(c);
  }
  // One scanner for the small pictures, as large as the largest of each side (never larger than SHARED_SIDE squared).
  const small = picks.filter((c) => c.width <= SHARED_SIDE && c.height <= SHARED_SIDE);
  const read = codeReader(Math.max(0, ...small.map((c) => c.width)), Math.max(0, ...small.map((c) => c.height)));
  const codes: QrCode[] = [];
  for (const c of picks) {
    const text = 'bytes' in c.picture ? readSized(c.picture.bytes, c as Candidate & { kind: Kind }, c.width * c.height, read) : readRaw(c.picture, read);
    if (text) codes.push({ image: c.picture.name, text });
  }
  return { codes, unread };
}

/** Light cells drawn around a grid: a code's quiet zone is four modules, a module up to two cells. */
const GRID_MARGIN = 8;

/** The pixels a cell grid is drawn in, margin included (what reading it costs). */
export function gridPixels(cells: readonly Uint8Array[]): number {
  return (widthOf(cells) + 2 * GRID_MARGIN) * (cells.length + 2 * GRID_MARGIN);
}

/**
 * The text of a QR code drawn as a grid of cells (drawn-codes.ts: table cells, block
 * characters), null when it holds none. Drawn one pixel per cell, black on a white margin
 * (the code's quiet zone, which a page gives it), then with the grid's dark and light
 * swapped: a code drawn for a dark background, or copied from a terminal, is light on dark,
 * and phones read it either way. Never throws.
 */
export function readCellGrid(cells: readonly Uint8Array[]): string | null {
  const width = widthOf(cells);
  const w = width + 2 * GRID_MARGIN;
  const h = cells.length + 2 * GRID_MARGIN;
  for (const dark of [1, 0]) {
    const data = new Uint8Array(w * h * 4).fill(255);
    cells.forEach((row, y) => {
      for (let x = 0; x < width; x++) {
        if ((row[x] ?? 0) !== dark) continue;
        const at = ((y + GRID_MARGIN) * w + x + GRID_MARGIN) * 4;
        data.fill(0, at, at + 3);
      }
    });
    try {
      const text = decodeQR({ width: w, height: h, data }, { format: 'RGBA' });
      if (text) return text.slice(0, MAX_TEXT);
    } catch {
      // no code this way round
    }
  }
  return null;
}

/** Drawn grids read per message at most. */
export const MAX_DRAWN_GRIDS = 8;
/** Pixels of drawn grids read per message at most, both ways round (a 400-cell grid fits, ~80 ms each way when it holds no code). */
export const MAX_DRAWN_PIXELS = 400_000;

/**
 * Read the QR codes drawn in a message's grids (drawn-codes.ts), smallest first (a code is
 * seldom larger than the art around it) within MAX_DRAWN_GRIDS and MAX_DRAWN_PIXELS — its
 * own bound, so that drawn padding cannot use up the pictures' budget. Pure but for time.
 */
export function drawnCodesIn(grids: readonly DrawnGrid[]): QrReading {
  const sized = grids.map((g, order) => ({ g, pixels: gridPixels(g.cells), order }));
  sized.sort((a, b) => a.pixels - b.pixels || a.order - b.order);
  const codes: QrCode[] = [];
  let left = MAX_DRAWN_PIXELS;
  let read = 0;
  let unread = 0;
  for (const { g, pixels } of sized) {
    if (2 * pixels > left || read >= MAX_DRAWN_GRIDS) {
      unread++;
      continue;
    }
    left -= 2 * pixels;
    read++;
    const text = readCellGrid(g.cells);
    if (text) codes.push({ image: g.how === 'table' ? 'a table of coloured cells' : 'block characters of the text', text, drawn: true });
  }
  return { codes, unread };
}

/** A `data:` URL of a PNG, JPEG or GIF in base64 (up to its data). */
const DATA_IMAGE = /^data:image\/(?:png|jpe?g|gif)(?:;[^,;]*)*;base64,/i;

/** The `data:` pictures among an HTML document's image sources (at most `max`), and how many more there are (not decoded). */
export function htmlPictures(links: Iterable<{ kind: string; url: string }>, max = MAX_PICTURES): { pictures: Picture[]; more: number } {
  const pictures: Picture[] = [];
  let more = 0;
  for (const l of links) {
    if (l.kind !== 'img') continue;
    if (pictures.length >= max) {
      if (DATA_IMAGE.test(l.url)) more++;
      continue;
    }
    const bytes = dataImageBytes(l.url);
    if (bytes) pictures.push({ name: 'picture in the HTML', bytes });
  }
  return { pictures, more };
}

/** The bytes of a `data:image/…;base64,…` URL, null for any other. */
export function dataImageBytes(url: string): Buffer | null {
  const m = DATA_IMAGE.exec(url);
  return m ? Buffer.from(url.slice(m[0].length), 'base64') : null;
}
