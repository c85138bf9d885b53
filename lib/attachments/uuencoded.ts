import { declaredRatio, type ArchiveEntry, type ArchiveInfo, type InflateBudget } from './archive.js';

/**
 * Uuencoded attachments (`.uue`, `.uu`, `.xxe`): text holding one or more files, each
 * between a `begin <mode> <name>` line and an `end` line (`begin-base64 … ====` for
 * `uuencode -m`). WinRAR and other Windows archivers open them like archives, and malware
 * mail sends `Invoice.uue` holding `Invoice.exe` where archives are looked into. 7-Zip does
 * not read them; their names stand in clear text in the `begin` lines, so they are listed
 * from those (the files are not decoded: their content is not read).
 */

/** Names of uuencoded attachments (read when `file-type` recognises nothing in them). */
export const UUENCODED_NAME = /\.(uue|uu|xxe)$/i;

/** A `begin` line: the mode in octal, then the file's name to the end of the line (greedy: a line of blanks costs its length once). */
const BEGIN = /^begin(?:-base64)?[ \t]+[0-7]{3,4}[ \t]+([^\r\n]*)/;
/** Longest name kept (Windows allows 255 characters). */
const MAX_NAME = 255;
/**
 * The word `begin` looked at this many times at most (base64 lines may hold it, and padding
 * with it costs its sender nothing): past it the rest is not looked at, recorded.
 */
export const MAX_BEGIN_WORDS = 100_000;

/**
 * List the files of a uuencoded attachment into `acc` from its `begin` lines: each an entry,
 * counted against the message's `budget` (past it `truncated`); its size as decoded (3 bytes
 * per 4 characters up to the next `begin` line, an estimate), that length as compressed. Text
 * without a `begin` line is `unreadable` (not what its name says, so not looked into). The
 * bytes are searched for the word (no string of the whole text is made). Never throws.
 */
export function listUuencoded(buf: Buffer, budget: InflateBudget, acc: ArchiveInfo): ArchiveInfo {
  try {
    if (budget.aborted) {
      acc.uninspected ??= 'scan budget ended before the archive was read';
      return acc;
    }
    // The file being read: where its encoded lines start.
    let open: { entry: ArchiveEntry; from: number } | null = null;
    const close = (at: number): void => {
      if (!open) return;
      open.entry.compressed = Math.max(0, at - open.from);
      open.entry.size = Math.floor((open.entry.compressed * 3) / 4);
      open = null;
    };
    let words = 0;
    let from = 0;
    for (let at = buf.indexOf('begin'); at >= 0; at = buf.indexOf('begin', from)) {
      from = at + 5;
      if (++words > MAX_BEGIN_WORDS) {
        acc.uninspected ??= `more than ${MAX_BEGIN_WORDS} words 'begin': the rest not looked at`;
        break;
      }
      if (at > 0 && buf[at - 1] !== 0x0a) continue; // not at a line's start
      const eol = buf.indexOf(0x0a, at);
      const lineEnd = eol < 0 ? buf.length : eol;
      const m = BEGIN.exec(buf.toString('latin1', at, lineEnd));
      if (!m) continue;
      close(at);
      if (budget.entriesLeft <= 0) {
        acc.truncated = true;
        break;
      }
      budget.entriesLeft--;
      const name = Buffer.from(m[1].trim().slice(0, MAX_NAME), 'latin1').toString('utf8');
      const entry: ArchiveEntry = { name, size: 0, compressed: 0, encrypted: false, depth: 1 };
      acc.entries.push(entry);
      open = { entry, from: lineEnd + 1 };
      from = lineEnd + 1; // the next search starts after this line
    }
    close(buf.length);
    if (!acc.entries.length && !acc.truncated && !acc.uninspected) acc.unreadable = true;
    acc.ratio = declaredRatio(acc.entries);
  } finally {
    acc.done = true;
  }
  return acc;
}
