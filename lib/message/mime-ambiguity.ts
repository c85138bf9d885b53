/**
 * Parts whose reading mail readers do not agree on. A part that says twice, differently, how
 * it is to be read — two Content-Type headers, `boundary="decoy"; boundary="real"` — is read
 * one way here (postal-mime takes the first of each) and may be shown another way by the
 * reader: a benign part to the scanner, the lure to the user. The same for a Content-Type that
 * is not `type/subtype` (RFC 2045 has such a part read as text/plain; postal-mime keeps it as
 * an attachment of that type) and for a uuencoded part (`Content-Transfer-Encoding:
 * x-uuencode`), which Thunderbird decodes and shows and postal-mime passes through as the
 * encoded text. And for a file whose names disagree on its extension — `filename="invoice.pdf";
 * filename*=utf-8''invoice.js`, or Content-Type's `name` against Content-Disposition's
 * `filename`: readers differ on which they show (RFC 6266 prefers `filename*`, postal-mime
 * takes `filename`), the scan judged the first. No mailer writes these (of the 3,667 messages
 * of the three corpora two phish have any, no ham or spam): what is found is recorded
 * (`MIME_AMBIGUOUS`) and held as an unparseable message is, since what was read may not be
 * what is shown.
 *
 * Reads postal-mime's tree (its internal `root`, as countParts does): every part's headers as
 * they were written, duplicates included. Pure.
 */

import { decodeHeaderWords } from './utf7.js';

/** A node of postal-mime's tree, as far as it is read here. */
interface MimeTreeNode {
  headers?: Array<{ key: string; value: string }>;
  childNodes?: MimeTreeNode[];
}

/** The headers that decide how a part is read. */
const READING_HEADERS = new Set(['content-type', 'content-transfer-encoding', 'content-disposition']);
/** Transfer encodings some reader decodes and postal-mime does not. */
const UUENCODE = /^(?:x-)?(?:uuencode|uue)$/;
/** `type/subtype` (RFC 2045 tokens), then parameters or nothing. */
const MEDIA_TYPE = /^[a-z0-9!#$%&'*+.^_`|~-]+\/[a-z0-9!#$%&'*+.^_`|~-]+[ \t]*(?:;|\(|$)/i;
/** Ambiguities reported per message at most (the detail stays readable). */
const MAX_FOUND = 5;

/** A header's value for comparing: case, white space and quotes do not make two values differ. */
const normalized = (v: string): string => v.toLowerCase().replace(/["\s]+/g, '');

/** Parameters of one header compared at most (a long file name in RFC 2231 pieces takes a few dozen; none of the corpora's has ten). */
export const MAX_PARAMS = 1000;

/**
 * The parameters of a structured header (`type; a=1; b="x;y"`), as written: name (lowercased)
 * and value (unquoted), duplicates kept, at most `max` + 1 (more than `max` tells there are
 * more). Semicolons inside quotes do not split. Not postal-mime's `parseStructuredHeader`: it
 * keeps the first of a parameter given twice, and the second is what is looked for here.
 */
export function headerParams(value: string, max = MAX_PARAMS): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let quoted = false;
  let start = -1;
  const take = (end: number): void => {
    if (start < 0) return;
    const p = value.slice(start, end);
    const eq = p.indexOf('=');
    if (eq > 0)
      out.push([
        p.slice(0, eq).trim().toLowerCase(),
        p
          .slice(eq + 1)
          .trim()
          .replace(/^"([\s\S]*)"$/, '$1'),
      ]);
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ';' && !quoted) {
      take(i);
      if (out.length > max) return out;
      start = i + 1;
    }
  }
  take(value.length);
  return out;
}

/** A file-name parameter: `name`, `filename`, or a piece of one in RFC 2231 form (`filename*`, `filename*0*`, `name*1`). */
const NAME_PARAM = /^(filename|name)(?:\*(\d+))?(\*)?$/;

/** The value of an ASCII hex digit, -1 for any other byte. */
const hexDigit = (b: number): number => (b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x61 && b <= 0x66 ? b - 0x57 : b >= 0x41 && b <= 0x46 ? b - 0x37 : -1);

/** RFC 2231 percent-encoded text (`charset'lang'` already taken off) ─► its bytes; a `%` without two hex digits is itself. */
function percentBytes(text: string): Buffer {
  const src = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(src.length); // decoded is never longer
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const hi = src[i] === 0x25 && i + 2 < src.length ? hexDigit(src[i + 1]) : -1;
    const lo = hi >= 0 ? hexDigit(src[i + 2]) : -1;
    if (lo >= 0) {
      out[n++] = hi * 16 + lo;
      i += 2;
    } else out[n++] = src[i];
  }
  return out.subarray(0, n);
}

/**
 * The names a part gives its file, decoded: Content-Disposition's `filename` and Content-Type's
 * `name`, each as written (encoded words read) and in RFC 2231 form (`filename*=utf-8''…`,
 * pieces joined in order). Mailers write one name in several of these; readers differ on which
 * they show (RFC 6266 prefers `filename*`, postal-mime takes `filename`).
 */
