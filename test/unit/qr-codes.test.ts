import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  dataImageBytes,
  MAX_PICTURES,
  PICTURE_MAIL_CHARS,
  pictureSize,
  qrCodesIn,
  qrPixelBudget,
  readQrCode,
  showsLittleText,
} from '../../lib/attachments/qr-codes.js';
import { buildConfig } from '../../lib/config/load.js';
import { extractScanInput } from '../../lib/message/extract.js';
import { scanMessage } from '../../lib/scan.js';
import { PNG } from 'pngjs';
import encodeQR from 'qr';
import { pictureMessage, qrGif, qrJpeg, qrPng, quishingMessage, stripesPng } from '../helpers/qr-pictures.js';

const URL_IP = 'http://45.33.32.156/mfa/verify?u=bob@example.org';
const env = { mailFrom: 'helpdesk@example-corp.com', rcptTo: ['bob@example.org'] };
const limits = buildConfig({}, { env: {} }).limits;
const codes = (r: ReturnType<typeof qrCodesIn>): string[] => r.codes.map((c) => c.text);
/** The side of qrPng's picture of `text` at `scale`. */
const qrPixelsSide = (text: string, scale: number): number => encodeQR(text, 'raw', { border: 4 }).length * scale;
/** A PNG of random grey pixels (seeded). */
function noisePng(width: number, height: number, seed: number): Buffer {
  const png = new PNG({ width, height });
  let x = seed * 2 + 1;
  for (let i = 0; i < width * height; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    png.data.fill(x >> 23, i * 4, i * 4 + 3).writeUInt8(255, i * 4 + 3);
  }
  return PNG.sync.write(png);
}

