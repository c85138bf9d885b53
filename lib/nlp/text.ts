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

/** Header fields of a mail or a delivery report: written by software, not by the sender. */
const HEADER_LINE =
  /^(?:received|from|to|cc|subject|date|sent|message-id|return-path|mime-version|content-[a-z-]+|dkim-signature|domainkey-signature|x-[a-z0-9-]+|reporting-mta|final-recipient|original-recipient|action|status|diagnostic-code|remote-mta|arrival-date|received-from-mta|last-attempt-date|will-retry-until|list-[a-z-]+|reply-to|precedence|feedback-id|in-reply-to|references|authentication-results|arc-[a-z-]+|thread-[a-z-]+|importance|user-agent|delivered-to|envelope-to|errors-to|sender|received-spf|organization):/i;
/** Fields only mail software writes: a run of header lines holding one is a quoted header block. */
const MACHINE_HEADER =
  /^(?:received|message-id|return-path|mime-version|content-[a-z-]+|dkim-signature|domainkey-signature|x-[a-z0-9-]+|reporting-mta|final-recipient|arrival-date|remote-mta|diagnostic-code|received-from-mta|authentication-results|arc-[a-z-]+|delivered-to|received-spf):/i;

/**
 * Lines without the header blocks quoted in the body — a bounce's "original message
 * headers", a delivery report's fields, a forwarded message's raw headers: runs of two or
 * more header lines (with their folded continuations) holding at least one field only mail
 * software writes. Their words (host names, relay software, dates) say nothing about what
 * the sender wrote. A "From: / Sent: / To: / Subject:" block of a forward stays. Pure.
 */
export function withoutHeaderBlocks(lines: readonly string[]): string[] {
  const out: string[] = [];
  let block: string[] = [];
  let fields = 0;
  let machine = false;
  const endBlock = (): void => {
    // One at a time: a block may be longer than a spread can pass as arguments.
    if (!(fields >= 2 && machine)) for (const l of block) out.push(l);
    block = [];
    fields = 0;
    machine = false;
  };
  for (const line of lines) {
    if (HEADER_LINE.test(line)) {
      block.push(line);
      fields++;
      machine ||= MACHINE_HEADER.test(line);
    } else if (block.length && /^[ \t]+\S/.test(line)) {
      block.push(line); // a folded continuation of the field above
    } else {
      endBlock();
      out.push(line);
    }
  }
  endBlock();
  return out;
}

