/**
 * Message generators for the fuzzers (fast-check arbitraries): hostile MIME built from
 * parts, seed messages mutated at the byte level, and known lures whose attachment part is
 * replaced by generated or mutated bytes (zips among them). Every generator is seeded by
 * fast-check, so a failure names a seed and a path that reproduce it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { zipSync } from 'fflate';
import { toCrlf } from '../helpers/smtp.js';
import {
  cleanMessage,
  deepNestedMessage,
  garbage8bitMessage,
  malformedMimeMessage,
  manyPartsMessage,
  phishMessage,
  quarantineMessage,
} from '../helpers/messages.js';
import { repeatedEntryZip, zip } from '../helpers/mime.js';
import { blockCode, drawnQrMessage, drawnTable, pdfQrMessage, qrGif, qrJpeg, qrPdf, qrPng, quishingMessage } from '../helpers/qr-pictures.js';
import { REPO } from '../helpers/haraka.js';
import { docx, odt, officeMessage, pdfWithLink, xlsxFormulaLink } from '../helpers/office-documents.js';
import { rar5, sevenZipArchive, uuencode } from '../helpers/archives.js';

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64').replace(/.{76}/g, '$&\r\n');

/** Header names and values as a hostile sender writes them. */
const headerName = fc.oneof(
  fc.constantFrom(
    'From',
    'To',
    'Subject',
    'Reply-To',
    'Content-Type',
    'Content-Transfer-Encoding',
    'Content-Disposition',
    'MIME-Version',
    'Return-Path',
    'X-PhishX-Verdict',
    'x-phishx-id ',
    'Received',
    'Message-ID',
  ),
  fc.string({ minLength: 1, maxLength: 20 }).map((s) => s.replace(/[\r\n:]/g, '')),
);
const headerValue = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    '=?utf-8?B?////?=',
    '=?x-unknown?Q?=FF=FE?=',
    '"PayPal" <service@paypa1.top>',
    '<>',
    'a@b@c',
    'multipart/mixed; boundary=',
    'multipart/mixed; boundary="x"; boundary="y"',
    'text/html; charset=utf-7',
    'base64',
    'quoted-printable',
    "attachment; filename*=utf-8''%FF%FE.zip",
  ),
  fc.integer({ min: 1000, max: 200_000 }).map((n) => 'x'.repeat(n)),
  fc.uint8Array({ maxLength: 300 }).map((b) =>
    Buffer.from(b)
      .toString('latin1')
      .replace(/[\r\n]/g, ' '),
  ),
);

