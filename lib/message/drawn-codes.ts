/**
 * QR codes drawn without a picture. A lure that knows pictures are read for codes draws its
 * code with what a mail client shows anyway: an HTML table whose cells are coloured dark or
 * light, or lines of Unicode block characters (`█ ▀ ▄`, quadrants, `■ □`) in the text. A
 * phone reads either off the screen like a picture. This module finds such grids of cells;
 * qr-codes.ts `readCellGrid` reads them.
 *
 * A grid is a candidate when it could be a code: at least 21 cells each way, at most
 * MAX_CELLS (a version 40 code is 177 modules), neither all dark nor all light. The work is
 * linear in the HTML or text: cells are recorded only inside tables, block characters only
 * after one dark one was seen.
 */
import colorString from 'color-string';
import type { Declarations } from './stylesheet.js';

/** Cells row by row, 1 = dark. Rows may differ in length (short ones are light to the right). */
export type CellGrid = Uint8Array[];

export interface DrawnGrid {
  /** How it was drawn: table cells, or block characters of the text. */
  how: 'table' | 'text';
  cells: CellGrid;
}

/** A code is at least 21 modules wide. */
const MIN_CELLS = 21;
/** Cells per side at most, once merged (`merged`): a version 40 code is 177 modules. */
export const MAX_CELLS = 400;
/** Characters per drawn line and lines per drawing at most: a version 40 code drawn `██` per module is 370 characters wide and as many lines tall drawn `■`. */
const MAX_LINE_CHARS = 400;
const MAX_LINES = 200;
const MAX_TABLE_CELLS = 200;

/** A dark block character somewhere: the cue to look for drawn lines at all. */
export const DARK_BLOCK = /[\u2580-\u2590\u2593-\u259f\u25a0\u25fc\u25fe\u2b1b]/;

/** Whether a CSS colour is dark (below half brightness); null for no colour, a transparent one or one this cannot read. Pure. */
export function isDarkColour(value: string): boolean | null {
  const c = colorString.get(value.trim());
  if (!c) return null;
  const [a, b, d, alpha] = c.value;
  if (alpha !== undefined && alpha < 0.5) return null;
  if (c.model === 'rgb') return 0.299 * a + 0.587 * b + 0.114 * d < 128;
  if (c.model === 'hsl') return d < 50;
  return d > b; // hwb: more black than white
}

/** The colour among a `background` value's words (`#000 url(x) no-repeat`), as isDarkColour. Pure. */
function backgroundColour(value: string): boolean | null {
  for (const m of value.replace(/url\([^)]*\)/gi, ' ').matchAll(/#[0-9a-f]{3,8}\b|(?:rgba?|hsla?|hwb)\([^)]*\)|[a-z]+/gi)) {
    const dark = isDarkColour(m[0]);
    if (dark !== null) return dark;
  }
  return null;
}

/**
 * The background an element declares — its inline style over its `<style>` sheets'
 * declarations (unless `!important` there), over its `bgcolor` attribute — as dark (true),
 * light (false) or none (null). `bgcolor="000000"` without `#` is a colour, as browsers read
 * it. Pure.
 */
export function declaredBackground(attrs: Record<string, string>, sheet: Declarations | null): boolean | null {
  // Most elements declare no background at all.
  if (!sheet && attrs.bgcolor === undefined && !/background/i.test(attrs.style ?? '')) return null;
  let css: string | undefined;
  let important = false;
  for (const p of ['background', 'background-color']) {
    const d = sheet?.get(p);
    if (d) {
      css = d.value;
      important = d.important;
    }
  }
  if (!important && attrs.style !== undefined) {
    for (const part of attrs.style.split(';')) {
      const i = part.indexOf(':');
      const name = i > 0 ? part.slice(0, i).trim().toLowerCase() : '';
      if (name === 'background' || name === 'background-color') css = part.slice(i + 1).replace(/!\s*important/i, '');
    }
  }
  if (css !== undefined) {
    const dark = backgroundColour(css);
    if (dark !== null) return dark;
  }
  const attr = attrs.bgcolor?.trim();
  if (!attr) return null;
  return isDarkColour(/^[0-9a-f]{6}$/i.test(attr) ? `#${attr}` : attr);
}

