import type { ScanInput } from '../message/types.js';
import type { Signal } from '../verdict/types.js';
import { brandsNamedIn, domainBelongsToBrand, nameClaimsBrand, type BrandIndex } from './brands.js';

const EMAIL_IN_TEXT = /[a-z0-9._%+-]+@([a-z0-9-]+(?:\.[a-z0-9-]+)+)/i;

/** Sender heuristics on From / Reply-To. Pure. */
export function analyzeSender(input: ScanInput, brands: BrandIndex, registrableOf: (host: string) => string): Signal[] {
  const out: Signal[] = [];
  const from = input.from;
  const subject = input.subject.toLowerCase();
  const own = input.recipients.find((r) => subject.includes(r));
  if (own) out.push({ code: 'RCPT_IN_SUBJECT', detail: `subject contains ${own}` });
  if (!from || !from.address || !/^[^@\s]+@[^@\s]+\.[^@\s.]+$/.test(from.address) || from.domain.includes(',')) {
    out.push({ code: 'SENDER_MALFORMED', detail: input.fromHeader ? `From: ${input.fromHeader.slice(0, 80)}` : 'no From header' });
    if (!from) return out;
  }
  if (from.address && input.recipients.includes(from.address)) out.push({ code: 'SENDER_IS_RECIPIENT', detail: `From ${from.address} is a recipient` });
  for (const brand of brandsNamedIn(from.name, brands)) {
    if (!domainBelongsToBrand(from.registrable, brand, brands) && nameClaimsBrand(from.name, brand)) {
      out.push({ code: 'SENDER_BRAND_IMPERSONATION', detail: `display name "${from.name.slice(0, 60)}" names ${brand}, address is ${from.address || '(none)'}` });
      break;
    }
  }
  const m = EMAIL_IN_TEXT.exec(from.name);
  if (m && registrableOf(m[1].toLowerCase()) !== from.registrable) {
    out.push({ code: 'SENDER_DISPLAY_NAME_ADDRESS', detail: `display name shows ${m[0]}, address is ${from.address}` });
  }
  for (const r of input.replyTo) {
    if (r.registrable && from.registrable && r.registrable !== from.registrable) {
      out.push({ code: 'SENDER_REPLY_TO_MISMATCH', detail: `Reply-To ${r.address}, From ${from.address}` });
      break;
    }
  }
  return out;
}
