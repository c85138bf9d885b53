import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { once } from 'node:events';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { decodeNames, nameAt, pdfLinks, uriAt } from '../../lib/attachments/pdf-links.js';
import { calendarLinks, unescapeText } from '../../lib/attachments/calendar-links.js';
import { opensAsPlain } from '../../lib/attachments/priority.js';
import { buildConfig } from '../../lib/config/load.js';
import { analyze, archiveInspection } from '../../lib/scan.js';
import { extractScanInput, inspectArchives } from '../../lib/message/extract.js';
import { zipSync } from 'fflate';
import { withAttachment, zip } from '../helpers/mime.js';
import { toCrlf } from '../helpers/smtp.js';

const config = buildConfig({ nlp: { enabled: false } }, { env: {} });
const PDF = Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n', 'latin1');
const PE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62), Buffer.from('PE\0\0')]);

async function codes(name: string, content: Buffer, type?: string): Promise<string[]> {
  const input = await extractScanInput(toCrlf(withAttachment(name, content, type)), { mailFrom: '', rcptTo: ['bob@example.org'] }, config.limits);
  await inspectArchives(input, archiveInspection(config));
  return [...new Set(analyze(input, config).map((s) => s.code))].sort();
}

/** Mark every entry of a zip as encrypted (general-purpose flag bit 0), as a password-protected zip is. */
function markEncrypted(z: Buffer): Buffer {
  const b = Buffer.from(z);
  for (let i = 0; i < b.length - 4; i++) {
    const sig = b.readUInt32LE(i);
    if (sig === 0x04034b50) b.writeUInt16LE(b.readUInt16LE(i + 6) | 1, i + 6);
    if (sig === 0x02014b50) b.writeUInt16LE(b.readUInt16LE(i + 8) | 1, i + 8);
  }
  return b;
}

