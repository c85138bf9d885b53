/** What the analyzers see of one message. Built once per scan by `extractScanInput`. */

export interface MailAddress {
  /** Decoded display name ('' when absent). */
  name: string;
  /** Lower-cased address ('' when the header held none). */
  address: string;
  /** The local part as written, case kept ('' when none): "hrUsmGyi" in hrUsmGyi@example.com. */
  localPart: string;
  /** Lower-cased domain of the address ('' when none). */
  domain: string;
  /** Registered domain (public-suffix aware), e.g. `example.co.uk`; null for IPs / unknown suffixes. */
  registrable: string | null;
}

/**
 * Where a URL was found: `attachment` = a link, form or map area inside an HTML / SVG
 * attachment; `message` = a link in an attached message (message/rfc822, .eml), another
 * sender's words; `pdf` = a link annotation of a PDF attachment. Neither of the last two
 * makes or breaks the outer sender's alignment (a forwarded mail, a "Get Adobe Reader" link).
 * `qr` = a link a QR code in one of the message's pictures, or drawn in its HTML or text,
 * spells out (scanned, it is opened).
 */
export type UrlSource = 'text' | 'href' | 'img' | 'form' | 'area' | 'attachment' | 'message' | 'pdf' | 'qr';

export interface ExtractedUrl {
  /** The URL as written (trimmed). */
  raw: string;
  source: UrlSource;
  /** Visible anchor text for `href` links (whitespace collapsed, truncated). */
  anchorText?: string;
  /** Lower-cased scheme without ':', e.g. `https`, `mailto`, `data`. */
  scheme: string;
  /** Hostname as WHATWG URL gives it (IDNs in punycode); '' for data:, javascript:, mailto: … */
  host: string;
  registrable: string | null;
  /** Public suffix (e.g. `co.uk`), null when unknown. */
  suffix: string | null;
  /** Labels left of the registered domain. */
  subdomain: string;
  isIp: boolean;
  hasUserinfo: boolean;
  /** Plain text only: written as a bare domain name ("SomeVendor.com": no scheme, no www., no path) — a name more than a link. */
  bare?: boolean;
  /** `qr` only: the code is drawn without a picture (table cells, block characters). */
  drawn?: boolean;
}

export interface AttachmentInfo {
  filename: string | null;
  declaredType: string;
  /** MIME type from the content's magic bytes, null when unrecognised. */
  sniffedType: string | null;
  size: number;
  sha256: string;
  disposition: string | null;
  /** HTML / SVG attachments: active content counted. */
  active?: { forms: number; passwordFields: number; scripts: number };
  /** HTML / SVG attachments: the links, form targets and map areas in them; attached messages: their links; PDFs: their link annotations. */
  links?: string[];
  /** An attached message (message/rfc822, a .eml file): a mail client opens it as a message. */
  message?: true;
  /** An iCalendar object (a meeting invitation: text/calendar, application/ics, .ics): `links` are the ones its shown properties carry. */
  calendar?: true;
  /** A PDF (by magic bytes, or by name when the content is unrecognised): `links` are its link annotations. */
  pdf?: true;
  /** An Office document (OOXML, OpenDocument): `links` are its hyperlinks and written addresses; `remote` what it loads from elsewhere on opening. */
  office?: { remote: import('../attachments/office-documents.js').RemotePart[] };
  /** A password-protected Office document (an OOXML file encrypted into a compound file): nothing in it can be read. */
  encrypted?: true;
  /** An attached message the MIME parser refused: why (MIME_UNPARSEABLE). */
  unreadable?: string;
  /** An attached message with parts mail readers read differently: what (MIME_AMBIGUOUS). */
  ambiguous?: string;
  /**
   * An archive whose listing is `archive` (filled by `inspectArchives`): a zip, read by yauzl, a
   * RAR, 7z, tar, gzip, bzip2, xz, cab, lzh, arj, ISO or other archive, read by 7-Zip — by magic
   * bytes, or by name when the content is unrecognised —, or uuencoded text (`.uue`), listed
   * from its `begin` lines.
   */
  listed?: 'zip' | '7-zip' | 'uuencoded';
  /**
   * Zip attachments (and RAR, 7z, tar … read by 7-Zip): the files in them a reader
   * opens with a click — web pages, PDFs, Office documents, attached messages, calendar files,
   * pictures — read as attachments are, named `zip/path`; a zip in a zip has its own (three
   * deep). Attached messages: their attachments,
   * named `message.eml/file`, without links (those are the message's `links`).
   */
  contents?: AttachmentInfo[];
  /** Archive attachments (`listed`): their listing (see lib/attachments/archive.ts, seven-zip.ts), filled by `inspectArchives`; absent while not inspected. */
  archive?: import('../attachments/archive.js').ArchiveInfo;
}

