import { nullSenderFrom } from './delivery-report.js';
import { govLookalike, splitHost } from '../message/domain.js';
import { hostInList, isWebLink, someHosts } from './urls.js';
import type { ScanInput } from '../message/types.js';
import type { Signal } from '../verdict/types.js';
import { caseLogRatio, type LetterModel } from './letter-model.js';
import { brandsClaimedByName, brandsNamedIn, domainBearsBrand, domainBelongsToBrand, type BrandIndex } from './brands.js';

// The lookbehind starts a match only where a run of local-part characters starts: without
// it a long display name without '@' costs quadratic time (a 200,000-character name hung
// the scan for minutes; found by the message fuzzer).
const EMAIL_IN_TEXT = /(?<![a-z0-9._%+-])[a-z0-9._%+-]+@([a-z0-9-]+(?:\.[a-z0-9-]+)+)/i;

export interface SenderLists {
  /** TLDs of `[urls] suspicious_tlds`. */
  suspiciousTlds: ReadonlySet<string>;
  /** Registered domains of `[sender] freemail`. */
  freemail: ReadonlySet<string>;
  /** Domains of `[urls] free_hosting` (absent: SENDER_FREE_HOSTING is off). */
  freeHosting?: ReadonlySet<string>;
  /** Spelling model for SENDER_RANDOM_LOCALPART (absent: the signal is off). */
  letters?: LetterModel;
}

/**
 * Mean letter-bigram log-probability below which a local part reads as machine-generated.
 * Chosen on the dev corpus: ham From addresses (names, "billing", "krzysztof" -4.2,
 * "mkrzywicki" -4.3) stay above it; spam-tool addresses ("uqfkxgpz" -6.4) fall below.
 */
export const RANDOM_LOCALPART_BELOW = -4.8;
const LOCALPART_SHAPE = /^[a-z]{6,16}$/;

/**
 * Local parts in mixed case ("hrUsmGyi", "QePEMzkdT") are judged on two pieces of evidence
 * added up: how word-like their casing is (`caseLogRatio`, nats) and how word-like the
 * words their capitals start are (`segmentLikeness`, 3 points per unit above or below −3.2).
 * Below −1 they read as generated. Chosen on 47 such From local parts of the dev corpus
 * (40 fall below) and 128 real brand, role and personal camel-case local parts ("DoNotReply",
 * "USPSInformeddelivery", "KrzysztofNowak", "McAfee", "JCPenney"), which stay above; the
 * lists are in test/unit/detection.test.ts.
 */
export const GENERATED_CASE_BELOW = -1;
const MIXED_CASE_SHAPE = /^[A-Za-z]{6,20}$/;

/** The mixed-case score of a local part (see GENERATED_CASE_BELOW); NaN when it is not letters in mixed case. */
export function mixedCaseScore(local: string, letters: LetterModel): number {
  if (!MIXED_CASE_SHAPE.test(local) || local === local.toLowerCase() || local === local.toUpperCase()) return NaN;
  const spelling = letters.segmentLikeness(local);
  if (Number.isNaN(spelling)) return NaN;
  return caseLogRatio(local) + 3 * (spelling + 3.2);
}

const NO_LISTS: SenderLists = { suspiciousTlds: new Set(), freemail: new Set() };

/** From rewritten by list software for DMARC ("Jane Doe via usrp-users", "'Jane' via group"): Reply-To is then the author. */
const LIST_REWRITTEN_FROM = /\svia\s+\S/i;

/**
 * Why `domain` (a From address's) cannot exist as written, or null: characters outside letters,
 * digits, hyphens and dots (`%`, `{`, quotes, `_`), or letters a compatibility mapping turns
 * into others (mathematical bold `𝐚𝐨𝐤.𝐝𝐞`, full-width `ａｏｋ`: NFKC differs). International
 * domain names (`münchen.de`, `例え.jp`) are letters and pass. Pure.
 */
