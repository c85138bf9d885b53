import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { strToU8 } from 'fflate';
import { InflateBudget } from '../../lib/attachments/archive.js';
import { officeContent, type OfficeLimits } from '../../lib/attachments/office-documents.js';
import { analyzeAttachments } from '../../lib/attachments/inspect.js';
import { buildConfig } from '../../lib/config/load.js';
import { extractScanInput } from '../../lib/message/extract.js';
import { previewOf } from '../../lib/review/preview.js';
import { scanMessage } from '../../lib/scan.js';
import { withAttachment, zip } from '../helpers/mime.js';
import { docx, encryptedDocx, odt, officeMessage, pdfWithLink, xlsxFormulaLink } from '../helpers/office-documents.js';
import { qrPng } from '../helpers/qr-pictures.js';

const URL_IP = 'http://45.33.32.156/pay/invoice?u=bob@example.org';
const env = { mailFrom: 'ap@example-corp.com', rcptTo: ['bob@example.org'] };
const limits = (xml = 4 * 1024 * 1024): OfficeLimits => ({ maxLinks: 5000, maxPictures: 20, xml: { left: xml, total: xml } });
const budget = (bytes = 32 * 1024 * 1024): InflateBudget => new InflateBudget(bytes, Number.MAX_SAFE_INTEGER);
const read = (doc: Buffer, b = budget(), l = limits()) => officeContent(doc, 'Invoice.docx', l, b);
const linksOf = async (doc: Buffer): Promise<string[]> => (await read(doc))?.links ?? [];
const scan = (raw: string, config = buildConfig({}, { env: {} })) => scanMessage(Buffer.from(raw), env, config);
const codes = (r: Awaited<ReturnType<typeof scan>>): string[] => r.verdict.reasons.map((x) => x.code);