const htmlFragment = fc.oneof(
  fc.constantFrom(
    '<a href="http://45.33.32.156/login">https://www.paypal.com/</a>',
    '<a href="javascript:alert(1)">x</a>',
    '<form action="data:text/html,x"><input type=password></form>',
    '<img src="https://t.example.com/p.gif" width=1 height=1>',
    '<a href="https://xn--pypal-4ve.com/">paypal.com</a>',
    '<a href="//[::7f00:1]/">x</a>',
    '<a href="http://%zz/">bad</a>',
    '<a href="https://user:pw@evil.example/">x</a>',
    '<a href="https://cgi4.ebay.com/ws/eBayISAPI.dll?RedirectToDomain&DomainUrl=http%3A%2F%2F%32%31%31%2E%31%37%32%2E%39%36%2E%37%2F">x</a>',
    '<a href="https://www.paypal.com/r?u=https://[::1]:99999/&v=http://%zz/&w=https://xn--/">x</a>',
    '<![CDATA[',
    '<!--',
    '<script>',
    '<style>',
    '<a href="',
    '</div></div></div>',
    '&#x0;&#xD800;&#1114112;',
  ),
  fc.string({ maxLength: 300 }),
  fc.integer({ min: 1, max: 3000 }).map((n) => '<div>'.repeat(n)),
  // Style sheets: hiding rules, broken and huge CSS, and the elements they are for.
  fc
    .array(
      fc.constantFrom('.s{display:none}', '#i{font-size:0!important}', '*{opacity:0}', '@media x{', '}', '{', '/*', '"', '\\', ':is(', ',', '.s .t', 'p.s'),
      { maxLength: 40 },
    )
    .map((css) => `<style>${css.join('')}</style><div class="s t" id="i">salt</div>`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `<style>${'.a{color:#fff}'.repeat(n)}`),
  fc.integer({ min: 1, max: 2000 }).map((n) => Array.from({ length: n }, (_, i) => `<img src="https://px${i % 13}.example.com/${i}.gif">`).join('')),
  // A brand link whose query carries thousands of URLs (forwardsElsewhere reads 32; a run
  // like this once cost linkify-it ~7 s per message, see schemeRelativeLength).
  fc
    .integer({ min: 1, max: 5000 })
    .map((n) => `<a href="https://www.paypal.com/r?${Array.from({ length: n }, (_, i) => `a${i}=https://www.paypal.com/${i}`).join('&')}">x</a>`),
);

const transferEncoding = fc.constantFrom('7bit', '8bit', 'base64', 'quoted-printable', 'binary', 'x-uuencode', 'garbage');

interface Part {
  type: string;
  encoding: string;
  body: string;
  filename?: string;
}

const leafPart: fc.Arbitrary<Part> = fc.oneof(
  fc.record({ type: fc.constant('text/plain; charset=utf-8'), encoding: transferEncoding, body: fc.string({ maxLength: 2000 }) }),
  fc.record({
    type: fc.constantFrom('text/html', 'text/html; charset=iso-8859-1', 'image/svg+xml'),
    encoding: transferEncoding,
    body: fc.array(htmlFragment, { maxLength: 20 }).map((a) => a.join('\n')),
  }),
  fc.record({
    type: fc.constantFrom('application/zip', 'application/octet-stream', 'application/pdf', 'text/html'),
    encoding: fc.constant('base64'),
    body: fc.uint8Array({ maxLength: 4000 }).map(b64),
    filename: fc.constantFrom('invoice.zip', 'a.pdf.exe', 'doc.html', '', '..\\..\\x', 'x'.repeat(300)),
  }),
);

/** A MIME tree of depth up to 4 with random boundaries, sometimes never closed. */
function mimeTree(depth: number): fc.Arbitrary<string> {
  const leaf = leafPart.map((p) =>
    [`Content-Type: ${p.type}${p.filename !== undefined ? `; name="${p.filename}"` : ''}`, `Content-Transfer-Encoding: ${p.encoding}`, '', p.body].join('\r\n'),
  );
  if (depth <= 0) return leaf;
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    {
      weight: 2,
      arbitrary: fc
        .record({
          boundary: fc.oneof(
            fc.constantFrom('b', '', '--', 'a b', '"'),
            fc.string({ minLength: 1, maxLength: 70 }).map((s) => s.replace(/[\r\n"]/g, '')),
          ),
          kids: fc.array(mimeTree(depth - 1), { minLength: 0, maxLength: 5 }),
          closed: fc.boolean(),
        })
        .map(({ boundary, kids, closed }) =>
          [
            `Content-Type: multipart/${depth % 2 ? 'mixed' : 'alternative'}; boundary="${boundary}"`,
            '',
            ...kids.flatMap((k) => [`--${boundary}`, k]),
            closed ? `--${boundary}--` : '',
          ].join('\r\n'),
        ),
    },
  );
}

/** Messages built from hostile parts: headers, nesting, encodings, HTML. */
export const builtMessage: fc.Arbitrary<Buffer> = fc
  .record({ headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 30 }), body: mimeTree(4) })
  .map(({ headers, body }) => Buffer.from([...headers.map(([n, v]) => `${n}: ${v}`), 'MIME-Version: 1.0', body, ''].join('\r\n'), 'utf8'));

/** The seed messages the mutator starts from. */
export const SEEDS: Buffer[] = [
  toCrlf(cleanMessage()),
  toCrlf(phishMessage()),
  toCrlf(quarantineMessage()),
  toCrlf(malformedMimeMessage()),
  toCrlf(manyPartsMessage(30)),
  toCrlf(deepNestedMessage(20)),
  garbage8bitMessage(20),
  // A meeting invitation: its calendar part's folded, escaped properties are parsed for links.
  toCrlf(
    [
      'From: HR <hr@example.net>',
      'To: bob@example.org',
      'Subject: Invitation: review (bob@example.org)',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="c1"',
      '',
      '--c1',
      'Content-Type: text/plain',
      '',
      'You have been invited.',
      '--c1',
      'Content-Type: text/calendar; method=REQUEST',
      '',
      'BEGIN:VCALENDAR',
      'BEGIN:VEVENT',
      'DESCRIPTION:Sign in\\, then open https://calendar-lure.example',
      ' .net/x\\n',
      'X-ALT-DESC;FMTTYPE=text/html:<a href="https://alt.example.net/">x</a>',
      'LOCATION;ALTREP="https://loc.example.net/":Room',
      'END:VEVENT',
      'END:VCALENDAR',
      '--c1--',
      '',
    ].join('\n'),
  ),
];

type Mutation = (b: Buffer) => Buffer;
const INSERTS = [
  '\r\n',
  '\r\n\r\n',
  '\r\n.\r\n',
  '\0',
  '\xff\xfe',
  '--b1--\r\n',
  '--never-closed\r\n',
  'Content-Type: multipart/mixed; boundary="z"\r\n',
  '=?utf-8?B?',
  '<a href="',
  '\r\n ',
  '=\r\n',
  'begin 644 x\r\n',
];

/** One byte-level mutation at a chosen position. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, v]): Mutation => (b) => {
    if (!b.length) return b;
    const c = Buffer.from(b);
    c[at % c.length] = v;
    return c;
  }),
  fc.tuple(fc.nat(), fc.nat({ max: 2000 })).map(
    ([at, n]): Mutation =>
      (b) =>
        Buffer.concat([b.subarray(0, at % (b.length + 1)), b.subarray(Math.min(b.length, (at % (b.length + 1)) + n))]),
  ),
  fc.tuple(fc.nat(), fc.constantFrom(...INSERTS)).map(([at, s]): Mutation => (b) => {
    const i = at % (b.length + 1);
    return Buffer.concat([b.subarray(0, i), Buffer.from(s, 'latin1'), b.subarray(i)]);
  }),
  fc.tuple(fc.nat(), fc.nat({ max: 500 }), fc.integer({ min: 2, max: 50 })).map(([at, n, times]): Mutation => (b) => {
    const i = at % (b.length + 1);
    const chunk = b.subarray(i, i + n);
    return Buffer.concat([b.subarray(0, i), ...Array.from({ length: times }, () => chunk), b.subarray(i)]);
  }),
  fc.nat().map(
    (at): Mutation =>
      (b) =>
        b.subarray(0, at % (b.length + 1)),
  ),
);

/** Seed messages with up to eight byte-level mutations. */
export const mutatedMessage: fc.Arbitrary<Buffer> = fc
  .tuple(fc.constantFrom(...SEEDS), fc.array(mutation, { maxLength: 8 }))
  .map(([seed, ms]) => ms.reduce((b, m) => m(b), seed));

/** Zip structures an attacker attaches: nested, encrypted-flagged, bombs, truncated, bit-flipped. */
const zipBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  // Entry names made safe for fflate's object form ('__proto__', 'a/' and the like are not file names to it).
  fc
    .array(fc.tuple(fc.string({ maxLength: 30 }), fc.uint8Array({ maxLength: 2000 })), { maxLength: 20 })
    .map((files) => zipSync(Object.fromEntries(files.map(([name, data], i) => [`f${i}-${name.replace(/[^\w.-]/g, '_')}`, data])))),
  fc.integer({ min: 1, max: 4 }).map((depth) => {
    let z: Uint8Array = zipSync({ 'run.exe': new Uint8Array([0x4d, 0x5a]) });
    for (let i = 0; i < depth; i++) z = zipSync({ [`l${i}.zip`]: z });
    return z;
  }),
  fc
    .tuple(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1000, max: 2_000_000 }))
    .map(([n, size]) => new Uint8Array(repeatedEntryZip(Buffer.from(zipSync({ 'z.bin': [new Uint8Array(size), { level: 0 }] })), n, (i) => `p${i}.zip`))),
  fc
    .tuple(fc.uint8Array({ minLength: 1, maxLength: 2000 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 20 }), fc.nat())
    .map(([content, flips, cut]) => {
      const z = Buffer.from(zipSync({ 'a.txt': content, 'b.zip': zipSync({ 'c.js': content }) }));
      for (const [at, v] of flips) z[at % z.length] = v;
      return new Uint8Array(z.subarray(0, z.length - (cut % Math.max(1, z.length))));
    }),
  fc.uint8Array({ maxLength: 5000 }),
  fc.constant(new Uint8Array(Buffer.from('PK\x03\x04 this is not really a zip', 'latin1'))),
);

