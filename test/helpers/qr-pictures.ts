/**
 * QR-code pictures for tests, made the way a lure's are: `qr` encodes the text, the modules are
 * drawn `scale` pixels wide with a quiet zone, optionally on a larger canvas beside other
 * shapes, and the canvas is written as PNG (pngjs), JPEG (jpeg-js) or GIF.
 */
import encodeQR from 'qr';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { deflateSync } from 'node:zlib';

export interface QrPictureOptions {
  /** Pixels per module (default 4). */
  scale?: number;
  /** Canvas size; the code is drawn at `at` (default: just the code and its quiet zone). */
  canvas?: { width: number; height: number };
  at?: { x: number; y: number };
}

/** RGBA pixels of a QR code for `text` (white background). */
export function qrPixels(text: string, opts: QrPictureOptions = {}): { width: number; height: number; data: Buffer } {
  const modules = encodeQR(text, 'raw', { border: 4 });
  const scale = opts.scale ?? 4;
  const side = modules.length * scale;
  const width = opts.canvas?.width ?? side;
  const height = opts.canvas?.height ?? side;
  const at = opts.at ?? { x: 0, y: 0 };
  const data = Buffer.alloc(width * height * 4, 255);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      if (!modules[Math.floor(y / scale)][Math.floor(x / scale)]) continue;
      const px = at.x + x;
      const py = at.y + y;
      if (px >= width || py >= height) continue;
      data.fill(0, (py * width + px) * 4, (py * width + px) * 4 + 3);
    }
  return { width, height, data };
}

/** PNG; `transparent`: black modules on a transparent background (alpha 0 where white), as many generators write them. */
export function qrPng(text: string, opts: QrPictureOptions & { transparent?: boolean } = {}): Buffer {
  const p = qrPixels(text, opts);
  const png = new PNG({ width: p.width, height: p.height });
  p.data.copy(png.data);
  if (opts.transparent) for (let i = 0; i < png.data.length; i += 4) if (png.data[i] === 255) png.data.fill(0, i, i + 4);
  return PNG.sync.write(png);
}

export function qrJpeg(text: string, opts: QrPictureOptions & { quality?: number } = {}): Buffer {
  const p = qrPixels(text, opts);
  return jpeg.encode({ width: p.width, height: p.height, data: p.data }, opts.quality ?? 75).data;
}

/** GIF as `qr` writes it (one pixel per module, scaled by `scale`). */
export function qrGif(text: string, scale = 4): Buffer {
  return Buffer.from(encodeQR(text, 'gif', { border: 4, scale }));
}

/** A picture without a code: stripes, `width` × `height`, PNG. */
export function stripesPng(width: number, height: number): Buffer {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) png.data.fill((i % width) % 16 < 8 ? 0 : 255, i * 4, i * 4 + 3).writeUInt8(255, i * 4 + 3);
  return PNG.sync.write(png);
}

/** The MFA lure's headers (an IT service desk's address) and its HTML around `inner` (where its code is). */
const mfaHead = (from: string): string[] => [
  `From: "IT Service Desk" <${from}>`,
  'To: bob@example.org',
  'Subject: Action required: MFA re-enrollment',
  'MIME-Version: 1.0',
];
const mfaHtml = (inner: string): string =>
  '<html><body><p>Hello,</p><p>Your multi-factor authentication expires today. Scan the code with your phone camera to ' +
  `keep access to your mailbox.</p>${inner}<p>IT Service Desk</p></body></html>`;

/**
 * A QR-code lure ("quishing"): a short MFA notice whose only link is a QR code — an inline
 * picture (`cid:`), an attachment, or a `data:` image in the HTML.
 */