export function invalidDomain(domain: string): string | null {
  const bad = /[^\p{L}\p{M}\p{N}.-]/u.exec(domain);
  if (bad) return `"${bad[0]}" is in no domain name`;
  const folded = domain.normalize('NFKC');
  if (folded !== domain) return `look-alike letters for ${folded.slice(0, 80)}`;
  if (/\.\.|^\.|^-|-\.|\.-/.test(domain)) return 'an empty label or a label starting or ending in "-"';
  return null;
}

/**
 * A From on a project's host under a free-hosting platform ("noreply@uiadhgoiaj.firebaseapp.com")
 * whose links all lead elsewhere. Anyone can open such a project and send from its default
 * host; a real app mailing from it (Firebase's sign-in and reset mails) links back to that
 * host. The platform's own domain ("typeform.com") is the platform writing, not a project. Pure.
 */
function freeHostingSender(input: ScanInput, domain: string, freeHosting: ReadonlySet<string>): Signal[] {
  if (!domain || freeHosting.has(domain) || !hostInList(domain, freeHosting)) return [];
  const links = input.urls.filter(isWebLink);
  if (!links.length || links.some((u) => u.host === domain || u.host.endsWith(`.${domain}`))) return [];
  return [{ code: 'SENDER_FREE_HOSTING', detail: `From ${domain}, ${links.length} link(s) elsewhere (${someHosts(links)})` }];
}

/**
 * The From field's first mailbox has a comma in its display name outside quotes and comments
 * (`Nachricht von DM, <service@…>`, `Doe, John <j@…>`): RFC 5322 reads that comma as the end of
 * a mailbox without an address, the form bulk-mail tools write and mail programs do not.
 * postal-mime (4.1+) folds such a name back into the mailbox after it, as mail clients show
 * it, so the field is read here. A comma after the first address (`a@x, b@y`) is a list. Pure.
 */
export function displayNameComma(field: string): boolean {
  let quoted = false;
  let depth = 0;
  for (let i = 0; i < field.length; i++) {
    const c = field[i];
    if (c === '\\' && (quoted || depth)) i++;
    else if (quoted) quoted = c !== '"';
    else if (depth) depth += c === '(' ? 1 : c === ')' ? -1 : 0;
    else if (c === '(') depth = 1;
    else if (c === '"') quoted = true;
    else if (c === '<' || c === '@') return false;
    else if (c === ',') return true;
  }
  return false;
}

