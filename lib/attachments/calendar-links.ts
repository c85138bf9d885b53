/**
 * The links a calendar client shows for an iCalendar invitation (RFC 5545): a meeting
 * invite's description, location, URL and attachments are rendered clickable by Outlook,
 * Gmail and Apple Calendar, and an invite is a known way to bring a lure past a filter that
 * reads only the message body. Pure; never throws.
 */
import { findUrls } from '../message/domain.js';
import { scanHtml } from '../message/html.js';

/** Declared types of iCalendar objects (meeting invitations): Outlook's text/calendar part, Google Calendar's application/ics invite.ics. */
export const CALENDAR_TYPES = /^(?:text\/calendar|text\/x-vcalendar|application\/(?:x-)?ics)$/;

/**
 * Properties a calendar client shows (or opens) with their text: the description (plain, and
 * the HTML one Outlook sends as X-ALT-DESC, or RFC 9073's STYLED-DESCRIPTION), location, URL,
 * attachments, conference links, and vendor X- properties naming a URL or link (Teams' and
 * Google's meeting links). ORGANIZER / ATTENDEE (mailto:), UID and dates are not shown as links.
 */
const SHOWN = /^(?:DESCRIPTION|LOCATION|URL|ATTACH|SUMMARY|COMMENT|CONTACT|CONFERENCE|IMAGE|STYLED-DESCRIPTION|X-ALT-DESC|X-[A-Z0-9-]*(?:URL|URI|LINK))$/;

/** A content line's property name (before its parameters), upper-cased. */
function propertyName(line: string): string {
  const m = /^[A-Za-z0-9-]+/.exec(line);
  return m ? m[0].toUpperCase() : '';
}

/**
 * Where a content line's value starts: after the first colon outside a quoted parameter value
 * (`DESCRIPTION;ALTREP="http://x/":text`), or -1 when there is none.
 */
function valueStart(line: string): number {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x22) quoted = !quoted;
    else if (c === 0x3a && !quoted) return i + 1;
  }
  return -1;
}

/**
 * A TEXT value as the client shows it: `\n` a line break, `\,` `\;` `\\` the character itself
 * (any other backslash kept). A loop, not `replace` with a callback: a value of nothing but
 * escapes cost that ~0.7 µs each, 1.8 s for a 2.5 MB invitation (the 25 MB a message may be:
 * past the scan budget); this takes ~0.2 s.
 */
export function unescapeText(value: string): string {
  let i = value.indexOf('\\');
  if (i < 0) return value;
  let out = '';
  let from = 0;
  while (i >= 0 && i + 1 < value.length) {
    const c = value[i + 1];
    if (c === 'n' || c === 'N' || c === ',' || c === ';' || c === '\\') {
      out += value.slice(from, i) + (c === 'n' || c === 'N' ? '\n' : c);
      from = i + 2;
      i = value.indexOf('\\', from);
    } else i = value.indexOf('\\', i + 1);
  }
  return out + value.slice(from);
}

/**
 * Lines of `text` unfolded (a line break followed by one space or tab continues the line, RFC
 * 5545 §3.1 — a link split across lines is one link again).
 */
export function unfoldLines(text: string): string[] {
  return text.replace(/\r?\n[ \t]/g, '').split(/\r?\n/);
}

/**
 * Links in the shown properties of an iCalendar text (`BEGIN:VCALENDAR` …), at most `max`:
 * URLs with a scheme or `www.` in their text and parameters (an `ALTREP` URI), and the links of
 * an HTML description. Domains written as names ("see example.com") are left out, as a
 * client shows them as text.
 */
export function calendarLinks(text: string, max: number): string[] {
  const out = new Set<string>();
  for (const line of unfoldLines(text)) {
    if (out.size >= max) break;
    if (!SHOWN.test(propertyName(line))) continue;
    const at = valueStart(line);
    if (at < 0) continue;
    const params = line.slice(0, at - 1);
    const value = unescapeText(line.slice(at));
    const html = /;FMTTYPE="?text\/html/i.test(params);
    const found = html ? scanHtml(value, max, 0).links.flatMap((l) => (l.kind === 'img' ? [] : [l.url])) : [];
    for (const u of findUrls(html ? params : `${params}\n${value}`)) if (!u.bare) found.push(u.url);
    for (const u of found) {
      if (out.size >= max) break;
      out.add(u);
    }
  }
  return [...out];
}

/** Whether `text` is an iCalendar object (its first content line within the first 1,000 characters). */
export function isCalendar(text: string): boolean {
  return /^\s*BEGIN:VCALENDAR\s*$/im.test(text.slice(0, 1000));
}
