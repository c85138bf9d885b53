import * as csstree from 'css-tree';
import { useCssTreeFixes } from './css-tree-fixes.js';

/**
 * What a document's `<style>` sheets declare about the visibility of text, by the class, id
 * or tag an element carries — so text hidden with `.x{display:none}` counts as hidden, as it
 * does when the hiding is written inline (html.ts styleVisibility). Senders salt a lure with
 * hidden paragraphs of ordinary text so that a text classifier reads those instead; moving
 * the hiding from the `style` attribute into a class is the obvious next step.
 *
 * The sheets are parsed with css-tree (a spec-following, error-tolerant CSS parser: comments,
 * strings and broken CSS as a browser reads them; escapes decoded with its `ident.decode`).
 * Only what is certain to apply on any screen is kept: top-level rules (not inside `@media`, `@supports` …), selectors
 * made of tag, class, id and `*` (no `:hover`, `::before`, `[attr]`), and the properties
 * that hide text. A selector's context (`.a .b`, `div > .b`) is not checked: the element the
 * rule is for (`.b`) is matched alone, so context cannot be used to slip a rule past.
 */

// Two css-tree faults a sheet can trigger: a parse that never ends, errors that cost the whole sheet (css-tree-fixes.ts).
useCssTreeFixes();

/** A declaration as the cascade needs it. */
export interface Declaration {
  value: string;
  important: boolean;
}
export type Declarations = Map<string, Declaration>;

/**
 * The cascade for one declaration over what `into` holds from earlier (less specific or
 * earlier in source) ones: it wins unless the one there is `!important` and it is not.
 */
export function cascadeInto(into: Declarations, property: string, d: Declaration): void {
  if (!into.get(property)?.important || d.important) into.set(property, d);
}

/** The properties styleVisibility reads: the rest of a sheet is dropped when it is parsed. */
export const VISIBILITY_PROPERTIES: ReadonlySet<string> = new Set([
  'display',
  'opacity',
  'overflow',
  'overflow-y',
  'max-height',
  'height',
  'max-width',
  'width',
  'font-size',
  'font',
  'text-indent',
  'position',
  'left',
  'top',
  'transform',
  'color',
  'background',
  'background-color',
  'background-image',
  'visibility',
]);

/** Most characters of `<style>` text parsed per document (the corpora's largest sheet: 170 KB, ~28 ms). */
export const MAX_STYLE_CHARS = 256 * 1024;

/** A sheet declaration with what the cascade weighs after `!important`: its rule's specificity, then source order. */
interface SheetDeclaration extends Declaration {
  /** CSS specificity as one number: ids × 100 + classes × 10 + tags. */
  specificity: number;
  order: number;
}

/**
 * The rules of one selector subject (tag, classes, id as written): every rule with that
 * subject matches the same elements at the same specificity, so they are kept as one, each
 * property holding the declaration that wins among them. A sheet repeating `.a{color:#fff}`
 * 8,000 times is one rule, not 8,000 that every `class="a"` element would sort and apply.
 */
interface SheetRule {
  tag: string | null;
  classes: string[];
  id: string | null;
  decl: Map<string, SheetDeclaration>;
}

/** Whether `d` wins the cascade over `than`: `!important` first, then the more specific, then the later in source. Pure. */
function winsOver(d: SheetDeclaration, than: SheetDeclaration | undefined): boolean {
  if (!than) return true;
  if (d.important !== than.important) return d.important;
  return d.specificity !== than.specificity ? d.specificity > than.specificity : d.order > than.order;
}

/** The rules of a document's sheets that bear on visibility, indexed by what an element must carry. */
export interface StyleRules {
  byId: Map<string, SheetRule[]>;
  byClass: Map<string, SheetRule[]>;
  byTag: Map<string, SheetRule[]>;
  /** Rule checks and declarations `sheetDeclarations` may still visit for this document (MAX_SHEET_WORK at first). */
  work: number;
  /** The work ran out: elements after that point were read without the sheets' rules. */
  exhausted: boolean;
}

