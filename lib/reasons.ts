/**
 * Stable reason codes (like rspamd symbols). Names never change meaning; weights are
 * score points (0..100) and can be overridden in `[weights]`. docs/detection.md "Reason codes"
 * table is generated from this list (`phishx reasons --markdown`).
 */
export interface ReasonSpec {
  weight: number;
  doc: string;
  /** Listed in X-PhishX-Reasons even at weight 0: an administrator must see it. */
  show?: true;
  /** Caps `NLP_PHISH` at half its weight: nothing to act on leads off a brand (scan.ts textWeightCap). */
  capsText?: true;
  /** An outage of this service: the message is deferred (451) when `[defer] <service>` is on. */
  defersWhenRequired?: 'clamav' | 'nlp' | 'reputation';
  /** Defers the message whatever the config: nothing could be judged. */
  alwaysDefers?: true;
  /** Decides the action by itself: `[clamav] action`. */
  malware?: true;
  /** The message could not be read: at least `[limits] unparseable_action`. */
  unreadable?: true;
}

export const REASONS = {
  // URL heuristics
  URL_TEXT_HREF_MISMATCH: {
    weight: 15,
    doc:
      'Link text shows one domain, the link goes to another registered domain (newsletters do this through ' +
      "trackers, so alone it is weak; not counted when the link goes through the sender's own domain).",
  },
  URL_TEXT_HREF_BRAND_MISMATCH: {
    weight: 45,
    doc:
      "Link text shows a brand's domain (paypal.com), the link goes to a domain that is not the brand's " +
      "(through the sender's own domain — its click tracker showing an advertiser — it counts as the plain " +
      '`URL_TEXT_HREF_MISMATCH`).',
  },
  URL_IP_LITERAL: { weight: 30, doc: 'Link to a bare public IP address (private, loopback and documentation ranges are ignored).' },
  URL_IP_HOSTNAME: {
    weight: 25,
    doc:
      'Link to a host whose name spells out a public IPv4 address ("69.140.167.72.host.secureserver.net", ' +
      '"ec2-16-170-148-0.eu-north-1.compute.amazonaws.com"): the name a hosting provider or access network gives a ' +
      'machine by its address — a server with no name of its own, a bare IP address in disguise. Not for images ' +
      'or addresses written in plain text.',
  },
  DOMAIN_GOV_LOOKALIKE: {
    weight: 40,
    doc:
      'A link host or the From domain reads as a government domain with another suffix after it ' +
      "(`afip.gob.ar.com`, `portal.gov.br.example`): only a country's registry hands out names under " +
      '`gov.<cc>` / `gob.<cc>` / `go.<cc>` / `gouv.<cc>`. Counted once per message.',
  },
  URL_PUNYCODE: { weight: 15, doc: 'Link host is an internationalised (punycode) name.' },
  URL_MIXED_SCRIPT: { weight: 35, doc: 'Link host mixes scripts (e.g. Latin and Cyrillic) in one label.' },
  URL_BRAND_LOOKALIKE: { weight: 50, doc: 'Link domain looks like a configured brand (homoglyphs, digit swaps, one edit) but is not one of its domains.' },
  URL_BRAND_IN_SUBDOMAIN: { weight: 40, doc: "A brand's domain appears as subdomain of an unrelated domain (paypal.com.evil.example)." },
  URL_USERINFO: { weight: 35, doc: 'Link carries user info (`https://paypal.com@evil.example/`).' },
  URL_SUSPICIOUS_TLD: { weight: 10, doc: 'Link in a TLD from `[urls] suspicious_tlds`.' },
  URL_SHORTENER: { weight: 10, doc: 'Link through a URL shortener from `[urls] shorteners`.' },
  URL_DEEP_SUBDOMAIN: { weight: 15, doc: 'Link host has more subdomain labels than `[urls] max_subdomain_depth`.' },
  QR_CODE_LINK: {
    weight: 20,
    doc:
      'A picture in the message is (or its HTML or text draws) a QR code that leads to a web page: a phone opens it, away from the desktop and its ' +
      'link protection — the way a lure carries its link past link scanning ("scan to keep your mailbox"). The link gets ' +
      "every URL check like a clicked one. Not counted for a link to the sender's own registered domain (a ticket, " +
      'an app). Counted once per message.',
  },
  QR_CODE_DRAWN: {
    weight: 30,
    doc:
      'A QR code that leads to a web page is drawn without a picture — HTML table cells coloured dark and light, or lines of ' +
      'Unicode block characters (`█ ▀ ▄`, `■ □`) — which a phone reads off the screen like a picture. Senders that mean ' +
      'their code to be scanned send a picture; drawing it is a way past the reading of pictures. Counted with ' +
      "QR_CODE_LINK, not for a link to the sender's own registered domain. Counted once per message.",
  },
  URL_DATA_URI: { weight: 30, doc: 'A link or form target is a `data:` URI.' },
  URL_JAVASCRIPT: { weight: 40, doc: 'A link or form target is `javascript:` / `vbscript:`.' },
  HTML_FORM: { weight: 0, doc: 'The HTML body contains a form (mail clients do not need one).' },
  FORM_EXTERNAL_ACTION: { weight: 10, doc: "An HTML form posts to a domain other than the sender's." },
  FORM_PASSWORD_FIELD: { weight: 40, doc: 'The HTML body asks for a password (`<input type=password>`): credential harvesting.' },
  // Sender heuristics
  SENDER_BRAND_IMPERSONATION: {
    weight: 50,
    doc:
      "From display name names a brand, and the From address's domain is not the brand's and bears nothing of its name " +
      '(a free-mail account, a hosting provider\'s or another company\'s domain: "Accounts PayPal" <bi11y1@isp-q.com>). No brand ' +
      'writes to its customers so; a phisher without a look-alike domain must. Holds the message alone.',
  },
  SENDER_BRAND_UNLISTED_DOMAIN: {
    weight: 45,
    doc:
      "From display name names a brand, and the From address's domain bears the brand's name but is not among its `[brands]` " +
      'domains ("Costco Wholesale" <wholesale@costcorewardscentre.com>): a look-alike, or one of the brand\'s own domains the list ' +
      'lacks — add it there. Also a brand\'s name before "via" in a From that list software rewrote ("PayPal via users"). ' +
      'Short of holding alone.',
  },
  SENDER_DISPLAY_NAME_ADDRESS: { weight: 25, doc: 'From display name contains an e-mail address other than the real one.' },
  SENDER_REPLY_TO_MISMATCH: { weight: 0, doc: 'Reply-To goes to another registered domain than From.' },
  SENDER_RANDOM_LOCALPART: {
    weight: 15,
    doc:
      'The From local part is a string a spam tool generated: 6–16 lower-case letters that no language ' +
      'spells ("uqfkxgpz", "qkkcpxcmd"), judged by a letter-bigram model of the words in mail ' +
      '(`lib/nlp/model/letter-model.json`, `npm run train`), or letters in randomised mixed case ' +
      '("hrUsmGyi", "QePEMzkdT"), judged by how word-like both the casing and the words its capitals start ' +
      'are. Names, role addresses, abbreviations and camel case ("krzysztof", "billing", "nflxinfo", ' +
      '"DoNotReply", "USPSInformeddelivery") pass.',
  },
  SENDER_REPLY_TO_FREEMAIL: {
    weight: 15,
    doc:
      'Replies go to a free webmail address (`[sender] freemail`) while From is on another domain: the ' +
      'advance-fee / business-email-compromise pattern ("reply to my private address"). Not counted when ' +
      'From is itself free webmail, or rewritten by list software ("Name via List", where Reply-To is the ' +
      'real author).',
  },
  SENDER_MALFORMED: {
    weight: 25,
    doc:
      'The From header has no usable address: missing, no domain, a domain without a dot (`x@showcase-survey,com`), or a ' +
      'display name with an unquoted comma, which makes it a second "address" without one (`From: Nachricht von DM, ' +
      "<service@…>`) — a bulk-mail tool's From, which mail programs do not write (Gmail refuses mail whose From is " +
      'missing or malformed as not RFC 5322 compliant). Also a From given twice, or naming several mailboxes without a ' +
      'Sender header: which one a reader shows and which one DMARC checks can differ. Not for the null sender a mail ' +
      "system writes into a bounce's From (`From: <>`, `MAILER-DAEMON <>`).",
  },
  SENDER_DOMAIN_INVALID: {
    weight: 50,
    doc:
      "The From address's domain cannot exist as written, though it reads as one: characters no domain " +
      'name has (`taxas@%correios.com`, `team@{nutella.de}`, `<"no-reply@ikea.de">` with the quotes) or ' +
      'look-alike letters from the mathematical or full-width blocks (`noreply@𝐚𝐨𝐤.𝐝𝐞`). No mail system ' +
      'writes such a From: a reply cannot reach it and it cannot pass SPF or DKIM; it is there to show the ' +
      'reader a domain the sender does not own. Holds the message alone (in the corpora: 29 phish, no ham ' +
      'or spam).',
  },
  SENDER_IS_RECIPIENT: {
    weight: 15,
    doc: 'Inbound mail whose From address is the recipient\'s own address (a common spoof in extortion and "mailbox" phishing).',
  },
  RCPT_IN_SUBJECT: {
    weight: 20,
    doc:
      'The subject contains the recipient\'s e-mail address ("you@example.org: your mailbox is full"). Not counted for a meeting ' +
      'invitation (a calendar part) whose subject ends with the address in parentheses, as Google Calendar writes them.',
  },
  URL_FREE_HOSTING: {
    weight: 10,
    doc:
      'A link to a free hosting or file-sharing service from `[urls] free_hosting` (firebaseapp.com, ' +
      'web.app, pages.dev …), where phishing pages are cheap to put up.',
  },
  SENDER_FREE_HOSTING: {
    weight: 25,
    doc:
      "The From address is on a project's host under a free-hosting platform of `[urls] free_hosting` " +
      '("noreply@uiadhgoiaj.firebaseapp.com") and no link goes to that host: anyone can open such a project and ' +
      "send from it, and an app's own mail from it (Firebase's sign-in and reset mails) links back there. Not for " +
      'the platform\'s own domain ("typeform.com").',
  },
  SENDER_SUSPICIOUS_TLD: {
    weight: 10,
    doc: 'The From address is in a TLD from `[urls] suspicious_tlds` (cheap registrations used for throwaway sending domains).',
  },
  // Disguised text
  TEXT_MIXED_SCRIPT: {
    weight: 30,
    doc:
      'A word in the subject, display name or body mixes Latin letters with Cyrillic / Greek / Coptic ' +
      'lookalikes ("Ⲣауmеnt"), or the text is set in mathematical-alphanumeric letters ("𝘿𝙊𝘾𝙏𝙊𝙍"): written ' +
      'to slip past word filters. Text wholly in one script does not count, nor Greek letters of formulas ' +
      '("cosθ").',
  },
  // Brand claims and alignment
  BRAND_SUBJECT_MISALIGNED: {
    weight: 10,
    doc: 'The subject names a brand, but neither the From domain nor any link belongs to it (weak: news newsletters discuss brands).',
  },
  BRAND_SENDER_LINKS_MISALIGNED: {
    weight: 40,
    doc:
      "The display name claims a brand and the From address is on that brand's domain, but no link is on the brand's " +
      'domains or on a domain bearing its name, and at least one is not a known click tracker ("Bradesco" ' +
      "<noreply@bradesco.com.br> linking only to a Cloud Run host). The brand's own mail leads to its site; a forged " +
      'From cannot. Not added when SPF / DKIM confirm the From (haraka-plugin-spf / -dkim before `phishx`).',
  },
  SENDER_BRAND_UNAUTHENTICATED: {
    weight: 40,
    doc:
      "The From address is on a brand's domain, DKIM was verified (haraka-plugin-dkim listed before " +
      '`phishx`) and nothing confirms the From: no DKIM signature of that domain passed and no SPF pass ' +
      'for an envelope sender on it. A spoofed brand sender. Never added without the DKIM plugin (SPF ' +
      'alone breaks on forwarding).',
  },
  SENDER_LINKS_ALIGNED: {
    weight: -15,
    doc:
      "No brand named in the display name or subject; a display name that fits the From address's domain (one of " +
      'its words appears in the domain, or its initials are one of its labels: "Typeform Notifications" ' +
      '<notifications@typeform.com>, "Department of Motor Vehicles" <noreply@dmv.ca.gov>; the local part does not ' +
      "count, the sender writes it for free; no name fits, a name of roles or of the mail's function only " +
      '("Account Security", "Password Reset") does not — it names no sender; a sender on `[sender] platforms` mails ' +
      "under its customers' names and always fits); at least one link on the From address's registered " +
      'domain — or on one named exactly as the display name ("Kaiser Permanente" <noreply@kp.org> linking ' +
      'to kaiserpermanente.org) — and every other one on those or through a known click tracker; a link to a ' +
      'host of `[urls] user_content` or `free_hosting` is neither (a Docs form, a Drive share: whoever ' +
      'uploaded the page wrote it, even when the sender is google.com); never for ' +
      'a From domain on a `[urls] suspicious_tlds` TLD or on free hosting: an organisation writing about ' +
      'its own service (receipts, resets, shipping notices of senders not in `[brands]`); not when SPF / ' +
      'DKIM show the From forged (a failed signature of its domain, an SPF hard fail), and unless they ' +
      "confirm it the envelope sender (when known) on the same domain or a bulk-mail service's. Softens " +
      'the text score; weaker than BRAND_ALIGNED because an attacker can host the page on the domain it ' +
      'sends from. Negative weight.',
  },
  BRAND_ALIGNED: {
    weight: -30,
    doc:
      'A brand named in the display name or subject, a From domain of that brand and every link on its ' +
      "domains (or known trackers; a brand's link that carries another site's URL in its query — an open " +
      'redirect — is not on its domains): legitimate brand mail. The From must be authenticated: with SPF / DKIM ' +
      'results (haraka-plugin-spf / -dkim before `phishx`) a verified DKIM signature of its domain or an ' +
      "SPF pass for an envelope on it; without them the envelope sender (when known) on the brand's " +
      "domains or a bulk-mail service's bounce domain. A spoofed From earns nothing. Negative weight.",
  },
  LINKS_BRAND_ONLY: {
    weight: 0,
    doc:
      'Every link goes to the own domains of one brand in `[brands]` — none through a click tracker, to ' +
      "free hosting or to a brand's user-content host (`[urls] user_content`: Google Docs, SharePoint, S3 " +
      "…), none carrying another site's URL in its query — and the sender is not on a brand domain it could not prove: a forwarded order " +
      "confirmation, a digest of a carrier's tracking page. Nothing to click leads off the brand, so the " +
      'text alone cannot hold the message: `NLP_PHISH` is capped at half its weight. Informational (weight ' +
      '0).',
    show: true,
    capsText: true,
  },
  DELIVERY_REPORT: {
    weight: 0,
    doc:
      'A bounce or delay notice of a mail system — from postmaster / MAILER-DAEMON or the null sender ' +
      '(`From: <>`, `MAILER-DAEMON <>`), or in the standard ' +
      "multipart/report delivery-status form — with nothing to act on: no attachment but the report's own " +
      "parts (status, returned message or headers) and no link but to a brand's own pages. Its words are " +
      'the ones fake bounces use, so the text alone cannot hold it: `NLP_PHISH` is capped at half its ' +
      'weight. A fake bounce with a link or a file does not qualify. Informational (weight 0).',
    show: true,
    capsText: true,
  },
  NOTHING_TO_ACT_ON: {
    weight: 0,
    doc:
      'Nothing in the message leads anywhere: no link (nor QR code), no attachment, no picture in the HTML or grid ' +
      'that could be a drawn code, nothing left unread (no limit reached, no part unparsed), replies going to the ' +
      'From, a From on a domain that is not a free mailbox, and in its text no phone number, payment address, domain ' +
      'written apart, other mail address, code to scan or request to answer ("reply", "contact us"; "do not ' +
      'reply" is none) — a verification code, a receipt, a password-change notice. A lure has to give its reader ' +
      'something to do, so the text alone cannot hold such a message: `NLP_PHISH` is capped at half its weight. ' +
      'Informational (weight 0).',
    show: true,
    capsText: true,
  },
  // Text classifier
  NLP_PHISH: {
    weight: 50,
    doc:
      'The text classifier finds the subject and body phishing-like. Graded on the calibrated probability: ' +
      '0 at p = 0.5, 86 % of the weight at p = 0.62, the full weight at p = 0.86 (from 0.843 rounded) — so ' +
      'the text alone quarantines only when the model is confident, and a suspicious text short of that ' +
      'with any other signal of its own. The top features are in the detail. Bounded so the text alone ' +
      'never rejects.',
  },
  NLP_UNAVAILABLE: {
    weight: 0,
    doc: 'The text-classification service failed (error, 5xx, timeout, malformed reply); the embedded model or no text score was used (`[nlp] fallback`).',
    show: true,
    defersWhenRequired: 'nlp',
  },
  // Reputation
  URL_FEED_MATCH: { weight: 80, doc: 'A link is listed, as a URL, in an imported blocklist feed (`phishx feeds import`).' },
  DOMAIN_FEED_MATCH: { weight: 60, doc: "A link's host or one of its parent domains is listed in an imported blocklist feed." },
  SENDER_FEED_MATCH: {
    weight: 60,
    doc: "The sender's domain (From or envelope sender) or a parent of it is listed in a blocklist feed, e.g. by the SOC alert action `block_sender`.",
  },
  URL_SAFE_BROWSING: { weight: 80, doc: 'Google Safe Browsing lists a link (social engineering, malware, unwanted software).' },
  URL_SHORTENER_EXPANDED: {
    weight: 0,
    doc: 'A short link was followed to its target (`[urls] expand_shorteners`); the target was analysed like any link. Detail: the redirect chain.',
  },
  REPUTATION_UNAVAILABLE: {
    weight: 0,
    doc: 'A reputation source (store, Safe Browsing) failed or timed out; the verdict was made without it.',
    show: true,
    defersWhenRequired: 'reputation',
  },
  // Attachments (no clamd needed)
  ATTACHMENT_EXECUTABLE: {
    weight: 50,
    doc: 'An attachment that runs code when opened: executable or script extension (exe, scr, js, vbs, hta, lnk, iso, one …) or executable content.',
  },
  ATTACHMENT_DOUBLE_EXTENSION: { weight: 40, doc: 'A document extension followed by an executable one (`invoice.pdf.exe`).' },
  ATTACHMENT_MACRO: { weight: 30, doc: 'A macro-enabled Office file (docm, xlsm, pptm …).' },
  ATTACHMENT_HTML_ACTIVE: { weight: 45, doc: 'An HTML or SVG attachment with a form, password field or script: the usual credential-phishing attachment.' },
  ATTACHMENT_TYPE_MISMATCH: {
    weight: 20,
    doc:
      'The declared type and the content\'s magic bytes disagree (a "PDF" that is an executable). Names mail clients give a type ' +
      '(application/x-zip-compressed, application/x-pdf, text/xml, application/ics, application/vnd.ms-outlook) count as that type, ' +
      'and calendar, contact and XML files as text.',
  },
  ATTACHMENT_ENCRYPTED: {
    weight: 30,
    doc:
      'A password-protected Word, Excel or PowerPoint document (an `EncryptedPackage` in a compound file): like an ' +
      'encrypted archive, no scanner can look inside, and with the password in the mail a common malware and lure ' +
      'delivery. Some senders protect payslips so: weighed as `ARCHIVE_ENCRYPTED`.',
  },
  ATTACHMENT_REMOTE_OBJECT: {
    weight: 45,
    doc:
      'An Office document loads an OLE object, frame or sub-document from the internet when it is opened (an external ' +
      '`oleObject`, `frame` or `subDocument` relationship to a web address, `mhtml:` or a Windows protocol handler such ' +
      'as `ms-msdt:`): how Follina (CVE-2022-30190) and macro-less droppers run. Its web address also gets the URL checks.',
  },
  ATTACHMENT_REMOTE_TEMPLATE: {
    weight: 20,
    doc:
      'An Office document loads its template from the internet when it is opened (remote template injection: the ' +
      'template brings the macros). Templates on a SharePoint site do so legitimately, hence the low weight; the ' +
      'address also gets the URL checks, which judge its host.',
  },
  ARCHIVE_EXECUTABLE: {
    weight: 50,
    doc:
      'An archive attachment contains an executable or script: a zip (also nested), or a RAR, 7z, tar, gzip, bzip2, xz, cab, ' +
      'lzh, arj, ISO, Unix compress (.Z), cpio, RPM, Debian package or Apple disk image (listed by 7-Zip; also one in a zip, a zip in ' +
      'one; a bzip2, xz, .Z or nameless gzip holds what its name says less the suffix), or uuencoded text (.uue: its begin lines).',
  },
  ARCHIVE_ENCRYPTED: {
    weight: 30,
    doc: 'A password-protected archive (zip, RAR, 7z): scanners cannot look inside, a common malware delivery.',
  },
  ARCHIVE_BOMB: {
    weight: 40,
    doc: "An archive whose declared compression ratio is above `[attachments] max_compression_ratio`; inflated only within the message's decompression budget.",
  },
  ATTACHMENT_UNINSPECTABLE: {
    weight: 30,
    doc:
      'An archive attachment could not be looked into: not a readable zip or archive (also an archive of a kind 7-Zip cannot ' +
      'read: ACE, lzip, LZ4, Zstandard), an inner zip corrupt, a RAR or 7z damaged or whose names are encrypted, past ' +
      'the first 50 zip or Office attachments or the first 5 RAR, 7z, tar and ' +
      'such archives of a message, more memory than 7-Zip may use to list it (32 MiB), the ' +
      "message's decompression budget (`[attachments] max_inflated_bytes`) used up, or the scan budget " +
      'ended first. What a scanner cannot see is never a silent pass.',
  },
  ARCHIVE_LIMIT: {
    weight: 5,
    doc: 'An archive has more entries or nesting than `[attachments] max_archive_entries` / `max_archive_depth`; the rest was not listed.',
  },
  // ClamAV
  CLAMAV_VIRUS: {
    weight: 0,
    doc: 'clamd found malware; the detail names the signature. Decides the action by itself (`[clamav] action`, reject by default) whatever the score.',
    show: true,
    malware: true,
  },
  CLAMAV_UNAVAILABLE: {
    weight: 0,
    doc: 'No clamd answered; with `[defer] clamav = true` the message is deferred (451), else it flows on the other signals.',
    show: true,
    defersWhenRequired: 'clamav',
  },
  CLAMAV_SIZE_LIMIT: { weight: 0, doc: 'clamd refused the message as larger than its StreamMaxLength: not virus-scanned.', show: true },
  CLAMAV_SKIPPED_SIZE: { weight: 0, doc: 'The message is larger than `[clamav] max_size` and was not sent to clamd.', show: true },
  // Extraction limits and faults (informational, small weights)
  LIMIT_PARTS: {
    weight: 5,
    doc: 'More MIME parts than `[limits] max_parts`; attachments a client opens as more than text or a picture were examined first, the rest not.',
    show: true,
  },
  LIMIT_URLS: {
    weight: 5,
    doc:
      'More distinct links than `[limits] max_urls`: the analyzers saw clicked links first and a link of ' +
      'every host, the rest were looked up in the feeds only.',
    show: true,
  },
  LIMIT_URL_HOSTS: {
    weight: 25,
    doc:
      'Links to more different hosts than `[limits] max_urls` (or more links than PhishX reads at all): ' +
      'some hosts were not analysed one by one (every link was still looked up in the feeds). Ordinary ' +
      'mail rarely comes near it (a 2002 blog digest linking 2,600 blogs does); padding a message with ' +
      'links to hide one does.',
    show: true,
  },
  LIMIT_STYLE_RULES: {
    weight: 25,
    doc:
      "Matching the body's elements against its `<style>` sheets asked more than PhishX gives it (200,000 rule checks; " +
      "the corpora's most is about 2,400): later elements were read without the sheets, so text they hide may count as " +
      'shown. Only a document built for it gets there (thousands of rules matching thousands of elements).',
    show: true,
  },
  LIMIT_QR_PIXELS: {
    weight: 0,
    doc:
      'Pictures past `[limits] max_qr_pixels` (`max_qr_pixels_picture_mail` for a message that shows under 500 ' +
      'characters of text), or past 500 pictures, were not read for QR codes; the squarest were read first. Also ' +
      'grids that could be drawn codes (table cells, block characters) past 8 or 400,000 pixels, the smallest read ' +
      'first, and the images of a PDF past its first 5,000 image objects. Informational: screenshots and photos pass ' +
      'it every day.',
    show: true,
  },
  LIMIT_DOCUMENT_PARTS: {
    weight: 0,
    doc:
      'Part of an Office document was not read for links and pictures: XML past `[limits] max_decoded_bytes` over the ' +
      "message's documents, the message's 32 MiB for inflating documents used up (smallest parts are read first, " +
      'pictures last), more than 5,000 entries in a document or 10,000 in the message, more than 400 parts to read or ' +
      '20 pictures, or a broken part. Informational: large spreadsheets pass it. (Zip and Office attachments past ' +
      'the first 50 of a message are not opened at all: `ATTACHMENT_UNINSPECTABLE`.)',
    show: true,
  },
  LIMIT_DECODED_BYTES: {
    weight: 0,
    doc: 'Decoded text beyond `[limits] max_decoded_bytes` was not read as text; its links were (up to 16 × the limit).',
    show: true,
  },
  MIME_UNPARSEABLE: {
    weight: 10,
    doc:
      'The MIME structure could not be parsed; headers and raw text were analysed instead. Held at least as ' +
      '`[limits] unparseable_action` says (quarantine by default): an encoded part inside went unread.',
    show: true,
    unreadable: true,
  },
  MIME_AMBIGUOUS: {
    weight: 10,
    doc:
      'A part says twice, differently, how it is read (two Content-Type, Content-Transfer-Encoding or ' +
      'Content-Disposition headers; a parameter such as `boundary` or `charset` given twice), its file is named ' +
      'with two extensions (`filename="invoice.pdf"; filename*=utf-8\'\'invoice.js`, or `name` against `filename`), ' +
      'its Content-Type is not a type/subtype, or it is uuencoded (which Thunderbird decodes): mail readers differ on how such a ' +
      'part reads, so what was scanned may not be what the reader shows — a decoy part for the scanner, the lure ' +
      'for the user. No mailer writes these. Held at least as `[limits] unparseable_action` says (quarantine by default).',
    show: true,
    unreadable: true,
  },
  SCAN_ERROR: { weight: 0, doc: 'An analyzer failed unexpectedly; the verdict uses the signals that arrived.', show: true },
  BUDGET_EXCEEDED: {
    weight: 0,
    doc:
      'The scan budget ran out; the verdict uses the signals that arrived. The cheap analyzers (URLs, ' +
      'sender, brand, disguised text) always run once the message is parsed; the text classifier, ' +
      'reputation, ClamAV and archive inspection are what a budget overrun can cut (an archive not ' +
      'inspected adds `ATTACHMENT_UNINSPECTABLE`).',
    show: true,
  },
  SCAN_INCOMPLETE: {
    weight: 0,
    doc:
      'The scan budget ran out before the message was even parsed, so nothing could be judged: the message ' +
      "is deferred (`451 4.7.1`, the sender retries), never passed unjudged. So is a scan that Haraka's " +
      'hook watchdog has to end (budget + 1 s).',
    show: true,
    alwaysDefers: true,
  },
  // Skips
  SKIP_RELAYING: { weight: 0, doc: 'Relayed / authenticated session: not scanned (`[main] skip_relaying`).', show: true },
  SKIP_ALLOWLIST: { weight: 0, doc: 'Sender domain or client IP is allowlisted: not scanned.', show: true },
} as const satisfies Record<string, ReasonSpec>;

export type ReasonCode = keyof typeof REASONS;

/** A reason's entry with its optional flags (the `as const` table narrows them away). */
export function reasonSpec(code: ReasonCode): ReasonSpec {
  return REASONS[code];
}