/** Sender heuristics on From / Reply-To. Pure. */
export function analyzeSender(input: ScanInput, brands: BrandIndex, registrableOf: (host: string) => string, lists: SenderLists = NO_LISTS): Signal[] {
  const out: Signal[] = [];
  const from = input.from;
  const subject = input.subject.toLowerCase();
  // Google Calendar ends an invitation's subject with the invitee's address in parentheses
  // ("Invitation: Project sync @ Thu Dec 10 (you@example.org)"): not the mailbox lure's use.
  const invitation = input.attachments.some((a) => a.calendar);
  const own = input.recipients.find((r) => subject.includes(r) && !(invitation && subject.trimEnd().endsWith(`(${r})`)));
  if (own) out.push({ code: 'RCPT_IN_SUBJECT', detail: `subject contains ${own}` });
  if (!from || !from.address || !/^[^@\s]+@[^@\s]+\.[^@\s.]+$/.test(from.address) || from.domain.includes(',') || displayNameComma(input.fromHeader)) {
    if (!nullSenderFrom(from, input.fromHeader))
      out.push({ code: 'SENDER_MALFORMED', detail: input.fromHeader ? `From: ${input.fromHeader.slice(0, 80)}` : 'no From header' });
    if (!from) return out;
  } else {
    // Given twice, or several mailboxes: the sender judged here may not be the one shown.
    if (input.fromAmbiguous) out.push({ code: 'SENDER_MALFORMED', detail: input.fromAmbiguous });
    const invalid = invalidDomain(from.domain);
    if (invalid) out.push({ code: 'SENDER_DOMAIN_INVALID', detail: `From ${from.address.slice(0, 80)}: ${invalid}` });
  }
  const tld = from.domain.slice(from.domain.lastIndexOf('.') + 1);
  if (tld && lists.suspiciousTlds.has(tld)) out.push({ code: 'SENDER_SUSPICIOUS_TLD', detail: `From ${from.address} (.${tld})` });
  if (from.domain && govLookalike(from.domain, splitHost(from.domain).suffix)) out.push({ code: 'DOMAIN_GOV_LOOKALIKE', detail: `From ${from.address}` });
  if (lists.freeHosting) out.push(...freeHostingSender(input, from.domain, lists.freeHosting));
  const local = from.address.includes('@') ? from.localPart.toLowerCase() : '';
  if (lists.letters) {
    // Mixed case ("hrUsmGyi") is judged with its casing; anything else on its letters alone.
    const mixed = mixedCaseScore(from.localPart, lists.letters);
    if (mixed < GENERATED_CASE_BELOW) {
      out.push({
        code: 'SENDER_RANDOM_LOCALPART',
        detail: `From ${from.localPart}@${from.domain}: "${from.localPart}" reads as generated (case and letter score ${mixed.toFixed(2)} < ${GENERATED_CASE_BELOW})`,
      });
    } else if (Number.isNaN(mixed) && LOCALPART_SHAPE.test(local)) {
      const likeness = lists.letters.wordLikeness(local);
      if (likeness < RANDOM_LOCALPART_BELOW)
        out.push({
          code: 'SENDER_RANDOM_LOCALPART',
          detail: `From ${from.address}: "${local}" reads as generated (letter score ${likeness.toFixed(2)} < ${RANDOM_LOCALPART_BELOW})`,
        });
    }
  }
  if (from.address && input.recipients.includes(from.address)) out.push({ code: 'SENDER_IS_RECIPIENT', detail: `From ${from.address} is a recipient` });
  const subjectBrands = brandsNamedIn(input.subject, brands);
  for (const brand of brandsClaimedByName(from.name, subjectBrands, brands)) {
    if (!domainBelongsToBrand(from.registrable, brand, brands)) {
      // A domain bearing the brand's name may be the brand's own, missing from [brands]; and
      // list software that rewrote From ("PayPal via users") put its own address there.
      const author = LIST_REWRITTEN_FROM.test(from.name) ? from.name.split(/\s+via\s+/i)[0] : '';
      const rewritten = author !== '' && brandsClaimedByName(author, subjectBrands, brands).includes(brand);
      out.push({
        code: rewritten || domainBearsBrand(from.registrable, brand, brands) ? 'SENDER_BRAND_UNLISTED_DOMAIN' : 'SENDER_BRAND_IMPERSONATION',
        detail: `display name "${from.name.slice(0, 60)}" names ${brand}, address is ${from.address || '(none)'}`,
      });
      break;
    }
  }
  const m = EMAIL_IN_TEXT.exec(from.name);
  if (m && registrableOf(m[1].toLowerCase()) !== from.registrable) {
    out.push({ code: 'SENDER_DISPLAY_NAME_ADDRESS', detail: `display name shows ${m[0]}, address is ${from.address}` });
  }
  const other = input.replyTo.find((r) => r.registrable && from.registrable && r.registrable !== from.registrable);
  if (other) {
    out.push({ code: 'SENDER_REPLY_TO_MISMATCH', detail: `Reply-To ${other.address}, From ${from.address}` });
    const free = input.replyTo.find((r) => r.registrable && r.registrable !== from.registrable && lists.freemail.has(r.registrable));
    // A From on free webmail replying elsewhere is one person's habit, not a diversion.
    if (free && !LIST_REWRITTEN_FROM.test(from.name) && !lists.freemail.has(from.registrable ?? ''))
      out.push({ code: 'SENDER_REPLY_TO_FREEMAIL', detail: `Reply-To ${free.address} (free webmail), From ${from.address}` });
  }
  return out;
}