/**
 * Rule checks plus declarations visited while matching a document's elements against its
 * sheets, at most. The corpora's most is 2,406; a crafted document (160 classes on each of
 * 2,500 elements, a rule for every pair of them) would ask some 30 million — seconds of the scan
 * thread per message. Past it the rest of the document is read without the sheets
 * (`LIMIT_STYLE_RULES`).
 */
export const MAX_SHEET_WORK = 200_000;

/** Most characters of rules kept from sheet text past `MAX_STYLE_CHARS` (only rules that may hide text). */
export const MAX_TAIL_RULE_CHARS = 64 * 1024;

/**
 * `<style>` element contents of `html`: the first `MAX_STYLE_CHARS` in all, and from the text
 * past that only the top-level rules that may hide text (at most `MAX_TAIL_RULE_CHARS`), so
 * that padding a sheet with 256 KB of junk does not push the rule hiding the salt out of
 * sight. Linear: every search starts where the previous one ended (an unclosed `<style>` runs
 * to the end).
 */
export function styleBlocks(html: string): string[] {
  const out: string[] = [];
  let budget = MAX_STYLE_CHARS;
  const tail = { chars: MAX_TAIL_RULE_CHARS };
  const open = /<style\b/gi;
  const close = /<\/style\s*>/gi;
  let m: RegExpExecArray | null;
  while ((budget > 0 || tail.chars > 0) && (m = open.exec(html))) {
    const gt = html.indexOf('>', m.index);
    if (gt < 0) break;
    close.lastIndex = gt + 1;
    const c = close.exec(html);
    const end = c ? c.index : html.length;
    const take = Math.min(end, gt + 1 + budget);
    const css = html.slice(gt + 1, take);
    budget -= css.length;
    if (css) out.push(css);
    if (take < end && tail.chars > 0) {
      const rules = hidingRules(html, take, end, tail);
      if (rules) out.push(rules);
    }
    if (!c) break;
    open.lastIndex = close.lastIndex;
  }
  return out;
}

/**
 * The top-level rules of `html[from, to)` whose declarations may hide text, joined, within
 * `budget.chars` (spent). The text starts wherever the character budget cut the sheet: first
 * skipped to the end of the rule in progress. Braces are counted (comments skipped), so a rule
 * inside `@media` stays out, as `styleRules` leaves it out. Linear.
 */
function hidingRules(html: string, from: number, to: number, budget: { chars: number }): string {
  let out = '';
  let depth = 0;
  let ruleStart = -1; // where the current top-level rule began; -1 until the cut rule has ended
  for (let i = from; i < to && budget.chars > 0; i++) {
    const ch = html.charCodeAt(i);
    if (ch === 0x2f && html.charCodeAt(i + 1) === 0x2a) {
      const endComment = html.indexOf('*/', i + 2);
      i = endComment < 0 || endComment >= to ? to : endComment + 1;
      continue;
    }
    if (ch === 0x7b) depth++;
    else if (ch === 0x7d) {
      if (depth > 0) depth--;
      if (depth === 0) {
        if (ruleStart >= 0) {
          const rule = html.slice(ruleStart, i + 1);
          const open = rule.indexOf('{');
          // A plain rule (one block, no at-rule) whose block may hide text.
          if (open > 0 && rule.indexOf('{', open + 1) < 0 && !rule.trimStart().startsWith('@') && (rule.includes('\\') || MAY_HIDE.test(rule.slice(open)))) {
            if (rule.length + 1 > budget.chars) break;
            out += `${rule}\n`;
            budget.chars -= rule.length + 1;
          }
        }
        ruleStart = i + 1;
      }
    }
  }
  return out;
}

/**
 * A declaration that may hide text as styleVisibility reads it (`display:none`, `opacity:0`, a
 * zero font size or height, white text …); over-matches (`line-height:0`, `background-color:#fff`).
 */
