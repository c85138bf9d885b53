import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { pdfPictures } from '../../lib/attachments/pdf-pictures.js';
import { qrCodesIn } from '../../lib/attachments/qr-codes.js';
import { buildConfig } from '../../lib/config/load.js';
import { extractScanInput } from '../../lib/message/extract.js';
import { previewOf } from '../../lib/review/preview.js';
import { scanMessage } from '../../lib/scan.js';
import { pdfQrMessage, qrPdf, type PdfPictureKind } from '../helpers/qr-pictures.js';

const URL_IP = 'http://45.33.32.156/sign/doc?u=bob@example.org';
const env = { mailFrom: 'docusign@example-corp.com', rcptTo: ['bob@example.org'] };
const KINDS: PdfPictureKind[] = ['jpeg', 'png', 'grey', 'rgb', 'mask'];
const codesOf = (pdf: Buffer, maxPixels = 1_000_000): string[] => qrCodesIn(pdfPictures(pdf, 'doc.pdf', 20).pictures, maxPixels).codes.map((c) => c.text);

describe('QR codes in PDF pictures', () => {
  it('reads a code stored as JPEG, as PNG data, as 8-bit grey or RGB samples and as a 1-bit image mask', () => {
    for (const kind of KINDS) assert.deepEqual(codesOf(qrPdf(URL_IP, kind)), [URL_IP], kind);
  });

  it('reads an image whose dictionary writes its names with escapes (/Im#61ge, /#44CTDecode), as a reader does', () => {
    const escaped = (pdf: Buffer, pairs: Array<[string, string]>): Buffer =>
      Buffer.from(
        pairs.reduce((t, [from, to]) => t.replace(from, to), pdf.toString('latin1')),
        'latin1',
      );
    assert.deepEqual(codesOf(escaped(qrPdf(URL_IP, 'jpeg'), [['/Subtype /Image', '/Subtype /Im#61ge']])), [URL_IP]);
    assert.deepEqual(codesOf(escaped(qrPdf(URL_IP, 'jpeg'), [['/Subtype /Image', '/#53ubtype /Image']])), [URL_IP]);
    assert.deepEqual(
      codesOf(
        escaped(qrPdf(URL_IP, 'grey'), [
          ['/FlateDecode', '/Fl#61teDecode'],
          ['/Width', '/W#69dth'],
        ]),
      ),
      [URL_IP],
    );
    // Read once: the plain image is not read again for the escape in its dictionary.
    assert.equal(pdfPictures(escaped(qrPdf(URL_IP, 'jpeg'), [['/XObject /Subtype', '/XObj#65ct /Subtype']]), 'x', 20).pictures.length, 1);
  });

  it('names the PDF the picture is in', () => {
    assert.deepEqual(
      qrCodesIn(pdfPictures(qrPdf(URL_IP, 'png'), 'Payroll.pdf', 20).pictures, 1e6).codes.map((c) => c.image),
      ['picture in Payroll.pdf'],
    );
  });

  it('finds no picture in what is not a PDF, in streams that are not images, or in images it cannot read', () => {
    assert.deepEqual(pdfPictures(Buffer.from('not a pdf stream\n<< /Subtype /Image >>'), 'x', 20), { pictures: [], cut: false });
    const noImage = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Length 5 >>\nstream\nhello\nendstream\nendobj\n');
    assert.deepEqual(pdfPictures(noImage, 'x', 20), { pictures: [], cut: false });
    for (const [from, to] of [
      ['/Width ', '/Width 9 0 R /W '], // an indirect size
      ['/DeviceGray', '/DeviceCMYK'],
      ['/FlateDecode', '/LZWDecode'],
    ])
      assert.deepEqual(codesOf(Buffer.from(qrPdf(URL_IP, 'grey').toString('latin1').replace(from, to), 'latin1')), [], from);
  });

  it('does not inflate a picture past the pixel budget, and gives nothing for samples shorter than the size claimed', () => {
    const huge = Buffer.from(
      qrPdf(URL_IP, 'grey')
        .toString('latin1')
        .replace(/\/Width \d+ \/Height \d+/, '/Width 60000 /Height 60000'),
      'latin1',
    );
    const before = process.memoryUsage().arrayBuffers;
    const r = qrCodesIn(pdfPictures(huge, 'x', 20).pictures, 1_000_000);
    assert.deepEqual(r, { codes: [], unread: 1 });
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024);
    const lying = Buffer.from(
      qrPdf(URL_IP, 'rgb')
        .toString('latin1')
        .replace(/\/Width (\d+) \/Height (\d+)/, (_, w: string, h: string) => `/Width ${w} /Height ${Number(h) * 2}`),
      'latin1',
    );
    assert.deepEqual(codesOf(lying), []);
  });

  it('reads a picture behind thousands of other streams and stream keywords', () => {
    const pdf = qrPdf(URL_IP, 'png');
    const padding = Buffer.from(
      `${'<<>>stream\n'.repeat(100_000)}${'/Image'.repeat(100_000)}${'<< /Subtype /Image /Width 1 >>stream\nx\nendstream\n'.repeat(2_000)}`,
      'latin1',
    );
    const at = pdf.indexOf('3 0 obj');
    assert.deepEqual(codesOf(Buffer.concat([pdf.subarray(0, at), padding, pdf.subarray(at)])), [URL_IP]);
  });

  it('past 5,000 image objects reads no more and says so, in the message too', async () => {
    const pdf = qrPdf(URL_IP, 'png');
    const at = pdf.indexOf('3 0 obj');
    const padded = Buffer.concat([
      pdf.subarray(0, at),
      Buffer.from('<< /Subtype /Image /Width 1 >>stream\nx\nendstream\n'.repeat(5_001), 'latin1'),
      pdf.subarray(at),
    ]);
    assert.deepEqual(pdfPictures(padded, 'x', 20), { pictures: [], cut: true });
    const input = await extractScanInput(Buffer.from(pdfQrMessage(padded)), env, buildConfig({}, { env: {} }).limits);
    assert.match(input.limits.find((l) => l.code === 'LIMIT_QR_PIXELS')?.detail ?? '', /1 PDF\(s\) of more than 5000 image objects/);
  });

  it('never throws on mutated PDFs', () => {
    const seeds = KINDS.map((k) => qrPdf(URL_IP, k));
    fc.assert(
      fc.property(
        fc.nat({ max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 30 }),
        fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
        (seed, edits, cut) => {
          let pdf = Buffer.from(seeds[seed]);
          for (const [at, v] of edits) pdf[at % pdf.length] = v;
          if (cut !== undefined) pdf = pdf.subarray(0, Math.floor(pdf.length * cut));
          const r = qrCodesIn(pdfPictures(pdf, 'x', 20).pictures, 1_000_000);
          assert.ok(r.codes.every((c) => typeof c.text === 'string'));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('QR codes in PDF pictures: messages', () => {
  it("gives the code's link to the URL analysis, and rejects the lure on it", async () => {
    const limits = buildConfig({}, { env: {} }).limits;
    for (const kind of KINDS) {
      const input = await extractScanInput(Buffer.from(pdfQrMessage(qrPdf(URL_IP, kind))), env, limits);
      assert.deepEqual(
        input.urls.filter((u) => u.source === 'qr').map((u) => u.raw),
        [URL_IP],
        kind,
      );
    }
    const r = await scanMessage(Buffer.from(pdfQrMessage(qrPdf(URL_IP, 'png'))), env, buildConfig({}, { env: {} }));
    const codes = r.verdict.reasons.map((x) => x.code);
    assert.ok(codes.includes('QR_CODE_LINK') && codes.includes('URL_IP_LITERAL'), codes.join());
    assert.equal(r.verdict.action, 'reject');
    const off = await extractScanInput(
      Buffer.from(pdfQrMessage(qrPdf(URL_IP, 'png'))),
      env,
      buildConfig({ limits: { max_qr_pixels: '0' } }, { env: {} }).limits,
    );
    assert.deepEqual(
      off.urls.filter((u) => u.source === 'qr'),
      [],
    );
  });

  it('the SOC preview lists the link of a code in an attached PDF', async () => {
    const p = await previewOf(Buffer.from(pdfQrMessage(qrPdf('http://45.33.32.156/sign', 'jpeg'))), 1000);
    assert.deepEqual(p.links[0], { url: 'hxxp://45[.]33[.]32[.]156/sign', text: 'QR code in picture in Payroll-Adjustment.pdf' });
  });
});
