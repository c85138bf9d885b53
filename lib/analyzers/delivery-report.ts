import type { ExtractedUrl, ScanInput } from '../message/types.js';
import type { Signal } from '../verdict/types.js';
import type { BrandIndex } from './brands.js';
import { servesUserContent, type UrlAnalyzerContext } from './urls.js';

/** The mailboxes RFC 5321 (§4.5.1) and RFC 2142 reserve for the mail system itself. */
const SYSTEM_MAILBOXES = 'postmaster|mailer-daemon|mail-daemon|mailerdaemon';
const MAIL_SYSTEM_SENDERS = new RegExp(`^(?:${SYSTEM_MAILBOXES})$`, 'i');

/** Display names mail systems give a From without an address ("MAILER-DAEMON <>"), or none. */
const MAIL_SYSTEM_NAMES = new RegExp(`^(?:${SYSTEM_MAILBOXES}|mail delivery (?:sub)?system)?$`, 'i');

/**
 * Is the From the mail system's own? Its mailbox is postmaster / MAILER-DAEMON, or it has no
 * address at all — the null sender `<>` RFC 5321 gives notifications, which some MTAs also
 * write into From ("From: <>", "From: MAILER-DAEMON <>") — under no name or a mail system's.
 * Pure.
 */
function fromMailSystem(from: ScanInput['from']): boolean {
  if (!from) return false;
  if (from.address) return MAIL_SYSTEM_SENDERS.test(from.localPart);
  return MAIL_SYSTEM_NAMES.test(from.name.trim());
}

/**
 * A From that is the null sender `<>` under no name or a mail system's ("From: <>",
 * "From: MAILER-DAEMON <>"): the address RFC 5321 gives notifications, written into From by
 * the MTA that sent the bounce — a convention, not a malformed header. Pure.
 */
export function nullSenderFrom(from: ScanInput['from'], fromHeader: string): boolean {
  return !!from && !from.address && /<\s*>/.test(fromHeader) && fromMailSystem(from);
}

/** Parts a delivery report carries besides its text (RFC 3464, RFC 6533). */
const REPORT_PARTS: ReadonlySet<string> = new Set([
  'message/delivery-status',
  'message/global-delivery-status',
  'message/rfc822',
  'message/global',
  'text/rfc822-headers',
  'message/global-headers',
]);

/**
 * A bounce or delay notice of a mail system — sent from postmaster / MAILER-DAEMON or the
 * null sender, or in the standard multipart/report form — carrying nothing to act on: no
 * attachment but the report's own parts, no link but to a brand's own pages (a provider's
 * help page). Its words ("could not be delivered", "failed delivery", "notification") are
 * the ones fake bounces use, so the text model cannot tell them apart; what it cannot fake
 * and still phish is a report without a link or a file. Caps the text score (see textWeightCap). Pure.
 */
export function analyzeDeliveryReport(
  input: Pick<ScanInput, 'from' | 'headers' | 'attachments'>,
  links: readonly ExtractedUrl[],
  brands: BrandIndex,
  urls: UrlAnalyzerContext,
): Signal[] {
  const contentType = input.headers.find((h) => h.name === 'content-type')?.value ?? '';
  const structured = /^\s*multipart\/report\b/i.test(contentType) && /report-type\s*=\s*"?delivery-status/i.test(contentType);
  const systemSender = fromMailSystem(input.from);
  if (!structured && !systemSender) return [];
  if (!input.attachments.every((a) => REPORT_PARTS.has(a.declaredType.toLowerCase()))) return [];
  const offBrand = links.filter((u) => !(u.registrable && brands.allDomains.has(u.registrable)) || servesUserContent(u.host, urls));
  if (offBrand.length) return [];
  return [
    {
      code: 'DELIVERY_REPORT',
      detail: `${structured ? 'multipart/report' : `from ${input.from?.address || '<>'}`}, ${input.attachments.length} report part(s), ${links.length} link(s)`,
    },
  ];
}