/** Whether a grid could hold a code: at least MIN_CELLS each way, at most MAX_CELLS, some cells dark and some light. */
function couldBeCode(cells: CellGrid, maxSide: number): boolean {
  if (cells.length < MIN_CELLS || cells.length > maxSide) return false;
  const width = widthOf(cells);
  let dark = 0;
  let all = 0;
  for (const row of cells) {
    for (const c of row) if (c) dark++;
    all += row.length;
  }
  return width >= MIN_CELLS && width <= maxSide && dark >= all * 0.15 && dark <= all * 0.85;
}

interface OpenTable {
  /** Parser depth the table opened at. */
  depth: number;
  rows: CellGrid;
  row: number[] | null;
  /** Parser depth the open row opened at. */
  rowDepth: number;
  tableBackground: boolean | null;
  rowBackground: boolean | null;
  /** The open cell: its colspan and its background (its own, else the first one an element inside it declares); its tag, class and id. */
  cell: { depth: number; span: number; dark: boolean | null; own: boolean; tag: string; cls?: string; id?: string } | null;
  /** Cells coloured by nothing this could see but with a class or id: a sheet may colour them (`resolve`). */
  pending: Array<{ y: number; x: number; span: number; tag: string; cls?: string; id?: string }>;
  /** Past MAX_TABLE_CELLS rows or columns: not a code, nothing more recorded. */
  tooLarge: boolean;
}

/**
 * Tables as grids of cells, fed the parser's events. A cell's colour: its own background,
 * else the first an element inside it declares or a dark block character it shows, else its
 * row's, else its table's, else light.
 * Nested tables are tables of their own.
 */
export class TableGrids {
  readonly found: DrawnGrid[] = [];
  private readonly open: OpenTable[] = [];

  /**
   * `resolve`: the background `<style>` sheets give an element, asked only for the cells of
   * a table shaped like a code that nothing else coloured (the sheets are parsed only where
   * they may hide text; a code coloured by classes is drawn where none does).
   */
  constructor(private readonly resolve: ((tag: string, cls: string | undefined, id: string | undefined) => boolean | null) | null = null) {}

  /** An element opened at parser depth `depth` (the element included). */
  opened(name: string, attrs: Record<string, string>, sheet: Declarations | null, depth: number): void {
    if (name === 'table') {
      this.open.push({
        depth,
        rows: [],
        row: null,
        rowDepth: 0,
        tableBackground: declaredBackground(attrs, sheet),
        rowBackground: null,
        cell: null,
        pending: [],
        tooLarge: false,
      });
      return;
    }
    const t = this.open.at(-1);
    if (!t || t.tooLarge) return;
    if (name === 'tr') {
      this.endRow(t);
      t.row = [];
      t.rowDepth = depth;
      t.rowBackground = declaredBackground(attrs, sheet);
    } else if (name === 'td' || name === 'th') {
      this.endCell(t);
      const span = Number.parseInt(attrs.colspan ?? '1', 10);
      const dark = declaredBackground(attrs, sheet);
      t.cell = {
        depth,
        span: Number.isFinite(span) && span > 1 ? Math.min(span, MAX_TABLE_CELLS + 1) : 1,
        dark,
        own: dark !== null,
        tag: name,
        cls: attrs.class,
        id: attrs.id,
      };
    } else if (t.cell && !t.cell.own && t.cell.dark === null) {
      t.cell.dark = declaredBackground(attrs, sheet);
    }
  }

  /** Text shown: a dark block character makes the open cell dark, unless it has a background of its own (`<td>█</td>`). */
  text(data: string): void {
    const c = this.open.at(-1)?.cell;
    if (c && !c.own && c.dark === null && DARK_BLOCK.test(data)) c.dark = true;
  }

  /**
   * An element closed; `depth` is the parser's depth after it. Tables, rows and cells that
   * opened deeper end here — by depth, not by name, so that the closing tags of a hidden
   * table inside a cell (never opened here) do not end the cell around it.
   */
  closed(depth: number): void {
    while (this.open.length && this.open[this.open.length - 1].depth > depth) this.endTable(this.open.pop() as OpenTable);
    const t = this.open.at(-1);
    if (!t || t.tooLarge) return;
    if (t.cell && t.cell.depth > depth) this.endCell(t);
    if (t.row && t.rowDepth > depth) this.endRow(t);
  }

  /** The end of the document: tables left open end here. */
  finish(): DrawnGrid[] {
    while (this.open.length) this.endTable(this.open.pop() as OpenTable);
    return this.found;
  }

