import { Parser } from 'htmlparser2';
import { cascadeInto, sheetDeclarations, styleRules, type Declarations } from './stylesheet.js';
import { blockTextGrids, DARK_BLOCK, declaredBackground, TableGrids, type DrawnGrid } from './drawn-codes.js';

export interface HtmlLink {
  url: string;
  kind: 'href' | 'img' | 'form' | 'area';
  anchorText?: string;
}

export interface HtmlScan {
  links: HtmlLink[];
  /** The document's text (script, style, head and comments removed), whitespace collapsed. */
  text: string;
  /** `text` without what a style (inline or a `<style>` sheet's class, id or tag rule) or the `hidden` attribute hides (see styleVisibility). */
  visibleText: string;
  /** Characters of text left out because a style or `hidden` hid them. */
  hiddenChars: number;
  forms: number;
  /** `<input type=password>` fields. */
  passwordFields: number;
  /** `<script>` elements and `on…=` event-handler attributes. */
  scripts: number;
  /** Matching the elements against the `<style>` sheets ran past MAX_SHEET_WORK: later elements were read without them. */
  sheetWorkCut: boolean;
  /** Grids that could be QR codes drawn without a picture: tables of coloured cells, block characters of the visible text (none when no text is kept). */
  drawn: DrawnGrid[];
}

/**
 * Elements whose text no mail client shows. Not `<noscript>`: clients run no scripts, so they
 * show its content — a lure inside one was read as hidden and left the classifier blind.
 */
const HIDDEN = new Set(['script', 'style', 'head', 'title', 'template']);
const BLOCK = new Set([
  'p',
  'div',
  'br',
  'tr',
  'li',
  'td',
  'table',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'section',
  'article',
  'header',
  'footer',
  'blockquote',
]);
const MAX_ANCHOR_TEXT = 500;
/** Elements without content or end tag: htmlparser2 never opens them on its stack. */
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);

interface OpenAnchor {
  url: string;
  text: string[];
  /** Characters in `text`, whitespace collapsed. */
  chars: number;
}

/**
 * Anchor text as it is shown: whitespace collapsed as it arrives, and no more than twice
 * what is kept (an unclosed `<a>` before megabytes of text, or padding with whitespace
 * before a displayed domain, neither grows it nor pushes the domain out).
 */
function addAnchorText(a: OpenAnchor, data: string): void {
  if (a.chars >= 2 * MAX_ANCHOR_TEXT) return;
  const d = data.replace(/\s+/g, ' ');
  if (d === ' ' && (a.text.length === 0 || a.text[a.text.length - 1].endsWith(' '))) return;
  a.text.push(d);
  a.chars += d.length;
}

/** Whether an element draws its text right to left letter by letter, whatever the letters: `<bdo dir=rtl>` or a bidi override to rtl. Pure. */
function drawsRightToLeft(name: string, attrs: Record<string, string>): boolean {
  if (name === 'bdo') return (attrs.dir ?? '').trim().toLowerCase() === 'rtl';
  const style = attrs.style;
  return style !== undefined && /unicode-bidi\s*:\s*(?:bidi|isolate)-override/i.test(style) && /(?<![\w-])direction\s*:\s*rtl/i.test(style);
}

/**
 * Links resolved against the document's first `<base href>` (an absolute http(s) URL), as a
 * mail client that honours it does: `<base href="https://evil.example/">` + `<a
 * href="login">` leads to evil.example (the "baseStriker" split). Empty URLs (a form
 * posting to its own page) stay empty. Pure.
 */
