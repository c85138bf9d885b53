/**
 * UTF-7 (RFC 2152) text, which mail clients still display (Outlook, Thunderbird) but the
 * WHATWG TextDecoder that postal-mime uses does not know: postal-mime falls back to
 * windows-1252, so a body written as `+AFYAZQByAGkAZgB5-` reached the classifier as base64
 * fragments and its links were never seen — every word of a lure hidden by one charset
 * label. Decoded with iconv-lite (a dependency of Haraka's own message code already; it
 * implements RFC 2152 decoding, malformed runs included, and never throws on bad input).
 *
 * `useUtf7TextParts()` wraps postal-mime's `MimeNode#getTextContent` so that a text part
 * labelled UTF-7 is decoded from its bytes; every other part goes through postal-mime's own
 * code. `transcodeUtf7Words()` rewrites RFC 2047 encoded words in UTF-7 (`=?utf-7?B?…?=`) as
 * UTF-8 encoded words of the same text, which postal-mime then decodes like any other: a
 * display name stays one word, so what it decodes to cannot pose as an address. `utf7TextParts()` says whether the wrap is in place, and a unit test fails
 * if a postal-mime upgrade moves what it wraps.
 */
import path from 'node:path';
import iconv from 'iconv-lite';
import PostalMime from 'postal-mime';

/** A charset label that names UTF-7, in any spelling mail uses (utf-7, UTF7, x-utf-7, unicode-1-1-utf-7, csUnicode11UTF7). Pure. */
export function isUtf7Charset(label: unknown): boolean {
  if (typeof label !== 'string' || label.length > 40) return false;
  const n = label.toLowerCase().replace(/[^a-z0-9]/g, '');
  return n === 'utf7' || n === 'xutf7' || n === 'unicode11utf7' || n === 'unicode20utf7' || n === 'xunicode20utf7' || n === 'csunicode11utf7';
}

/** UTF-7 bytes ─► text. Never throws: a malformed run decodes to what it can. Pure. */
export function decodeUtf7(bytes: Uint8Array): string {
  return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'utf7');
}

/** The start of an encoded word in UTF-7, up to its charset (the RFC 2047 spellings of the label). */
const UTF7_WORD_START = String.raw`=\?(?:x-)?(?:utf-?7|unicode-1-1-utf-7|csunicode11utf7)`;

/** One encoded word whose charset is UTF-7 (an RFC 2231 language tag allowed), and the white space before a following one. */
const UTF7_WORD = new RegExp(
  String.raw`${UTF7_WORD_START}(?:\*[a-z0-9-]*)?\?([bq])\?([^?\s]*)\?=(?:[ \t\r\n]+(?=${UTF7_WORD_START}(?:\*[a-z0-9-]*)?\?[bq]\?))?`,
  'gi',
);
const HAS_UTF7_WORD = new RegExp(String.raw`${UTF7_WORD_START}[*?]`, 'i');

/** Whether a raw header value holds an encoded word in UTF-7. Pure. */
export function hasUtf7Words(value: string): boolean {
  return value.includes('=?') && HAS_UTF7_WORD.test(value);
}

/**
 * A raw header value with every UTF-7 encoded word rewritten as a UTF-8 "B" encoded word of
 * the same text (the white space between two of them dropped, as RFC 2047 says). Pure.
 */
export function transcodeUtf7Words(value: string): string {
  if (!hasUtf7Words(value)) return value;
  return value.replace(UTF7_WORD, (_all, enc: string, data: string) => {
    const bytes = enc.toLowerCase() === 'b' ? Buffer.from(data, 'base64') : qDecode(data);
    return `=?utf-8?B?${Buffer.from(decodeUtf7(bytes), 'utf8').toString('base64')}?=`;
  });
}

/** A raw header value with its encoded words decoded (UTF-7 ones included); as written when the decoder refuses it. Pure. */
export function decodeHeaderWords(value: string): string {
  try {
    return PostalMime.decodeWords(transcodeUtf7Words(value));
  } catch {
    return value;
  }
}

/** RFC 2047 "Q" encoding ─► bytes. Pure. */
function qDecode(data: string): Buffer {
  return Buffer.from(
    data.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  );
}

interface MimeNodeLike {
  content?: unknown;
  contentType?: { parsed?: { params?: Record<string, string | undefined> } };
  decodeFlowedText?: (text: string, delsp: boolean) => string;
}
type MimeNodeClass = { prototype: { getTextContent?: (this: MimeNodeLike) => string } };

let installed: boolean | null = null;

/** Wrap postal-mime's text-part decoding (once per process) so UTF-7 parts are decoded; whether it is in place. */
export function useUtf7TextParts(): boolean {
  if (installed !== null) return installed;
  installed = false;
  let cls: MimeNodeClass;
  try {
    // postal-mime's exports map hides its MIME node; this is the module instance its parser uses.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cls = (require(path.join(path.dirname(require.resolve('postal-mime')), 'mime-node.js')) as { default: MimeNodeClass }).default;
  } catch {
    return installed;
  }
  const original = cls?.prototype?.getTextContent;
  if (typeof original !== 'function') return installed;
  cls.prototype.getTextContent = function getTextContent(this: MimeNodeLike): string {
    const params = this.contentType?.parsed?.params;
    const c = this.content;
    const bytes = c instanceof ArrayBuffer ? new Uint8Array(c) : ArrayBuffer.isView(c) ? new Uint8Array(c.buffer, c.byteOffset, c.byteLength) : null;
    if (!bytes || !isUtf7Charset(params?.charset)) return original.call(this);
    const text = decodeUtf7(bytes);
    const flowed = /^flowed$/i.test(params?.format ?? '') && typeof this.decodeFlowedText === 'function';
    return flowed ? this.decodeFlowedText!(text, /^yes$/i.test(params?.delsp ?? '')) : text;
  };
  installed = true;
  return installed;
}

/** Whether `useUtf7TextParts` wrapped postal-mime's text decoding. */
export function utf7TextParts(): boolean {
  return installed === true;
}
