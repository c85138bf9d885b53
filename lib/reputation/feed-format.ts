import { parse as parseCsv, type Options as CsvOptions } from 'csv-parse/sync';
import { parseFeedLine } from './normalize.js';

/**
 * The shapes blocklist exports come in, recognised from the text itself (a downloaded file's
 * name says little):
 * - `lines`: one URL or domain per line, `#` / `;` comments (OpenPhish's feed, URLhaus's text
 *   exports, what `phishx feeds import` writes);
 * - `csv`: a header naming a `url` (or `domain`, `hostname`, `host`) column — as the first line
 *   (PhishTank's online-valid.csv: `phish_id,url,phish_detail_url,…`) or as the last comment
 *   line before the data (URLhaus's CSV: `# id,dateadded,url,url_status,…`, every field quoted);
 * - `json`: a JSON array of URL strings or of objects with such a field (PhishTank's
 *   online-valid.json).
 * An export whose column has another name (ThreatFox's `ioc_value`) is read with that name
 * given (`phishx feeds import --column`): then only a header naming it makes a CSV.
 */
export type FeedFormat =
  { kind: 'lines' } | { kind: 'csv'; column: string; index: number; dataFrom: number } | { kind: 'json'; list: readonly unknown[]; fields: readonly string[] };

/** Column names that hold what a feed lists, the first present wins. */
export const ENTRY_COLUMNS: readonly string[] = ['url', 'domain', 'hostname', 'host'];

/** A CSV header written as a comment is looked for among this many leading lines (URLhaus's is the 9th). */
const HEADER_LINES = 1_000;

/**
 * Longest line read as CSV: a header or row of a blocklist export is well under a kilobyte. A
 * longer one is skipped unread — csv-parse takes ~6 s over a 10 MB line of 5 million fields
 * (each Haraka process parses feed_dir files in its event loop), and a record it refuses as too
 * large ends its reading of the rest.
 */
const MAX_CSV_LINE = 65_536;

/** Values handed on per batch (~40 ms of parsing: see parseFeedInTurns). */
export const VALUES_PER_BATCH = 5_000;

/**
 * csv-parse's reading of export rows: ragged rows and stray quotes are read as far as they go,
 * a row it cannot read at all is dropped (it counts as skipped: it yields no value), and only a
 * line starting with `#` is a comment (a `#` inside a URL is its fragment).
 */
const CSV_OPTIONS: CsvOptions = {
  relax_column_count: true,
  relax_quotes: true,
  skip_empty_lines: true,
  skip_records_with_error: true,
  comment: '#',
  comment_no_infix: true,
  trim: true,
};

/** The fields of one CSV line, or null when csv-parse cannot read it or it is too long to be one (MAX_CSV_LINE). */
function csvFields(line: string): string[] | null {
  if (line.length > MAX_CSV_LINE) return null;
  try {
    const rows = parseCsv(line, { ...CSV_OPTIONS, comment: undefined });
    return rows[0] ?? null;
  } catch {
    return null;
  }
}