/**
 * A known lure (brand impersonation, a link showing paypal.com to an IP, a password form)
 * with its attachment part replaced by generated or mutated bytes: whatever the attachment
 * is, the verdict must never be `allow`.
 */
export const lureWithMutatedAttachment: fc.Arbitrary<Buffer> = fc
  .tuple(
    zipBytes,
    fc.constantFrom('invoice.zip', 'invoice.pdf', 'statement.html', 'x', ''),
    fc.constantFrom('application/zip', 'application/octet-stream', 'application/pdf', 'text/html', 'application/x-zip-compressed'),
  )
  .map(([bytes, name, type]) => {
    const lure = phishMessage().split('\n');
    const at = lure.findIndex((l) => l.startsWith('Content-Type: text/html'));
    return toCrlf(
      [
        ...lure.slice(0, at),
        'Content-Type: multipart/mixed; boundary="lure"',
        '',
        '--lure',
        ...lure.slice(at),
        '--lure',
        `Content-Type: ${type}; name="${name}"`,
        `Content-Disposition: attachment; filename="${name}"`,
        'Content-Transfer-Encoding: base64',
        '',
        b64(bytes),
        '--lure--',
        '',
      ].join('\n'),
    );
  });

/**
 * A corpus lure (Nazario, Amazon) whose headers alone do not give it away: its link does.
 * Rejected as it is (test/e2e/inline.test.ts).
 */