describe('Office documents: what they lead to', () => {
  it('reads the external hyperlinks of a Word document, and not its internal relationships', async () => {
    const doc = docx({ text: ['Invoice 4711'], hyperlinks: [{ text: 'View invoice', url: 'https://portal.example.net/inv?a=1&b=2' }] });
    assert.deepEqual(await linksOf(doc), ['https://portal.example.net/inv?a=1&b=2']);
    assert.deepEqual(await linksOf(docx({ text: ['no links here'] })), []);
  });

  it('reads a HYPERLINK field code split over runs, a spreadsheet formula, an OpenDocument link and addresses written in the text', async () => {
    assert.deepEqual(await linksOf(docx({ fieldLink: URL_IP })), [URL_IP]);
    assert.deepEqual(await linksOf(xlsxFormulaLink(URL_IP)), [URL_IP]);
    assert.deepEqual(await linksOf(odt(URL_IP)), [URL_IP]);
    assert.deepEqual(await linksOf(docx({ text: ['Sign in at https://typed.example.org/login today.'] })), ['https://typed.example.org/login']);
    // A bare name ("Example.com") is a name more than a link.
    assert.deepEqual(await linksOf(docx({ text: ['Thank you for choosing Example.com'] })), []);
  });

  it('gives the pictures of Word and OpenDocument files to the QR reader, named for the document', async () => {
    const w = await read(docx({ picture: qrPng(URL_IP) }));
    assert.deepEqual(
      w?.pictures.map((p) => p.name),
      ['picture in Invoice.docx'],
    );
    assert.equal((await read(odt('https://example.net/', qrPng(URL_IP))))?.pictures.length, 1);
    assert.deepEqual((await read(docx({ picture: qrPng(URL_IP) }), budget(), { ...limits(), maxPictures: 0 }))?.pictures, []);
  });

  it('names what the document fetches from the internet when opened: a template, an OLE object (Follina), not a local template', async () => {
    const t = await read(docx({ template: 'https://templates.example.org/t.dotm' }));
    assert.deepEqual(t?.remote, [{ kind: 'attachedTemplate', target: 'https://templates.example.org/t.dotm' }]);
    assert.deepEqual(t?.links, ['https://templates.example.org/t.dotm']);
    const follina = 'mhtml:http://198.51.100.7/x.html!x-usc:http://198.51.100.7/x.html';
    const o = await read(docx({ oleObject: follina }));
    assert.deepEqual(o?.remote, [{ kind: 'oleObject', target: follina }]);
    assert.deepEqual(o?.links, ['http://198.51.100.7/x.html']);
    assert.deepEqual((await read(docx({ oleObject: 'ms-msdt:/id PCWDiagnostic' })))?.remote.length, 1);
    assert.deepEqual((await read(docx({ template: 'file:///C:\\Users\\anna\\AppData\\Roaming\\Microsoft\\Templates\\Normal.dotm' })))?.remote, []);
  });

  it('is not an Office document: a plain zip, a broken zip, not a zip', async () => {
    assert.equal(await read(zip({ 'report.txt': Buffer.from('see https://example.net/') })), null);
    const broken = docx({ hyperlinks: [{ text: 'x', url: URL_IP }] }).subarray(0, 300);
    assert.equal(await read(broken), null);
    assert.equal(await read(Buffer.from('%PDF-1.4 not a zip')), null);
  });

  it('reads the smallest parts first, and says what the budget left unread', async () => {
    // 40 MB of padding (a few KB compressed) in a header part, the link in the body.
    const padded = docx({ hyperlinks: [], fieldLink: URL_IP, extra: { 'word/header1.xml': strToU8(`<w:hdr>${' '.repeat(40 * 1024 * 1024)}</w:hdr>`) } });
    const r = await read(padded);
    assert.deepEqual(r?.links, [URL_IP]);
    assert.match(r?.unread ?? '', /^word\/header1\.xml past \d+ bytes$/);
    // 45 MB of "pictures" (zeros) use up the decompression budget: the text is read first, the real picture (smaller) before them.
    const fakes = Object.fromEntries([1, 2, 3].map((i) => [`word/media/big${i}.png`, new Uint8Array(15 * 1024 * 1024)]));
    const heavy = docx({ fieldLink: URL_IP, picture: qrPng(URL_IP), extra: fakes });
    const h = await read(heavy);
    assert.deepEqual([h?.links, h?.pictures.length], [[URL_IP], 1]);
    assert.match(h?.unread ?? '', /decompression budget of 33554432 bytes per message used up/);
    const input = await extractScanInput(Buffer.from(officeMessage(heavy, 'Invoice.docx')), env, buildConfig({}, { env: {} }).limits);
    assert.deepEqual(
      input.limits.map((l) => l.code),
      ['LIMIT_DOCUMENT_PARTS'],
    );
    assert.match(input.limits[0].detail, /^Invoice\.docx: decompression budget/);
    // Pictures past maxPictures (those that decode: broken ones do not count) are said to be left.
    const many = await read(heavy, budget(), { ...limits(), maxPictures: 1 });
    assert.equal(many?.pictures.length, 1);
    assert.equal(many?.unread, 'more than 1 picture files');
    // XML is parsed up to the message's XML budget: a part longer is read up to it, the rest not at all.
    const cut = await read(padded, budget(), limits(1024));
    assert.match(cut?.unread ?? '', /past \d+ bytes/);
    const shared = limits(1024);
    await read(docx({ text: ['x'.repeat(2000)] }), budget(), shared);
    assert.equal(shared.xml.left, 0);
    assert.match((await read(docx({ fieldLink: URL_IP }), budget(), shared))?.unread ?? '', /XML budget of 1024 bytes per message used up/);
    // At most 50 documents per message are opened.
    const one = docx({ text: ['x'] }).toString('base64');
    const attachments = Array.from(
      { length: 51 },
      (_, i) =>
        `--b\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename="d${i}.docx"\r\n` +
        `Content-Transfer-Encoding: base64\r\n\r\n${one}\r\n`,
    );
    const fiftyOne = `From: a@example.com\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n${attachments.join('')}--b--\r\n`;
    const many51 = await extractScanInput(Buffer.from(fiftyOne), env, buildConfig({}, { env: {} }).limits);
    assert.equal(many51.attachments.filter((a) => a.office).length, 50);
    assert.deepEqual(
      many51.limits.map((l) => [l.code, l.detail]),
      [['ATTACHMENT_UNINSPECTABLE', '1 zip or Office attachment(s) past the first 50 of the message not opened: d50.docx']],
    );
    assert.deepEqual(analyzeAttachments(many51.attachments, { maxRatio: 100 }), []);
    // Inside an attached message the same: the junk zips there must not hide its document either.
    const inner = await extractScanInput(
      Buffer.from(withAttachment('FW.eml', Buffer.from(fiftyOne), 'message/rfc822')),
      env,
      buildConfig({}, { env: {} }).limits,
    );
    assert.deepEqual(
      inner.limits.map((l) => [l.code, l.detail]),
      [['ATTACHMENT_UNINSPECTABLE', '1 zip or Office attachment(s) past the first 50 of the message not opened: d50.docx']],
    );
    // Every document of a message shares one decompression budget.
    const inflate = budget(20 * 1024 * 1024);
    await read(heavy, inflate);
    assert.match((await read(docx({ fieldLink: URL_IP }), inflate))?.unread ?? '', /decompression budget/);
  });
});