/** The fields of a comment line read as a CSV header (`# id,url,…` without its `#`), or null. */
function commentFields(comment: string): string[] | null {
  return csvFields(comment.replace(/^[#;\s]+/, ''));
}

/** The entry column of a header row of at least `minFields` fields: its name and index, or null when it names none of `columns`. */
function entryColumn(fields: readonly string[] | null, minFields: number, columns: readonly string[]): { column: string; index: number } | null {
  if (!fields || fields.length < minFields) return null;
  const names = fields.map((f) => f.trim().toLowerCase());
  for (const column of columns) {
    const index = names.indexOf(column);
    if (index >= 0) return { column, index };
  }
  return null;
}

/** The lines of `text` (LF or CRLF), lazily. */
export function* textLines(text: string): Generator<string> {
  for (let at = 0; at < text.length;) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    yield text.slice(at, nl);
    at = nl + 1;
  }
}

/**
 * Recognise the export's format from its leading lines; `names`: the column names an entry may
 * be under (the first present wins; a CSV header's in any case). Pure.
 */
export function detectFeedFormat(text: string, names: readonly string[] = ENTRY_COLUMNS): FeedFormat {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trimStart().startsWith('[')) {
    const list = jsonList(body);
    if (list) return { kind: 'json', list, fields: names };
  }
  const columns = names.map((c) => c.toLowerCase());
  // A comment that may be a header: a comma and one of the names.
  const hint = (line: string): boolean => {
    if (line.length > MAX_CSV_LINE || !line.includes(',')) return false;
    const lower = line.toLowerCase();
    return columns.some((c) => lower.includes(c));
  };
  let fromComment: { column: string; index: number } | null = null;
  let lastComment = '';
  let n = 0;
  for (const raw of textLines(body)) {
    const line = raw.trim();
    n++;
    if (!line) continue;
    // A ";" line is a comment of a plain list, but may be a row below a CSV header.
    if (line.startsWith('#') || (line.startsWith(';') && !fromComment)) {
      lastComment = line;
      // Two fields at least: "# url" above plain lines is a remark, not a one-column header.
      // Only a comment near the top that names a column is parsed: a file of a million
      // comments read each as CSV held Haraka's event loop for 20 s.
      if (n <= HEADER_LINES && hint(line)) fromComment = entryColumn(commentFields(line), 2, columns) ?? fromComment;
      continue;
    }
    // A line that is an entry itself is no header, nor a CSV row ("http://a.example/x,url" is a
    // URL with a comma; "# id,url" above plain URLs a remark).
    if (parseFeedLine(line)) return { kind: 'lines' };
    const fields = csvFields(line);
    const own = entryColumn(fields, 1, columns);
    if (own && !underCommentHeader(fields!, lastComment)) return { kind: 'csv', ...own, dataFrom: n };
    // A header in a comment counts when the rows have its column.
    if (fromComment && fields && fields.length > fromComment.index) return { kind: 'csv', ...fromComment, dataFrom: n - 1 };
    return { kind: 'lines' };
  }
  return { kind: 'lines' };
}

/**
 * Is a row that names a column (a field "url") data below a header written as the comment
 * before it — as many fields, three or more? ThreatFox's rows carry their type, "url", under a
 * commented header that has no url column: such a row is no header.
 */
function underCommentHeader(fields: readonly string[], comment: string): boolean {
  if (fields.length < 3 || !comment.includes(',')) return false;
  return commentFields(comment)?.length === fields.length;
}

/** How the format reads in a message: "CSV, column "url"". */
export function describeFeedFormat(f: FeedFormat): string {
  if (f.kind === 'csv') return `CSV, column "${f.column}"`;
  if (f.kind === 'json') return f.fields === ENTRY_COLUMNS ? 'JSON list' : `JSON list, field ${f.fields.map((x) => `"${x}"`).join(' / ')}`;
  return 'one entry per line';
}

/**
 * The candidate entries of an export, in batches of about VALUES_PER_BATCH: lines as they are
 * (comments and blanks included: the caller skips them), a CSV's entry column (a row without
 * it gives null), a JSON list's strings and its objects' entry field (anything else null).
 * A CSV or JSON value is a whole field; a line's entry ends at a space.
 * Pure.
 */
export function* feedValues(text: string, format: FeedFormat = detectFeedFormat(text)): Generator<Array<string | null>> {
  if (format.kind === 'json') {
    for (let i = 0; i < format.list.length; i += VALUES_PER_BATCH) yield format.list.slice(i, i + VALUES_PER_BATCH).map((e) => jsonEntry(e, format.fields));
    return;
  }
  const body = text.replace(/^\uFEFF/, '');
  let batch: string[] = [];
  let n = 0;
  for (const line of textLines(body)) {
    if (format.kind === 'csv' && ++n <= format.dataFrom) continue;
    batch.push(line);
    if (batch.length >= VALUES_PER_BATCH) {
      yield format.kind === 'csv' ? csvColumn(batch, format.index) : batch;
      batch = [];
    }
  }
  if (batch.length) yield format.kind === 'csv' ? csvColumn(batch, format.index) : batch;
}

/** The `index` field of each row of these CSV lines (null for a row too short or unreadable). */
function csvColumn(lines: readonly string[], index: number): Array<string | null> {
  // A line too long to be a row (MAX_CSV_LINE) is not read: it counts, as skipped.
  const readable = lines.filter((l) => l.length <= MAX_CSV_LINE);
  const records = lines.filter((l) => l.trim() && !l.trimStart().startsWith('#')).length;
  let rows: string[][];
  try {
    rows = parseCsv(readable.join('\n'), CSV_OPTIONS);
  } catch {
    rows = [];
  }
  const out: Array<string | null> = rows.map((r) => r[index] ?? null);
  // A row csv-parse could not read is dropped: it still counts, as skipped.
  while (out.length < records) out.push(null);
  return out;
}

/** The text as a JSON list, or null when it is none ("[x] remark" starting a plain list). */
function jsonList(text: string): unknown[] | null {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

/** A JSON list element as an entry: a string, or an object's string under one of `fields` (url, domain, hostname, host; a key in another case too). */
function jsonEntry(e: unknown, fields: readonly string[]): string | null {
  if (typeof e === 'string') return e;
  if (!e || typeof e !== 'object') return null;
  const o = e as Record<string, unknown>;
  for (const k of fields) {
    const v = o[k];
    if (typeof v === 'string') return v;
  }
  const keys = Object.keys(o);
  for (const k of fields) {
    const lower = k.toLowerCase();
    const key = keys.find((x) => x.toLowerCase() === lower);
    const v = key === undefined ? undefined : o[key];
    if (typeof v === 'string') return v;
  }
  return null;
}