const AMAZON_LURE = ((): { headers: string; html: string } => {
  const raw = readFileSync(path.join(REPO, 'test', 'fixtures', 'corpus-phish-amazon-0f7adde91ff4631a.eml'), 'latin1');
  const sep = raw.indexOf('\n\n');
  const headers = raw
    .slice(0, sep + 1)
    .split('\n')
    .filter((l) => !/^(content-type|content-transfer-encoding|content-length|lines):/i.test(l))
    .join('\n');
  return { headers, html: raw.slice(sep + 2) };
})();

/**
 * A lure's HTML wrapped the ways a sender hides it from a scanner: MIME nested past
 * the parser's limit, base64 / quoted-printable, padding past the decoded-bytes limit (hidden,
 * a comment), elements nested past the HTML depth cap, all of it inside an attached message.
 * The verdict must never be `allow`.
 */
export const lureWrapped: fc.Arbitrary<Buffer> = fc
  .record({
    depth: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 300 })),
    encoding: fc.constantFrom('7bit', 'base64', 'quoted-printable'),
    pad: fc.constantFrom('', '', '', 'hidden', 'comment'),
    divs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3000 })),
    attach: fc.constantFrom('', '', 'message/rfc822', 'application/octet-stream; name="Voicemail.eml"'),
  })
  .map(({ depth, encoding, pad, divs, attach }) => {
    const padding =
      pad === 'hidden' ? `<div style="display:none">${'lorem ipsum '.repeat(200_000)}</div>` : pad === 'comment' ? `<!-- ${'x'.repeat(2_200_000)} -->` : '';
    const html = `${padding}${'<div>'.repeat(divs)}${AMAZON_LURE.html}`;
    const encoded =
      encoding === 'base64' ? b64(Buffer.from(html)) : encoding === 'quoted-printable' ? html.replace(/=/g, '=3D').replace(/.{70}/g, '$&=\r\n') : html;
    let body = `Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: ${encoding}\r\n\r\n${encoded}\r\n`;
    for (let d = depth; d > 0; d--) body = `Content-Type: multipart/mixed; boundary="n${d}"\r\n\r\n--n${d}\r\n${body}--n${d}--\r\n`;
    if (attach) {
      // The wrapped lure as an attached message (a mail client opens it, its links clickable).
      const inner = `${toCrlf(AMAZON_LURE.headers).toString('latin1')}${body}`;
      body = `Content-Type: multipart/mixed; boundary="att"\r\n\r\n--att\r\nContent-Type: text/plain\r\n\r\nPlease see the attached message.\r\n--att\r\nContent-Type: ${attach}\r\n\r\n${inner}\r\n--att--\r\n`;
    }
    return Buffer.concat([toCrlf(AMAZON_LURE.headers), Buffer.from(body, 'latin1')]);
  });

/** All kinds, for runs that only check that every message is answered in time. */
const QR_URL = 'http://45.33.32.156/mfa/verify';
const QR_SEEDS = [
  qrPng(QR_URL),
  qrJpeg(QR_URL),
  qrGif(QR_URL),
  qrPng(QR_URL, { transparent: true }),
  qrJpeg(QR_URL, { quality: 40, canvas: { width: 700, height: 500 }, at: { x: 200, y: 100 } }),
];
/** Where each seed keeps its width and height (PNG IHDR, GIF screen); -1: a JPEG, whose SOF sits after segments of varying length (edits reach it). */
const DIMENSION_AT = [16, -1, 6, 16, -1];

/**
 * A QR-code lure (its text alone is held) whose picture — PNG, JPEG, GIF, inline, attached or a
 * `data:` image — is left whole, bit-flipped, cut short, or given a header that claims up to
 * 65,535 x 65,535 pixels. `intact`: the picture is unchanged (its code must be read).
 */
export const qrLureWithMutatedPicture: fc.Arbitrary<{ raw: Buffer; intact: boolean }> = fc
  .record({
    seed: fc.nat({ max: QR_SEEDS.length - 1 }),
    as: fc.constantFrom('inline' as const, 'attachment' as const, 'data' as const),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 40 }),
    cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    claim: fc.option(fc.tuple(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 })), { nil: undefined }),
  })
  .map(({ seed, as, edits, cut, claim }) => {
    let picture = Buffer.from(QR_SEEDS[seed]);
    for (const [at, v] of edits) picture[at % picture.length] = v;
    const where = DIMENSION_AT[seed];
    if (claim && where > 0) {
      if (seed === 2) {
        picture.writeUInt16LE(claim[0], where);
        picture.writeUInt16LE(claim[1], where + 2);
      } else {
        picture.writeUInt32BE(claim[0], where);
        picture.writeUInt32BE(claim[1], where + 4);
      }
    }
    if (cut !== undefined) picture = picture.subarray(0, Math.floor(picture.length * cut));
    const intact = edits.length === 0 && cut === undefined && !(claim && where > 0);
    return { raw: Buffer.from(quishingMessage(QR_URL, { as, picture })), intact };
  });

