import type { ScanInput } from '../message/types.js';
import type { Signal } from '../verdict/types.js';

/**
 * A phish has to give its reader something to do: a link to open, a file, a code to scan, a
 * number to call, an address to write or pay to, a question to answer. A message from an
 * organisation's domain with none of these — "your verification code is 482913", "thank you
 * for your purchase, receipt 4711", "your password was changed" — cannot lead its reader
 * anywhere, whatever its words; such notices are what the text model is least sure of (their
 * words are the ones lures copy). NOTHING_TO_ACT_ON caps the text score at half its weight
 * (textWeightCap), as LINKS_BRAND_ONLY and DELIVERY_REPORT do. Each test below only keeps the
 * cap off, so a pattern that also matches something harmless costs nothing but the relief.
 */

/** Nine or more digits written as phone numbers are (a callback lure's "call +1 (808) 555-0134"); long order numbers count too. */
const PHONE = /(?:\+|\b)\d(?:[ \t().\-/\u00a0]{0,3}\d){8,}/u;
/** A Bitcoin (legacy, P2SH, bech32) or Ethereum address: where an extortion mail asks to be paid. */
const WALLET = /\b(?:[13][1-9A-HJ-NP-Za-km-z]{25,34}|bc1[02-9ac-hj-np-z]{11,71}|0x[0-9a-fA-F]{40})\b/;
/** Top-level domains of the names written apart below: the common ones, and those cheap ones lures use. */
const TLDS = 'com|net|org|info|biz|xyz|top|online|site|shop|store|club|vip|icu|live|app|ru|cn|tk';
/**
 * A domain written with blanks around its dot, or its dot in brackets, so that no link scanner
 * sees it ("Astarcoin .net", "CRYPTONCOIN. NET", "example[.]com"). A blank only after the dot
 * counts before a lower-case or capital-letters name, not a capitalised word (a sentence:
 * "Thanks. Net total …"). Anchored at the dot (a lookbehind of one character), so a long word
 * costs one pass, not one per letter.
 */
const SPACED_DOMAIN = new RegExp(
  `(?<=[\\p{L}\\p{N}])(?:[ \\t\\u00a0]+\\.[ \\t\\u00a0]*(?:${TLDS}|${TLDS.toUpperCase()}|${TLDS.replace(/\b\w/g, (c) => c.toUpperCase())})|\\.[ \\t\\u00a0]+(?:${TLDS}|${TLDS.toUpperCase()}))\\b` +
    '|(?<=[\\p{L}\\p{N}])[ \\t\\u00a0]*[[(][ \\t\\u00a0]*(?:\\.|dot|DOT)[ \\t\\u00a0]*[\\])]',
  'u',
);
/**
 * A request to answer, in the corpora's languages: the reply is the action ("reply with your
 * username and password", "get back to me", "send me the codes"). Looked for after NO_REPLY
 * is taken out: notices say "do not reply to this email".
 */
const ASKS_REPLY =
  /\b(?:repl(?:y|ies|ying)|respond\p{L}*|write back|get back to|(?:contact|call|email|text|send|tell) (?:me|us)|antwort\p{L}*|répond\p{L}*|rispond\p{L}*|antwoord\p{L}*|beantwoord\p{L}*|whats ?app)\b|返信|回复|回覆|ответ/iu;
/** "Do not reply" and its kin (no-reply addresses, "nicht antworten", "ne pas répondre", "não responda", 返信不要 …). */
const NO_REPLY =
  /\b(?:(?:please )?(?:do not|don't|don’t|cannot|can't|can’t|unable to|not) (?:reply|respond)\p{L}*|no-?reply|nicht (?:[\p{L}-]+ ){0,3}(?:antworten|beantworten)|ne (?:\p{L}+ )?pas répond\p{L}*|ne répond\p{L}* pas|não respond\p{L}*|no respond\p{L}*|non rispond\p{L}*|niet (?:[\p{L}-]+ ){0,3}(?:antwoorden|beantwoorden))\b|返信(?:しないで|不要|できません)|请勿回复|請勿回覆/giu;
/** Characters of an address's local part and domain, looked for on each side of an '@'. */
const ADDRESS_CHAR = /[\p{L}\p{N}._%+-]/u;
/** Longest address (RFC 5321's path limit): how far each side of an '@' is looked at. */
const MAX_ADDRESS = 254;

/** The first address in `text` that is not `own` (lower-cased), null when there is none. Linear: each '@' looks at most MAX_ADDRESS characters each way. */
export function otherAddress(text: string, own: string): string | null {
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && at - start < MAX_ADDRESS && ADDRESS_CHAR.test(text[start - 1])) start--;
    let end = at + 1;
    while (end < text.length && end - at < MAX_ADDRESS && ADDRESS_CHAR.test(text[end])) end++;
    const address = text.slice(start, end).replace(/\.+$/, '').toLowerCase();
    const [local, domain = ''] = address.split('@');
    if (!local || !/[^.]\.[\p{L}]{2,}$/u.test(domain)) continue;
    if (address !== own) return address;
  }
  return null;
}

/** A code to scan named in the text ("scan the code with your phone", "QR code"): the code itself may be one PhishX could not read. */
const CODE_TO_SCAN = /\b(?:QR|scan\p{L}*|escane\p{L}*|scansion\p{L}*)\b|QR-?(?:Code|コード)|スキャン|读取|扫描|掃描|二维码|二維碼/iu;

/**
 * What in the text a reader could act on (a request to answer, a code to scan, a phone number,
 * a wallet, a hidden domain, another address), null when nothing. Pure.
 */
export function actionInText(text: string, own: string): string | null {
  if (ASKS_REPLY.test(text.replace(NO_REPLY, ' '))) return 'a request to answer';
  if (CODE_TO_SCAN.test(text)) return 'a code to scan';
  if (PHONE.test(text)) return 'a phone number';
  if (WALLET.test(text)) return 'a payment address';
  if (SPACED_DOMAIN.test(text)) return 'a domain written apart';
  return otherAddress(text, own) ? 'another address' : null;
}

/**
 * NOTHING_TO_ACT_ON: no link of any kind (a QR code's included), no attachment, no picture in
 * the HTML nor grid that could be a drawn code (a reader may read what PhishX could not),
 * nothing left unread (no limit reached, no part unparsed), a From on a domain that is not a
 * free mailbox (where a stranger's "reply to me" comes from), replies going to the From, and
 * nothing in the subject or text to call, write or pay to, scan, or answer. Pure.
 */
export function analyzeNothingToActOn(
  input: Pick<ScanInput, 'urls' | 'moreUrls' | 'attachments' | 'shownPictures' | 'limits' | 'from' | 'replyTo' | 'subject' | 'text' | 'htmlText'>,
  freemail: ReadonlySet<string>,
): Signal[] {
  const from = input.from;
  if (input.urls.length || input.moreUrls.length || input.attachments.length || input.shownPictures) return [];
  // Something was not read (a limit, a part that did not parse): what it holds is not known.
  if (input.limits.length) return [];
  if (!from?.address || !from.registrable || freemail.has(from.registrable)) return [];
  const own = from.address.toLowerCase();
  if (input.replyTo.some((r) => r.address.toLowerCase() !== own)) return [];
  if (actionInText(`${input.subject}\n${input.text}\n${input.htmlText}`, own)) return [];
  return [{ code: 'NOTHING_TO_ACT_ON', detail: `no link, file, number, address or request to answer; From on ${from.registrable}` }];
}