export function quishingMessage(url: string, opts: { picture?: Buffer; as?: 'inline' | 'attachment' | 'data'; from?: string } = {}): string {
  const picture = opts.picture ?? qrPng(url);
  const type = picture[0] === 0xff ? 'image/jpeg' : picture[0] === 0x47 ? 'image/gif' : 'image/png';
  const b64 = picture.toString('base64').replace(/.{76}/g, '$&\r\n');
  const as = opts.as ?? 'inline';
  const img = as === 'data' ? `<img alt="" src="data:${type};base64,${picture.toString('base64')}">` : as === 'inline' ? '<img alt="" src="cid:code1">' : '';
  const html = mfaHtml(img);
  const head = mfaHead(opts.from ?? 'helpdesk@example-corp.com');
  if (as === 'data') return [...head, 'Content-Type: text/html; charset=utf-8', '', html, ''].join('\r\n');
  return [
    ...head,
    `Content-Type: multipart/${as === 'inline' ? 'related' : 'mixed'}; boundary="q-b"`,
    '',
    '--q-b',
    'Content-Type: text/html; charset=utf-8',
    '',
    html,
    '--q-b',
    `Content-Type: ${type}`,
    ...(as === 'inline' ? ['Content-ID: <code1>', 'Content-Disposition: inline; filename="code"'] : ['Content-Disposition: attachment; filename="scan-me"']),
    'Content-Transfer-Encoding: base64',
    '',
    b64,
    '--q-b--',
    '',
  ].join('\r\n');
}

/**
 * A lure sent as one picture ("your document is ready" drawn into a screenshot, the code in
 * it): `html` around the inline picture (`{img}` marks where it is), and a plain-text
 * alternative when `text` is given.
 */
export function pictureMessage(picture: Buffer, opts: { html?: string; text?: string } = {}): string {
  const type = picture[0] === 0xff ? 'image/jpeg' : 'image/png';
  const html = (opts.html ?? '<html><body>{img}</body></html>').replace('{img}', '<img alt="" src="cid:page1">');
  const body =
    opts.text === undefined
      ? ['Content-Type: text/html; charset=utf-8', '', html]
      : [
          'Content-Type: multipart/alternative; boundary="p-a"',
          '',
          '--p-a',
          'Content-Type: text/plain; charset=utf-8',
          '',
          opts.text,
          '--p-a',
          'Content-Type: text/html; charset=utf-8',
          '',
          html,
          '--p-a--',
        ];
  return [
    ...mfaHead('documents@example-corp.com'),
    'Content-Type: multipart/related; boundary="p-b"',
    '',
    '--p-b',
    ...body,
    '--p-b',
    `Content-Type: ${type}`,
    'Content-ID: <page1>',
    'Content-Disposition: inline; filename="document"',
    'Content-Transfer-Encoding: base64',
    '',
    picture.toString('base64').replace(/.{76}/g, '$&\r\n'),
    '--p-b--',
    '',
  ].join('\r\n');
}

/** The modules of a QR code for `text`, true = dark; `border` modules of quiet zone (default none). */
export function qrModules(text: string, border = 0): boolean[][] {
  const m = encodeQR(text, 'raw', { border: Math.max(1, border) });
  return border ? m : m.slice(1, -1).map((row) => row.slice(1, -1));
}

export interface DrawnTableOptions {
  /** How a cell is coloured: `bgcolor` attribute (default), inline `style`, a `<style>` class, or a dark `<div>` inside it. */
  colour?: 'bgcolor' | 'style' | 'class' | 'div';
  /** Runs of one colour merged with `colspan`. */
  colspan?: boolean;
  /** Light modules dark and dark ones light. */
  inverted?: boolean;
}

