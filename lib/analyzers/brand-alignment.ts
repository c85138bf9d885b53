import type { ExtractedUrl, ScanInput } from '../message/types.js';
import type { Signal } from '../verdict/types.js';
import { brandsClaimedByName, brandsNamedIn, domainBearsBrand, domainBelongsToBrand, type BrandIndex } from './brands.js';
import { forwardsElsewhere, hostInList, isWebLink, servesUserContent, someHosts, type UrlAnalyzerContext } from './urls.js';
import { authDetail, fromAuthentication, fromForged, type FromAuthentication } from './authentication.js';
import { nameFitsAddress } from './sender-name.js';
import { analyzeDeliveryReport } from './delivery-report.js';

/**
 * Does the message's claimed brand agree with where it comes from and where it links?
 * Claims are read from the display name and the subject (body mentions are too often
 * incidental). `unwrapped` are the message's URLs with redirectors unwrapped. Pure.
 */
export function analyzeBrandAlignment(
  input: ScanInput,
  unwrapped: readonly ExtractedUrl[],
  brands: BrandIndex,
  urls: UrlAnalyzerContext,
  platforms: ReadonlySet<string> = new Set(),
): Signal[] {
  // Every clickable or submittable link: image-map areas and links in HTML attachments
  // included; footer furniture (social profiles, app stores) neither breaks nor makes
  // alignment, nor does a domain written as a name in plain text ("SomeVendor.com").
  const links = unwrapped.filter((u) => isWebLink(u) && !urls.footerHosts.has(u.host));
  // Links of an attached message are its sender's, a PDF's are the document's: they neither
  // make nor break this sender's alignment (a bounce returning the original, a forwarded
  // newsletter, a "Get Adobe Reader" link), but one off the brand still means something to
  // click leads elsewhere (LINKS_BRAND_ONLY).
  const own = links.filter((u) => u.source !== 'message' && u.source !== 'pdf');
  const authn = fromAuthentication(input);
  const envReg = input.envelopeFrom?.registrable ?? null;
  const out = claimsAndAlignment(input, own, brands, urls, platforms, authn, envReg);
  if (authn !== 'pass' && !out.some((s) => s.code === 'SENDER_BRAND_UNAUTHENTICATED')) out.push(...brandSenderLinksElsewhere(input, own, brands, urls));
  if (out.some((s) => s.code === 'BRAND_ALIGNED' || s.code === 'SENDER_BRAND_UNAUTHENTICATED') || brandFromUnproven(input, brands, authn, envReg)) return out;
  return [...out, ...linksBrandOnly(links, brands, urls), ...analyzeDeliveryReport(input, own, brands, urls)];
}

/**
 * A message that says it is the brand twice — its display name claims the brand and its From
 * is on one of the brand's domains — while nothing to click is on the brand's domains or on
 * one bearing its name, and at least one link is not a known click tracker (which hides where
 * it leads): "Bradesco" <noreply@bradesco.com.br> linking to a Cloud Run host. The brand's own
 * mail leads to the brand's site; a spoof of its From cannot. Not added when SPF / DKIM confirm
 * the From (the caller's check). Pure.
 */
function brandSenderLinksElsewhere(input: ScanInput, links: readonly ExtractedUrl[], brands: BrandIndex, urls: UrlAnalyzerContext): Signal[] {
  const fromReg = input.from?.registrable ?? null;
  if (!fromReg || !brands.allDomains.has(fromReg) || !links.length) return [];
  const claimed = brandsClaimedByName(input.from?.name ?? '', brandsNamedIn(input.subject, brands), brands);
  const brand = claimed.find((b) => domainBelongsToBrand(fromReg, b, brands));
  if (!brand) return [];
  if (links.some((u) => domainBelongsToBrand(u.registrable, brand, brands) || domainBearsBrand(u.registrable, brand, brands))) return [];
  const elsewhere = links.filter((u) => !hostInList(u.host, urls.redirectors));
  if (!elsewhere.length) return [];
  return [
    {
      code: 'BRAND_SENDER_LINKS_MISALIGNED',
      detail: `${brand}: From ${input.from?.address}, ${links.length} link(s), none on its domains (${someHosts(elsewhere)})`,
    },
  ];
}

/**
 * A From on a brand's domain that nothing backs: SPF / DKIM do not confirm it, or — when they
 * were not checked — the envelope sender is on another domain that is neither the brand's
 * nor a bulk-mail service's. Such a sender is impersonating, whatever its links. Pure.
 */
