import type { ScanInput } from '../message/types.js';

/** Most characters of text the classifier reads (subject + body). */
export const MAX_TEXT_CHARS = 20_000;

const LIST_FOOTERS: RegExp[] = [
  // Mailman: a rule of underscores followed by "... mailing list"
  /\n_{20,}\s*\n[^\n]*mailing list[\s\S]*$/i,
  // Google Groups
  /\n[^\n]*You received this message because you are subscribed to the Google Groups[\s\S]*$/i,
  // generic unsubscribe trailer of list software
  /\n[^\n]*To unsubscribe from this group[\s\S]*$/i,
];

/** Subject prefixes added by mail clients and list software ("Re:", "[list-name]"). */
const SUBJECT_PREFIX = /^(?:\s*(?:re|fwd?|aw|sv|tr|res|enc)\s*:\s*|\s*\[[^\]]{1,60}\]\s*)+/i;

/**
 * The text the classifier sees: the subject and the visible body, with what would teach it
 * source artefacts instead of phishing removed — list footers, quoted replies ("> "),
 * "On … wrote:" lines, signatures after "-- ", list tags in the subject. Pure.
 */
export function classifierText(input: Pick<ScanInput, 'subject' | 'text' | 'htmlText'>): string {
  let body = input.text && input.text.trim().length >= 20 ? input.text : input.htmlText || input.text || '';
  body = body.replace(/\r\n?/g, '\n');
  for (const re of LIST_FOOTERS) body = body.replace(re, '\n');
  const sig = body.search(/\n-- ?\n/);
  if (sig >= 0) body = body.slice(0, sig);
  body = body
    .split('\n')
    .filter((l) => !/^\s*>/.test(l) && !/^On .{5,200} wrote:\s*$/.test(l.trim()))
    .join('\n');
  const subject = input.subject.replace(SUBJECT_PREFIX, '');
  return `${subject}\n${body}`.slice(0, MAX_TEXT_CHARS);
}