describe('QR codes in pictures', () => {
  it('reads a code from PNG, JPEG and GIF, alone or on a larger picture', () => {
    assert.equal(readQrCode(qrPng(URL_IP)), URL_IP);
    assert.equal(readQrCode(qrPng(URL_IP, { scale: 2 })), URL_IP);
    assert.equal(readQrCode(qrGif(URL_IP)), URL_IP);
    assert.equal(readQrCode(qrPng(URL_IP, { transparent: true })), URL_IP); // read as shown: on white
    assert.equal(readQrCode(qrJpeg(URL_IP)), URL_IP);
    // A lure's page: the code on an 800 x 600 JPEG at quality 30.
    assert.equal(readQrCode(qrJpeg(URL_IP, { quality: 30, canvas: { width: 800, height: 600 }, at: { x: 300, y: 200 } })), URL_IP);
  });

  it('finds nothing in a picture without a code, a broken one or a header that lies, without throwing', () => {
    assert.equal(readQrCode(stripesPng(400, 300)), null);
    const png = qrPng(URL_IP);
    assert.equal(readQrCode(png.subarray(0, png.length / 2)), null);
    assert.equal(readQrCode(Buffer.from('not a picture at all')), null);
    assert.equal(readQrCode(stripesPng(1, 1)), null);
    // IHDR says 60,000 x 60,000 (3.6 gigapixels): never decoded, whatever the rest holds.
    const liar = Buffer.from(png);
    liar.writeUInt32BE(60000, 16);
    liar.writeUInt32BE(60000, 20);
    assert.deepEqual(pictureSize(liar), { kind: 'png', width: 60000, height: 60000 });
    const before = process.memoryUsage().arrayBuffers;
    assert.equal(readQrCode(liar), null);
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024);
  });

  it('never throws on mutated pictures', () => {
    const seeds = [qrPng(URL_IP), qrJpeg(URL_IP), qrGif(URL_IP)];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 30 }), (i, edits) => {
        const b = Buffer.from(seeds[i]);
        for (const [at, v] of edits) b[at % b.length] = v;
        const r = readQrCode(b);
        assert.ok(r === null || typeof r === 'string');
      }),
      { numRuns: 600 },
    );
  });

  it('reads the squarest pictures first within the pixel budget, and counts those left unread', () => {
    const wide = stripesPng(2000, 400); // 0.8 megapixels each
    const pictures = [...Array.from({ length: 5 }, (_, i) => ({ name: `banner${i}.png`, bytes: wide })), { name: 'code.png', bytes: qrPng(URL_IP) }];
    // A budget one banner fills: read in message order, the first banner would leave no room for the code.
    const r = qrCodesIn(pictures, 810_000);
    assert.deepEqual(codes(r), [URL_IP]);
    assert.equal(r.codes[0].image, 'code.png');
    assert.equal(r.unread, 5);
    const code = qrPng(URL_IP, { scale: 2 });
    const many = Array.from({ length: MAX_PICTURES + 3 }, (_, i) => ({ name: `p${i}`, bytes: code }));
    const m = qrCodesIn(many, 100_000_000);
    assert.equal(m.codes.length, MAX_PICTURES);
    assert.deepEqual(m.codes.at(-1), { image: `p${MAX_PICTURES - 1}`, text: URL_IP });
    assert.equal(m.unread, 3);
  });

  it('reads picture after picture with one scanner what each read alone gives', () => {
    // Pictures of every kind in any order through qrCodesIn (one scanner for those up to 1024 a side, decodeQR for larger)
    // against readQrCode (decodeQR, one picture at a time): the same codes from the same pictures.
    const picture = fc.oneof(
      fc
        .record({ scale: fc.integer({ min: 1, max: 5 }), pad: fc.nat(150), x: fc.nat(150), y: fc.nat(150), path: fc.stringMatching(/^[a-z0-9]{0,40}$/) })
        .map((o) => {
          const text = `https://e${o.path.length}.example/${o.path}`;
          const side = qrPixelsSide(text, o.scale);
          return qrPng(text, { scale: o.scale, canvas: { width: side + o.pad, height: side + o.pad }, at: { x: o.x % (o.pad + 1), y: o.y % (o.pad + 1) } });
        }),
      fc
        .record({ text: fc.stringMatching(/^[A-Za-z0-9]{1,60}$/), quality: fc.integer({ min: 20, max: 90 }) })
        .map((o) => qrJpeg(o.text, { quality: o.quality, scale: 3 })),
      fc.tuple(fc.integer({ min: 25, max: 700 }), fc.integer({ min: 25, max: 700 })).map(([w, h]) => stripesPng(w, h)),
      fc.tuple(fc.integer({ min: 25, max: 300 }), fc.integer({ min: 25, max: 300 }), fc.nat()).map(([w, h, seed]) => noisePng(w, h, seed)),
      fc.constant(stripesPng(1100, 200)), // past one scanner's side: read alone
      fc.constant(qrPng(URL_IP, { scale: 3 }).subarray(0, 200)), // broken
    );
    fc.assert(
      fc.property(fc.array(picture, { minLength: 1, maxLength: 8 }), (bytes) => {
        const pictures = bytes.map((b, i) => ({ name: `p${i}`, bytes: b }));
        const alone = pictures.flatMap((p) => {
          const text = readQrCode(p.bytes);
          return text === null ? [] : [{ image: p.name, text }];
        });
        const together = qrCodesIn(pictures, 100_000_000).codes.sort((a, b) => Number(a.image.slice(1)) - Number(b.image.slice(1)));
        assert.deepEqual(together, alone);
      }),
      { numRuns: 25 },
    );
  });

  it('takes data: images of PNG, JPEG and GIF only', () => {
    const png = qrPng(URL_IP);
    assert.deepEqual(dataImageBytes(`data:image/png;base64,${png.toString('base64')}`), png);
    assert.ok(dataImageBytes(`data:image/jpeg;name=x.jpg;base64,${png.toString('base64')}`));
    assert.equal(dataImageBytes(`data:image/svg+xml;base64,${png.toString('base64')}`), null);
    assert.equal(dataImageBytes('data:image/png,raw'), null);
  });
});