describe('attachment heuristics', () => {
  it('flags executable and script attachments by extension', async () => {
    assert.deepEqual(await codes('setup.exe', Buffer.from('x')), ['ATTACHMENT_EXECUTABLE']);
    assert.deepEqual(await codes('invoice.js', Buffer.from('var x = 1;'), 'text/javascript'), ['ATTACHMENT_EXECUTABLE']);
    assert.deepEqual(await codes('shared.iso', Buffer.from('x')), ['ATTACHMENT_EXECUTABLE']);
  });

  it('flags a double extension such as invoice.pdf.exe', async () => {
    assert.deepEqual(await codes('invoice.pdf.exe', Buffer.from('x')), ['ATTACHMENT_DOUBLE_EXTENSION', 'ATTACHMENT_EXECUTABLE']);
  });

  it('flags macro-enabled Office files', async () => {
    assert.deepEqual(await codes('budget.xlsm', zip({ '[Content_Types].xml': Buffer.from('<Types/>') }), 'application/vnd.ms-excel.sheet.macroEnabled.12'), [
      'ATTACHMENT_MACRO',
    ]);
  });

  it('flags HTML and SVG attachments with forms, password fields or scripts', async () => {
    assert.deepEqual(await codes('Remittance.html', Buffer.from('<form action="https://x.example/p"><input type="password" name="p"></form>'), 'text/html'), [
      'ATTACHMENT_HTML_ACTIVE',
    ]);
    assert.deepEqual(
      await codes('voicemail.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>location="https://x.example"</script></svg>'), 'image/svg+xml'),
      ['ATTACHMENT_HTML_ACTIVE'],
    );
    assert.deepEqual(await codes('newsletter.html', Buffer.from('<h1>Hello</h1><p>Plain page.</p>'), 'text/html'), []);
  });

  it('examines the attachments a client opens as more than text or a picture first when there are more than max_parts', async () => {
    const part = (name: string, type: string, body: string): string =>
      `--p\nContent-Type: ${type}; name="${name}"\nContent-Disposition: attachment; filename="${name}"\n\n${body}\n`;
    const pad = Array.from({ length: 600 }, (_, i) => part(`note${i}.txt`, 'text/plain', 'x')).join('');
    const lure = part('Voicemail.html', 'text/html', '<form action="https://45.33.32.156/c.php"><input type="password" name="p"></form>');
    const raw = toCrlf(`From: a@example.com\nContent-Type: multipart/mixed; boundary="p"\n\n${pad}${lure}--p--\n`);
    const input = await extractScanInput(raw, { mailFrom: '', rcptTo: ['bob@example.org'] }, config.limits);
    assert.equal(input.attachments.length, config.limits.max_parts);
    assert.ok(input.limits.some((l) => l.code === 'LIMIT_PARTS'));
    const html = input.attachments.find((a) => a.filename === 'Voicemail.html');
    assert.deepEqual(html?.active, { forms: 1, passwordFields: 1, scripts: 0 });
    assert.ok(input.urls.some((u) => u.host === '45.33.32.156' && u.source === 'attachment'));
    // The examined ones stay in the message's order: the first 499 notes, then the page.
    assert.equal(input.attachments[0].filename, 'note0.txt');
    assert.equal(input.attachments.at(-1)?.filename, 'Voicemail.html');
    // Shown as text or a picture: by declared type and every extension of the name.
    assert.deepEqual(
      [
        ['a.txt', 'text/plain'],
        [null, 'text/plain'],
        ['scan.JPG', 'image/jpeg'],
        ['a.txt.exe', 'text/plain'],
        ['a.html', 'text/plain'],
        ['invoice.pdf', 'image/png'],
        ['logo.svg', 'image/svg+xml'],
        ['a.txt', 'application/octet-stream'],
      ].map(([filename, mimeType]) => opensAsPlain({ filename, mimeType: mimeType! })),
      [true, true, true, false, false, false, false, false],
    );
  });

  it('analyses the links inside an HTML attachment like links in the body', async () => {
    assert.deepEqual(await codes('Invoice.html', Buffer.from('<p>View your invoice</p><a href="http://45.33.32.156/inv/login.php">Open</a>'), 'text/html'), [
      'URL_IP_LITERAL',
    ]);
    assert.deepEqual(await codes('Doc.htm', Buffer.from('<a href="https://secure-docs-4f2a.web.app/">Open document</a>'), 'text/html'), ['URL_FREE_HOSTING']);
    const input = await extractScanInput(
      toCrlf(withAttachment('Doc.htm', Buffer.from('<a href="https://files.example.net/x">Open</a><img src="https://cdn.example.net/logo.png">'), 'text/html')),
      { mailFrom: '', rcptTo: ['bob@example.org'] },
      config.limits,
    );
    assert.deepEqual(
      input.urls.filter((u) => u.source === 'attachment').map((u) => u.host),
      ['files.example.net'],
      'links only, not images',
    );
  });

  it('flags content that is not what its declared type says', async () => {
    assert.deepEqual(await codes('photo.png', PDF, 'image/png'), ['ATTACHMENT_TYPE_MISMATCH']);
    assert.ok((await codes('statement.pdf', PE, 'application/pdf')).includes('ATTACHMENT_EXECUTABLE'));
    assert.deepEqual(await codes('report.pdf', PDF, 'application/pdf'), []);
  });

  it('takes the names mail clients give common types as those types, and still sees a disguise under them', async () => {
    const cfb = Buffer.concat([Buffer.from('D0CF11E0A1B11AE1', 'hex'), Buffer.alloc(504)]);
    const xml = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><Invoice xmlns="urn:oasis:names:specification:ubl"/>');
    const ics = Buffer.from('BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n');
    const vcard = Buffer.from('BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Alice\r\nEND:VCARD\r\n');
    const files = zip({ 'a.txt': Buffer.from('hi') });
    const cases: Array<[string, Buffer, string]> = [
      ['files.zip', files, 'application/x-zip-compressed'], // Outlook, Windows
      ['scan.pdf', PDF, 'application/x-pdf'],
      ['fwd.msg', cfb, 'application/vnd.ms-outlook'],
      ['invoice.xml', xml, 'text/xml'], // an e-invoice (UBL, XRechnung)
      ['invoice.xml', xml, 'application/xml'],
      ['invite.ics', ics, 'text/plain'],
      ['alice.vcf', vcard, 'text/x-vcard'],
      ['alice.vcf', vcard, 'text/plain'],
    ];
    for (const [name, content, type] of cases) assert.deepEqual(await codes(name, content, type), [], `${name} declared ${type}`);
    const disguised = await codes('scan.pdf', PE, 'application/x-pdf');
    assert.ok(disguised.includes('ATTACHMENT_TYPE_MISMATCH') && disguised.includes('ATTACHMENT_EXECUTABLE'), disguised.join());
    assert.deepEqual(await codes('invoice.xml', PDF, 'text/xml'), ['ATTACHMENT_TYPE_MISMATCH']);
    assert.deepEqual(await codes('files.zip', zip({ 'run.bat': Buffer.from('@echo off') }), 'application/x-zip-compressed'), ['ARCHIVE_EXECUTABLE']);
    // Declared multipart/x-zip (old mailers) without a boundary: postal-mime reads such a part as
    // text/plain (RFC 2045 5.2); before 4.1 it dropped it, attachment and all. It is opened.
    const xzip = await codes('files.zip', zip({ 'run.bat': Buffer.from('@echo off') }), 'multipart/x-zip');
    assert.ok(xzip.includes('ARCHIVE_EXECUTABLE'), xzip.join());
  });

  it('lists zips: an executable inside, also one level down, is flagged', async () => {
    assert.deepEqual(await codes('docs.zip', zip({ 'readme.txt': Buffer.from('hi'), 'invoice.pdf.scr': Buffer.from('x') }), 'application/zip'), [
      'ARCHIVE_EXECUTABLE',
    ]);
    assert.deepEqual(await codes('outer.zip', zip({ 'inner.zip': zip({ 'run.bat': Buffer.from('@echo off') }) }), 'application/zip'), ['ARCHIVE_EXECUTABLE']);
  });

  it('flags password-protected archives', async () => {
    assert.deepEqual(await codes('secure.zip', markEncrypted(zip({ 'statement.pdf': PDF })), 'application/zip'), ['ARCHIVE_ENCRYPTED']);
  });

  it('measures an archive bomb by its declared ratio without inflating it', async () => {
    assert.deepEqual(await codes('data.zip', zip({ 'zeros.bin': Buffer.alloc(20 * 1024 * 1024) }), 'application/zip'), ['ARCHIVE_BOMB']);
  });

  it('stops listing at the nesting limit and says so', async () => {
    const deep = zip({ 'l2.zip': zip({ 'l3.zip': zip({ 'x.txt': Buffer.from('x') }) }) });
    assert.deepEqual(await codes('deep.zip', deep, 'application/zip'), ['ARCHIVE_LIMIT']);
  });

  it('does not flag ordinary documents: a docx is a zip and that is fine', async () => {
    const docx = zip({ '[Content_Types].xml': Buffer.from('<Types/>'), 'word/document.xml': Buffer.from('<w:document/>') });
    assert.deepEqual(await codes('letter.docx', docx, 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'), []);
  });

  it('marks a corrupt zip uninspectable instead of passing it silently', async () => {
    assert.deepEqual(await codes('broken.zip', Buffer.from('PK\x03\x04 this is not really a zip'), 'application/zip'), ['ATTACHMENT_UNINSPECTABLE']);
  });

  it("stops inflating nested zips at the message's decompression budget, counted from the stream, and says so", async () => {
    // Inner zips whose content is stored (a 3 MB zip of zeros each), deflated to ~3 KB in the outer zip: the
    // declared inner sizes are honest, so only counting what zlib actually inflates bounds the work.
    const inner = Buffer.from(zipSync({ 'zeros.bin': [new Uint8Array(3_000_000), { level: 0 }] }));
    const outer = Buffer.from(zipSync(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`part${i}.zip`, [new Uint8Array(inner), { level: 9 }]]))));
    const small = buildConfig({ nlp: { enabled: false }, attachments: { max_inflated_bytes: String(8 * 1024 * 1024) } }, { env: {} });
    const input = await extractScanInput(
      toCrlf(withAttachment('invoice.zip', outer, 'application/zip')),
      { mailFrom: '', rcptTo: ['bob@example.org'] },
      small.limits,
    );
    await inspectArchives(input, archiveInspection(small));
    const a = input.attachments[0].archive!;
    assert.ok(a.done);
    assert.match(a.uninspected ?? '', /decompression budget of 8388608 bytes per message used up/);
    // 40 inner zips are listed from the outer directory; only the first two or three were opened.
    assert.ok(a.entries.filter((e) => e.depth === 2).length <= 3, `${a.entries.filter((e) => e.depth === 2).length} inner entries listed`);
    assert.ok(analyze(input, small).some((x) => x.code === 'ATTACHMENT_UNINSPECTABLE'));
  });

  it('stops at once when the scan is aborted, and an archive whose listing had not returned counts as uninspectable', async () => {
    const inner = Buffer.from(zipSync({ 'zeros.bin': [new Uint8Array(3_000_000), { level: 0 }] }));
    const outer = Buffer.from(zipSync(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`part${i}.zip`, [new Uint8Array(inner), { level: 9 }]]))));
    const big = buildConfig({ nlp: { enabled: false }, attachments: { max_inflated_bytes: String(1024 * 1024 * 1024) } }, { env: {} });
    const input = await extractScanInput(
      toCrlf(withAttachment('invoice.zip', outer, 'application/zip')),
      { mailFrom: '', rcptTo: ['bob@example.org'] },
      big.limits,
    );
    const stop = new AbortController();
    const running = inspectArchives(input, archiveInspection(big, stop.signal));
    // Read while it runs (as a scan whose budget ended would): not done ─► uninspectable.
    assert.ok(analyze(input, big).some((x) => x.code === 'ATTACHMENT_UNINSPECTABLE'));
    stop.abort();
    await running;
    const a = input.attachments[0].archive!;
    assert.match(a.uninspected ?? '', /scan budget ended/);
    assert.ok(a.entries.filter((e) => e.depth === 2).length < 40, 'stopped before opening every inner zip');
  });
});