function brandFromUnproven(input: ScanInput, brands: BrandIndex, authn: FromAuthentication, envReg: string | null): boolean {
  const fromReg = input.from?.registrable ?? null;
  if (!fromReg || !brands.allDomains.has(fromReg)) return false;
  if (authn !== 'unknown') return authn === 'fail';
  return !envelopeBacksFrom(envReg, fromReg, (r) => brands.allDomains.has(r));
}

/**
 * Does the envelope sender (MAIL FROM's registered domain) back the From, when SPF / DKIM
 * did not decide? Yes when it is unknown, the From's own domain, a bulk-mail service's
 * bounce domain, or one `alsoTrusted` accepts (the claimed brand's). Pure.
 */
function envelopeBacksFrom(envReg: string | null, fromReg: string | null, alsoTrusted: (reg: string) => boolean = () => false): boolean {
  return envReg === null || envReg === fromReg || ESP_BOUNCE_DOMAINS.has(envReg) || alsoTrusted(envReg);
}

/**
 * Every link on the own domains of one brand, none through a redirector, on free hosting or
 * on a brand's user-content host: nothing to click leads anywhere a phisher controls (a
 * forwarded order confirmation, a carrier's tracking digest). Pure.
 */
export function linksBrandOnly(links: readonly ExtractedUrl[], brands: BrandIndex, urls: UrlAnalyzerContext): Signal[] {
  if (!links.length) return [];
  if (links.some((u) => hostInList(u.host, urls.redirectors) || servesUserContent(u.host, urls))) return [];
  for (const [brand, domains] of brands.domains) {
    if (links.every((u) => u.registrable !== null && domains.has(u.registrable) && !forwardsElsewhere(u))) {
      const hosts = [...new Set(links.map((u) => u.registrable))];
      return [{ code: 'LINKS_BRAND_ONLY', detail: `${links.length} link(s), all on ${brand}'s domains (${hosts.slice(0, 3).join(', ')})` }];
    }
  }
  return [];
}

function claimsAndAlignment(
  input: ScanInput,
  links: readonly ExtractedUrl[],
  brands: BrandIndex,
  urls: UrlAnalyzerContext,
  platforms: ReadonlySet<string>,
  authn: FromAuthentication,
  envReg: string | null,
): Signal[] {
  const fromReg = input.from?.registrable ?? null;
  const subjectClaims = brandsNamedIn(input.subject, brands);
  // A brand merely mentioned in a name, or an everyday word starting it, claims nothing
  // ("Lockergnome Apple Core", "Apple Valley Dental": see nameClaimsBrand).
  const nameClaims = brandsClaimedByName(input.from?.name ?? '', subjectClaims, brands);
  const claims = [...new Set([...nameClaims, ...subjectClaims])];
  const out: Signal[] = [];
  // A From on a brand's domain that DKIM (it survives forwarding, unlike SPF) and SPF could
  // not confirm: spoofed. With SPF results alone an unconfirmed From only loses alignment.
  if (fromReg && brands.allDomains.has(fromReg) && authn === 'fail' && input.auth?.dkim) {
    out.push({ code: 'SENDER_BRAND_UNAUTHENTICATED', detail: `From ${input.from?.address}: ${authDetail(input)}` });
  }
  if (!claims.length) {
    // The sender must be consistent about who it is before its links can vouch for it: a
    // display name naming someone the address does not ("Home Warranty Plans" from
    // smedialy.com) earns nothing — except on platforms that mail for their customers under
    // the customer's name (`[sender] platforms`: a Stripe receipt from "Fathom Analytics").
    if (input.from && fromReg && !platforms.has(fromReg) && !nameFitsAddress(input.from)) return out;
    return [
      ...out,
      ...senderLinksAligned(fromReg, envReg, authn === 'pass' ? 'pass' : fromForged(input) ? 'fail' : 'unknown', links, urls, input.from?.name ?? ''),
    ];
  }
  for (const brand of claims) {
    // A From on the brand's domain counts only when SPF / DKIM confirm it, or — when they
    // were not checked — when the envelope sender (when known) is the brand's too, or a
    // bulk-mail service's bounce domain: a From spoofed from the attacker's own server
    // earns no alignment.
    const envelopeOk = envelopeBacksFrom(envReg, fromReg, (r) => domainBelongsToBrand(r, brand, brands));
    const fromOk = domainBelongsToBrand(fromReg, brand, brands) && (authn === 'pass' || (authn === 'unknown' && envelopeOk));
    // A link on the brand's site that carries another site's URL in its query may be an open
    // redirect to it: it does not count as on the brand's domains.
    const linkOk = (u: ExtractedUrl): boolean =>
      (domainBelongsToBrand(u.registrable, brand, brands) && !forwardsElsewhere(u)) || hostInList(u.host, urls.redirectors);
    if (fromOk && links.every(linkOk)) {
      out.push({ code: 'BRAND_ALIGNED', detail: `${brand}: sender and ${links.length} link(s) on its domains` });
      return out;
    }
    const anyLinkOnBrand = links.some((u) => domainBelongsToBrand(u.registrable, brand, brands));
    if (subjectClaims.includes(brand) && !fromOk && !anyLinkOnBrand) {
      out.push({
        code: 'BRAND_SUBJECT_MISALIGNED',
        detail: `subject names ${brand}; From ${input.from?.address || '(none)'} and links are not on its domains`,
      });
    }
  }
  return out;
}

