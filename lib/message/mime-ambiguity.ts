/**
 * Parts whose reading mail readers do not agree on. A part that says twice, differently, how
 * it is to be read — two Content-Type headers, `boundary="decoy"; boundary="real"` — is read
 * one way here (postal-mime takes the first of each) and may be shown another way by the
 * reader: a benign part to the scanner, the lure to the user. The same for a Content-Type that
 * is not `type/subtype` (RFC 2045 has such a part read as text/plain; postal-mime keeps it as
 * an attachment of that type) and for a uuencoded part (`Content-Transfer-Encoding:
 * x-uuencode`), which Thunderbird decodes and shows and postal-mime passes through as the
 * encoded text. No mailer writes these (none of the 3,667 messages of the three corpora but
 * one phish has any): what is found is recorded (`MIME_AMBIGUOUS`) and held as an unparseable
 * message is, since what was read may not be what is shown.
 *
 * Reads postal-mime's tree (its internal `root`, as countParts does): every part's headers as
 * they were written, duplicates included. Pure.
 */

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

/**
 * The parameters of a structured header (`type; a=1; b="x;y"`), as written: name (lowercased)
 * and value (unquoted), duplicates kept. Semicolons inside quotes do not split.
 */
export function headerParams(value: string): Array<[string, string]> {
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
      start = i + 1;
    }
  }
  take(value.length);
  return out;
}

/** What is ambiguous in one part's headers. */
function partAmbiguities(headers: ReadonlyArray<{ key: string; value: string }>): string[] {
  const found: string[] = [];
  const first = new Map<string, string>();
  for (const h of headers) {
    if (!READING_HEADERS.has(h.key)) continue;
    const seen = first.get(h.key);
    if (seen === undefined) first.set(h.key, h.value);
    else if (normalized(seen) !== normalized(h.value)) found.push(`two ${h.key} headers: '${seen.slice(0, 60)}' and '${h.value.slice(0, 60)}'`);
    const params = new Map<string, string>();
    for (const [name, v] of headerParams(h.value)) {
      const before = params.get(name);
      if (before !== undefined && before !== v) found.push(`${name} given twice in ${h.key}: '${before.slice(0, 40)}' and '${v.slice(0, 40)}'`);
      if (before === undefined) params.set(name, v);
    }
  }
  const type = first.get('content-type');
  if (type !== undefined && !MEDIA_TYPE.test(type.trim())) found.push(`content-type '${type.slice(0, 60)}' is not a type/subtype`);
  const cte = first.get('content-transfer-encoding');
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
    if (Array.isArray(node.headers)) found.push(...partAmbiguities(node.headers));
    if (Array.isArray(node.childNodes)) stack.push(...node.childNodes);
  }
  return found.slice(0, MAX_FOUND);
}
