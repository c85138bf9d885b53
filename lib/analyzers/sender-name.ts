import type { MailAddress } from '../message/types.js';
import { SENDER_NAME_FILLER, skeleton } from './brands.js';

const LATIN_WORD = /^[\p{Script=Latin}\p{N}\p{M}]+$/u;
/** Display names are short; a huge one (hostile input) is judged on its start. */
const MAX_NAME_CHARS = 256;

/**
 * Names of a mail's function rather than of a sender ("Password Reset", "Shipping
 * Notification", "Order Confirmation", "Payroll"): like sender-name filler, they claim no
 * one. Pure data.
 */
const FUNCTION_WORDS: ReadonlySet<string> = new Set(
  (
    'password passwords reset login signin order orders shipping shipment shipments delivery deliveries tracking receipt receipts ' +
    'invoice invoices statement statements confirmation confirmations notice notices reminder reminders newsletter newsletters news ' +
    'digest sales marketing ticket tickets booking bookings reservation reservations welcome payroll accounting finance office ' +
    'operations members member membership subscription subscriptions returns refund refunds rewards bestellung versand rechnung ' +
    'pedido pedidos fatura entrega commande facture livraison'
  ).split(' '),
);

/** Words left out of a name's initials ("Department of Motor Vehicles" ─► dmv, "Pacific Gas and Electric Company" ─► pge). */
const INITIALS_SKIP = new Set(
  (
    'of the and for de du des la le der die das und do da e y et ' +
    // legal forms: "Pacific Gas and Electric Company" is pge.com
    'company co inc corp corporation ltd llc plc gmbh ag sa group'
  ).split(' '),
);

/**
 * Whether the display name and the address's domain tell of the same sender: some word of
 * the name (three letters or more, sender-name filler such as "support" or "team" left out)
 * appears in the domain ("Typeform Notifications" <notifications@typeform.com>, "Lowe's"
 * <Lowes@e.lowes.com>), or the initials of its words are one of its labels ("Kaiser
 * Permanente" <kp@kp.org>, "Department of Motor Vehicles" <x@dmv.ca.gov>). The local part does not count: the sender
 * writes it for free ("Blue Cross Blue Shield" <bluecrossandblueshield@vebpropin.com>), while
 * a domain has to be registered. No name, or one of words too short to compare (initials),
 * claims nothing and fits. A name of roles or of the mail's function only ("Customer Support",
 * "Account Security", "Password Reset") names no sender at all — a phisher's favourite, on a
 * domain of its own (in the corpora 24 phish, 8 spam and 1 ham carry one) — and fits no address. "Home Warranty Plans"
 * <SNYTVKOqu@eaux.smedialy.com> does not fit, nor does a person's name ("Jane Doe"
 * <jane@shop.example>: a name the domain cannot confirm). Words in other scripts are not
 * compared. Compared on skeletons (no diacritics, lower case). Pure.
 */
export function nameFitsAddress(from: Pick<MailAddress, 'name' | 'address'>): boolean {
  // Only words in Latin letters can be spelt in an address: "楽天市場" <info@mail.rakuten.co.jp>
  // or "Сбербанк" <noreply@sberbank.ru> claim nothing this test could check.
  const words = from.name
    .slice(0, MAX_NAME_CHARS)
    .normalize('NFKC')
    .split(/[^\p{L}\p{N}\p{M}]+/u)
    .filter((w) => w && LATIN_WORD.test(w))
    .map((w) => skeleton(w));
  const labels = skeleton(from.address.slice(from.address.lastIndexOf('@') + 1))
    .split('.')
    .map((l) => l.replace(/[^\p{L}\p{N}]+/gu, ''));
  const address = labels.join('');
  const telling = words.filter((w) => w.length >= 3 && !SENDER_NAME_FILLER.has(w) && !FUNCTION_WORDS.has(w));
  if (!telling.length) return !words.some((w) => w.length >= 3); // roles and functions only: names no one
  if (telling.some((w) => address.includes(w))) return true;
  const initials = words
    .filter((w) => !INITIALS_SKIP.has(w))
    .map((w) => w[0])
    .join('');
  // Two or three letters turn up inside many names ("hd" in keepb-hdpot.info): initials
  // must be a whole label of the domain (kp.org, dmv.ca.gov, sml.example.org).
  return initials.length >= 2 && labels.includes(initials);
}
