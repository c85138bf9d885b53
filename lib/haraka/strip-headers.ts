import { PHISHX_HEADER_PREFIX } from '../verdict/actions.js';
import type { HarakaTransaction } from './types.js';

/**
 * Is this raw header line (folded continuation lines included) one of ours by name, under
 * any casing, whitespace or folding? `X-PhishX-Reasons : none`, `X-PhishX-Id<TAB>: …` and
 * `X-PhishX-<CRLF> Score: 0` are all X-PhishX headers to a lenient reader (postal-mime reads
 * them, and reads the first one), though Haraka's parser does not see them as headers.
 */
export function isPhishXHeaderLine(line: string): boolean {
  const colon = line.indexOf(':');
  const name = (colon >= 0 ? line.slice(0, colon) : line).replace(/\s+/g, '').toLowerCase();
  return name.startsWith(PHISHX_HEADER_PREFIX);
}

/**
 * Remove every X-PhishX-* header line a sender put in, at the raw level: the header lines
 * Haraka will write out (its `header_list`, edited in place, since the message stream holds
 * that array), and the parsed maps. Returns how many lines went.
 */
export function stripPhishXHeaders(txn: HarakaTransaction): number {
  const h = txn.header;
  let removed = 0;
  for (let i = h.header_list.length - 1; i >= 0; i--) {
    if (isPhishXHeaderLine(h.header_list[i])) {
      h.header_list.splice(i, 1);
      removed++;
    }
  }
  for (const map of [h.headers, h.headers_decoded]) {
    if (!map) continue;
    for (const k of Object.keys(map)) if (k.replace(/\s+/g, '').toLowerCase().startsWith(PHISHX_HEADER_PREFIX)) delete map[k];
  }
  // As Haraka's own remove_header does once the header block has been read.
  if (removed && txn.reset_headers) txn.reset_headers();
  return removed;
}

/** Put our headers at the top of the header block, in the order given. */
export function addHeadersOnTop(txn: HarakaTransaction, headers: ReadonlyArray<readonly [string, string]>): void {
  for (let i = headers.length - 1; i >= 0; i--) txn.add_leading_header(headers[i][0], headers[i][1]);
}

/**
 * The raw message with every X-PhishX-* header line (and its folded continuation lines)
 * removed from the header block and `add` put on top. The body is untouched.
 */
export function rewritePhishXHeaders(raw: Buffer, add: ReadonlyArray<readonly [string, string]>): Buffer {
  const text = raw.toString('latin1');
  const m = /\r?\n\r?\n/.exec(text);
  const headEnd = m ? m.index : text.length;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.slice(0, headEnd).split(/\r?\n/);
  const kept: string[] = [];
  let dropping = false;
  for (const line of lines) {
    if (/^[ \t]/.test(line)) {
      if (!dropping) kept.push(line); // a continuation goes with its header
      continue;
    }
    dropping = isPhishXHeaderLine(line);
    if (!dropping) kept.push(line);
  }
  const top = add.map(([k, v]) => `${k}: ${v}`);
  const head = [...top, ...kept].join(eol);
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(text.slice(headEnd), 'latin1')]);
}