/** What a drawing is broken with: table structure, cells that span far, block characters, line breaks, stray text. */
const DRAWN_JUNK = [
  '<td>',
  '</td>',
  '<tr>',
  '</tr>',
  '<table>',
  '</table>',
  '<td colspan="99999" bgcolor=#000>',
  '<td bgcolor=#000>',
  '█',
  '▀▄',
  '■',
  '\n',
  '&nbsp;',
  'x',
  '<div style="display:none">',
  '</div>',
  '<pre>',
];

/**
 * A lure (its text alone is held) whose QR code is drawn without a picture — an HTML table
 * coloured by attribute, style, class or an inner `<div>`, runs merged by `colspan`, either
 * way round; or block characters (half, full, squares, quadrants) in a `<pre>` or a plain-text
 * part — left whole, or broken: junk inserted, ranges cut out or repeated. `intact`: the
 * drawing is unchanged (its code must be read).
 */
export const drawnQrLureMutated: fc.Arbitrary<{ raw: Buffer; intact: boolean }> = fc
  .record({
    table: fc.boolean(),
    colour: fc.constantFrom('bgcolor' as const, 'style' as const, 'class' as const, 'div' as const),
    colspan: fc.boolean(),
    inverted: fc.boolean(),
    style: fc.constantFrom('half' as const, 'full' as const, 'squares' as const, 'quadrants' as const),
    plain: fc.boolean(),
    edits: fc.array(
      fc.oneof(
        fc.tuple(fc.constant('insert' as const), fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(...DRAWN_JUNK), fc.integer({ min: 1, max: 400 })),
        fc.tuple(fc.constant('cut' as const), fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(''), fc.integer({ min: 1, max: 2000 })),
        fc.tuple(fc.constant('repeat' as const), fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(''), fc.integer({ min: 1, max: 50 })),
      ),
      { maxLength: 6 },
    ),
  })
  .map(({ table, colour, colspan, inverted, style, plain, edits }) => {
    let drawing = table ? drawnTable(QR_URL, { colour, colspan, inverted }) : blockCode(QR_URL, style, { inverted, border: inverted ? 2 : 1 });
    for (const [kind, where, junk, n] of edits) {
      const at = Math.floor(where * drawing.length);
      if (kind === 'insert') drawing = drawing.slice(0, at) + junk.repeat(n) + drawing.slice(at);
      else if (kind === 'cut') drawing = drawing.slice(0, at) + drawing.slice(at + n);
      else drawing = drawing.slice(0, at) + drawing.slice(at, at + 200).repeat(n) + drawing.slice(at);
    }
    const body = !table && plain ? { text: drawing } : { html: table ? drawing : `<pre>${drawing}</pre>` };
    return { raw: Buffer.from(drawnQrMessage(body)), intact: edits.length === 0 };
  });

const PDF_SEEDS = (['jpeg', 'png', 'grey', 'rgb', 'mask'] as const).map((kind) => qrPdf(QR_URL, kind));

/**
 * A lure (its text alone is held) whose only link is a QR code picture in an attached PDF —
 * JPEG, PNG data, raw grey or RGB samples, a 1-bit mask — left whole, bit-flipped, cut short,
 * or with an image dictionary that lies (width, height, bits, predictor, length up to 65,535).
 * `intact`: the PDF is unchanged (its code must be read).
 */
export const pdfQrLureMutated: fc.Arbitrary<{ raw: Buffer; intact: boolean }> = fc
  .record({
    seed: fc.nat({ max: PDF_SEEDS.length - 1 }),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 30 }),
    cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    lie: fc.option(fc.tuple(fc.constantFrom('Width', 'Height', 'BitsPerComponent', 'Predictor', 'Length'), fc.integer({ min: 0, max: 65535 })), {
      nil: undefined,
    }),
  })
  .map(({ seed, edits, cut, lie }) => {
    let pdf = Buffer.from(PDF_SEEDS[seed]);
    if (lie) pdf = Buffer.from(pdf.toString('latin1').replace(new RegExp(`/${lie[0]} \\d+`), `/${lie[0]} ${lie[1]}`), 'latin1');
    for (const [at, v] of edits) pdf[at % pdf.length] = v;
    if (cut !== undefined) pdf = pdf.subarray(0, Math.floor(pdf.length * cut));
    return { raw: Buffer.from(pdfQrMessage(pdf)), intact: edits.length === 0 && cut === undefined && lie === undefined };
  });