export interface LimitHit {
  code:
    | 'LIMIT_PARTS'
    | 'LIMIT_URLS'
    | 'LIMIT_URL_HOSTS'
    | 'LIMIT_DECODED_BYTES'
    | 'LIMIT_STYLE_RULES'
    | 'LIMIT_QR_PIXELS'
    | 'LIMIT_DOCUMENT_PARTS'
    | 'ATTACHMENT_UNINSPECTABLE'
    | 'MIME_UNPARSEABLE'
    | 'MIME_AMBIGUOUS';
  detail: string;
}

export interface ScanInput {
  /** Every header in order, values RFC 2047-decoded. Names lower-cased. */
  headers: Array<{ name: string; value: string }>;
  subject: string;
  from: MailAddress | null;
  replyTo: MailAddress[];
  /** Recipients: envelope RCPT TO plus To / Cc header addresses, lower-cased, deduplicated. */
  recipients: string[];
  /** Raw (decoded) From header value, '' when the header is missing. */
  fromHeader: string;
  /** Why the From does not name one sender (fromAmbiguity): given twice, or several mailboxes without a Sender. */
  fromAmbiguous?: string;
  /** Return-Path header if present, else the envelope MAIL FROM. */
  returnPath: MailAddress | null;
  /** The envelope MAIL FROM only (what the sending server said; null when empty or unknown). */
  envelopeFrom: MailAddress | null;
  /** SPF / DKIM results from the envelope (null: not checked, e.g. `phishx eval` or no such plugin). */
  auth: SenderAuth | null;
  /** Every text/plain part, decoded, joined by newlines (bounded by limits.max_decoded_bytes). */
  text: string;
  /** Every text/html part, decoded, joined (bounded). */
  html: string;
  /** Visible text of the HTML parts (script/style removed). */
  htmlText: string;
  /** `htmlText` without text an inline style or the `hidden` attribute hides ('' when nothing is hidden). */
  htmlVisibleText: string;
  /** `<input type=password>` fields in the HTML. */
  passwordFields: number;
  /** MIME leaf parts seen. */
  parts: number;
  /** The distinct links the URL analyzers see: at most `[limits] max_urls`, chosen by `chooseUrls` (every host first). */
  urls: ExtractedUrl[];
  /** Distinct links beyond `max_urls`: not analysed one by one, but looked up in the feeds like the rest. */
  moreUrls: ExtractedUrl[];
  attachments: AttachmentInfo[];
  /** `data:` pictures of the HTML and grids that could be QR codes drawn in table cells or block characters, read or not (absent: none). */
  shownPictures?: number;
  limits: LimitHit[];
  rawBytes: number;
}

/**
 * Sender authentication that other Haraka plugins established before PhishX ran
 * (haraka-plugin-spf, haraka-plugin-dkim). Absent parts were not checked.
 */
export interface SenderAuth {
  /** SPF of the envelope sender: result lower-cased (pass, fail, softfail, neutral, none, temperror, permerror). */
  spf?: { result: string; domain: string };
  /** DKIM verification ran: signing domains (d=) of passing and of failing signatures (both empty: unsigned). */
  dkim?: { pass: string[]; fail: string[] };
}

export interface Envelope {
  mailFrom: string;
  rcptTo: string[];
  remoteIp?: string;
  /** Relaying or authenticated (outbound) session. */
  relaying?: boolean;
  helo?: string;
  /** SPF / DKIM results of earlier plugins, when they ran. */
  auth?: SenderAuth;
}
