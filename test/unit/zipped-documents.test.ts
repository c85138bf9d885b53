import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InflateBudget, zippedFiles } from '../../lib/attachments/archive.js';
import { ZIPPED_RANK, zippedKind } from '../../lib/attachments/priority.js';
import { buildConfig } from '../../lib/config/load.js';
import { extractScanInput } from '../../lib/message/extract.js';
import { previewOf } from '../../lib/review/preview.js';
import { scanMessage } from '../../lib/scan.js';
import { withAttachment, zip } from '../helpers/mime.js';
import { docx, officeMessage, pdfWithLink } from '../helpers/office-documents.js';
import { qrPng } from '../helpers/qr-pictures.js';
import { deepNestedMessage } from '../helpers/messages.js';

const URL_IP = 'http://45.33.32.156/pay/invoice?u=bob@example.org';
const env = { mailFrom: 'ap@example-corp.com', rcptTo: ['bob@example.org'] };
const config = buildConfig({}, { env: {} });
const scan = (raw: string) => scanMessage(Buffer.from(raw), env, config);
const reasons = (r: Awaited<ReturnType<typeof scan>>): string[] => r.verdict.reasons.map((x) => `${x.code}: ${x.detail ?? ''}`);
const zipMessage = (files: Record<string, Buffer>, name = 'Invoice-4711.zip') => officeMessage(zip(files), name, 'application/zip');
const rank = (path: string): number | null => {
  const kind = zippedKind(path);
  return kind ? ZIPPED_RANK[kind] : null;
};
const budget = (bytes = 32 * 1024 * 1024, entries = 10_000) => new InflateBudget(bytes, entries);
const loginPage = Buffer.from('<html><body><form action="https://login.example-phish.net/owa"><input type="password" name="p"></form></body></html>');

/** `buf` (a zip) with the entry `name` marked password-protected, in its local header and its central directory. */
function markEncrypted(buf: Buffer, name: string): Buffer {
  const out = Buffer.from(buf);
  for (const [sig, flagAt, nameLenAt, nameAt] of [
    [0x04034b50, 6, 26, 30],
    [0x02014b50, 8, 28, 46],
  ]) {
    for (let i = 0; i + nameAt <= out.length; i++) {
      if (out.readUInt32LE(i) !== sig) continue;
      const n = out.readUInt16LE(i + nameLenAt);
      if (out.toString('utf8', i + nameAt, i + nameAt + n) === name) out.writeUInt16LE(out.readUInt16LE(i + flagAt) | 1, i + flagAt);
    }
  }
  return out;
}

describe('zippedFiles: the files of a zip a reader opens', () => {
  it('takes the wanted files, pages first and smallest first within a kind; not folders, other files or encrypted entries', async () => {
    const z = markEncrypted(
      zip({
        'scan.png': qrPng(URL_IP),
        'docs/': Buffer.alloc(0),
        'docs/big.pdf': Buffer.concat([pdfWithLink('https://a.example.net/'), Buffer.alloc(4000)]),
        'docs/small.pdf': pdfWithLink('https://b.example.net/'),
        'readme.txt': Buffer.from('hello'),
        'setup.exe': Buffer.from('MZ'),
        'index.html': loginPage,
        'locked.html': loginPage,
      }),
      'locked.html',
    );
    const got = await zippedFiles(z, rank, { maxBytes: 1024 * 1024, maxFiles: 20 }, budget());
    assert.deepEqual(
      got?.files.map((f) => f.name),
      ['index.html', 'docs/small.pdf', 'docs/big.pdf', 'scan.png'],
    );
    assert.deepEqual(got?.files[0].bytes, loginPage);
    assert.equal(got?.unread, null);
  });

  it('says what it left: files past the count, files too large, the message budget used up; null for what is not a zip', async () => {
    const many = zip(Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`page${i}.html`, loginPage])));
    const some = await zippedFiles(many, rank, { maxBytes: 1024 * 1024, maxFiles: 3 }, budget());
    assert.equal(some?.files.length, 3);
    assert.equal(some?.unread, '2 file(s) past the first 3');
    const large = await zippedFiles(zip({ 'big.pdf': Buffer.alloc(5000), 'a.html': loginPage }), rank, { maxBytes: 1000, maxFiles: 20 }, budget());
    assert.deepEqual(
      large?.files.map((f) => f.name),
      ['a.html'],
    );
    assert.equal(large?.unread, 'big.pdf: larger than 1000 bytes');
    const spent = budget(300);
    const cut = await zippedFiles(many, rank, { maxBytes: 1024 * 1024, maxFiles: 20 }, spent);
    assert.equal(cut?.files.length, 2);
    assert.match(cut?.unread ?? '', /^page2\.html and after: decompression budget of 300 bytes per message used up$/);
    assert.equal(await zippedFiles(Buffer.from('not a zip at all'), rank, { maxBytes: 1000, maxFiles: 20 }, budget()), null);
    const listed = budget(32 * 1024 * 1024, 2);
    assert.equal((await zippedFiles(many, rank, { maxBytes: 1024 * 1024, maxFiles: 20 }, listed))?.unread, 'more entries than the message may list');
  });
});