const OFFICE_SEEDS: Array<{ doc: Buffer; name: string; type: string }> = [
  {
    doc: docx({ hyperlinks: [{ text: 'View invoice', url: QR_URL }] }),
    name: 'Invoice.docx',
    type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  },
  { doc: docx({ fieldLink: QR_URL }), name: 'Invoice.docx', type: 'application/octet-stream' },
  { doc: docx({ picture: qrPng(QR_URL) }), name: 'Invoice.docx', type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' },
  { doc: xlsxFormulaLink(QR_URL), name: 'Invoice.xlsx', type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
  { doc: odt(QR_URL), name: 'Invoice.odt', type: 'application/vnd.oasis.opendocument.text' },
];

/** Offsets of a zip's central directory entries (signature PK\x01\x02). */
function centralEntries(zip: Buffer): number[] {
  const out: number[] = [];
  for (let at = zip.indexOf('PK\x01\x02', 0, 'latin1'); at >= 0; at = zip.indexOf('PK\x01\x02', at + 4, 'latin1')) out.push(at);
  return out;
}

/**
 * Mutations of a zip: bytes flipped, cut short, or one central directory entry lying about its
 * compression method (offset 10), compressed (20) or uncompressed size (24).
 */
const zipMutation = fc.record({
  edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 30 }),
  cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
  lie: fc.option(fc.tuple(fc.nat(), fc.constantFrom(10, 20, 24), fc.nat()), { nil: undefined }),
});

/** `base` (a zip, or any archive when `m` tells no lie) with `m` done to it; `intact`: nothing was. */
function mutateZip(
  base: Buffer,
  m: { edits: Array<[number, number]>; cut?: number; lie?: [number, 10 | 20 | 24, number] },
): { archive: Buffer; intact: boolean } {
  let out = Buffer.from(base);
  if (m.lie) {
    const entries = centralEntries(out);
    const at = entries[m.lie[0] % entries.length] + m.lie[1];
    if (m.lie[1] === 10) out.writeUInt16LE(m.lie[2] % 65536, at);
    else out.writeUInt32LE(m.lie[2] % 2 ** 32, at);
  }
  for (const [at, v] of m.edits) out[at % out.length] = v;
  if (m.cut !== undefined) out = out.subarray(0, Math.floor(out.length * m.cut));
  return { archive: out, intact: m.edits.length === 0 && m.cut === undefined && m.lie === undefined };
}

/**
 * A lure (its text alone is held) whose only link is in an attached Office document — a Word
 * hyperlink, a field code, a QR code picture, a spreadsheet formula, an OpenDocument link —
 * left whole, bit-flipped, cut short, or whose zip directory lies about an entry's sizes or
 * compression method. `intact`: the document is unchanged (its link must be read).
 */
export const officeLureMutated: fc.Arbitrary<{ raw: Buffer; intact: boolean }> = fc
  .tuple(fc.nat({ max: OFFICE_SEEDS.length - 1 }), zipMutation)
  .map(([seed, m]) => {
    const { doc: base, name, type } = OFFICE_SEEDS[seed];
    const { archive: doc, intact } = mutateZip(base, m);
    return { raw: Buffer.from(officeMessage(doc, name, type)), intact };
  });

const ZIP_SEEDS: Buffer[] = (
  [
    { 'Invoice.docx': docx({ fieldLink: QR_URL }) },
    { 'Invoice.html': Buffer.from(`<html><body><form action="${QR_URL}"><input type="password" name="p"></form></body></html>`) },
    { 'docs/Invoice.pdf': pdfWithLink(QR_URL) },
    { 'readme.txt': Buffer.from('Scan the code to pay.'), 'scan.png': qrPng(QR_URL) },
    { 'Invoice-4711.zip': zip({ 'Invoice.docx': docx({ fieldLink: QR_URL }) }) },
  ] as Array<Record<string, Buffer>>
).map((files) => zip(files));

/**
 * A lure (its text alone is held) whose only link is in a file of an attached zip — a Word
 * document, a web page with a password form, a PDF, a QR code picture, a document in a zip
 * in the zip — the zip left whole,
 * bit-flipped, cut short, or with a directory that lies. `intact`: the zip is unchanged (the
 * file's link must be read).
 */
export const zippedLureMutated: fc.Arbitrary<{ raw: Buffer; intact: boolean }> = fc
  .tuple(fc.nat({ max: ZIP_SEEDS.length - 1 }), zipMutation)
  .map(([seed, m]) => {
    const { archive: mutated, intact } = mutateZip(ZIP_SEEDS[seed], m);
    return { raw: Buffer.from(officeMessage(mutated, 'Invoice-4711.zip', 'application/zip')), intact };
  });

/**
 * Archives of the formats 7-Zip reads, each holding a program, most with a PDF whose link goes
 * to an IP address, one both in a zip in it (seeds for `archiveLureMutated`, with the reasons
 * their intact form gives).
 */