/** A QR code drawn as an HTML table of coloured cells (no picture), as table-QR lures do. */
export function drawnTable(text: string, opts: DrawnTableOptions = {}): string {
  const colour = opts.colour ?? 'bgcolor';
  const cell = (dark: boolean, span: number): string => {
    const c = dark !== (opts.inverted ?? false) ? '#000000' : '#ffffff';
    const sp = span > 1 ? ` colspan="${span}"` : '';
    if (colour === 'bgcolor') return `<td${sp} bgcolor="${c}" width="4" height="4"></td>`;
    if (colour === 'style') return `<td${sp} style="width:4px;height:4px;background-color:${c}"></td>`;
    if (colour === 'class') return `<td${sp} class="${c === '#000000' ? 'k' : 'w'}"></td>`;
    return `<td${sp}><div style="width:4px;height:4px;background:${c}"></div></td>`;
  };
  const rows = qrModules(text).map((row) => {
    const cells: string[] = [];
    for (let x = 0; x < row.length;) {
      let span = 1;
      while (opts.colspan && x + span < row.length && row[x + span] === row[x]) span++;
      cells.push(cell(row[x], span));
      x += span;
    }
    return `<tr>${cells.join('')}</tr>`;
  });
  const style = colour === 'class' ? '<style>.k{background:#000}.w{background:#fff}</style>' : '';
  return `${style}<table cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse">\n${rows.join('\n')}\n</table>`;
}

/**
 * A QR code drawn with block characters, as text: `half` (▀ ▄ █ and space, one character
 * per module and two modules per line, as `qrencode -t UTF8` and segno print them), `full`
 * (██ per dark module, one line per module), `squares` (■ □), `quadrants` (▘ ▚ ▟ …, 2 × 2
 * modules per character). `light` is what light modules are drawn with (default a space;
 * a no-break space for HTML), `inverted` swaps dark and light.
 */
export function blockCode(
  text: string,
  style: 'half' | 'full' | 'squares' | 'quadrants',
  opts: { light?: string; inverted?: boolean; border?: number } = {},
): string {
  const m = qrModules(text, opts.border ?? 1).map((row) => row.map((v) => v !== (opts.inverted ?? false)));
  const light = opts.light ?? ' ';
  const at = (y: number, x: number): boolean => m[y]?.[x] ?? false;
  const lines: string[] = [];
  if (style === 'half') {
    for (let y = 0; y < m.length; y += 2)
      lines.push(m[y].map((_, x) => (at(y, x) && at(y + 1, x) ? '█' : at(y, x) ? '▀' : at(y + 1, x) ? '▄' : light)).join(''));
  } else if (style === 'full' || style === 'squares') {
    for (const row of m) lines.push(row.map((v) => (style === 'full' ? (v ? '██' : light + light) : v ? '■' : '□')).join(''));
  } else {
    const quad = [light, '▘', '▝', '▀', '▖', '▌', '▞', '▛', '▗', '▚', '▐', '▜', '▄', '▙', '▟', '█'];
    for (let y = 0; y < m.length; y += 2) {
      let line = '';
      for (let x = 0; x < m[0].length; x += 2) line += quad[(at(y, x) ? 1 : 0) | (at(y, x + 1) ? 2 : 0) | (at(y + 1, x) ? 4 : 0) | (at(y + 1, x + 1) ? 8 : 0)];
      lines.push(line);
    }
  }
  return lines.join('\n');
}

/** A lure whose only link is a drawn QR code: `html` goes into the body of an HTML message, `text` makes a plain-text one. */
export function drawnQrMessage(body: { html?: string; text?: string }, from = 'helpdesk@example-corp.com'): string {
  const head = mfaHead(from);
  if (body.text !== undefined)
    return [
      ...head,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      'Hello,',
      '',
      'Your multi-factor authentication expires today. Scan the code with your phone camera to keep access to your mailbox.',
      '',
      body.text,
      '',
      'IT Service Desk',
      '',
    ].join('\r\n');
  return [...head, 'Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', mfaHtml(body.html ?? ''), ''].join('\r\n');
}

/** How a PDF holds its picture of a code: a JPEG, PNG data (Flate with PNG predictors), raw 8-bit grey or RGB samples, a 1-bit image mask. */
export type PdfPictureKind = 'jpeg' | 'png' | 'grey' | 'rgb' | 'mask';