describe('Office documents in a message', () => {
  it('rejects the lure whose link is only in the document (hyperlink, field code, formula, OpenDocument, QR code), holds it without one', async () => {
    for (const [how, raw] of [
      ['hyperlink', officeMessage(docx({ hyperlinks: [{ text: 'View invoice', url: URL_IP }] }), 'Invoice.docx')],
      ['field code', officeMessage(docx({ fieldLink: URL_IP }), 'Invoice.docx')],
      ['formula', officeMessage(xlsxFormulaLink(URL_IP), 'Invoice.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')],
      ['OpenDocument', officeMessage(odt(URL_IP), 'Invoice.odt', 'application/vnd.oasis.opendocument.text')],
      ['QR code', officeMessage(docx({ picture: qrPng(URL_IP) }), 'Invoice.docx')],
    ] as const) {
      const r = await scan(raw);
      assert.ok(codes(r).includes('URL_IP_LITERAL'), `${how}: ${codes(r).join()}`);
      assert.equal(r.verdict.action, 'reject', `${how}: ${codes(r).join()}`);
    }
    const plain = await scan(officeMessage(docx({ text: ['Invoice 4711, 1,200 EUR due.'] }), 'Invoice.docx'));
    assert.equal(plain.verdict.action, 'quarantine', codes(plain).join());
    const qr = await scan(officeMessage(docx({ picture: qrPng(URL_IP) }), 'Invoice.docx'));
    assert.ok(codes(qr).includes('QR_CODE_LINK'), codes(qr).join());
    // With QR codes off, the picture is not read.
    const off = await scan(officeMessage(docx({ picture: qrPng(URL_IP) }), 'Invoice.docx'), buildConfig({ limits: { max_qr_pixels: '0' } }, { env: {} }));
    assert.ok(!codes(off).includes('QR_CODE_LINK'), codes(off).join());
  });

  it('reads the documents and pictures of an attached message (a forwarded lure), not those of a message attached inside it', async () => {
    const lure = officeMessage(docx({ hyperlinks: [{ text: 'View invoice', url: URL_IP }], picture: qrPng('https://qr.example.net/mfa') }), 'Invoice.docx');
    const forwarded = withAttachment('Outstanding invoice.eml', Buffer.from(lure), 'message/rfc822', {
      subject: 'FW: is this real?',
      text: 'Got this today, see attached.',
    });
    const input = await extractScanInput(Buffer.from(forwarded), env, buildConfig({}, { env: {} }).limits);
    assert.deepEqual(
      input.urls.map((u) => [u.source, u.raw]),
      [
        ['message', URL_IP],
        ['qr', 'https://qr.example.net/mfa'],
      ],
    );
    const twice = withAttachment('FW.eml', Buffer.from(forwarded), 'message/rfc822');
    assert.deepEqual((await extractScanInput(Buffer.from(twice), env, buildConfig({}, { env: {} }).limits)).urls, []);
  });

  it('scores a remote template low and a remote object high, each once per message', async () => {
    const bland = (doc: Buffer) =>
      officeMessage(doc, 'Minutes.docx')
        .replace(/Subject: .*/, 'Subject: minutes of Tuesday')
        .replace(/Hello, please.*/, 'Minutes attached.');
    const t = await scan(bland(docx({ text: ['Minutes'], template: 'https://tenant.sharepoint.com/sites/x/Templates/minutes.dotx' })));
    assert.deepEqual(
      t.verdict.reasons.filter((x) => x.code.startsWith('ATTACHMENT_REMOTE')).map((x) => `${x.code}(${x.weight})`),
      ['ATTACHMENT_REMOTE_TEMPLATE(20)'],
    );
    assert.equal(t.verdict.action, 'allow', codes(t).join());
    const o = await scan(bland(docx({ text: ['Minutes'], oleObject: 'mhtml:http://198.51.100.7/x.html!x-usc:http://198.51.100.7/x.html' })));
    assert.ok(codes(o).includes('ATTACHMENT_REMOTE_OBJECT'), codes(o).join());
    assert.notEqual(o.verdict.action, 'allow', codes(o).join());
  });

  it('names a password-protected Word document (ATTACHMENT_ENCRYPTED), not another compound file', async () => {
    const locked = await scan(officeMessage(encryptedDocx(), 'Invoice.docx'));
    assert.deepEqual(
      locked.verdict.reasons.filter((x) => x.code === 'ATTACHMENT_ENCRYPTED').map((x) => [x.weight, x.detail]),
      [[30, 'Invoice.docx is a password-protected Office document']],
    );
    const other = await scan(officeMessage(encryptedDocx('WordDocument'), 'Invoice.doc', 'application/msword'));
    assert.ok(!codes(other).includes('ATTACHMENT_ENCRYPTED'), codes(other).join());
  });

  it('shows the analyst the links of a held document and of a QR code in it, and the links of a PDF', async () => {
    const p = await previewOf(Buffer.from(officeMessage(docx({ picture: qrPng('https://portal.example-corp.com/mfa'), fieldLink: URL_IP }), 'MFA.docx')));
    assert.deepEqual(p.links, [
      { url: 'hxxps://portal[.]example-corp[.]com/mfa', text: 'QR code in picture in MFA.docx' },
      { url: 'hxxp://45[.]33[.]32[.]156/pay/invoice?u=bob@example.org', text: 'link in MFA.docx' },
    ]);
    const pdf = pdfWithLink('https://sign.example.net/doc');
    const q = await previewOf(Buffer.from(withAttachment('Contract.pdf', pdf, 'application/pdf')));
    assert.deepEqual(q.links, [{ url: 'hxxps://sign[.]example[.]net/doc', text: 'link in Contract.pdf' }]);
  });
});
