import { domainToUnicode } from 'node:url';
import { remove as removeConfusables } from 'confusables';
import { asShown, foldSmallCapitals } from '../message/shown.js';

/**
 * Brand knowledge compiled once per config: which registered domains belong to which
 * brand, and the "labels" (paypal, microsoft, wellsfargo …) a look-alike would imitate.
 */
export interface BrandIndex {
  /** brand name ─► its registered domains */
  domains: ReadonlyMap<string, ReadonlySet<string>>;
  /** every registered domain that belongs to some brand */
  allDomains: ReadonlySet<string>;
  /** imitable label ─► brand name */
  labels: ReadonlyMap<string, string>;
  /** brand names as whole-word regexes over skeleton text; `first`: the skeleton's first word, which a match must contain */
  namePatterns: ReadonlyArray<{ brand: string; re: RegExp; first: string }>;
  /** `labels` by length, each with its position in `labels` (lookalikeBrand compares only lengths ±1, in that order) */
  labelsByLength: ReadonlyMap<number, ReadonlyArray<{ order: number; label: string; brand: string }>>;
  /** lookalikeBrand's answers so far (a domain recurs in many messages); cleared when it reaches LOOKALIKE_MEMO_SIZE */
  lookalikes: Map<string, { brand: string; how: string } | null>;
}

/** Domains whose look-alike answer is remembered per brand index (about 1 MB at most). */
const LOOKALIKE_MEMO_SIZE = 10_000;

const DIGIT_SWAPS: Record<string, string> = { '0': 'o', '1': 'l', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '@': 'a', $: 's', '!': 'i', '|': 'l' };

/**
 * Skeleton of a string for look-alike comparison: characters drawn as nothing dropped (zero
 * widths, soft hyphens, direction marks, variation selectors, Hangul fillers — Unicode's
 * format and default-ignorable characters: "Pay\u00adPal" shows as "PayPal"), a name written
 * backwards under a right-to-left override read forwards (`asShown`), letters spaced out one
 * by one joined ("P a y P a l"), a capital I inside a lower-case word read as the l it
 * imitates ("PayPaI", "AppIe"), Unicode confusables folded to Latin (the `confusables`
 * package, Unicode TR39 data), diacritics removed, lower-cased, common digit/letter swaps and
 * multi-letter tricks (rn─►m, vv─►w) undone.
 */
export function skeleton(s: string): string {
  const shown = foldSmallCapitals(asShown(s))
    .replace(/(?<![\p{L}\p{N}])\p{L}(?: \p{L}){3,}(?![\p{L}\p{N}])/gu, (run) => run.replace(/ /g, ''))
    .replace(/(?<=\p{Ll})I/gu, 'l');
  let t = removeConfusables(shown).normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  t = t.replace(/[0134578@$!|]/g, (c) => DIGIT_SWAPS[c] ?? c);
  return t.replace(/rn/g, 'm').replace(/vv/g, 'w');
}

const CJK_NAME = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

export function buildBrandIndex(brands: Readonly<Record<string, readonly string[]>>): BrandIndex {
  const domains = new Map<string, Set<string>>();
  const all = new Set<string>();
  const labels = new Map<string, string>();
  const namePatterns: Array<{ brand: string; re: RegExp; first: string }> = [];
  for (const [brand, ds] of Object.entries(brands)) {
    domains.set(brand, new Set(ds));
    for (const d of ds) all.add(d);
    const compact = brand.replace(/[^a-z0-9]/g, '');
    if (compact.length >= 4) labels.set(compact, brand);
    for (const d of ds) {
      const label = d.split('.')[0];
      // Only distinctive labels are imitable: "live", "me", "fb" would match half the web.
      if (label.length >= 5 && !labels.has(label)) labels.set(label, brand);
    }
    const plain = skeleton(brand).split(/\s+/);
    const words = plain.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    // Japanese and Chinese write words without spaces: a name in those scripts is found
    // anywhere in the text ("【三井住友カード】ご利用確認"), a Latin one as a whole word.
    const joined = words.join('[\\s._-]*');
    namePatterns.push({
      brand,
      re: CJK_NAME.test(brand) ? new RegExp(joined, 'u') : new RegExp(`(?:^|[^\\p{L}\\p{N}])${joined}(?:$|[^\\p{L}\\p{N}])`, 'u'),
      first: plain[0],
    });
  }
  const labelsByLength = new Map<number, Array<{ order: number; label: string; brand: string }>>();
  let order = 0;
  for (const [label, brand] of labels) {
    const bucket = labelsByLength.get(label.length) ?? [];
    bucket.push({ order: order++, label, brand });
    labelsByLength.set(label.length, bucket);
  }
  return { domains, allDomains: all, labels, namePatterns, labelsByLength, lookalikes: new Map() };
}