describe('zip attachments in a message: their documents are read as if attached', () => {
  it('rejects the lure whose link is in a zipped Word document, web page or QR picture', async () => {
    for (const [how, files, code] of [
      ['Word document', { 'Invoice-4711.docx': docx({ fieldLink: URL_IP }) }, 'URL_IP_LITERAL: '],
      ['PDF', { 'Invoice-4711.pdf': pdfWithLink(URL_IP) }, 'URL_IP_LITERAL: '],
      ['QR picture', { 'scan-to-pay.png': qrPng(URL_IP) }, 'QR_CODE_LINK: '],
      [
        'web page',
        { 'Invoice-4711.html': loginPage },
        'ATTACHMENT_HTML_ACTIVE: Invoice-4711.zip/Invoice-4711.html: 1 form(s), 1 password field(s), 0 script(s)',
      ],
    ] as const) {
      const r = await scan(zipMessage(files));
      assert.ok(
        reasons(r).some((x) => x.startsWith(code)),
        `${how}: ${reasons(r).join(' | ')}`,
      );
      assert.equal(r.verdict.action, 'reject', `${how}: ${reasons(r).join(' | ')}`);
    }
    const input = await extractScanInput(Buffer.from(zipMessage({ 'Invoice-4711.html': loginPage })), env, config.limits);
    assert.deepEqual(
      input.urls.map((u) => [u.source, u.raw]),
      [['attachment', 'https://login.example-phish.net/owa']],
    );
    // Without a file a reader opens, the zip adds nothing (the text alone holds the message).
    const plain = await scan(zipMessage({ 'notes.txt': Buffer.from('Invoice 4711, 1,200 EUR') }));
    assert.equal(plain.verdict.action, 'quarantine', reasons(plain).join(' | '));
  });

  it('judges the zipped files as attachments: a macro document, a program named as a PDF', async () => {
    const macro = await scan(zipMessage({ 'Invoice.docm': docx({ text: ['Enable content to view the invoice'] }) }));
    assert.ok(reasons(macro).includes('ATTACHMENT_MACRO: Invoice-4711.zip/Invoice.docm'), reasons(macro).join(' | '));
    const exe = Buffer.alloc(512);
    exe.write('MZ', 0);
    const disguised = await scan(zipMessage({ 'Invoice.pdf': exe }));
    assert.ok(reasons(disguised).includes('ATTACHMENT_EXECUTABLE: Invoice-4711.zip/Invoice.pdf'), reasons(disguised).join(' | '));
  });

  it('opens zips in zips three deep, at most 20 files of a zip, and records the rest', async () => {
    // The document in one zip (the attachment), in a zip in it, and so on.
    let nested = zip({ 'Invoice.docx': docx({ fieldLink: URL_IP }) });
    for (const depth of [2, 3, 4]) {
      nested = zip({ [`level${depth}.zip`]: nested });
      const input = await extractScanInput(Buffer.from(officeMessage(nested, 'Invoice.zip', 'application/zip')), env, config.limits);
      assert.deepEqual(
        input.urls.map((u) => u.raw),
        depth <= 3 ? [URL_IP] : [],
        `the document in ${depth} zips`,
      );
    }
    const twice = await scan(zipMessage({ 'inner.zip': zip({ 'Invoice.html': loginPage }) }));
    // The inner zip is listed with the attachment, not reported unread on its own.
    assert.ok(!reasons(twice).some((x) => x.startsWith('ATTACHMENT_UNINSPECTABLE')), reasons(twice).join(' | '));
    assert.ok(
      reasons(twice).includes('ATTACHMENT_HTML_ACTIVE: Invoice-4711.zip/inner.zip/Invoice.html: 1 form(s), 1 password field(s), 0 script(s)'),
      reasons(twice).join(' | '),
    );
    const pdfs = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`doc${String(i).padStart(2, '0')}.pdf`, pdfWithLink(`https://d${i}.example.net/`)]));
    const many = await extractScanInput(Buffer.from(zipMessage(pdfs, 'docs.zip')), env, config.limits);
    assert.equal(many.urls.length, 20);
    assert.deepEqual(
      many.limits.filter((h) => h.code === 'LIMIT_DOCUMENT_PARTS').map((h) => h.detail),
      ['docs.zip: 1 file(s) past the first 20; the rest not read for links and pictures'],
    );
  });

  it('reads zipped pages only as far as the markup budget of the message goes (10 MB of tags deflate to 10 KB)', async () => {
    const page = (host: string) => Buffer.from(`<html><body>${'<p>terms</p>'.repeat(4000)}<a href="https://${host}/">open</a></body></html>`);
    const small = buildConfig({ limits: { max_decoded_bytes: '65536' } }, { env: {} }).limits;
    const input = await extractScanInput(
      Buffer.from(zipMessage({ 'a.html': page('first.example.net'), 'b.html': page('second.example.net') }, 'pages.zip')),
      env,
      small,
    );
    assert.deepEqual(
      input.urls.map((u) => u.raw),
      ['https://first.example.net/'],
    );
    assert.deepEqual(
      input.limits.filter((h) => h.code === 'LIMIT_DOCUMENT_PARTS').map((h) => h.detail),
      ['pages.zip: b.html past the 65536 bytes of markup read per message; the rest not read for links and pictures'],
    );
  });

  it('holds a zipped message the MIME parser refuses, as an attached one (MIME_UNPARSEABLE)', async () => {
    const input = await extractScanInput(Buffer.from(zipMessage({ 'Fwd.eml': Buffer.from(deepNestedMessage(40)) })), env, config.limits);
    assert.deepEqual(
      input.limits.filter((h) => h.code === 'MIME_UNPARSEABLE').map((h) => h.detail.split(':')[0]),
      ['attached message Invoice-4711.zip/Fwd.eml'],
    );
  });

  it('reads a zip inside an attached message (a forwarded lure)', async () => {
    const forwarded = withAttachment(
      'Outstanding invoice.eml',
      Buffer.from(zipMessage({ 'Invoice-4711.docx': docx({ fieldLink: URL_IP }) })),
      'message/rfc822',
      {
        subject: 'FW: is this real?',
      },
    );
    const input = await extractScanInput(Buffer.from(forwarded), env, config.limits);
    assert.deepEqual(
      input.urls.map((u) => [u.source, u.raw]),
      [['message', URL_IP]],
    );
  });

  it('shows the analyst the links of a zipped document and of a zipped QR picture', async () => {
    const p = await previewOf(
      Buffer.from(zipMessage({ 'Invoice-4711.docx': docx({ fieldLink: URL_IP }), 'pay.png': qrPng('https://pay.example-corp.com/4711') })),
    );
    assert.deepEqual(p.links, [
      { url: 'hxxps://pay[.]example-corp[.]com/4711', text: 'QR code in Invoice-4711.zip/pay.png' },
      { url: 'hxxp://45[.]33[.]32[.]156/pay/invoice?u=bob@example.org', text: 'link in Invoice-4711.zip/Invoice-4711.docx' },
    ]);
  });
});