describe('links in PDF attachments', () => {
  /** A PDF whose page has one link annotation, written plainly or inside a compressed object stream. */
  const pdfWith = (annotation: string, compressed: boolean): Buffer => {
    const head = Buffer.from('%PDF-1.5\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<</Type/Page/Annots[6 0 R]>>\nendobj\n', 'latin1');
    if (!compressed) return Buffer.concat([head, Buffer.from(`6 0 obj\n${annotation}\nendobj\ntrailer\n<<>>\n%%EOF\n`, 'latin1')]);
    const body = deflateSync(Buffer.from(`6 0 ${annotation}`, 'latin1'));
    return Buffer.concat([
      head,
      Buffer.from(`7 0 obj\n<</Type /ObjStm/N 1/First 4/Filter/FlateDecode/Length ${body.length}>>stream\n`, 'latin1'),
      body,
      Buffer.from('\nendstream\nendobj\ntrailer\n<<>>\n%%EOF\n', 'latin1'),
    ]);
  };
  const annot = (uri: string): string => `<</A<</S/URI/Type/Action/URI${uri}>>/Rect[0 0 600 800]/Subtype/Link/Type/Annot>>`;
  const opts = { maxInflatedBytes: 1 << 20, maxLinks: 10 };

  it('reads link annotations written plainly and in compressed object streams, literal and hex strings', () => {
    assert.deepEqual(pdfLinks(pdfWith(annot('(https://evil.example/view)'), false), opts).links, ['https://evil.example/view']);
    assert.deepEqual(pdfLinks(pdfWith(annot('(https://evil.example/view)'), true), opts).links, ['https://evil.example/view']);
    const crlf = Buffer.from(pdfWith(annot('(https://evil.example/crlf)'), true).toString('latin1').replace('>>stream\n', '>>stream\r\n'), 'latin1');
    assert.deepEqual(pdfLinks(crlf, opts).links, ['https://evil.example/crlf'], 'the stream keyword ends with CR LF');
    const hex = `<${Buffer.from('https://bit.ly/3x').toString('hex')}>`;
    assert.deepEqual(pdfLinks(pdfWith(annot(hex), true), opts).links, ['https://bit.ly/3x']);
    assert.deepEqual(pdfLinks(pdfWith(annot('(https://evil.example/a\\(b\\)\\\ncd)'), false), opts).links, ['https://evil.example/a(b)cd']);
    // Not a web link, not a PDF: nothing.
    assert.deepEqual(pdfLinks(pdfWith(annot('(mailto:x@example.com)'), false), opts).links, []);
    assert.deepEqual(pdfLinks(Buffer.from('/URI (https://evil.example/)'), opts).links, []);
  });

  it('reads names written with escapes as a reader does (/U#52I, /Obj#53tm): a byte search for /URI or /ObjStm does not see them', () => {
    for (const key of ['/U#52I', '/#55RI', '/#55#52#49', '/UR#49', '/U#52#49'])
      for (const compressed of [false, true])
        assert.deepEqual(
          pdfLinks(pdfWith(annot('(https://evil.example/view)').replace('/URI(', `${key}(`), compressed), opts).links,
          ['https://evil.example/view'],
          `${key}, compressed: ${compressed}`,
        );
    // Another name is not the key: /U#52X, /URI#41 (URIA), an escape that is no hex.
    for (const key of ['/U#52X', '/URI#41', '/U#5gI'])
      assert.deepEqual(pdfLinks(pdfWith(annot('(https://evil.example/view)').replace('/URI(', `${key}(`), false), opts).links, [], key);
    // An object stream whose type is written with escapes, behind a plain one just before it.
    for (const type of ['/Type /Obj#53tm', '/#54ype/ObjStm', '/Type/#4F#62#6A#53#74#6D']) {
      const pdf = pdfWith(annot('(https://hidden.example/x)'), true).toString('latin1').replace('/Type /ObjStm', type);
      const plainBefore = pdfWith(annot('(https://plain.example/y)'), true).toString('latin1').split('%PDF-1.5')[1];
      assert.deepEqual(
        pdfLinks(Buffer.from(pdf.replace('%PDF-1.5\n', `%PDF-1.5\n${plainBefore}`), 'latin1'), opts).links,
        ['https://plain.example/y', 'https://hidden.example/x'],
        type,
      );
    }
    assert.deepEqual(nameAt(Buffer.from('/Obj#53tm/N 1'), 0), { name: 'ObjStm', end: 9 });
    assert.deepEqual(nameAt(Buffer.from('/A#2'), 0), { name: 'A#2', end: 4 });
    assert.equal(decodeNames('<</Type /Obj#53tm /F#69lter/FlateDecode (#41)>>'), '<</Type /ObjStm /Filter/FlateDecode (#41)>>');
  });

  it('ends however far before a stream its marker stands (a word just out of reach was found again, for ever)', async () => {
    // In a worker: were the fault back, the search would never return and only ending the thread stops it.
    const code = `const { parentPort, workerData } = require('node:worker_threads');
      const { pdfLinks } = require(workerData.links);
      const { pdfPictures } = require(workerData.pictures);
      const out = [];
      for (const [word, reach] of [['/ObjStm', 600], ['/Image', 1024], ['#', 600], ['#', 1024]])
        for (let gap = reach - 3; gap <= reach + 3; gap++) {
          // The word \`gap\` bytes before the stream keyword.
          const pdf = Buffer.from('%PDF-1.5\\n' + word + 'x'.repeat(gap - word.length - 2) + '>>stream\\nabc\\nendstream\\n', 'latin1');
          out.push(pdfLinks(pdf, { maxInflatedBytes: 1 << 20, maxLinks: 10 }).links.length + pdfPictures(pdf, 'x', 20).pictures.length);
        }
      parentPort.postMessage(out.length);`;
    const dir = path.join(__dirname, '..', '..', 'lib', 'attachments');
    const worker = new Worker(code, { eval: true, workerData: { links: path.join(dir, 'pdf-links.js'), pictures: path.join(dir, 'pdf-pictures.js') } });
    let timer: NodeJS.Timeout | undefined;
    try {
      const done = await Promise.race([
        once(worker, 'message').then(([m]) => m as unknown),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the PDFs were not read within 20 s')), 20_000))),
      ]);
      assert.equal(done, 28);
    } finally {
      clearTimeout(timer);
      await worker.terminate();
    }
  });

  it('reads an object stream behind thousands of other streams, stream keywords and /ObjStm words', () => {
    const pdf = pdfWith(annot('(https://behind.example/x)'), true);
    const padding = Buffer.from(
      `${'<<>>stream\n'.repeat(100_000)}${'/ObjStm'.repeat(100_000)}${'<</Type/XRef>>stream\nx\nendstream\n'.repeat(2_000)}`,
      'latin1',
    );
    const at = pdf.indexOf('%PDF') + 9;
    assert.deepEqual(pdfLinks(Buffer.concat([pdf.subarray(0, at), padding, pdf.subarray(at)]), opts).links, ['https://behind.example/x']);
  });

  it('inflates no more than its budget (a bombed object stream), and never throws on garbage', () => {
    const bomb = Buffer.concat([
      Buffer.from('%PDF-1.5\n7 0 obj\n<</Type/ObjStm/Filter/FlateDecode>>stream\n', 'latin1'),
      deflateSync(Buffer.alloc(50 << 20)),
      Buffer.from('\nendstream\nendobj\n', 'latin1'),
    ]);
    const r = pdfLinks(bomb, { maxInflatedBytes: 1 << 20, maxLinks: 10 });
    assert.deepEqual(r.links, []);
    assert.ok(r.inflatedBytes <= 1 << 20, `${r.inflatedBytes}`);
    const garbage = Buffer.concat([Buffer.from('%PDF-1.7\n<</Type/ObjStm>>stream\n'), Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256))]);
    assert.deepEqual(pdfLinks(garbage, opts).links, []);
  });

  it('reads any bytes a PDF attachment holds without a fault, within its bounds, and finds a planted link (fuzzed)', () => {
    // Pieces of real PDF syntax, hostile strings and compressed streams (good, truncated, bombs).
    const piece = fc.oneof(
      fc.constantFrom(
        '/URI',
        '/URI (',
        '/URI <',
        ')',
        '>',
        '\\',
        '\\(',
        'stream\n',
        'stream\r\n',
        'endstream',
        '<</Type /ObjStm>>',
        '<</Type/ObjStm/N 1>>stream\n',
        '%PDF-1.7\n',
        'obj',
        'endobj',
        '/U#52I (',
        '/#55RI <',
        '#',
        '#4',
        '/Obj#53tm',
        '<</#54ype/Obj#53tm/N 1>>stream\n',
      ),
      // Padding that puts a word at the edge of its reach before a stream keyword.
      fc.integer({ min: 590, max: 610 }).map((n) => 'x'.repeat(n)),
      fc.string({ maxLength: 30 }),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a).toString('latin1')),
      fc.string({ maxLength: 60 }).map((t) => deflateSync(Buffer.from(`6 0 /URI (${t})`, 'latin1')).toString('latin1')),
      fc.nat(3_000_000).map((n) => deflateSync(Buffer.alloc(n)).toString('latin1')),
      fc.tuple(fc.string({ maxLength: 60 }), fc.nat(40)).map(([t, cut]) => deflateSync(Buffer.from(t)).subarray(0, cut).toString('latin1')),
    );
    const maxInflatedBytes = 1 << 20;
    let planted = 0;
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.boolean(), fc.boolean(), (pieces, plant, escaped) => {
        const body = `%PDF-1.5\n${pieces.join('')}`;
        // Planted plainly or with its names escaped, as a reader reads them either way.
        const [type, key] = escaped ? ['/#54ype/Obj#53tm', '/U#52I'] : ['/Type/ObjStm', '/URI'];
        const pdf = Buffer.from(
          plant ? `${body}\n<<${type}>>stream\n${deflateSync(Buffer.from(`${key} (https://planted.example/x)`)).toString('latin1')}\nendstream` : body,
          'latin1',
        );
        const r = pdfLinks(pdf, { maxInflatedBytes, maxLinks: 20 });
        assert.ok(r.links.length <= 20);
        assert.ok(r.inflatedBytes <= maxInflatedBytes, `${r.inflatedBytes}`);
        for (const l of r.links) assert.match(l, /^(?:https?:|ftp:|\/\/|www\.)/i);
        if (plant && r.inflatedBytes < maxInflatedBytes - (1 << 16) && r.links.length < 20) {
          planted++;
          assert.ok(r.links.includes('https://planted.example/x'), JSON.stringify(r.links));
        }
      }),
      { numRuns: 300, seed: 20261201 },
    );
    assert.ok(planted > 50, `${planted} planted links checked`);
  });

  it('reads a /URI string from the bytes exactly as the regular expression over their Latin-1 text does (fuzzed)', () => {
    const URI = /\/URI\s*(?:\(((?:\\[\s\S]|[^\\)]){0,4096})\)|<([0-9A-Fa-f\s]{0,8192})>)/y;
    const piece = fc.oneof(
      fc.constantFrom('/URI', '(', ')', '<', '>', '\\', '\\)', '\\(', ' ', '\t', '\r\n', '\xa0', '\x85', '\x0b', 'https://x.example/', '0f', 'Zz'),
      fc.string({ unit: 'binary-ascii', maxLength: 12 }),
      fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a).toString('latin1')),
      fc.nat(9000).map((n) => 'a'.repeat(n)),
      fc.nat(9000).map((n) => '0 '.repeat(n >> 1)),
      // Near-strings: white space, an opening, a body of letters, escapes or hex, maybe a closing.
      fc
        .tuple(
          fc.constantFrom('', ' ', '\r\n', '\xa0\t'),
          fc.constantFrom('(', '<'),
          fc.array(fc.constantFrom('a', '\\)', '\\', '0', 'F', ' ', '\n', ')', '(', 'g'), { maxLength: 20 }),
          fc.oneof(
            fc.nat(4200).map((n) => 'b'.repeat(n)),
            fc.nat(8300).map((n) => 'e'.repeat(n)),
            fc.constant(''),
          ),
          fc.constantFrom(')', '>', ''),
        )
        .map(([ws, open, body, fill, close]) => `/URI${ws}${open}${body.join('')}${fill}${close}`),
    );
    let matched = 0;
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const bytes = Buffer.from(`/URI${pieces.join('')}`, 'latin1');
        const text = bytes.toString('latin1');
        for (let at = bytes.indexOf('/URI'); at >= 0; at = bytes.indexOf('/URI', at + 1)) {
          URI.lastIndex = at;
          const m = URI.exec(text);
          const got = uriAt(bytes, at);
          if (!m) assert.equal(got, null, `at ${at}`);
          else {
            matched++;
            assert.ok(got, `at ${at}: the expression matched ${JSON.stringify(m[0].slice(0, 80))}`);
            assert.equal(got.end, at + m[0].length);
          }
        }
      }),
      { numRuns: 3000, seed: 20261204 },
    );
    assert.ok(matched > 500, `${matched} matches compared`);
    // The value: a literal string's escapes and a hex string's digits read as before.
    assert.equal(uriAt(Buffer.from('/URI\r\n (https://a.example/\\(x\\))'), 0)?.value, 'https://a.example/(x)');
    assert.equal(uriAt(Buffer.from(`/URI<${Buffer.from('https://b.example').toString('hex')}>`), 0)?.value, 'https://b.example');
    // The bounds: 4,096 characters or escapes, 8,192 hex digits and spaces.
    assert.equal(uriAt(Buffer.from(`/URI(${'a'.repeat(4096)})`), 0)?.end, 4 + 4098);
    assert.equal(uriAt(Buffer.from(`/URI(${'\\)'.repeat(4096)})`), 0)?.end, 4 + 8194);
    assert.equal(uriAt(Buffer.from(`/URI(${'a'.repeat(4097)})`), 0), null, 'longer than 4,096 characters');
    assert.equal(uriAt(Buffer.from(`/URI<${'0'.repeat(8192)}>`), 0)?.end, 4 + 8194);
    assert.equal(uriAt(Buffer.from(`/URI<${'0'.repeat(8193)}>`), 0), null, 'longer than 8,192 digits');
  });

  it("a PDF attachment's links reach the URL analysis as source 'pdf' (a shortener behind a 'View document' page)", async () => {
    const input = await extractScanInput(
      toCrlf(withAttachment('Invoice.pdf', pdfWith(annot('(https://bit.ly/3uZWFWH)'), true), 'application/pdf')),
      { mailFrom: '', rcptTo: ['bob@example.org'] },
      config.limits,
    );
    assert.equal(input.attachments[0]?.pdf, true);
    assert.deepEqual(
      input.urls.map((u) => [u.source, u.host]),
      [['pdf', 'bit.ly']],
    );
    assert.ok(analyze(input, config).some((s) => s.code === 'URL_SHORTENER'));
  });
});

