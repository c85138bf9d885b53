import type { ExtractedUrl, ScanInput } from '../message/types.js';
import type { Signal } from '../verdict/types.js';
import { brandsClaimedByName, brandsNamedIn, domainBelongsToBrand, type BrandIndex } from './brands.js';
import { hostInList, type UrlAnalyzerContext } from './urls.js';
import { authDetail, fromAuthentication, fromForged, type FromAuthentication } from './authentication.js';
import { nameFitsAddress } from './sender-name.js';

/**
 * Does the message's claimed brand agree with where it comes from and where it links?
 * Claims are read from the display name and the subject (body mentions are too often
 * incidental). `unwrapped` are the message's URLs with redirectors unwrapped. Pure.
 */
export function analyzeBrandAlignment(input: ScanInput, unwrapped: readonly ExtractedUrl[], brands: BrandIndex, urls: UrlAnalyzerContext, platforms: ReadonlySet<string> = new Set()): Signal[] {
  const fromReg = input.from?.registrable ?? null;
  const subjectClaims = brandsNamedIn(input.subject, brands);
  // A brand merely mentioned in a name, or an everyday word starting it, claims nothing
  // ("Lockergnome Apple Core", "Apple Valley Dental": see nameClaimsBrand).
  const nameClaims = brandsClaimedByName(input.from?.name ?? '', subjectClaims, brands);
  const claims = [...new Set([...nameClaims, ...subjectClaims])];
  // Every clickable or submittable link: image-map areas and links in HTML attachments
  // included; footer furniture (social profiles, app stores) neither breaks nor makes alignment.
  const links = unwrapped.filter((u) => u.source !== 'img' && u.host && (u.scheme === 'http' || u.scheme === 'https') && !urls.footerHosts.has(u.host));
  const envReg = input.envelopeFrom?.registrable ?? null;
  const authn = fromAuthentication(input);
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
    return [...out, ...senderLinksAligned(fromReg, envReg, authn === 'pass' ? 'pass' : fromForged(input) ? 'fail' : 'unknown', links, urls)];
  }
  for (const brand of claims) {
    // A From on the brand's domain counts only when SPF / DKIM confirm it, or — when they
    // were not checked — when the envelope sender (when known) is the brand's too, or a
    // bulk-mail service's bounce domain: a From spoofed from the attacker's own server
    // earns no alignment.
    const envelopeOk = envReg === null || envReg === fromReg || domainBelongsToBrand(envReg, brand, brands) || ESP_BOUNCE_DOMAINS.has(envReg);
    const fromOk = domainBelongsToBrand(fromReg, brand, brands) && (authn === 'pass' || (authn === 'unknown' && envelopeOk));
    const linkOk = (host: string, reg: string | null): boolean => domainBelongsToBrand(reg, brand, brands) || hostInList(host, urls.redirectors);
    if (fromOk && links.every((u) => linkOk(u.host, u.registrable))) {
      out.push({ code: 'BRAND_ALIGNED', detail: `${brand}: sender and ${links.length} link(s) on its domains` });
      return out;
    }
    const anyLinkOnBrand = links.some((u) => domainBelongsToBrand(u.registrable, brand, brands));
    if (subjectClaims.includes(brand) && !fromOk && !anyLinkOnBrand) {
      out.push({ code: 'BRAND_SUBJECT_MISALIGNED', detail: `subject names ${brand}; From ${input.from?.address || '(none)'} and links are not on its domains` });
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
  'amazonses.com', 'sendgrid.net', 'mailgun.org', 'mailgun.net', 'sparkpostmail.com', 'mcsv.net', 'rsgsv.net', 'mcdlv.net',
  'mandrillapp.com', 'postmarkapp.com', 'mtasv.net', 'exacttarget.com', 'cmail19.com', 'cmail20.com', 'createsend.com',
  'mktomail.com', 'hubspotemail.net', 'hubspotfree.net', 'klaviyomail.com', 'sendinblue.com', 'brevo.com', 'mailjet.com',
  'customeriomail.com', 'mailchimpapp.net', 'salesforce.com', 'zendesk.com', 'intercom-mail.com', 'constantcontact.com', 'rs6.net',
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
function senderLinksAligned(fromReg: string | null, env: string | null, authn: FromAuthentication, links: readonly ExtractedUrl[], urls: UrlAnalyzerContext): Signal[] {
  if (!fromReg || !links.some((u) => u.registrable === fromReg)) return [];
  // A throw-away sender vouches for nothing by linking to itself: a domain on a TLD of
  // `[urls] suspicious_tlds` or on free hosting (a firebaseapp.com sender and its own page).
  if (urls.suspiciousTlds.has(fromReg.slice(fromReg.lastIndexOf('.') + 1)) || hostInList(fromReg, urls.freeHosting)) return [];
  if (authn === 'fail' || (authn === 'unknown' && env !== null && env !== fromReg && !ESP_BOUNCE_DOMAINS.has(env))) return [];
  if (!links.every((u) => u.registrable === fromReg || hostInList(u.host, urls.redirectors))) return [];
  const own = links.filter((u) => u.registrable === fromReg).length;
  return [{ code: 'SENDER_LINKS_ALIGNED', detail: `${own} link(s) on ${fromReg}${own < links.length ? `, ${links.length - own} through click trackers` : ''}` }];
}