/**
 * Registered domains of the bounce (envelope) addresses of bulk-mail services: legitimate
 * organisations send through them with their own From. (Their customers' From domains are
 * not checked here: that is what SPF / DKIM / DMARC are for.)
 */
export const ESP_BOUNCE_DOMAINS: ReadonlySet<string> = new Set([
  'amazonses.com',
  'sendgrid.net',
  'mailgun.org',
  'mailgun.net',
  'sparkpostmail.com',
  'mcsv.net',
  'rsgsv.net',
  'mcdlv.net',
  'mandrillapp.com',
  'postmarkapp.com',
  'mtasv.net',
  'exacttarget.com',
  'cmail19.com',
  'cmail20.com',
  'createsend.com',
  'mktomail.com',
  'hubspotemail.net',
  'hubspotfree.net',
  'klaviyomail.com',
  'sendinblue.com',
  'brevo.com',
  'mailjet.com',
  'customeriomail.com',
  'mailchimpapp.net',
  'salesforce.com',
  'zendesk.com',
  'intercom-mail.com',
  'constantcontact.com',
  'rs6.net',
]);

/**
 * Mail of an organisation about its own service links to its own domain: a receipt from
 * shop.example links to shop.example, a reset mail to the service's site. When at least one
 * link is on the From address's registered domain and every other one goes through a known
 * click tracker (`[urls] redirectors`: ESPs rewrite links), the message is consistent about
 * who it is — weaker than BRAND_ALIGNED (an attacker can host the page on the domain it
 * sends from), so it only softens the text score. `authn`: `pass` (SPF / DKIM confirm the
 * From), `fail` (they show it forged), `unknown` (unchecked or unsigned: the envelope
 * decides). Pure.
 */
function senderLinksAligned(
  fromReg: string | null,
  env: string | null,
  authn: FromAuthentication,
  links: readonly ExtractedUrl[],
  urls: UrlAnalyzerContext,
  displayName = '',
): Signal[] {
  // The organisation's own domains: the From's, and one named exactly as the display name
  // ("Kaiser Permanente" <noreply@kp.org> linking to kaiserpermanente.org; the address
  // already fits the name, here by its initials).
  // A page on a host that serves its users' content or free hosting (`[urls] user_content`,
  // `free_hosting`: a Google Docs form, a Drive share, a bucket) is nobody's own page — whoever
  // uploaded it wrote it — so it neither makes nor passes alignment, even from that brand's own
  // sender (a Drive "shared with you" mail leading to a lure, a shop linking to a Docs form).
  const compact = displayName.toLowerCase().replace(/[^a-z0-9]/g, '');
  const own = (u: ExtractedUrl): boolean =>
    !servesUserContent(u.host, urls) &&
    (u.registrable === fromReg || (compact.length >= 6 && u.registrable !== null && u.suffix !== null && u.registrable === `${compact}.${u.suffix}`));
  const tracker = (u: ExtractedUrl): boolean => hostInList(u.host, urls.redirectors) && !servesUserContent(u.host, urls);
  if (!fromReg || !links.some(own)) return [];
  // A throw-away sender vouches for nothing by linking to itself: a domain on a TLD of
  // `[urls] suspicious_tlds` or on free hosting (a firebaseapp.com sender and its own page).
  const throwAway = (reg: string): boolean => urls.suspiciousTlds.has(reg.slice(reg.lastIndexOf('.') + 1)) || hostInList(reg, urls.freeHosting);
  if (throwAway(fromReg) || links.some((u) => own(u) && u.registrable && throwAway(u.registrable))) return [];
  if (authn === 'fail' || (authn === 'unknown' && !envelopeBacksFrom(env, fromReg))) return [];
  if (!links.every((u) => own(u) || tracker(u))) return [];
  const n = links.filter(own).length;
  const where = [...new Set(links.filter(own).map((u) => u.registrable))].join(', ');
  return [{ code: 'SENDER_LINKS_ALIGNED', detail: `${n} link(s) on ${where}${n < links.length ? `, ${links.length - n} through click trackers` : ''}` }];
}