/** Brands named in a piece of text (display name, subject …), compared on skeletons. */
export function brandsNamedIn(text: string, index: BrandIndex): string[] {
  if (!text) return [];
  const sk = skeleton(text);
  // A plain substring test first: most texts name no brand, and ~300 regexes cost 20 µs a text.
  return index.namePatterns.filter((p) => sk.includes(p.first) && p.re.test(sk)).map((p) => p.brand);
}

/** Words that make up a sender name around a brand ("PayPal Service", "Your Apple ID Team"). */
export const SENDER_NAME_FILLER: ReadonlySet<string> = new Set(
  (
    'support service services team security secure account accounts billing customer customers care help center centre notification notifications ' +
    'alert alerts online noreply no reply info information verification verify update updates admin administrator inc com id prime pay payments ' +
    'store mail message messages official department desk your the my from via and of on for do da de des der die das la le el al en ' +
    'kundenservice kundendienst konto sicherheit atendimento suporte seguranca cliente clientes servicos equipe conta ' +
    'client compte securite assistance'
  ).split(' '),
);

/** Words that tie a person's name to an organisation: "John from Ledger", "Jane at PayPal", "Jane Doe via DocuSign", "Anna von DHL". */
const AFFILIATION = new Set(['from', 'at', 'via', 'von', 'bei', 'de', 'da', 'do', 'chez']);

/**
 * Whether a display name presents itself as the brand: it starts with the brand (for an
 * everyday-word brand only with filler around it or when `corroborated`: the subject names
 * the brand too), a person signs for it ("John from Ledger", the brand ending the name), or
 * every other word is sender-name filler ("Security Team PayPal"). A name that merely
 * mentions a brand among other names ("Lockergnome Apple Core", a newsletter) does not. Pure.
 */
export function nameClaimsBrand(name: string, brand: string, corroborated = false): boolean {
  const words = skeleton(name)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
  const bw = skeleton(brand).split(/\s+/).filter(Boolean);
  const at = words.findIndex((_, i) => bw.every((b, j) => words[i + j] === b));
  if (at < 0) return true; // matched across separators ("pay-pal"): treat as a claim
  const othersAreFiller = words.every((w, i) => (i >= at && i < at + bw.length) || SENDER_NAME_FILLER.has(w));
  // A brand that is also an everyday word or a name ("Apple Valley Dental", "Steam Cleaning
  // Pros", "Chase Miller") starts a name without claiming it, unless the rest is filler or
  // the subject names the brand too ("Amazon Voucher" / "Your Amazon voucher").
  if (at === 0) return !COMMON_WORD_BRANDS.has(brand) || othersAreFiller || corroborated;
  if (AFFILIATION.has(words[at - 1]) && at + bw.length === words.length) return true;
  return othersAreFiller;
}

/** The brands a display name claims (see nameClaimsBrand); `subjectBrands`, those the subject names, corroborate. Pure. */
export function brandsClaimedByName(name: string, subjectBrands: readonly string[], index: BrandIndex): string[] {
  return brandsNamedIn(name, index).filter((b) => nameClaimsBrand(name, b, subjectBrands.includes(b)));
}

/** Built-in brands whose name is also an everyday word, a first name or a surname. */
export const COMMON_WORD_BRANDS: ReadonlySet<string> = new Set([
  'apple',
  'amazon',
  'chase',
  'outlook',
  'steam',
  'blockchain',
  'kraken',
  'ledger',
  'ripple',
  'norton',
  'santander',
  'caixa',
  'adobe',
]);

export function domainBelongsToBrand(registrable: string | null, brand: string, index: BrandIndex): boolean {
  if (!registrable) return false;
  return index.domains.get(brand)?.has(registrable) ?? false;
}