const MAY_HIDE =
  /(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|opacity\s*:\s*[-+]?[0.]|font-size\s*:\s*(?:[-+]?[0.]|1(?:\.0*)?(?:px|pt))|(?<![\w-])(?:max-)?(?:height|width)\s*:\s*[-+]?[0.]|font\s*:(?:[^;}]*?\s)?(?:[-+]?[0.]|1(?:\.0*)?(?:px|pt))|(?<![\w-])(?:text-indent|left|top)\s*:\s*-\d{3}|scale\w*\(\s*[-+]?[0.]|color\s*:\s*(?:#fff|white|rgba?\(\s*255))/i;

/** `css` without its comments (an unclosed one runs to the end). Linear. */
function withoutComments(css: string): string {
  let out = '';
  let at = 0;
  for (let open = css.indexOf('/*'); open >= 0; open = css.indexOf('/*', at)) {
    out += css.slice(at, open);
    const close = css.indexOf('*/', open + 2);
    if (close < 0) return out;
    at = close + 2;
  }
  return out + css.slice(at);
}

/**
 * Whether sheets may hide any text — if not, parsing them is skipped (most mail's sheets set
 * fonts and colours only; parsing was most of this module's cost). Sure to say yes for
 * anything css-tree would read as hiding: escapes, and comments that a quote could make
 * ambiguous, always say yes; other comments are removed before the test.
 */
export function mayHide(blocks: readonly string[]): boolean {
  return blocks.some((css) => css.includes('\\') || (css.includes('/*') && /["']/.test(css)) || MAY_HIDE.test(withoutComments(css)));
}

/** A compound selector's tag, classes and id; null for one this module does not match (pseudo, attribute, nesting). */
function subjectOf(selector: csstree.Selector): Pick<SheetRule, 'tag' | 'classes' | 'id'> | null {
  let subject = { tag: null as string | null, classes: [] as string[], id: null as string | null };
  let ok = true;
  selector.children.forEach((node) => {
    switch (node.type) {
      case 'Combinator':
        subject = { tag: null, classes: [], id: null }; // the element the rule is for comes after the last combinator
        break;
      case 'TypeSelector':
        subject.tag = node.name === '*' ? null : csstree.ident.decode(node.name).toLowerCase();
        break;
      case 'ClassSelector':
        subject.classes.push(csstree.ident.decode(node.name));
        break;
      case 'IdSelector':
        subject.id = csstree.ident.decode(node.name);
        break;
      default:
        ok = false;
    }
  });
  return ok ? subject : null;
}

/**
 * The parser of rule preludes: a fork of css-tree's, with token buffers of its own. css-tree's
 * parser keeps its buffers from parse to parse, grown to the longest text it has read, and
 * clears them whole at every parse: with the sheet's parser, each selector parsed after a
 * 200 KB sheet cleared 200 KB of buffers — a sheet of 14,500 one-line rules took 1 s.
 */
const preludeParser = csstree.fork({});

/** A rule's prelude as a selector list; null when it is not one (css-tree kept it raw and cannot read it). */
function selectorList(prelude: csstree.SelectorList | csstree.Raw): csstree.SelectorList | null {
  if (prelude.type === 'SelectorList') return prelude;
  try {
    const ast = preludeParser.parse(prelude.value, { context: 'selectorList' });
    return ast.type === 'SelectorList' ? ast : null;
  } catch {
    return null;
  }
}

/** The visibility declarations of a rule's block, lower-cased; empty when it has none. */
function declarationsOf(block: csstree.Block): Declarations {
  const decl: Declarations = new Map();
  block.children.forEach((node) => {
    if (node.type !== 'Declaration') return;
    const property = csstree.ident.decode(node.property).toLowerCase();
    if (!VISIBILITY_PROPERTIES.has(property)) return;
    const value = csstree.ident
      .decode(node.value.type === 'Raw' ? node.value.value : csstree.generate(node.value))
      .trim()
      .toLowerCase();
    decl.set(property, { value, important: node.important !== false });
  });
  return decl;
}

/**
 * The visibility rules of every `<style>` sheet in `html`; null when there are none (most
 * mail: then nothing is looked up per element). Never throws: CSS the parser cannot read
 * is skipped as a browser skips it.
 */
export function styleRules(html: string, evenIfNothingHides = false): StyleRules | null {
  if (!/<style\b/i.test(html)) return null;
  const rules: StyleRules = { byId: new Map(), byClass: new Map(), byTag: new Map(), work: MAX_SHEET_WORK, exhausted: false };
  const bySubject = new Map<string, SheetRule>();
  let order = 0;
  const blocks = styleBlocks(html);
  // All or none: a sheet that only shows text again (`font-size:14px`) matters when another hides.
  if (!evenIfNothingHides && !mayHide(blocks)) return null;
  for (const css of blocks) {
    let ast: csstree.CssNode;
    try {
      // Selectors are parsed only for rules that declare something this module reads.
      ast = csstree.parse(css, { parseValue: false, parseAtrulePrelude: false, parseCustomProperty: false, parseRulePrelude: false });
    } catch {
      continue;
    }
    if (ast.type !== 'StyleSheet') continue;
    // Top-level rules only: a rule inside @media or @supports holds on some screens, not all.
    ast.children.forEach((node) => {
      if (node.type !== 'Rule') return;
      const decl = declarationsOf(node.block);
      if (!decl.size) return;
      const prelude = selectorList(node.prelude);
      prelude?.children.forEach((sel) => {
        if (sel.type !== 'Selector') return;
        const s = subjectOf(sel);
        if (!s) return;
        const at = order++;
        const subject = `${s.tag ?? '*'}#${s.id ?? ''}.${s.classes.join('.')}`;
        let rule = bySubject.get(subject);
        if (!rule) {
          rule = { ...s, decl: new Map() };
          bySubject.set(subject, rule);
          const [index, key] = s.id ? [rules.byId, s.id] : s.classes.length ? [rules.byClass, s.classes[0]] : [rules.byTag, s.tag ?? '*'];
          const list = index.get(key);
          if (list) list.push(rule);
          else index.set(key, [rule]);
        }
        const specificity = (s.id ? 100 : 0) + 10 * s.classes.length + (s.tag ? 1 : 0);
        for (const [property, d] of decl) {
          const candidate = { ...d, specificity, order: at };
          if (winsOver(candidate, rule.decl.get(property))) rule.decl.set(property, candidate);
        }
      });
    });
  }
  return rules.byId.size || rules.byClass.size || rules.byTag.size ? rules : null;
}

/**
 * The declarations the sheets give an element (tag name, `class` and `id` attributes), in
 * cascade order — higher specificity, then later source, wins; `!important` over both;
 * null when no rule matches.
 */
export function sheetDeclarations(rules: StyleRules, tag: string, classAttr: string | undefined, id: string | undefined): Declarations | null {
  const classes = classAttr ? new Set(classAttr.split(/[ \t\n\f\r]+/).filter(Boolean)) : null;
  if (rules.work <= 0) {
    rules.exhausted = true;
    return null;
  }
  const matched: SheetRule[] = [];
  const consider = (list: SheetRule[] | undefined): void => {
    if (list) rules.work -= list.length;
    for (const r of list ?? []) {
      if (r.tag !== null && r.tag !== tag) continue;
      if (r.id !== null && r.id !== id) continue;
      if (r.classes.length && !(classes && r.classes.every((c) => classes.has(c)))) continue;
      matched.push(r);
    }
  };
  consider(rules.byTag.get('*'));
  consider(rules.byTag.get(tag));
  if (classes) for (const c of classes) consider(rules.byClass.get(c));
  if (id) consider(rules.byId.get(id));
  if (!matched.length) return null;
  const out = new Map<string, SheetDeclaration>();
  for (const r of matched) {
    rules.work -= r.decl.size;
    for (const [p, d] of r.decl) if (winsOver(d, out.get(p))) out.set(p, d);
  }
  return out;
}