/** A meeting invitation: a text body, the invitation as a text/calendar part and as Google Calendar's application/ics invite.ics. */
function invitation(opts: { subject: string; ics: string; from?: string }): Buffer {
  const ics = Buffer.from(opts.ics.replace(/\r?\n/g, '\r\n'));
  return toCrlf(
    [
      `From: ${opts.from ?? 'Alice Martin <alice.martin@examplecorp.com>'}`,
      'To: bob@example.org',
      `Subject: ${opts.subject}`,
      'Message-ID: <inv1@examplecorp.com>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="m1"',
      '',
      '--m1',
      'Content-Type: multipart/alternative; boundary="a1"',
      '',
      '--a1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'You have been invited to the following event.',
      '',
      '--a1',
      'Content-Type: text/calendar; charset=utf-8; method=REQUEST',
      '',
      opts.ics,
      '--a1--',
      '',
      '--m1',
      'Content-Type: application/ics; name="invite.ics"',
      'Content-Disposition: attachment; filename="invite.ics"',
      'Content-Transfer-Encoding: base64',
      '',
      ics.toString('base64'),
      '--m1--',
      '',
    ].join('\n'),
  );
}

const LURE_ICS = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'METHOD:REQUEST',
  'BEGIN:VEVENT',
  'UID:20261210T100000Z-1234@examplecorp.com',
  'DTSTART:20261210T100000Z',
  'ORGANIZER;CN=HR:mailto:hr@examplecorp.com',
  'ATTENDEE;RSVP=TRUE:mailto:bob@example.org',
  'SUMMARY:Q4 salary review',
  // Folded in the middle of the link, with escaped commas and line breaks around it.
  'DESCRIPTION:Your letter is ready\\, sign in to review it:\\nhttp://45.77.12',
  ' .7/review?id=9\\n\\nHR',
  'LOCATION:https://teams-join.example.net/meet/1',
  'X-ALT-DESC;FMTTYPE=text/html:<html><body><a href="https://alt-desc.example.net/',
  '\tsign-in">Open</a><img src="https://pixel.example.net/p.gif"></body></html>',
  'ATTACH;FMTTYPE=application/pdf:https://files.example.net/letter.pdf',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\n');

