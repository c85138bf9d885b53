import { constants, crc32, inflateSync } from 'node:zlib';
import { decodeNames, forEachEscapedDictionary, forEachMarkedStream, type MarkedStream } from './pdf-links.js';
import type { Picture } from './qr-codes.js';

/**
 * The pictures of a PDF attachment, to be read for QR codes: a quishing PDF is a page that
 * says "scan to sign the document" over a picture of a code, no link in it at all. Its image
 * XObjects are found the way pdf-links.ts finds links — by searching the bytes for `stream`
 * and reading the dictionary before it, not by parsing the PDF — and given to qrCodesIn as
 * pictures, within its pixel budget:
 * - `/DCTDecode`: the stream is a JPEG;
 * - `/FlateDecode` with a PNG predictor (`/Predictor` 10–15, what PNG pictures become in a
 *   PDF): the stream is a PNG's image data; a PNG header of the dictionary's size is put
 *   around it, so pngjs decodes and unfilters it;
 * - `/FlateDecode` without a predictor: 8-bit grey or RGB samples, or one bit per pixel
 *   (grey or an `/ImageMask`, 0 black), inflated to at most the size the dictionary gives.
 * Not read: images whose colour space is a reference or indexed, CMYK, other filters, and
 * codes drawn as vector paths; past MAX_DICTIONARIES image dictionaries the rest (`cut`).
 * Never throws. Pure.
 */
export function pdfPictures(pdf: Uint8Array, name: string, maxPictures: number): { pictures: Picture[]; cut: boolean } {
  const buf = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength);
  if (buf.subarray(0, 1024).indexOf('%PDF-') < 0) return { pictures: [], cut: false };
  const out: Picture[] = [];
  const label = `picture in ${name}`;
  let dictionaries = 0;
  let cut = false;
  const taken = new Set<number>();
  /** The picture of the stream `s` ('skipped' when it is none), its dictionary's names decoded, as long as the bounds allow. */
  const read = (s: MarkedStream): 'taken' | 'skipped' | 'stop' => {
    if (out.length >= maxPictures) return 'stop';
    // Past MAX_DICTIONARIES no page a reader scans: the rest is not looked at (each look reads up to DICTIONARY_REACH bytes back), and `cut` says so.
    if (++dictionaries > MAX_DICTIONARIES) {
      cut = true;
      return 'stop';
    }
    const before = dictionaryBefore(buf, s.keyword);
    const text = before === null ? null : decodeNames(before);
    if (!text || !/\/Subtype\s*\/Image\b/.test(text)) return 'skipped';
    let data = buf.subarray(s.data, s.end);
    // Its length when the dictionary gives it directly, else up to the end of line before `endstream`.
    const length = numberOf(text, 'Length');
    if (length !== null && length <= data.length) data = data.subarray(0, length);
    else if (data.at(-1) === 0x0a) data = data.subarray(0, data.at(-2) === 0x0d ? -2 : -1);
    const picture = imageOf(text, data, label);
    if (picture) out.push(picture);
    taken.add(s.keyword);
    return 'taken';
  };
  // Image objects, found by their subtype within DICTIONARY_REACH bytes before the stream.
  forEachMarkedStream(buf, '/Image', DICTIONARY_REACH, read);
  // And those whose dictionary writes its names with escapes (`/Im#61ge`, `/#44CTDecode`).
  if (forEachEscapedDictionary(buf, DICTIONARY_REACH, (s) => (taken.has(s.keyword) || read(s) !== 'stop' ? 'taken' : 'stop')) === 'cut') cut = true;
  return { pictures: out, cut };
}

/** Image dictionaries read per PDF at most. */
const MAX_DICTIONARIES = 5000;
/** How far before its `stream` keyword a dictionary may begin. */
const DICTIONARY_REACH = 1024;

/** The text of the dictionary that ends just before a `stream` keyword (at most DICTIONARY_REACH back), null when there is none. */
function dictionaryBefore(buf: Buffer, at: number): string | null {
  const window = buf.subarray(Math.max(0, at - DICTIONARY_REACH), at);
  const open = window.lastIndexOf(' obj');
  const from = open >= 0 ? open : window.lastIndexOf('<<');
  return from >= 0 ? window.toString('latin1', from) : null;
}

const NUMBER = new Map(
  ['Width', 'Height', 'BitsPerComponent', 'Predictor', 'Length'].map((key) => [key, new RegExp(`/${key}\\s+(\\d{1,9})(?!\\s+\\d+\\s+R)\\b`)]),
);

/** A dictionary's number for `key` (a direct integer), null when absent or indirect. */
function numberOf(dict: string, key: 'Width' | 'Height' | 'BitsPerComponent' | 'Predictor' | 'Length'): number | null {
  const m = NUMBER.get(key)?.exec(dict);
  return m ? Number(m[1]) : null;
}

function imageOf(dict: string, data: Buffer, name: string): Picture | null {
  const filter = /\/Filter\s*\[?\s*\/(\w+)\s*\]?/.exec(dict)?.[1];
  if (filter === 'DCTDecode' || filter === 'DCT') return { name, bytes: data };
  if (filter !== 'FlateDecode' && filter !== 'Fl') return null;
  const width = numberOf(dict, 'Width');
  const height = numberOf(dict, 'Height');
  const mask = /\/ImageMask\s+true\b/.test(dict);
  const bits = mask ? 1 : numberOf(dict, 'BitsPerComponent');
  const space = mask ? 'DeviceGray' : /\/ColorSpace\s*\/(DeviceGray|DeviceRGB|G|RGB)\b/.exec(dict)?.[1];
  if (!width || !height || (bits !== 1 && bits !== 8) || !space) return null;
  const colours = space === 'DeviceRGB' || space === 'RGB' ? 3 : 1;
  if (colours === 3 && bits !== 8) return null;
  const predictor = numberOf(dict, 'Predictor') ?? 1;
  if (predictor >= 10) return { name, bytes: asPng(data, width, height, bits, colours) };
  if (predictor !== 1) return null;
  const rowBytes = Math.ceil((width * colours * bits) / 8);
  return {
    name,
    width,
    height,
    pixels: () => {
      const samples = inflateSync(data, { maxOutputLength: rowBytes * height, finishFlush: constants.Z_SYNC_FLUSH });
      if (samples.length < rowBytes * height) return null;
      const rgba = new Uint8Array(width * height * 4).fill(255);
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++) {
          const o = (y * width + x) * 4;
          if (bits === 1) {
            const on = (samples[y * rowBytes + (x >> 3)] >> (7 - (x & 7))) & 1;
            if (!on) rgba.fill(0, o, o + 3);
          } else if (colours === 1) {
            rgba.fill(samples[y * rowBytes + x], o, o + 3);
          } else {
            rgba[o] = samples[y * rowBytes + 3 * x];
            rgba[o + 1] = samples[y * rowBytes + 3 * x + 1];
            rgba[o + 2] = samples[y * rowBytes + 3 * x + 2];
          }
        }
      return rgba;
    },
  };
}

/** A PNG file around a PDF image's Flate data written with PNG predictors (the same bytes as a PNG's image data). */
function asPng(data: Buffer, width: number, height: number, bits: number, colours: number): Buffer {
  const chunk = (type: string, body: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bits;
  ihdr[9] = colours === 3 ? 2 : 0;
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('IDAT', data), chunk('IEND', Buffer.alloc(0))]);
}