function withBase(links: HtmlLink[], base: string | null): HtmlLink[] {
  if (base === null || !/^\s*https?:\/\//i.test(base)) return links;
  let b: URL;
  try {
    b = new URL(base.trim());
  } catch {
    return links;
  }
  return links.map((l) => {
    if (!l.url.trim()) return l;
    try {
      return { ...l, url: new URL(l.url.trim(), b).href };
    } catch {
      return l;
    }
  });
}

/** What one element's inline style and attributes declare about the visibility of its text (styleVisibility). */
export interface StyleEffect {
  hides: boolean;
  fontZero?: boolean;
  invisible?: boolean;
  /** Text colour set here: white (`#fff`, `white`, `rgb(255,255,255)`) or another. */
  white?: boolean;
  /** A background set here (style or `bgcolor` / `background` attribute): white text on it is not hidden. */
  background?: boolean;
}

/**
 * What an element's style — its `<style>` sheet rules (`sheet`, stylesheet.ts) under its
 * inline style — and `hidden` attribute do to the text inside it, as a browser renders it:
 * `hides` — nothing inside can be seen whatever descendants declare (`display:none`,
 * `opacity:0`, a zero `max-height` / `height` / `width` with `overflow:hidden`, a
 * `text-indent` or absolute position far off the page, `scale(0)`, the `hidden` attribute);
 * `fontZero` / `invisible` — set or lifted by this element (`font-size`, the `font`
 * shorthand's size, `visibility`), a descendant may override them (`font-size:0` on a layout
 * cell with sized text inside is a common template trick, not hiding); `white` text is
 * hidden when no element around it sets a background (on the default white page). Senders
 * salt phishing with hidden paragraphs of ordinary text so that a text classifier reads
 * those instead. Pure.
 */
export function styleVisibility(style: string | undefined, hiddenAttr: boolean, backgroundAttr = false, sheet: Declarations | null = null): StyleEffect {
  const out: StyleEffect = { hides: hiddenAttr };
  if (backgroundAttr) out.background = true;
  if (!style && !sheet) return out;
  // The cascade: the sheets' declarations, then the inline ones, except over a sheet's `!important`.
  const decl: Declarations = new Map(sheet ?? []);
  for (const part of (style ?? '').split(';')) {
    const i = part.indexOf(':');
    if (i <= 0) continue;
    const raw = part.slice(i + 1).toLowerCase();
    const important = /!\s*important/.test(raw);
    cascadeInto(decl, part.slice(0, i).trim().toLowerCase(), { value: raw.replace(/!\s*important/, '').trim(), important });
  }
  const get = (p: string): string | undefined => decl.get(p)?.value;
  const zero = (v: string | undefined): boolean => v !== undefined && /^[-+]?0*\.?0*(?:px|pt|em|rem|%|vh|vw|ex|ch)?$/.test(v) && /0/.test(v);
  // Text set in 1px (or less) is as unreadable as text set in 0.
  const tiny = (v: string | undefined): boolean => zero(v) || (v !== undefined && /^0*(?:1(?:\.0*)?|0?\.\d+)(?:px|pt)$/.test(v));
  if (get('display') === 'none' || zero(get('opacity'))) out.hides = true;
  if ((get('overflow') === 'hidden' || get('overflow-y') === 'hidden') && (zero(get('max-height')) || zero(get('height')))) out.hides = true;
  if (get('overflow') === 'hidden' && (zero(get('max-width')) || zero(get('width')))) out.hides = true;
  // Moved off the page (text-indent: -9999px; an absolutely placed box at left: -9999px) or scaled to nothing.
  const offPage = (v: string | undefined): boolean => v !== undefined && /^-\d{3,}(?:\.\d*)?(?:px|pt|em|rem)$/.test(v);
  if (offPage(get('text-indent'))) out.hides = true;
  if (/^(?:absolute|fixed)$/.test(get('position') ?? '') && (offPage(get('left')) || offPage(get('top')))) out.hides = true;
  if (/(?:^|\s)scale[xy]?\(\s*[-+]?0*\.?0*\s*[,)]/.test(get('transform') ?? '')) out.hides = true;
  // The font shorthand's size: the first length, or 0 (a weight is a bare number of 1–1000, never 0).
  const shorthand = get('font');
  const shorthandSize =
    shorthand === undefined ? undefined : /(?:^|\s)((?:[-+]?[\d.]+(?:px|pt|em|rem|%|ex|ch|vh|vw)|[-+]?0*\.?0+))(?:\s*\/|\s|$)/.exec(shorthand)?.[1];
  const fontSize = get('font-size') ?? shorthandSize;
  if (fontSize !== undefined) out.fontZero = tiny(fontSize);
  const color = get('color');
  if (color !== undefined) out.white = /^(?:#fff(?:fff)?|white|rgba?\(\s*255\s*,\s*255\s*,\s*255\s*(?:,\s*1(?:\.0*)?\s*)?\))$/.test(color);
  if (decl.has('background') || decl.has('background-color') || decl.has('background-image')) out.background = true;
  const visibility = get('visibility');
  if (visibility === 'hidden' || visibility === 'collapse') out.invisible = true;
  else if (visibility === 'visible') out.invisible = false;
  return out;
}

/** The style in force inside an element: its own declarations over those around it. */
interface InForce {
  hides: boolean;
  fontZero?: boolean;
  invisible?: boolean;
  white?: boolean;
  background: boolean;
}

/** Text under this style cannot be seen. */
function hidesText(s: InForce): boolean {
  return s.hides || s.fontZero === true || s.invisible === true || (s.white === true && !s.background);
}

/** Open elements kept nested, as browsers do (Blink and WebKit: 512). */
export const MAX_HTML_DEPTH = 512;

/**
 * htmlparser2 keeps its open elements in an array it `unshift`s and searches, so every tag
 * costs O(depth): 500 KB of `<div><span>` took ~0.8 s and 2 MB (the decoded-bytes limit)
 * ~12 s, past any scan budget (upstream fb55/htmlparser2#2481, open). Like a browser, a tag
 * opened at the depth limit first closes the innermost element (implied), so deeper tags
 * become siblings and the cost stays linear. Reads the parser's private `stack`; a parser
 * without one is left as it is (test/unit/message.test.ts checks the cap holds).
 */
export class DepthCappedParser extends Parser {
  override onopentagname(start: number, endIndex: number): void {
    const inner = this as unknown as { stack?: unknown; popElement?: (implied: boolean) => void };
    if (Array.isArray(inner.stack) && inner.stack.length >= MAX_HTML_DEPTH && typeof inner.popElement === 'function') inner.popElement(true);
    super.onopentagname(start, endIndex);
  }

  /** Open elements now (-1 when the parser keeps no stack this class can read). */
  get depth(): number {
    const stack = (this as unknown as { stack?: unknown }).stack;
    return Array.isArray(stack) ? stack.length : -1;
  }
}

const ENDIF = '<![endif]';

/**
 * What an Outlook conditional comment holds — `<!--[if mso]>…<![endif]-->`, `[if gte mso
 * 9]`, `[if (gte mso 9)|(IE)]` —, null for any other comment. Outlook for Windows shows it
 * (bulletproof buttons drawn in VML, layout tables) and other readers skip it as a comment, so
 * a link written only there is a link an Outlook user clicks and a scanner reading comments
 * as comments never sees. Linear: no backtracking over the comment. Pure.
 */
export function conditionalContent(comment: string): string | null {
  const head = /^\s*\[if\b[^\]>]{0,200}\]>/i.exec(comment.slice(0, 256));
  if (!head) return null;
  const body = comment.trimEnd();
  if (body.slice(-ENDIF.length).toLowerCase() !== ENDIF) return null;
  return body.slice(head[0].length, Math.max(head[0].length, body.length - ENDIF.length));
}

/**
 * One pass of htmlparser2 (a tolerant streaming parser, so broken HTML still yields its
 * links) collecting links with their anchor text, image sources, form actions and the
 * visible text. `maxLinks` bounds the work on hostile input; `maxText` the visible text kept
 * (links are still collected past it). The links inside Outlook's conditional comments are
 * collected too (conditionalContent; one level: the content is read without them), not their text.
 */
export function scanHtml(html: string, maxLinks: number, maxText = Infinity, readConditional = true): HtmlScan {
  const links: HtmlLink[] = [];
  const text: string[] = [];
  const visible: string[] = [];
  let textLeft = maxText;
  // A block element starts and ends a line, in the whole text and the visible one alike.
  const lineBreak = (): void => {
    if (textLeft <= 0) return;
    text.push('\n');
    visible.push('\n');
  };
  let hiddenDepth = 0;
  // Elements whose style hides or shows text, innermost last, each with the parser depth it
  // opened at and the style in force inside it (its own declarations over its parent's), so
  // a tag costs O(1) however deep it sits.
  const styled: Array<{ depth: number; inForce: InForce }> = [];
  let inForce: InForce = { hides: false, background: false };
  let hiddenChars = 0;
  let hiddenNow = false;
  let forms = 0;
  let passwordFields = 0;
  let scripts = 0;
  let anchor: OpenAnchor | null = null;
  let base: string | null = null;
  // Sheets decide what text is shown; a read for links alone (no text kept) needs none of them.
  const sheets = maxText > 0 ? styleRules(html) : null;
  // Codes drawn with table cells or block characters, looked for where the text is read.
  let forcedSheets: ReturnType<typeof styleRules> | undefined;
  const tables =
    maxText > 0
      ? new TableGrids(
          sheets
            ? null // the cells' sheet declarations are read as they open
            : (tag, cls, id) => {
                forcedSheets ??= styleRules(html, true);
                return forcedSheets ? declaredBackground({}, sheetDeclarations(forcedSheets, tag, cls, id)) : null;
              },
        )
      : null;
  let sawBlocks = false;
  // Parser depths of the open elements that draw their text right to left letter by letter
  // (`<bdo dir=rtl>`, `unicode-bidi: bidi-override; direction: rtl`): their text is marked
  // with a right-to-left override and a pop, which the text's readers undo (message/shown.ts) —
  // "drowssap" inside one is drawn "password".
  const overrides: number[] = [];
  const mark = (c: string): void => {
    // Counted in the text budget: nothing past it (a missing pop ends the run at the line's end).
    if (textLeft <= 0) return;
    textLeft -= c.length;
    text.push(c);
    visible.push(c);
  };

  // Each link once (kind, URL, anchor text): only different links count toward maxLinks, so
  // thousands of copies of one tracking pixel or one anchor cannot push the lure's link past it.
  const linkKeys = new Set<string>();
  const addLink = (link: HtmlLink): void => {
    if (links.length >= maxLinks) return;
    const key = `${link.kind}\u0000${link.url}\u0000${link.anchorText ?? ''}`;
    if (linkKeys.has(key)) return;
    linkKeys.add(key);
    links.push(link);
  };

  const closeAnchor = (): void => {
    if (!anchor) return;
    const t = anchor.text.join('').replace(/\s+/g, ' ').trim().slice(0, MAX_ANCHOR_TEXT);
    addLink({ url: anchor.url, kind: 'href', anchorText: t });
    anchor = null;
  };

  const parser = new DepthCappedParser(
    {
      onopentag(name, attrs) {
        if (HIDDEN.has(name)) hiddenDepth++;
        // A void element holds no text: its style hides nothing.
        const holdsText = !VOID.has(name);
        const bgAttr = attrs.bgcolor !== undefined || attrs.background !== undefined;
        const fromSheets = sheets && holdsText ? sheetDeclarations(sheets, name, attrs.class, attrs.id) : null;
        if (holdsText && (attrs.style !== undefined || attrs.hidden !== undefined || bgAttr || fromSheets)) {
          const v = styleVisibility(attrs.style, attrs.hidden !== undefined, bgAttr, fromSheets);
          if (v.hides || v.fontZero !== undefined || v.invisible !== undefined || v.white !== undefined || v.background) {
            inForce = {
              hides: inForce.hides || v.hides,
              fontZero: v.fontZero ?? inForce.fontZero,
              invisible: v.invisible ?? inForce.invisible,
              white: v.white ?? inForce.white,
              background: inForce.background || v.background === true,
            };
            styled.push({ depth: parser.depth, inForce });
            hiddenNow = hidesText(inForce);
          }
        }
        if (tables && holdsText && !hiddenNow && hiddenDepth === 0) tables.opened(name, attrs, fromSheets, parser.depth);
        if (holdsText && drawsRightToLeft(name, attrs)) {
          overrides.push(parser.depth);
          mark('\u202e');
        }
        if (name === 'script' || Object.keys(attrs).some((k) => k.startsWith('on'))) scripts++;
        if (BLOCK.has(name)) lineBreak();
        // Every element that navigates when clicked or shown: `<a>` (also SVG's `xlink:href`),
        // a button's `formaction`, a `<meta>` refresh; `<base href>` resolves relative ones.
        if (name === 'a') {
          closeAnchor();
          const href = attrs.href ?? attrs['xlink:href'];
          if (href !== undefined) anchor = { url: href, text: [], chars: 0 };
        } else if (name === 'base') {
          if (base === null && attrs.href) base = attrs.href;
        } else if (name === 'meta') {
          const refresh = (attrs['http-equiv'] ?? '').toLowerCase() === 'refresh' ? /url\s*=\s*['"]?([^'"\s]+)/i.exec(attrs.content ?? '') : null;
          if (refresh) addLink({ url: refresh[1], kind: 'href', anchorText: '' });
        } else if (name === 'img') {
          if (attrs.src) addLink({ url: attrs.src, kind: 'img' });
          if (anchor && attrs.alt) addAnchorText(anchor, ` ${attrs.alt} `);
        } else if (name === 'form') {
          forms++;
          addLink({ url: attrs.action ?? '', kind: 'form' });
        } else if (name === 'input' && (attrs.type ?? '').toLowerCase() === 'password') {
          passwordFields++;
        } else if (name === 'area' && attrs.href) {
          addLink({ url: attrs.href, kind: 'area' });
        } else if (name.startsWith('v:') && attrs.href) {
          // A VML shape (`<v:roundrect href>`, Outlook's bulletproof button) is a link in Outlook.
          addLink({ url: attrs.href, kind: 'href', anchorText: '' });
        }
        if (attrs.formaction) addLink({ url: attrs.formaction, kind: 'form' });
      },
      ontext(data) {
        if (hiddenDepth > 0) return;
        if (hiddenNow) hiddenChars += data.length;
        else if (tables && DARK_BLOCK.test(data)) {
          sawBlocks = true;
          tables.text(data);
        }
        if (textLeft > 0) {
          const kept = textLeft >= data.length ? data : data.slice(0, textLeft);
          text.push(kept);
          if (!hiddenNow) visible.push(kept);
          textLeft -= data.length;
        }
        if (anchor) addAnchorText(anchor, data);
      },
      oncomment(data) {
        if (!readConditional || links.length >= maxLinks) return;
        const inner = conditionalContent(data);
        if (inner) for (const l of scanHtml(inner, maxLinks - links.length, 0, false).links) addLink(l);
      },
      onclosetag(name) {
        if (HIDDEN.has(name) && hiddenDepth > 0) hiddenDepth--;
        // The parser has already dropped the element: frames it opened end here.
        if (styled.length && styled[styled.length - 1].depth > parser.depth) {
          while (styled.length && styled[styled.length - 1].depth > parser.depth) styled.pop();
          inForce = styled.length ? styled[styled.length - 1].inForce : { hides: false, background: false };
          hiddenNow = hidesText(inForce);
        }
        while (overrides.length && overrides[overrides.length - 1] > parser.depth) {
          overrides.pop();
          mark('\u202c');
        }
        if (name === 'a') closeAnchor();
        if (BLOCK.has(name)) lineBreak();
        tables?.closed(parser.depth);
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  closeAnchor();
  // A run of blanks is one space, as a browser shows it — unless it holds a no-break space
  // and is wider than one: that gap is drawn, and it is kept as two spaces (a word gap in
  // letter-spaced text, "V e r i f y&nbsp;&nbsp;&nbsp;y o u r": features.ts joins the letters).
  const collapse = (parts: string[]): string =>
    parts
      .join('')
      .replace(/[ \t\u00a0]+/g, (run) => (run.length > 1 && run.includes('\u00a0') ? '  ' : ' '))
      .replace(/\s*\n\s*/g, '\n')
      .trim();
  const all = collapse(text);
  return {
    links: withBase(links, base),
    text: all,
    visibleText: hiddenChars ? collapse(visible) : all,
    hiddenChars,
    forms,
    passwordFields,
    scripts,
    sheetWorkCut: sheets?.exhausted ?? false,
    drawn: tables ? [...tables.finish(), ...(sawBlocks ? blockTextGrids(visible.join('')) : [])] : [],
  };
}