export async function otherArchiveSeeds(): Promise<Array<{ archive: Buffer; name: string; reasons: string[] }>> {
  const pdf = { name: 'Invoice.pdf', data: pdfWithLink(QR_URL) };
  const exe = { name: 'Invoice.pdf.exe', data: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(300)]) };
  const both = ['ARCHIVE_EXECUTABLE', 'URL_IP_LITERAL'];
  return [
    { archive: rar5([pdf, exe]), name: 'Invoice.rar', reasons: both },
    { archive: rar5([{ ...exe, encrypted: true }, pdf]), name: 'Invoice.rar', reasons: both },
    { archive: await sevenZipArchive('7z', [pdf, exe]), name: 'Invoice.7z', reasons: both },
    { archive: await sevenZipArchive('tar', [pdf, exe]), name: 'Invoice.tar', reasons: both },
    { archive: rar5([{ name: 'Invoice.zip', data: zip({ [pdf.name]: pdf.data, [exe.name]: exe.data }) }]), name: 'Invoice.rar', reasons: both },
    { archive: await sevenZipArchive('gzip', [exe]), name: 'Invoice.gz', reasons: ['ARCHIVE_EXECUTABLE'] },
    { archive: await sevenZipArchive('xz', [exe]), name: 'Invoice.pdf.exe.xz', reasons: ['ARCHIVE_EXECUTABLE'] },
    // Listed from its begin lines, not decoded: the PDF's link is not read.
    { archive: uuencode([pdf, exe]), name: 'Invoice.uue', reasons: ['ARCHIVE_EXECUTABLE'] },
  ];
}

/**
 * A lure (its text alone is held) whose attachment is one of `seeds` — a RAR, 7z, tar, gzip,
 * xz or uuencoded archive holding a program and a PDF — left whole, bytes flipped or cut short.
 * `reasons`: what the archive gives when it is unchanged (its program named, its PDF's link
 * read), else none.
 */
export function archiveLureMutated(
  seeds: ReadonlyArray<{ archive: Buffer; name: string; reasons: string[] }>,
): fc.Arbitrary<{ raw: Buffer; reasons: string[] }> {
  return fc
    .tuple(
      fc.nat({ max: seeds.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 30 }),
      fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    )
    .map(([seed, edits, cut]) => {
      const { archive, intact } = mutateZip(seeds[seed].archive, { edits, cut });
      return { raw: Buffer.from(officeMessage(archive, seeds[seed].name, 'application/octet-stream')), reasons: intact ? seeds[seed].reasons : [] };
    });
}

export const anyMessage: fc.Arbitrary<Buffer> = fc.oneof(builtMessage, mutatedMessage, lureWithMutatedAttachment, lureWrapped);

/** Where a repeated construct goes in the message. */
type Place = 'subject' | 'from' | 'to' | 'headers' | 'params' | 'html' | 'sheet' | 'text' | 'calendar' | 'parts';

const q = (s: string): string => Buffer.from(s).toString('base64');

/**
 * Constructs a hostile sender repeats: each a function of the repetition `i` and a small
 * modulus `k`, so that copies are equal (k = 1), cycle through a few values, or all differ —
 * a merge or a cache hides the cost of equal copies, not of varied ones.
 */
