import { Parser } from 'htmlparser2';

export interface HtmlLink {
  url: string;
  kind: 'href' | 'img' | 'form' | 'area';
  anchorText?: string;
}

export interface HtmlScan {
  links: HtmlLink[];
  /** Visible text (script, style, head and comments removed), whitespace collapsed. */
  text: string;
  forms: number;
  /** `<input type=password>` fields. */
  passwordFields: number;
  /** `<script>` elements and `on…=` event-handler attributes. */
  scripts: number;
}

const HIDDEN = new Set(['script', 'style', 'head', 'title', 'noscript', 'template']);
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

/**
 * One pass of htmlparser2 (a tolerant streaming parser, so broken HTML still yields its
 * links) collecting links with their anchor text, image sources, form actions and the
 * visible text. `maxLinks` bounds the work on hostile input.
 */
export function scanHtml(html: string, maxLinks: number): HtmlScan {
  const links: HtmlLink[] = [];
  const text: string[] = [];
  let hiddenDepth = 0;
  let forms = 0;
  let passwordFields = 0;
  let scripts = 0;
  let anchor: { url: string; text: string[] } | null = null;

  const closeAnchor = (): void => {
    if (!anchor) return;
    const t = anchor.text.join('').replace(/\s+/g, ' ').trim().slice(0, MAX_ANCHOR_TEXT);
    if (links.length < maxLinks) links.push({ url: anchor.url, kind: 'href', anchorText: t });
    anchor = null;
  };

  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (HIDDEN.has(name)) hiddenDepth++;
        if (name === 'script' || Object.keys(attrs).some((k) => k.startsWith('on'))) scripts++;
        if (BLOCK.has(name)) text.push('\n');
        if (name === 'a') {
          closeAnchor();
          if (attrs.href !== undefined) anchor = { url: attrs.href, text: [] };
        } else if (name === 'img') {
          if (attrs.src && links.length < maxLinks) links.push({ url: attrs.src, kind: 'img' });
          if (anchor && attrs.alt) anchor.text.push(` ${attrs.alt} `);
        } else if (name === 'form') {
          forms++;
          if (links.length < maxLinks) links.push({ url: attrs.action ?? '', kind: 'form' });
        } else if (name === 'input' && (attrs.type ?? '').toLowerCase() === 'password') {
          passwordFields++;
        } else if (name === 'area' && attrs.href) {
          if (links.length < maxLinks) links.push({ url: attrs.href, kind: 'area' });
        }
      },
      ontext(data) {
        if (hiddenDepth > 0) return;
        text.push(data);
        if (anchor) anchor.text.push(data);
      },
      onclosetag(name) {
        if (HIDDEN.has(name) && hiddenDepth > 0) hiddenDepth--;
        if (name === 'a') closeAnchor();
        if (BLOCK.has(name)) text.push('\n');
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  closeAnchor();
  return {
    links,
    text: text
      .join('')
      .replace(/[ \t\u00a0]+/g, ' ')
      .replace(/\s*\n\s*/g, '\n')
      .trim(),
    forms,
    passwordFields,
    scripts,
  };
}