/** The image XObject dictionary entries and stream of a QR code picture for `text`, as PDF writers store one. */
function pdfImage(text: string, kind: PdfPictureKind, scale = 4): { dict: string; data: Buffer } {
  const p = qrPixels(text, { scale });
  const { width, height } = p;
  const grey = Buffer.alloc(width * height);
  for (let i = 0; i < grey.length; i++) grey[i] = p.data[i * 4];
  if (kind === 'jpeg')
    return { dict: `/Width ${width} /Height ${height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode`, data: qrJpeg(text, { scale }) };
  if (kind === 'png') {
    const png = new PNG({ width, height });
    p.data.copy(png.data);
    const file = PNG.sync.write(png, { colorType: 0 });
    const idat: Buffer[] = [];
    for (let at = 8; at < file.length;) {
      const len = file.readUInt32BE(at);
      if (file.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(file.subarray(at + 8, at + 8 + len));
      at += 12 + len;
    }
    return {
      dict: `/Width ${width} /Height ${height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /DecodeParms << /Predictor 15 /Colors 1 /BitsPerComponent 8 /Columns ${width} >>`,
      data: Buffer.concat(idat),
    };
  }
  if (kind === 'grey')
    return { dict: `/Width ${width} /Height ${height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode`, data: deflateSync(grey) };
  if (kind === 'rgb') {
    const rgb = Buffer.alloc(width * height * 3);
    for (let i = 0; i < width * height; i++) p.data.copy(rgb, i * 3, i * 4, i * 4 + 3);
    return { dict: `/Width ${width} /Height ${height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter [/FlateDecode]`, data: deflateSync(rgb) };
  }
  const rowBytes = Math.ceil(width / 8);
  const bits = Buffer.alloc(rowBytes * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (grey[y * width + x] > 127) bits[y * rowBytes + (x >> 3)] |= 0x80 >> (x & 7);
  return { dict: `/Width ${width} /Height ${height} /ImageMask true /Decode [0 1] /Filter /FlateDecode`, data: deflateSync(bits) };
}

/** A one-page PDF showing a QR code picture for `text` (no link annotation: the code is the only way to the page). */
export function qrPdf(text: string, kind: PdfPictureKind): Buffer {
  const img = pdfImage(text, kind);
  const content = 'BT /F1 14 Tf 72 720 Td (Scan the code to review and sign the document.) Tj ET q 200 0 0 200 100 400 cm /Im1 Do Q';
  return Buffer.concat([
    Buffer.from(
      '%PDF-1.5\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n' +
        '3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im1 4 0 R >> >> /Contents 5 0 R >>\nendobj\n' +
        `4 0 obj\n<< /Type /XObject /Subtype /Image ${img.dict} /Length ${img.data.length} >>\nstream\n`,
      'latin1',
    ),
    img.data,
    Buffer.from(
      `\nendstream\nendobj\n5 0 obj\n<< /Length ${content.length} >>\nstream\n${content}\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n`,
      'latin1',
    ),
  ]);
}

/** A lure whose only link is a QR code in an attached PDF ("scan to sign"). */
export function pdfQrMessage(pdf: Buffer, from = 'docusign@example-corp.com'): string {
  return [
    `From: "Document Service" <${from}>`,
    'To: bob@example.org',
    'Subject: Please review and sign: Q4 payroll adjustment',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="p-b"',
    '',
    '--p-b',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Hello, a document is waiting for your signature. Open the attached PDF and scan the code to sign it before it expires today.',
    '--p-b',
    'Content-Type: application/pdf; name="Payroll-Adjustment.pdf"',
    'Content-Disposition: attachment; filename="Payroll-Adjustment.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    pdf.toString('base64').replace(/.{76}/g, '$&\r\n'),
    '--p-b--',
    '',
  ].join('\r\n');
}