const UNITS: Array<[Place, (i: number, k: number) => string]> = [
  ['subject', (i, k) => `=?utf-8?B?${q(`Päypal ${i % k}`)}?= `],
  ['subject', (i, k) => `=?iso-8859-1?Q?Konto_=E4_${i % k}?=\r\n `],
  ['subject', (i, k) => `${'a b '.repeat(1 + (i % k))}`],
  ['from', (i, k) => `(c${i % k}) `],
  ['from', () => '('],
  ['from', (i, k) => `"n${i % k}", `],
  ['from', (i, k) => `<a${i % k}@b${i % k}.com>, `],
  ['to', (i, k) => `u${i}@h${i % k}.example.com, `],
  ['to', (i, k) => `g${i % k}: a${i}@b.com;, `],
  ['headers', (i, k) => `X-H${i % k}: v${i}\r\n`],
  ['headers', (i, k) => `Received: from h${i % k}.example.com ([10.0.${i % 256}.1]) by mx.example.org; Mon, 1 Jan 2024 00:00:00 +0000\r\n`],
  ['headers', (i, k) => `Reply-To: r${i % k}@x${i % k}.example\r\n`],
  ['headers', (i, k) => `Authentication-Results: mx; dkim=pass header.d=d${i % k}.example; spf=fail\r\n`],
  ['headers', (i, k) => `List-Unsubscribe: <https://u${i % k}.example.com/x>, <mailto:u@x.com>\r\n`],
  ['params', (i, k) => `; p${i % k}=v${i}`],
  ['params', (i) => `; name*${i}*=utf-8''%41%C3%A4`],
  ['html', (i, k) => `<a href="https://h${i % k}.example.com/${i}">https://www.paypal.com/</a>`],
  ['html', (i, k) => `<a href="https://xn--pypal-${i % k}ve.com/">paypal.com</a>`],
  ['html', (i, k) => `<form action="https://f${i % k}.example.com/"><input type=password name=p${i}></form>`],
  ['html', (i, k) => `<img src="https://p${i % k}.example.com/${i}.gif" width=1 height=1>`],
  ['html', (i, k) => `<base href="https://b${i % k}.example.com/"><a href="x${i}">y</a>`],
  ['html', (i, k) => `<meta http-equiv=refresh content="0;url=https://m${i % k}.example.com/">`],
  ['html', (i, k) => `<span style="color:#fff;background:#fff;font-size:${i % k}px">t${i}</span>`],
  ['html', (i, k) => `<style>.c${i % k}{display:none}</style><span class="c${i % k}">x</span>`],
  ['html', () => '<div>'],
  ['html', () => '<b><i>x</b></i>'],
  ['html', () => '<table><tr><td>'],
  ['html', () => '<!--[if mso]>'],
  ['html', () => '<a href="'],
  ['html', (i) => `&amp;&#${32 + (i % 5000)};&nbsp;`],
  ['html', () => 'P\u200bay\u00adPal '],
  ['sheet', (i, k) => `.c${i % k}{display:none}`],
  ['sheet', (i, k) => `.c${i % k}.c${(i * 7) % k}{color:#fff!important}`],
  ['sheet', (i, k) => `div .c${i % k} span{font-size:0}`],
  ['sheet', (i, k) => `@media x{.c${i % k}{display:none}}`],
  ['text', (i, k) => `https://t${i % k}.example.com/p${i} `],
  ['text', (i, k) => `www.w${i % k}.com `],
  ['text', (i, k) => `u${i}@d${i % k}.com `],
  ['text', () => 'a.'],
  ['text', () => 'http://'],
  ['text', () => '[https://x.com/]('],
  ['text', () => 'x.co '],
  ['text', () => 'To: a\r\n'],
  ['text', (i) => `=?utf-8?B?${q(String(i))}?= `],
  ['calendar', () => '\\,\\;\\n\\\\'],
  ['calendar', () => '\r\n x'],
  ['calendar', (i, k) => `\r\nDESCRIPTION:https://c${i % k}.example.com/ \\n`],
  ['calendar', (i, k) => `;X${i % k}="https://a.example.com/"`],
  ['parts', (i, k) => `--b\r\nContent-Type: text/html\r\n\r\n<a href="https://p${i % k}.example.com/">x</a>\r\n`],
  ['parts', (i, k) => `--b\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\nDESCRIPTION:https://c${i % k}.example.com/\r\nEND:VCALENDAR\r\n`],
  ['parts', (i) => `--b\r\nContent-Type: application/zip; name="a${i}.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\r\n`],
  ['parts', () => '--b\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n'],
];

/** A repeated construct placed in an otherwise plain message of at most `cap` bytes. */
function repeated(place: Place, unit: (i: number, k: number) => string, n: number, k: number, cap: number): string {
  let body = '';
  for (let i = 0; i < n && body.length < cap; i++) body += unit(i, k);
  const h = { from: 'a@example.com', to: 'b@example.org', subject: 'Hello', extra: '', type: 'text/plain; charset=utf-8' };
  let content = 'Hello.';
  if (place === 'subject') h.subject = body;
  else if (place === 'from') h.from = `${body}<a@example.com>`;
  else if (place === 'to') h.to = body;
  else if (place === 'headers') h.extra = body;
  else if (place === 'params') h.type += body;
  else if (place === 'html' || place === 'sheet') {
    h.type = 'text/html; charset=utf-8';
    const classes = Array.from({ length: Math.min(k, 200) }, (_, c) => `c${c}`).join(' ');
    content = place === 'html' ? `<p>${body}</p>` : `<style>${body}</style>${`<div><span class="${classes}">x</span></div>`.repeat(Math.min(n, 5000))}`;
  } else if (place === 'text') content = body;
  else if (place === 'calendar') {
    h.type = 'text/calendar; method=REQUEST';
    content = `BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDESCRIPTION:${body}\r\nEND:VEVENT\r\nEND:VCALENDAR`;
  } else {
    h.type = 'multipart/mixed; boundary=b';
    content = `${body}--b--`;
  }
  return `From: ${h.from}\r\nTo: ${h.to}\r\nSubject: ${h.subject}\r\n${h.extra}MIME-Version: 1.0\r\nContent-Type: ${h.type}\r\n\r\n${content}\r\n`;
}

/**
 * One construct repeated up to `cap` bytes (equal copies, a few values cycling, or all
 * different): the shape of every super-linear cost found so far (a Subject of 200,000
 * encoded words, 8,000 copies of one CSS rule, an invitation of escapes), which random
 * messages never repeat enough to show.
 */
export function repeatedMessage(cap: number): fc.Arbitrary<Buffer> {
  return fc
    .record({
      unit: fc.constantFrom(...UNITS),
      n: fc.integer({ min: 1000, max: 200_000 }),
      k: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 200 }), fc.constant(1_000_000)),
    })
    .map(({ unit: [place, fn], n, k }) => Buffer.from(repeated(place, fn, n, k, cap), 'utf8'));
}