/**
 * Whether a registered domain bears something of a brand's name: the brand's name written
 * together ("wellsfargo"), a word of it of four letters or more ("mercado", "brasil"), or the
 * name part of one of the brand's own domains ("aexp", "rakuten"), found anywhere in the
 * domain's skeleton ("costco-rewards.com", "bancodobrasil.com.br", "cloudskillsboost.google");
 * a two-letter name ("wf") only as a whole label or hyphen part ("wf-alerts.example"). Such a
 * domain may be one of the brand's own that `[brands]` does not list; one that bears nothing
 * of it ("isp-q.com", "gmail.com", a hosting provider's "…firebaseapp.com") is not the brand's.
 * Pure.
 */
export function domainBearsBrand(registrable: string | null, brand: string, index: BrandIndex): boolean {
  if (!registrable) return false;
  const shown = skeleton(domainToUnicode(registrable) || registrable);
  const parts = new Set(shown.split(/[^\p{L}\p{N}]+/u));
  const sk = shown.replace(/[^\p{L}\p{N}]+/gu, '');
  const tokens = [brand.replace(/[^\p{L}\p{N}]+/gu, ''), ...brand.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 4)];
  for (const d of index.domains.get(brand) ?? []) tokens.push(d.split('.')[0].replace(/[^\p{L}\p{N}]+/gu, ''));
  // Three letters or more anywhere; a two-letter name ("wf", "bb") only as a whole label or hyphen part.
  return tokens.map((t) => skeleton(t)).some((t) => (t.length >= 3 && sk.includes(t)) || (t.length === 2 && parts.has(t)));
}

/**
 * Whether two different strings are one edit apart: one letter replaced, inserted, deleted,
 * or two neighbours swapped (optimal-string-alignment distance 1), in linear time.
 */
export function oneEditApart(a: string, b: string): boolean {
  if (a === b) return false;
  if (a.length < b.length) [a, b] = [b, a];
  if (a.length - b.length > 1) return false;
  let i = 0;
  while (i < b.length && a[i] === b[i]) i++;
  if (a.length > b.length) return a.slice(i + 1) === b.slice(i);
  // Same length: a replaced letter, or a swap of this letter and the next.
  if (a.slice(i + 1) === b.slice(i + 1)) return true;
  return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}

/**
 * Which brand a registered domain imitates, if any: its name part (left of the public
 * suffix), once folded to a skeleton, equals a brand label or is one edit away from a
 * long one, or one of its hyphenated tokens is a brand label (paypal-secure.example).
 * Domains that belong to any brand never match. Remembered per index (pure: the same
 * domain always gets the same answer).
 */
export function lookalikeBrand(registrable: string, suffix: string | null, index: BrandIndex): { brand: string; how: string } | null {
  const key = `${registrable} ${suffix ?? ''}`;
  const known = index.lookalikes.get(key);
  if (known !== undefined) return known;
  const found = findLookalike(registrable, suffix, index);
  if (index.lookalikes.size >= LOOKALIKE_MEMO_SIZE) index.lookalikes.clear();
  index.lookalikes.set(key, found);
  return found;
}

function findLookalike(registrable: string, suffix: string | null, index: BrandIndex): { brand: string; how: string } | null {
  if (index.allDomains.has(registrable)) return null;
  const namePart = suffix && registrable.endsWith(`.${suffix}`) ? registrable.slice(0, -(suffix.length + 1)) : registrable.split('.')[0];
  const unicode = domainToUnicode(namePart) || namePart;
  const sk = skeleton(unicode);
  // The labels of a length one edit can reach, in the index's order (the first that fits wins).
  const near = [sk.length - 1, sk.length, sk.length + 1].flatMap((n) => index.labelsByLength.get(n) ?? []).sort((x, y) => x.order - y.order);
  for (const { label, brand } of near) {
    // The exact ASCII name under another suffix (paypal.de) is most often the brand's own
    // country domain: not flagged. A skeleton match reached through homoglyphs or swaps is.
    if (sk === label) return unicode === label ? null : { brand, how: 'homoglyphs' };
    if (label.length >= 6 && sk.length >= 5 && oneEditApart(sk, label)) return { brand, how: 'one edit away' };
  }
  for (const token of sk.split(/[-_]+/)) {
    const brand = index.labels.get(token);
    if (brand && token !== sk) return { brand, how: `brand token "${token}" in domain` };
  }
  return null;
}
