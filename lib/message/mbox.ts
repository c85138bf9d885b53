/**
 * Mailbox files (mbox: Thunderbird's folders, Gmail Takeout, `mail` spools) hold many messages,
 * each after a separator line "From <sender> <date>". Scanned as one file they would be one
 * message — a phish in the middle hidden among the others — so `phishx scan` and `send` take
 * them apart. Hand-written: the format is a dozen lines of rules (RFC 4155), and the npm
 * readers of it are little used and stream-only.
 */

/**
 * A separator: "From " at the start of a line, then the envelope sender (or "-") and a date
 * with its time ("From MAILER-DAEMON Thu Apr 29 23:34:45 2019", "From - Fri Jan  2 00:00:00
 * 2026"): a body line "From here on …" an mboxo writer did not quote is no separator.
 */
const SEPARATOR = /^From \S+ [^\r\n]*\b\d{1,2}:\d{2}\b[^\r\n]*\r?\n/gm;

/**
 * The messages of an mbox file, or null when `raw` is not one (its first line is no "From "
 * separator: a plain message). A separator counts at the start of the file and after an empty
 * line, as mbox writers put it (a body line starting "From " is written ">From "); each
 * message loses its separator and the empty line before the next one, and body lines
 * ">From ", ">>From " … lose one ">" (mboxrd; for mboxo files only "From " lines were
 * quoted, and they get them back). Bytes are kept as they are (any charset). Pure.
 */
export function splitMbox(raw: Buffer): Buffer[] | null {
  const text = raw.toString('latin1');
  if (!text.startsWith('From ')) return null;
  const starts: Array<{ at: number; body: number }> = [];
  for (const m of text.matchAll(SEPARATOR)) {
    const at = m.index;
    if (at === 0 || text.startsWith('\n\n', at - 2) || text.startsWith('\n\r\n', at - 3)) starts.push({ at, body: at + m[0].length });
  }
  if (!starts.length) return null; // no separator line: "From nobody", a first line without a date
  return starts.map((s, i) => {
    const end = i + 1 < starts.length ? starts[i + 1].at : text.length;
    const message = text.slice(s.body, end).replace(/\r?\n$/, '');
    return Buffer.from(message.replace(/^>(>*From )/gm, '$1'), 'latin1');
  });
}