/** A rule line: one character repeated (asterisks, equals, dashes, box-drawing), as signature frames use. */
const RULE_LINE = /^\s*([*=\-_~#━─＝＊])\1{9,}\s*$/;

/**
 * The body without a framed signature at its end — a company block between rule lines
 * (name, postal address, telephone), the way Japanese and much business mail signs instead
 * of "-- ". Its words (street, district, "Co., Ltd.") describe the sender's letterhead, not
 * what it asks of the reader. Only a block of at most 12 lines with no link, after more letters
 * than it holds itself (a lure framed in rules is not a signature). Pure.
 */
export function withoutFramedSignature(body: string): string {
  const lines = body.replace(/\s+$/, '').split('\n');
  const from = lines.length - 13;
  const i = lines.findIndex((l, k) => k >= from && RULE_LINE.test(l)); // the frame's first rule
  if (i < 0) return body;
  const before = lines.slice(0, i).join('\n');
  const block = lines.slice(i).join('\n');
  // Not a frame that opens the text, not one holding a link, not one longer than what it signs.
  if (!before.trim() || /https?:\/\/|www\./i.test(block) || letters(block) > letters(before)) return body;
  return before;
}

const letters = (s: string): number => s.match(/\p{L}/gu)?.length ?? 0;

/** Subject prefixes added by mail clients and list software ("Re:", "[list-name]"). */
const SUBJECT_PREFIX = /^(?:\s*(?:re|fwd?|aw|sv|tr|res|enc)\s*:\s*|\s*\[[^\]]{1,60}\]\s*)+/i;

/**
 * The text the classifier sees: the subject and the visible body, with what would teach it
 * source artefacts instead of phishing removed — list footers, quoted replies ("> "),
 * "On … wrote:" lines, signatures after "-- ", list tags in the subject. Pure.
 */
export function classifierText(input: Pick<ScanInput, 'subject' | 'text' | 'htmlText'>): string {
  let body = readsTextPart(input.text) ? input.text : input.htmlText || input.text || '';
  body = body.replace(/\r\n?/g, '\n');
  for (const re of LIST_FOOTERS) body = body.replace(re, '\n');
  const sig = body.search(/\n-- ?\n/);
  if (sig >= 0) body = body.slice(0, sig);
  body = withoutFramedSignature(body);
  body = withoutHeaderBlocks(body.split('\n'))
    .filter((l) => !/^\s*>/.test(l) && !/^On .{5,200} wrote:\s*$/.test(l.trim()))
    .join('\n');
  const subject = input.subject.replace(SUBJECT_PREFIX, '');
  return `${subject}\n${body}`.slice(0, MAX_TEXT_CHARS);
}

/** What a second text is, beside the one `classifierText` reads. */
export type TextBasis = 'visible text' | 'HTML part';

/**
 * What the classifier judges: `classifierText`, and where a mail client would show the
 * reader other words, those too (`alt`, else null):
 * - it reads the HTML and the HTML hides text (a style, inline or in a `<style>` sheet,
 *   `hidden`): the text without the hidden part (`visible text`). Phishers salt a lure with
 *   hidden paragraphs of ordinary mail so that a classifier reads those;
 * - it reads the text/plain part and the HTML part — what clients show — says something else
 *   (fewer than half of its words are in the text part): the HTML's visible text (`HTML
 *   part`). Otherwise a harmless text/plain alternative hides the lure in the HTML.
 * The model was trained on the text `classifierText` gives (hidden salt included, itself a
 * phishing trait), so the scan judges both and keeps the more suspicious (moreSuspicious). Pure.
 */
export function classifierTexts(input: Pick<ScanInput, 'subject' | 'text' | 'htmlText' | 'htmlVisibleText'>): {
  full: string;
  alt: { text: string; basis: TextBasis } | null;
} {
  const full = classifierText(input);
  let alt: { text: string; basis: TextBasis } | null = null;
  if (readsTextPart(input.text)) {
    const shown = input.htmlVisibleText || input.htmlText;
    if (shown && !mostlyWithin(shown, input.text)) alt = { text: classifierText({ subject: input.subject, text: '', htmlText: shown }), basis: 'HTML part' };
  } else if (input.htmlVisibleText) {
    alt = { text: classifierText({ ...input, htmlText: input.htmlVisibleText }), basis: 'visible text' };
  }
  return { full, alt: alt && alt.text !== full ? alt : null };
}

/** The words (3+ letters, lower case) of a text's first 20,000 characters (the classifier reads 4,000). */
function wordSet(text: string): Set<string> {
  return new Set(
    text
      .slice(0, 20_000)
      .toLowerCase()
      .match(/\p{L}{3,}/gu) ?? [],
  );
}

/** At least half of the words of `shown` also occur in `text` (alternative parts that say the same). */
function mostlyWithin(shown: string, text: string): boolean {
  const s = wordSet(shown);
  if (s.size === 0) return true;
  const t = wordSet(text);
  let common = 0;
  for (const w of s) if (t.has(w)) common++;
  return common * 2 >= s.size;
}

/** `classify` (a synchronous classifier) on the texts of classifierTexts, the more suspicious verdict kept. */
export function classifyTexts<V extends { p: number }>(texts: ReturnType<typeof classifierTexts>, classify: (text: string) => V): V & { basis?: TextBasis } {
  return moreSuspicious(classify(texts.full), texts.alt && classify(texts.alt.text), texts.alt?.basis);
}

/** Of two verdicts on one message's texts, the more suspicious, with the basis when it is the second. Pure. */
export function moreSuspicious<V extends { p: number }>(full: V, alt: V | null, basis?: TextBasis): V & { basis?: TextBasis } {
  return alt && basis && alt.p > full.p ? { ...alt, basis } : full;
}

/** The text/plain part is what classifierText reads (it has something to say). */
function readsTextPart(text: string): boolean {
  return Boolean(text) && text.trim().length >= 20;
}