describe('QR codes in messages', () => {
  const qrLinks = async (raw: string, l = limits): Promise<string[]> =>
    (await extractScanInput(Buffer.from(raw), env, l)).urls.filter((u) => u.source === 'qr').map((u) => u.raw);

  it('an inline picture, an attachment and a data: image each give their link to the URL analysis', async () => {
    for (const as of ['inline', 'attachment', 'data'] as const) assert.deepEqual(await qrLinks(quishingMessage(URL_IP, { as })), [URL_IP], as);
    assert.deepEqual(await qrLinks(quishingMessage(URL_IP, { picture: qrJpeg(URL_IP) })), [URL_IP]);
  });

  it('tiny decoy pictures ahead of the code do not use up the count; past MAX_PICTURES the rest is recorded', async () => {
    // 30 x 30 squares, as square as the code and before it in the message: read first. Each its own (a link given twice is one link).
    const decoys = Array.from(
      { length: Math.max(120, MAX_PICTURES) },
      (_, i) => `<img alt="" src="data:image/png;base64,${noisePng(30, 30, i).toString('base64')}">`,
    );
    const padded = (n: number): string => quishingMessage(URL_IP, { as: 'data' }).replace('<img alt=""', `${decoys.slice(0, n).join('')}<img alt=""`);
    assert.deepEqual(await qrLinks(padded(120)), [URL_IP]);
    const past = await extractScanInput(Buffer.from(padded(MAX_PICTURES)), env, limits);
    assert.deepEqual(
      past.urls.filter((u) => u.source === 'qr'),
      [],
    );
    assert.match(past.limits.find((l) => l.code === 'LIMIT_QR_PIXELS')?.detail ?? '', new RegExp(`^1 picture\\(s\\) not read .* ${MAX_PICTURES} pictures$`));
  });

  it('[limits] max_qr_pixels = 0 reads no picture; pictures past it are recorded', async () => {
    const off = buildConfig({ limits: { max_qr_pixels: '0' } }, { env: {} }).limits;
    assert.deepEqual(await qrLinks(quishingMessage(URL_IP), off), []);
    // The lure shows little text: its budget is the larger of the two.
    const small = buildConfig({ limits: { max_qr_pixels: '1000', max_qr_pixels_picture_mail: '0' } }, { env: {} }).limits;
    const input = await extractScanInput(Buffer.from(quishingMessage(URL_IP)), env, small);
    assert.deepEqual(
      input.limits.map((l) => l.code),
      ['LIMIT_QR_PIXELS'],
    );
  });

  it('a QR lure is rejected on its code; without reading codes the same message is only held', async () => {
    const on = await scanMessage(Buffer.from(quishingMessage(URL_IP)), env, buildConfig({}, { env: {} }));
    const codesOn = on.verdict.reasons.map((r) => r.code);
    assert.equal(on.verdict.action, 'reject');
    assert.ok(codesOn.includes('QR_CODE_LINK') && codesOn.includes('URL_IP_LITERAL'), codesOn.join());
    const off = await scanMessage(Buffer.from(quishingMessage(URL_IP)), env, buildConfig({ limits: { max_qr_pixels: '0' } }, { env: {} }));
    assert.equal(off.verdict.action, 'quarantine');
    assert.ok(!off.verdict.reasons.some((r) => r.code === 'QR_CODE_LINK' || r.code === 'URL_IP_LITERAL'));
  });

  it('a message that shows little text is read further: a lure sent as one picture of 900 x 1300', async () => {
    // The whole mail drawn into one picture (1.17 megapixels), its code near the bottom: past max_qr_pixels.
    const page = qrPng(URL_IP, { scale: 6, canvas: { width: 900, height: 1300 }, at: { x: 300, y: 800 } });
    const picture = pictureMessage(page);
    assert.deepEqual(await qrLinks(picture), [URL_IP]);
    const jpegPage = qrJpeg(URL_IP, { scale: 6, quality: 60, canvas: { width: 900, height: 1300 }, at: { x: 300, y: 800 } });
    assert.deepEqual(await qrLinks(pictureMessage(jpegPage)), [URL_IP]);
    // Without the picture-mail budget the code is not read, and that is recorded with the budget that applied.
    const old = buildConfig({ limits: { max_qr_pixels_picture_mail: '0' } }, { env: {} }).limits;
    const unread = await extractScanInput(Buffer.from(picture), env, old);
    assert.deepEqual(
      unread.urls.filter((u) => u.source === 'qr'),
      [],
    );
    assert.match(unread.limits.find((l) => l.code === 'LIMIT_QR_PIXELS')?.detail ?? '', /1 picture\(s\) not read for QR codes: past 500000 pixels/);
    // The verdict: the bland text alone passes, the code's link to an IP address rejects it.
    const scanned = await scanMessage(Buffer.from(picture), env, buildConfig({}, { env: {} }));
    assert.ok(
      scanned.verdict.reasons.some((r) => r.code === 'QR_CODE_LINK'),
      scanned.verdict.reasons.map((r) => r.code).join(),
    );
    const blind = await scanMessage(Buffer.from(picture), env, buildConfig({ limits: { max_qr_pixels_picture_mail: '0' } }, { env: {} }));
    assert.ok(scanned.verdict.score > blind.verdict.score, `${scanned.verdict.score} against ${blind.verdict.score}`);
    // max_qr_pixels = 0 still reads nothing.
    const off = buildConfig({ limits: { max_qr_pixels: '0' } }, { env: {} }).limits;
    assert.deepEqual(await qrLinks(picture, off), []);
  });

  it('the text counted is the text shown: beside a page of text max_qr_pixels holds; hidden text, a plain-text alternative do not count', async () => {
    const page = qrPng(URL_IP, { scale: 6, canvas: { width: 900, height: 1300 }, at: { x: 300, y: 800 } });
    const words = 'Please find the quarterly statement of your account below. '.repeat(10); // 590 characters
    const withText = await extractScanInput(Buffer.from(pictureMessage(page, { html: `<html><body><p>${words}</p>{img}</body></html>` })), env, limits);
    assert.deepEqual(
      withText.urls.filter((u) => u.source === 'qr'),
      [],
    );
    assert.match(withText.limits.find((l) => l.code === 'LIMIT_QR_PIXELS')?.detail ?? '', /past 500000 pixels/);
    // Text a reader does not see: hidden in the HTML, or the plain-text alternative an HTML reader does not show.
    const hidden = pictureMessage(page, { html: `<html><body><div style="display:none">${words}</div>{img}</body></html>` });
    assert.deepEqual(await qrLinks(hidden), [URL_IP]);
    assert.deepEqual(await qrLinks(pictureMessage(page, { text: words })), [URL_IP]);
  });

  it('showsLittleText counts characters, not blanks, up to PICTURE_MAIL_CHARS; the budget is the larger of the two', () => {
    assert.equal(PICTURE_MAIL_CHARS, 500);
    assert.equal(showsLittleText('x'.repeat(499)), true);
    assert.equal(showsLittleText('x'.repeat(500)), false);
    assert.equal(showsLittleText(`${'x \n\t\u00a0'.repeat(499)}   `), true);
    assert.equal(showsLittleText(''), true);
    const l = (a: number, b: number) => ({ max_qr_pixels: a, max_qr_pixels_picture_mail: b });
    assert.equal(qrPixelBudget(l(500_000, 4_000_000), 'short'), 4_000_000);
    assert.equal(qrPixelBudget(l(500_000, 4_000_000), 'x'.repeat(500)), 500_000);
    assert.equal(qrPixelBudget(l(500_000, 100_000), 'short'), 500_000);
    assert.equal(qrPixelBudget(l(0, 4_000_000), 'short'), 0);
  });

  it("a code leading to the sender's own domain is not QR_CODE_LINK", async () => {
    const own = await scanMessage(
      Buffer.from(quishingMessage('https://tickets.example-corp.com/check-in/4711')),
      env,
      buildConfig({ nlp: { enabled: false } }, { env: {} }),
    );
    assert.ok(!own.verdict.reasons.some((r) => r.code === 'QR_CODE_LINK'));
    const other = await scanMessage(
      Buffer.from(quishingMessage('https://tickets.example-corp.net/check-in/4711')),
      env,
      buildConfig({ nlp: { enabled: false } }, { env: {} }),
    );
    assert.ok(other.verdict.reasons.some((r) => r.code === 'QR_CODE_LINK'));
  });
});