  private endCell(t: OpenTable): void {
    const c = t.cell;
    if (!c) return;
    t.cell = null;
    t.row ??= [];
    const dark = c.dark ?? t.rowBackground ?? t.tableBackground;
    if (dark === null && (c.cls !== undefined || c.id !== undefined) && this.resolve)
      t.pending.push({ y: t.rows.length, x: t.row.length, span: c.span, tag: c.tag, cls: c.cls, id: c.id });
    for (let i = 0; i < c.span; i++) t.row.push(dark ? 1 : 0);
    if (t.row.length > MAX_TABLE_CELLS) this.tooLarge(t);
  }

  private endRow(t: OpenTable): void {
    this.endCell(t);
    if (t.row?.length) t.rows.push(Uint8Array.from(t.row));
    t.row = null;
    t.rowBackground = null;
    if (t.rows.length > MAX_TABLE_CELLS) this.tooLarge(t);
  }

  private tooLarge(t: OpenTable): void {
    t.tooLarge = true;
    t.rows = [];
    t.row = null;
    t.cell = null;
    t.pending = [];
  }

  private endTable(t: OpenTable): void {
    if (t.tooLarge) return;
    this.endRow(t);
    if (t.tooLarge || t.rows.length < MIN_CELLS) return;
    if (t.pending.length && this.resolve && t.rows.some((r) => r.length >= MIN_CELLS)) {
      const known = new Map<string, boolean | null>();
      for (const p of t.pending) {
        const key = `${p.tag}\u0000${p.cls ?? ''}\u0000${p.id ?? ''}`;
        let dark = known.get(key);
        if (dark === undefined) known.set(key, (dark = this.resolve(p.tag, p.cls, p.id)));
        if (dark) t.rows[p.y]?.fill(1, p.x, p.x + p.span);
      }
    }
    if (couldBeCode(t.rows, MAX_TABLE_CELLS)) this.found.push({ how: 'table', cells: t.rows });
  }
}

/**
 * Block characters as the cells they fill: each character is 2 × 2 cells (left/right,
 * top/bottom), so half blocks (`▀ ▄`), quadrants (`▚ ▟`), full blocks drawn twice per
 * module (`██`) and squares (`■ □`) all keep a module's shape. Light: spaces, no-break and
 * ideographic spaces, the braille blank, `░ ▒`, hollow squares. All in the BMP, so read by
 * UTF-16 code unit.
 */
/** Not a fill: a character other than these (a line of text with a "■" bullet is not drawn). */
const OTHER = 16;
/** Each BMP code unit's fill — bits: 1 top left, 2 top right, 4 bottom left, 8 bottom right — or OTHER. */
const FILL = new Uint8Array(0x10000).fill(OTHER);
for (const [chars, bits] of [
  ['█▉▊▋▓■◼◾⬛', 15],
  ['▀', 3],
  ['▄▅▆▇', 12],
  ['▌', 5],
  ['▐', 10],
  ['▖', 4],
  ['▗', 8],
  ['▘', 1],
  ['▝', 2],
  ['▙', 13],
  ['▚', 9],
  ['▛', 7],
  ['▜', 11],
  ['▞', 6],
  ['▟', 14],
  [' \u00a0\u2007\u3000\u2800░▒▁▂▃▍▎▏▔▕□◻◽⬜', 0],
] as const)
  for (const ch of chars) FILL[ch.charCodeAt(0)] = bits;
const VARIATION_SELECTOR = 0xfe0f;
const fillOf = (code: number): number => FILL[code];

/** A drawn line: its characters' fills (variation selectors dropped, trailing blanks cut) and its indentation. */
interface DrawnLine {
  fills: Uint8Array;
  indent: number;
}

/** The fills of a line that is drawn, null for one that is not. Linear in the line. */
function drawnLine(text: string, from: number, to: number): DrawnLine | null {
  if (to - from < 11 || to - from > 2 * MAX_LINE_CHARS) return null;
  // Most lines are text: out at the first tenth of characters that are not block characters.
  let others = 0;
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    if (fillOf(code) === OTHER && code !== VARIATION_SELECTOR && ++others > (to - from) * 0.1 + 2) return null;
  }
  const fills = new Uint8Array(to - from);
  let n = 0;
  let other = 0;
  let dark = false;
  let indent = -1;
  let lastInk = 0;
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    if (code === VARIATION_SELECTOR) continue;
    const f = code === 9 ? 0 : fillOf(code);
    if (f === OTHER && code !== 13) other++;
    else if (f) dark = true;
    if (indent < 0 && code !== 32 && code !== 9) indent = n;
    if (code !== 32 && code !== 9 && code !== 13) lastInk = n + 1;
    fills[n++] = f === OTHER ? 0 : f;
  }
  if (lastInk < 11 || lastInk > MAX_LINE_CHARS || !dark || other > lastInk * 0.1) return null;
  return { fills: fills.subarray(0, lastInk), indent };
}