export function fileNames(params: ReadonlyArray<[string, string]>): string[] {
  const plain: string[] = [];
  const pieces = new Map<string, Array<{ at: number; encoded: boolean; text: string }>>();
  for (const [param, value] of params) {
    const m = NAME_PARAM.exec(param);
    if (!m) continue;
    if (m[2] === undefined && !m[3]) plain.push(decodeHeaderWords(value));
    else (pieces.get(m[1]) ?? pieces.set(m[1], []).get(m[1])!).push({ at: Number(m[2] ?? 0), encoded: Boolean(m[3]), text: value });
  }
  const joined = [...pieces.values()].map((list) =>
    Buffer.concat(
      list
        .sort((a, b) => a.at - b.at)
        .map((p, i) => {
          // The first encoded piece starts with charset'language' (the charset: UTF-8 in practice, read so).
          const text = p.encoded && i === 0 ? p.text.slice(p.text.indexOf("'", p.text.indexOf("'") + 1) + 1) : p.text;
          return p.encoded ? percentBytes(text) : Buffer.from(text, 'utf8');
        }),
    ).toString('utf8'),
  );
  return [...plain, ...joined];
}

/** A file name's extension as Windows reads it: trailing dots and blanks dropped, lowercased ('' for none). */
const extensionOf = (name: string): string => {
  const n = name.replace(/[.\s]+$/, '');
  const dot = n.lastIndexOf('.');
  return dot > 0 ? n.slice(dot + 1).toLowerCase() : '';
};

/** A file name for the detail: a long one keeps its end, where the extension is. */
const shortName = (name: string): string => (name.length <= 60 ? name : `${name.slice(0, 40)}…${name.slice(-16)}`);

/**
 * What is ambiguous in one part's headers, at most `max` findings. Linear in the headers'
 * length: each header is read once (a header block may repeat one header 100,000 times).
 */
function partAmbiguities(headers: ReadonlyArray<{ key: string; value: string }>, max: number): string[] {
  const found: string[] = [];
  const first = new Map<string, { value: string; normalized: string; params: Array<[string, string]> }>();
  for (const h of headers) {
    if (found.length >= max) return found;
    if (!READING_HEADERS.has(h.key)) continue;
    const seen = first.get(h.key);
    const written = headerParams(h.value);
    if (written.length > MAX_PARAMS) {
      found.push(`${h.key} has more than ${MAX_PARAMS} parameters`);
      written.length = MAX_PARAMS;
    }
    if (seen === undefined) first.set(h.key, { value: h.value, normalized: normalized(h.value), params: written });
    else if (seen.normalized !== normalized(h.value)) found.push(`two ${h.key} headers: '${seen.value.slice(0, 60)}' and '${h.value.slice(0, 60)}'`);
    const params = new Map<string, string>();
    for (const [name, v] of written) {
      if (found.length >= max) return found;
      const before = params.get(name);
      if (before !== undefined && before !== v) found.push(`${name} given twice in ${h.key}: '${before.slice(0, 40)}' and '${v.slice(0, 40)}'`);
      if (before === undefined) params.set(name, v);
    }
  }
  const names = [...first.entries()].filter(([k]) => k !== 'content-transfer-encoding').flatMap(([, h]) => fileNames(h.params));
  if (new Set(names.map(extensionOf)).size > 1) found.push(`the file is named ${[...new Set(names)].map((n) => `'${shortName(n)}'`).join(' and ')}`);
  const type = first.get('content-type')?.value;
  if (type !== undefined && !MEDIA_TYPE.test(type.trim())) found.push(`content-type '${type.slice(0, 60)}' is not a type/subtype`);
  const cte = first.get('content-transfer-encoding')?.value;
  if (cte !== undefined && UUENCODE.test(cte.trim().toLowerCase()))
    found.push(`content-transfer-encoding '${cte.trim().slice(0, 30)}' (some readers decode it, the scan reads it as written)`);
  return found;
}

/** The ambiguities of the parts a postal-mime parser read (its tree, `root`), at most MAX_FOUND; none when the tree is not there. */
export function mimeAmbiguities(parser: unknown): string[] {
  const found: string[] = [];
  const root = (parser as { root?: unknown } | null)?.root;
  const stack: MimeTreeNode[] = root && typeof root === 'object' ? [root] : [];
  while (stack.length && found.length < MAX_FOUND) {
    const node = stack.pop()!;
    if (Array.isArray(node.headers)) found.push(...partAmbiguities(node.headers, MAX_FOUND - found.length));
    // One by one: a multipart may hold a million parts, too many to spread into one call.
    if (Array.isArray(node.childNodes)) for (const child of node.childNodes) stack.push(child);
  }
  return found.slice(0, MAX_FOUND);
}