describe('meeting invitations (iCalendar)', () => {
  const env = { mailFrom: '', rcptTo: ['bob@example.org'] };

  it("reads the links a calendar client shows (description folded and escaped, location, HTML description, attachments) as the body's", async () => {
    const input = await extractScanInput(invitation({ subject: 'Q4 salary review', ics: LURE_ICS }), env, config.limits);
    const urls = input.urls.map((u) => u.raw).sort();
    assert.deepEqual(urls, [
      'http://45.77.12.7/review?id=9',
      'https://alt-desc.example.net/sign-in',
      'https://files.example.net/letter.pdf',
      'https://teams-join.example.net/meet/1',
    ]);
    assert.ok(input.attachments.every((a) => a.calendar));
    // The address-literal link in the invitation is judged as one in the body would be.
    assert.ok(analyze(input, config).some((s) => s.code === 'URL_IP_LITERAL'));
  });

  it('takes no links from organizer / attendee addresses, the UID or dates, nor names of domains written as text', () => {
    const ics =
      'BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:abc@uid-host.example\nORGANIZER:mailto:o@org.example\n' +
      'DTSTART:20261210T100000Z\nDESCRIPTION:see examplecorp.com for the agenda\nEND:VEVENT\nEND:VCALENDAR\n';
    assert.deepEqual(calendarLinks(ics, 10), []);
    assert.deepEqual(calendarLinks('DESCRIPTION;ALTREP="https://altrep.example/x":text\n', 10), ['https://altrep.example/x']);
    assert.equal(unescapeText('a\\,b\\;c\\\\n\\nd'), 'a,b;c\\n\nd');
  });

  it('unescapes TEXT values as the RFC 5545 escapes read left to right (any other backslash kept)', () => {
    const reference = (v: string): string => v.replace(/\\([nN,;\\])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
    fc.assert(
      fc.property(fc.array(fc.constantFrom('\\', 'n', 'N', ',', ';', 'a', ':', '\n'), { maxLength: 40 }), (chars) => {
        const v = chars.join('');
        assert.equal(unescapeText(v), reference(v));
      }),
      { numRuns: 2000, seed: 20261206 },
    );
  });

  it("does not count Google Calendar's application/ics invite.ics as a type mismatch, nor its subject's (invitee) as the address lure", async () => {
    const ics =
      'BEGIN:VCALENDAR\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\nMETHOD:REQUEST\nBEGIN:VEVENT\nSUMMARY:Project sync\nEND:VEVENT\nEND:VCALENDAR\n';
    const subject = 'Invitation: Project sync @ Thu Dec 10, 2026 10am - 11am (UTC) (bob@example.org)';
    const input = await extractScanInput(invitation({ subject, ics }), env, config.limits);
    const found = analyze(input, config).map((s) => s.code);
    assert.ok(!found.includes('ATTACHMENT_TYPE_MISMATCH'), found.join());
    assert.ok(!found.includes('RCPT_IN_SUBJECT'), found.join());
    // The same subject on a message with no invitation, and the address elsewhere in an invitation's subject, still count.
    const plain = await extractScanInput(toCrlf(`From: a@examplecorp.com\nTo: bob@example.org\nSubject: ${subject}\n\nhello\n`), env, config.limits);
    assert.ok(analyze(plain, config).some((s) => s.code === 'RCPT_IN_SUBJECT'));
    const lure = await extractScanInput(invitation({ subject: 'bob@example.org: your mailbox is full', ics }), env, config.limits);
    assert.ok(analyze(lure, config).some((s) => s.code === 'RCPT_IN_SUBJECT'));
  });

  it('still flags content that is not a calendar under a calendar type', async () => {
    assert.deepEqual(await codes('invite.ics', PDF, 'application/ics'), ['ATTACHMENT_TYPE_MISMATCH']);
  });

  it('reads any text an invitation holds without a fault, within its bound, and finds a planted link (fuzzed)', () => {
    const piece = fc.oneof(
      fc.constantFrom(
        'BEGIN:VCALENDAR',
        'DESCRIPTION:',
        'X-ALT-DESC;FMTTYPE=text/html:',
        'LOCATION;X="a:b":',
        '\\n',
        '\\,',
        '\\',
        '"',
        ':',
        ';',
        '\r\n',
        '\n ',
        '\n\t',
        '<a href="',
        'https://',
        'www.',
      ),
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), fc.boolean(), (pieces, plant) => {
        const text = `${pieces.join('')}${plant ? '\nURL:https://planted.example/x\n' : ''}`;
        const links = calendarLinks(text, 20);
        assert.ok(links.length <= 20);
        if (plant && links.length < 20) assert.ok(links.includes('https://planted.example/x'), JSON.stringify(links));
      }),
      { numRuns: 500, seed: 20261203 },
    );
  });
});