/**
 * Cells with every pair of columns (then of rows) that are alike everywhere merged, until
 * none is: a module drawn as `██`, or as a half block's two columns, becomes one cell, so
 * that modules are square (a code drawn twice as wide as high is often not read). Pure.
 */
export function merged(cells: CellGrid): CellGrid {
  let out = cells;
  for (;;) {
    const w = widthOf(out);
    if (w < 2 * MIN_CELLS || w % 2 || !out.every((r) => pairsAlike(r, w))) break;
    out = out.map((r) => {
      const half = new Uint8Array(w / 2);
      for (let x = 0; x < half.length; x++) half[x] = r[2 * x] ?? 0;
      return half;
    });
  }
  for (;;) {
    const h = out.length;
    if (h < 2 * MIN_CELLS || h % 2) break;
    let alike = true;
    for (let y = 0; y < h && alike; y += 2) alike = rowsAlike(out[y], out[y + 1]);
    if (!alike) break;
    out = out.filter((_, y) => y % 2 === 0);
  }
  return out;
}

/** A grid's width: its longest row. */
export function widthOf(cells: readonly Uint8Array[]): number {
  let w = 0;
  for (const r of cells) if (r.length > w) w = r.length;
  return w;
}

/** Columns 2k and 2k + 1 alike in a row (cells past its end are light). */
function pairsAlike(r: Uint8Array, w: number): boolean {
  for (let x = 0; x < w; x += 2) if ((r[x] ?? 0) !== (r[x + 1] ?? 0)) return false;
  return true;
}

function rowsAlike(a: Uint8Array, b: Uint8Array): boolean {
  const n = Math.max(a.length, b.length);
  for (let x = 0; x < n; x++) if ((a[x] ?? 0) !== (b[x] ?? 0)) return false;
  return true;
}

/** Cells of a run of drawn lines, their common indentation removed. */
function cellsOf(lines: DrawnLine[]): CellGrid {
  let indent = Infinity;
  for (const l of lines) indent = Math.min(indent, l.indent);
  const cells: CellGrid = [];
  for (const l of lines) {
    const n = Math.max(0, l.fills.length - indent);
    const top = new Uint8Array(2 * n);
    const bottom = new Uint8Array(2 * n);
    for (let i = 0; i < n; i++) {
      const bits = l.fills[i + indent];
      top[2 * i] = bits & 1;
      top[2 * i + 1] = (bits >> 1) & 1;
      bottom[2 * i] = (bits >> 2) & 1;
      bottom[2 * i + 1] = (bits >> 3) & 1;
    }
    cells.push(top, bottom);
  }
  return cells;
}

/** Light characters only, or none: a blank line or a quiet zone. */
function blankLine(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    if (code !== VARIATION_SELECTOR && code !== 9 && code !== 10 && code !== 13 && fillOf(code) !== 0) return false;
  }
  return true;
}

/**
 * Grids drawn with block characters in a text (a plain-text part, or an HTML body's text
 * with its lines and spaces as written): runs of lines of at least 11 characters, nine in
 * ten of them block characters or spaces and one dark. Blank lines inside a run are
 * skipped (HTML source between the elements of each line); lines of light characters only
 * are the quiet zone. Linear in the text. Pure.
 */
export function blockTextGrids(text: string): DrawnGrid[] {
  if (!DARK_BLOCK.test(text)) return [];
  const out: DrawnGrid[] = [];
  let run: DrawnLine[] = [];
  let tooTall = false;
  const endRun = (): void => {
    if (run.length && !tooTall) {
      const cells = merged(cellsOf(run));
      if (couldBeCode(cells, MAX_CELLS)) out.push({ how: 'text', cells });
    }
    run = [];
    tooTall = false;
  };
  for (let from = 0; from <= text.length;) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    const line = blankLine(text, from, to) ? 'blank' : drawnLine(text, from, to);
    from = to + 1;
    // A blank line or one of light characters only (a quiet zone) neither ends nor joins a run.
    if (line === 'blank') continue;
    if (!line) {
      endRun();
      continue;
    }
    if (tooTall) continue;
    run.push(line);
    if (run.length > MAX_LINES) {
      // Taller than any code: not one, and nothing more kept of it.
      tooTall = true;
      run = [];
    }
  }
  endRun();
  return out;
}
