import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { emptyArchiveInfo, InflateBudget } from '../../lib/attachments/archive.js';
import { listSevenZip, sevenZipFiles } from '../../lib/attachments/seven-zip.js';
import { listUuencoded, MAX_BEGIN_WORDS } from '../../lib/attachments/uuencoded.js';
import { buildConfig } from '../../lib/config/load.js';
import { extractScanInput, inspectArchives } from '../../lib/message/extract.js';
import { analyze, archiveInspection } from '../../lib/scan.js';
import { rar5, sevenZipArchive, uuencode } from '../helpers/archives.js';
import { REPO } from '../helpers/haraka.js';
import { docx, pdfWithLink } from '../helpers/office-documents.js';
import { qrPng } from '../helpers/qr-pictures.js';
import { previewOf } from '../../lib/review/preview.js';
import { withAttachment, zip } from '../helpers/mime.js';
import { toCrlf } from '../helpers/smtp.js';

const config = buildConfig({ nlp: { enabled: false } }, { env: {} });
const PE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62), Buffer.from('PE\0\0'), Buffer.alloc(200)]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n', 'latin1');

/**
 * The clock 7-Zip's time budget reads (200 ms per message), standing still: on a loaded
 * machine two readings can take longer than that, and only the test of that budget is about time.
 */
const still = (): number => 0;

async function codes(name: string, content: Buffer, type = 'application/octet-stream', cfg = config): Promise<string[]> {
  const input = await extractScanInput(toCrlf(withAttachment(name, content, type)), { mailFrom: '', rcptTo: ['bob@example.org'] }, cfg.limits, still);
  await inspectArchives(input, archiveInspection(cfg));
  return [...new Set(analyze(input, cfg).map((s) => s.code))].sort();
}

/**
 * `data` in Unix compress (.Z) form, each byte a 9-bit LZW code of its own (valid: the decoder
 * builds its table and is never referred to it) — nothing on this machine writes .Z. At most
 * 250 bytes, so no code grows past 9 bits.
 */
function unixCompress(data: Buffer): Buffer {
  assert.ok(data.length <= 250);
  const out = [0x1f, 0x9d, 0x90]; // magic, block mode and at most 16 bits
  let bits = 0;
  let n = 0;
  for (const b of data) {
    bits |= b << n;
    n += 9;
    while (n >= 8) {
      out.push(bits & 0xff);
      bits >>>= 8;
      n -= 8;
    }
  }
  if (n > 0) out.push(bits & 0xff);
  return Buffer.from(out);
}

async function details(name: string, content: Buffer): Promise<string[]> {
  const input = await extractScanInput(
    toCrlf(withAttachment(name, content, 'application/octet-stream')),
    { mailFrom: '', rcptTo: ['bob@example.org'] },
    config.limits,
    still,
  );
  await inspectArchives(input, archiveInspection(config));
  return analyze(input, config).map((s) => `${s.code}: ${s.detail ?? ''}`);
}

describe('archives of other formats than zip, listed by 7-Zip', () => {
  it('names the program in a RAR, 7z, tar, gzip, bzip2 or xz archive', async () => {
    const files = [
      { name: 'Invoice 4711.pdf.exe', data: PE },
      { name: 'readme.txt', data: Buffer.from('Open the invoice.') },
    ];
    assert.deepEqual(await codes('Invoice.rar', rar5(files), 'application/x-rar-compressed'), ['ARCHIVE_EXECUTABLE']);
    assert.deepEqual(await details('Invoice.rar', rar5(files)), ['ARCHIVE_EXECUTABLE: Invoice.rar contains Invoice 4711.pdf.exe']);
    assert.deepEqual(await codes('Invoice.7z', await sevenZipArchive('7z', [{ name: 'docs/Invoice.js', data: Buffer.from('WScript.Echo(1)') }])), [
      'ARCHIVE_EXECUTABLE',
    ]);
    assert.deepEqual(await codes('Invoice.tar', await sevenZipArchive('tar', [{ name: 'Invoice.lnk', data: PE }])), ['ARCHIVE_EXECUTABLE']);
    // bzip2 and xz keep no name: what they hold is the attachment's name less the suffix, as 7-Zip and Windows extract it.
    assert.deepEqual(await codes('Invoice.scr.bz2', await sevenZipArchive('bzip2', [{ name: 'x', data: PE }])), ['ARCHIVE_EXECUTABLE']);
    assert.deepEqual(await codes('Invoice.vbs.xz', await sevenZipArchive('xz', [{ name: 'x', data: Buffer.from('x') }])), ['ARCHIVE_EXECUTABLE']);
    // A .tbz2 holds a .tar: no program by its name, but taken out (an archive in an archive) it is one by its bytes.
    assert.deepEqual(await codes('Invoice.tbz2', await sevenZipArchive('bzip2', [{ name: 'x', data: PE }])), ['ATTACHMENT_EXECUTABLE']);
    // A gzip keeps the name it was made from; without one it is the attachment's name less .gz, as 7-Zip and Windows extract it.
    assert.deepEqual(await codes('Payment.pdf.gz', await sevenZipArchive('gzip', [{ name: 'Payment.exe', data: PE }])), ['ARCHIVE_EXECUTABLE']);
    assert.deepEqual(await details('Payment.exe.gz', gzipSync(PE)), ['ARCHIVE_EXECUTABLE: Payment.exe.gz contains Payment.exe']);
  });

  it('passes archives of documents without a signal', async () => {
    assert.deepEqual(
      await codes(
        'Statements.rar',
        rar5([
          { name: 'Statement.pdf', data: PDF },
          { name: 'notes.txt', data: Buffer.from('x') },
        ]),
      ),
      [],
    );
    assert.deepEqual(await codes('photos.7z', await sevenZipArchive('7z', [{ name: 'trip/1.jpg', data: Buffer.from('jpeg') }])), []);
    assert.deepEqual(await codes('report.tar.gz', gzipSync(await sevenZipArchive('tar', [{ name: 'report.csv', data: Buffer.from('a,b') }]))), []);
  });

  it('flags password-protected archives: their files, and names it cannot read', async () => {
    assert.deepEqual(await codes('Secure.rar', rar5([{ name: 'Statement.pdf', data: PDF, encrypted: true }])), ['ARCHIVE_ENCRYPTED']);
    assert.deepEqual(await codes('Secure.7z', await sevenZipArchive('7z', [{ name: 'Statement.pdf', data: PDF }], ['-pinfected'])), ['ARCHIVE_ENCRYPTED']);
    // -mhe: the names are encrypted too; nothing can be listed, and it is never a silent pass.
    assert.deepEqual(await codes('Secure.7z', await sevenZipArchive('7z', [{ name: 'Statement.exe', data: PE }], ['-pinfected', '-mhe=on'])), [
      'ATTACHMENT_UNINSPECTABLE',
    ]);
  });

  it('marks a broken or false archive uninspectable instead of passing it', async () => {
    assert.deepEqual(await codes('Invoice.rar', Buffer.from('Rar!\x1a\x07\x01\x00 this is no archive', 'latin1')), ['ATTACHMENT_UNINSPECTABLE']);
    assert.deepEqual(await codes('Invoice.7z', Buffer.from('just some text named .7z')), ['ATTACHMENT_UNINSPECTABLE']);
    const whole = rar5([
      { name: 'a.txt', data: Buffer.alloc(300, 97) },
      { name: 'Invoice.exe', data: PE },
    ]);
    // Cut in the program's header: the first file is listed, the rest is not there to read.
    const cut = await codes('Invoice.rar', whole.subarray(0, whole.indexOf('Invoice.exe') - 4));
    assert.ok(cut.includes('ATTACHMENT_UNINSPECTABLE'), cut.join(' '));
  });

  it('lists a Unix compress .Z; records an archive 7-Zip cannot read (ACE, also named .rar) as not inspected', async () => {
    assert.deepEqual(await codes('Payment.exe.Z', unixCompress(PE.subarray(0, 120))), ['ARCHIVE_EXECUTABLE']);
    assert.deepEqual(await codes('Report.csv.Z', unixCompress(Buffer.from('a,b\n1,2\n'))), []);
    // An ACE archive: WinRAR opened them (until 2019), and its hole was used with ACE files named .rar.
    const ace = Buffer.concat([Buffer.from('31310000000000', 'hex'), Buffer.from('**ACE**'), Buffer.alloc(64)]);
    assert.deepEqual(await details('Invoice.rar', ace), ['ATTACHMENT_UNINSPECTABLE: Invoice.rar: not a readable archive']);
    assert.deepEqual(await codes('Invoice.ace', ace), ['ATTACHMENT_UNINSPECTABLE']);
  });

  it("lists within the message's entry budget and says when it stopped", async () => {
    const few = buildConfig({ nlp: { enabled: false }, attachments: { max_archive_entries: 20 } }, { env: {} });
    const files = Array.from({ length: 60 }, (_, i) => ({ name: `page${i}.txt`, data: Buffer.from('x') }));
    files.push({ name: 'zz.exe', data: PE });
    assert.deepEqual(await codes('pages.rar', rar5(files), 'application/octet-stream', few), ['ARCHIVE_LIMIT']);
    const info = await listSevenZip(rar5(files), 'pages.rar', new InflateBudget(1 << 20, 20), emptyArchiveInfo());
    assert.equal(info.entries.length, 20);
    assert.equal(info.truncated, true);
    assert.equal(info.done, true);
  });

  it('stops at once when the scan has ended', async () => {
    const info = await listSevenZip(rar5([{ name: 'a.exe', data: PE }]), 'a.rar', new InflateBudget(1 << 20, 100, AbortSignal.abort()), emptyArchiveInfo());
    assert.deepEqual(info.entries, []);
    assert.match(info.uninspected ?? '', /scan budget ended/);
  });

  it("records what it could not list: past the message's first five such archives, past 7-Zip's memory", async () => {
    const part = (i: number): string =>
      `--p\nContent-Type: application/x-rar-compressed; name="a${i}.rar"\nContent-Disposition: attachment; filename="a${i}.rar"\nContent-Transfer-Encoding: base64\n\n${rar5([{ name: i === 5 ? 'run.exe' : 'a.txt', data: Buffer.from('x') }]).toString('base64')}\n`;
    const raw = toCrlf(`From: a@example.com\nContent-Type: multipart/mixed; boundary="p"\n\n${[0, 1, 2, 3, 4, 5].map(part).join('')}--p--\n`);
    const input = await extractScanInput(raw, { mailFrom: '', rcptTo: ['bob@example.org'] }, config.limits, still);
    await inspectArchives(input, archiveInspection(config));
    assert.deepEqual(
      analyze(input, config).map((s) => `${s.code}: ${s.detail ?? ''}`),
      [
        'LIMIT_DOCUMENT_PARTS: a5.rar: past the first 5 such archives of the message; the rest not read for links and pictures',
        'ATTACHMENT_UNINSPECTABLE: a5.rar: past the first 5 RAR, 7z, tar and other such archives of the message',
      ],
    );
    // 200,000 files (test/fixtures/README.md): 7-Zip's directory takes it past the 16.25 MiB it starts with.
    const big = readFileSync(path.join(REPO, 'test/fixtures/archives/200000-empty-files.7z'));
    const info = await listSevenZip(big, 'big.7z', new InflateBudget(1 << 20, 100), emptyArchiveInfo(), 17_039_360);
    assert.deepEqual(info.entries, []);
    assert.equal(info.uninspected, '7-Zip needed more than 16 MiB to list it');
    // Within the memory a listing has (MAX_MEMORY, 32 MiB), it is listed as far as the entries budget goes.
    assert.equal((await listSevenZip(big, 'big.7z', new InflateBudget(1 << 20, 100), emptyArchiveInfo())).entries.length, 100);
  });

  it('reads the page, PDF or document in one as if attached', async () => {
    const page = Buffer.from('<form action="https://login.example.net/p"><input type="password" name="p"></form>');
    assert.deepEqual(await details('Invoice.rar', rar5([{ name: 'docs/Invoice.html', data: page }])), [
      'ATTACHMENT_HTML_ACTIVE: Invoice.rar/docs/Invoice.html: 1 form(s), 1 password field(s), 0 script(s)',
    ]);
    assert.deepEqual(await codes('Invoice.html.gz', gzipSync(page)), ['ATTACHMENT_HTML_ACTIVE']);
    assert.deepEqual(await codes('Invoice.7z', await sevenZipArchive('7z', [{ name: 'Invoice.pdf', data: pdfWithLink('http://45.33.32.156/pay') }])), [
      'URL_IP_LITERAL',
    ]);
    assert.deepEqual(
      await codes('Invoice.tar', await sevenZipArchive('tar', [{ name: 'Invoice.docx', data: docx({ fieldLink: 'http://45.33.32.156/pay' }) }])),
      ['URL_IP_LITERAL'],
    );
    // An encrypted entry is not read (ARCHIVE_ENCRYPTED names it).
    assert.deepEqual(await codes('Invoice.rar', rar5([{ name: 'Invoice.html', data: page, encrypted: true }])), ['ARCHIVE_ENCRYPTED']);
  });

  it('names the program in a zip in a RAR and in a RAR in a zip, and reads the page in a 7z in a zip', async () => {
    const inRar = rar5([{ name: 'Invoice.zip', data: zip({ 'Invoice.exe': PE }) }]);
    assert.deepEqual(await details('Invoice.rar', inRar), ['ARCHIVE_EXECUTABLE: Invoice.rar/Invoice.zip contains Invoice.exe']);
    const inZip = zip({ 'Invoice.rar': rar5([{ name: 'Invoice.scr', data: PE }]) });
    assert.deepEqual(await details('Invoice.zip', inZip), ['ARCHIVE_EXECUTABLE: Invoice.zip/Invoice.rar contains Invoice.scr']);
    const page = Buffer.from('<form action="https://login.example.net/p"><input type="password" name="p"></form>');
    const sevenInZip = zip({ 'docs.7z': await sevenZipArchive('7z', [{ name: 'Invoice.html', data: page }]) });
    assert.deepEqual(await codes('Invoice.zip', sevenInZip, 'application/zip'), ['ATTACHMENT_HTML_ACTIVE']);
  });

  it("reads archives' files while 7-Zip has time left for the message, and records the rest", async () => {
    const page = Buffer.from('<form action="https://login.example.net/p"><input type="password" name="p"></form>');
    const part = (n: string): string =>
      `--p\nContent-Type: application/octet-stream; name="${n}"\nContent-Disposition: attachment; filename="${n}"\nContent-Transfer-Encoding: base64\n\n${rar5([{ name: 'Invoice.html', data: page }]).toString('base64')}\n`;
    const raw = toCrlf(`From: a@example.com\nContent-Type: multipart/mixed; boundary="p"\n\n${part('a.rar')}${part('b.rar')}--p--\n`);
    // A clock where every reading of an archive takes 150 ms: the first two start within the 200 ms, the third does not.
    let t = 0;
    const slow = (): number => (t += 150);
    const raw3 = toCrlf(`From: a@example.com\nContent-Type: multipart/mixed; boundary="p"\n\n${part('a.rar')}${part('b.rar')}${part('c.rar')}--p--\n`);
    const input = await extractScanInput(raw3, { mailFrom: '', rcptTo: ['bob@example.org'] }, config.limits, slow);
    assert.deepEqual(
      input.attachments.map((a) => a.contents?.map((c) => c.filename)),
      [['a.rar/Invoice.html'], ['b.rar/Invoice.html'], undefined],
    );
    assert.deepEqual(
      input.limits.map((l) => l.detail),
      ["c.rar: past the 200 ms 7-Zip may take to read the message's archives; the rest not read for links and pictures"],
    );
    // With time, every one is read.
    const fast = await extractScanInput(raw, { mailFrom: '', rcptTo: ['bob@example.org'] }, config.limits, still);
    assert.equal(fast.attachments.filter((a) => a.contents?.length).length, 2);
  });

  it('counts what a solid archive decompresses to reach a file, and records what that leaves unread', async () => {
    const page = Buffer.from('<form action="https://login.example.net/p"><input type="password" name="p"></form>');
    // 9 MiB before the page in one 7z block: reading the page decompresses them, past the message's 8 MiB.
    const solid = await sevenZipArchive(
      '7z',
      [
        { name: 'a.bin', data: Buffer.alloc(9 << 20, 1) },
        { name: 'b.html', data: page },
      ],
      ['-ms=on'],
    );
    const input = await extractScanInput(toCrlf(withAttachment('a.7z', solid)), { mailFrom: '', rcptTo: ['bob@example.org'] }, config.limits, still);
    assert.deepEqual(
      input.limits.map((l) => `${l.code}: ${l.detail}`),
      ["LIMIT_DOCUMENT_PARTS: a.7z: b.html: past the message's 8388608 bytes to decompress; the rest not read for links and pictures"],
    );
    // Not solid, the same files: the page is read (and 9 MiB of one byte is a bomb by its ratio).
    const apart = await sevenZipArchive(
      '7z',
      [
        { name: 'a.bin', data: Buffer.alloc(9 << 20, 1) },
        { name: 'b.html', data: page },
      ],
      ['-ms=off'],
    );
    assert.deepEqual(await codes('a.7z', apart), ['ARCHIVE_BOMB', 'ATTACHMENT_HTML_ACTIVE']);
  });

  it('shows the analyst the links of a PDF in a RAR (also in a zip) and of a QR picture in a 7z', async () => {
    const p = await previewOf(
      Buffer.from(toCrlf(withAttachment('Invoice.rar', rar5([{ name: 'Invoice.pdf', data: pdfWithLink('http://45.33.32.156/pay') }])))),
    );
    assert.deepEqual(p.links, [{ url: 'hxxp://45[.]33[.]32[.]156/pay', text: 'link in Invoice.rar/Invoice.pdf' }]);
    const q = await previewOf(
      Buffer.from(toCrlf(withAttachment('scan.7z', await sevenZipArchive('7z', [{ name: 'scan.png', data: qrPng('https://pay.example-corp.com/4711') }])))),
    );
    assert.deepEqual(q.links, [{ url: 'hxxps://pay[.]example-corp[.]com/4711', text: 'QR code in scan.7z/scan.png' }]);
    // A RAR in a zip, as the scan reads it.
    const nested = zip({ 'Invoice.rar': rar5([{ name: 'Invoice.pdf', data: pdfWithLink('http://45.33.32.156/pay') }]) });
    const n = await previewOf(Buffer.from(toCrlf(withAttachment('Invoice.zip', nested, 'application/zip'))));
    assert.deepEqual(n.links, [{ url: 'hxxp://45[.]33[.]32[.]156/pay', text: 'link in Invoice.zip/Invoice.rar/Invoice.pdf' }]);
  });

  it('reads each archive in a fresh 7-Zip: one cannot see another', async () => {
    // As the test runner left it (it sets 1 once a test has failed).
    const exitCode = process.exitCode;
    const a = await listSevenZip(rar5([{ name: 'first.exe', data: PE }]), 'same.rar', new InflateBudget(1 << 20, 100), emptyArchiveInfo());
    const b = await listSevenZip(Buffer.from('not an archive'), 'same.rar', new InflateBudget(1 << 20, 100), emptyArchiveInfo());
    assert.deepEqual(
      a.entries.map((e) => e.name),
      ['first.exe'],
    );
    assert.deepEqual(b.entries, []);
    assert.equal(b.unreadable, true);
    // 7-Zip ended with its exit code 2 there: the process's own is left as it was.
    assert.equal(process.exitCode, exitCode);
  });

  it('lists an archive from the listing its files were read with, when that one went as far', async () => {
    const files = [
      { name: 'Invoice.pdf.exe', data: PE },
      { name: 'a.txt', data: Buffer.from('a') },
      { name: 'b.txt', data: Buffer.from('b') },
    ];
    const wanted = (): number => 1;
    const opts = { maxBytes: 1 << 20, maxFiles: 20 };
    const names = (a: { entries: Array<{ name: string }> }): string[] => a.entries.map((e) => e.name).sort();
    // Read, then its bytes spoilt: a second opening would find no archive, the listing kept still lists it.
    const read = rar5(files);
    assert.equal((await sevenZipFiles(read, 'Invoice.rar', wanted, opts, new InflateBudget(1 << 20, 1000)))?.files.length, 3);
    read.fill(0);
    const kept = await listSevenZip(read, 'Invoice.rar', new InflateBudget(1 << 20, 1000), emptyArchiveInfo());
    assert.deepEqual(names(kept), ['Invoice.pdf.exe', 'a.txt', 'b.txt']);
    assert.equal(kept.unreadable, false);
    // A damaged archive is opened once too: the listing says what 7-Zip said then.
    const damaged = Buffer.from('not an archive');
    assert.equal(await sevenZipFiles(damaged, 'Invoice.rar', wanted, opts, new InflateBudget(1 << 20, 1000)), null);
    damaged.set(rar5(files).subarray(0, damaged.length));
    assert.equal((await listSevenZip(damaged, 'Invoice.rar', new InflateBudget(1 << 20, 1000), emptyArchiveInfo())).unreadable, true);
    // Opened again: under another name (a nameless gzip's entry is named after it), and after a
    // listing that stopped before the lines this one reads.
    const renamed = rar5(files);
    await sevenZipFiles(renamed, 'Invoice.rar', wanted, opts, new InflateBudget(1 << 20, 1000));
    renamed.fill(0);
    assert.equal((await listSevenZip(renamed, 'Other.rar', new InflateBudget(1 << 20, 1000), emptyArchiveInfo())).unreadable, true);
    const many = Array.from({ length: 30 }, (_, i) => ({ name: `f${i}.txt`, data: Buffer.from('x') }));
    const short = rar5(many);
    const cut = await sevenZipFiles(short, 'Invoice.rar', wanted, opts, new InflateBudget(1 << 20, 1));
    assert.equal(cut?.unread, 'entries past the first 1 not looked at');
    const whole = await listSevenZip(short, 'Invoice.rar', new InflateBudget(1 << 20, 1000), emptyArchiveInfo());
    assert.equal(whole.entries.length, 30);
    assert.equal(whole.truncated, false);
  });
});

describe("an attached message's attachments, judged as attachments", () => {
  const forward = (inner: string): Buffer =>
    Buffer.from(toCrlf(withAttachment('Voicemail.eml', Buffer.from(toCrlf(inner)), 'message/rfc822', { subject: 'FW: voicemail', text: 'See attached.' })));

  async function found(raw: Buffer): Promise<{ signals: string[]; urls: string[] }> {
    const input = await extractScanInput(raw, { mailFrom: '', rcptTo: ['bob@example.org'] }, config.limits, still);
    await inspectArchives(input, archiveInspection(config));
    return { signals: analyze(input, config).map((s) => `${s.code}: ${s.detail ?? ''}`), urls: input.urls.map((u) => `${u.source} ${u.raw}`) };
  }

  it('names a login page, a program in a rar or a zip, a macro document in a forwarded message', async () => {
    const page = '<form action="https://voicemail.example.net/login"><input type="password" name="p"></form>';
    const f = await found(forward(withAttachment('Voicemail.html', Buffer.from(page), 'text/html')));
    assert.deepEqual(f.signals, ['ATTACHMENT_HTML_ACTIVE: Voicemail.eml/Voicemail.html: 1 form(s), 1 password field(s), 0 script(s)']);
    // Its form's target is the attached message's link (another sender's), read once.
    assert.deepEqual(f.urls, ['message https://voicemail.example.net/login']);
    const rar = await found(forward(withAttachment('Invoice.rar', rar5([{ name: 'Invoice.pdf.exe', data: PE }]))));
    assert.deepEqual(rar.signals, ['ARCHIVE_EXECUTABLE: Voicemail.eml/Invoice.rar contains Invoice.pdf.exe']);
    const zipped = await found(forward(withAttachment('Invoice.zip', zip({ 'Invoice.scr': PE }), 'application/zip')));
    assert.deepEqual(zipped.signals, ['ARCHIVE_EXECUTABLE: Voicemail.eml/Invoice.zip contains Invoice.scr']);
    const macro = await found(forward(withAttachment('Budget.xlsm', zip({ '[Content_Types].xml': Buffer.from('<Types/>') }))));
    assert.deepEqual(macro.signals, ['ATTACHMENT_MACRO: Voicemail.eml/Budget.xlsm']);
  });

  it('passes a forwarded message with a PDF, and does not open a message attached inside it', async () => {
    assert.deepEqual((await found(forward(withAttachment('Statement.pdf', PDF, 'application/pdf')))).signals, []);
    const inner = withAttachment('Invoice.rar', rar5([{ name: 'Invoice.exe', data: PE }]));
    const twice = Buffer.from(toCrlf(withAttachment('FW.eml', forward(inner), 'message/rfc822')));
    assert.deepEqual((await found(twice)).signals, []);
  });
});

describe('uuencoded attachments (.uue), listed from their begin lines', () => {
  it('names the program in one, and passes one of documents', async () => {
    assert.deepEqual(await details('Invoice.uue', uuencode([{ name: 'Invoice.pdf.exe', data: PE }])), [
      'ARCHIVE_EXECUTABLE: Invoice.uue contains Invoice.pdf.exe',
    ]);
    const two = uuencode(
      [
        { name: 'Statement.pdf', data: PDF },
        { name: 'setup.js', data: Buffer.from('WScript.Echo(1)') },
      ],
      true,
      '\r\n',
    );
    assert.deepEqual(await details('Statement.xxe', two), ['ARCHIVE_EXECUTABLE: Statement.xxe contains setup.js']);
    assert.deepEqual(await codes('Statement.uue', uuencode([{ name: 'Statement.pdf', data: PDF }])), []);
    // Zipped, or in a RAR: taken out as an archive in an archive is, and listed.
    const zipped = zip({ 'Invoice.uue': uuencode([{ name: 'Invoice.pdf.exe', data: PE }]) });
    assert.deepEqual(await details('Invoice.zip', zipped), ['ARCHIVE_EXECUTABLE: Invoice.zip/Invoice.uue contains Invoice.pdf.exe']);
    const rar = rar5([{ name: 'Invoice.uue', data: uuencode([{ name: 'Invoice.pdf.exe', data: PE }]) }]);
    assert.deepEqual(await details('Invoice.rar', rar), ['ARCHIVE_EXECUTABLE: Invoice.rar/Invoice.uue contains Invoice.pdf.exe']);
  });

  it('records text without a begin line as not a readable archive, and lists within the entry budget', async () => {
    assert.deepEqual(await details('Invoice.uue', Buffer.from('M35H``````\n`\nend\n')), ['ATTACHMENT_UNINSPECTABLE: Invoice.uue: not a readable archive']);
    const few = buildConfig({ nlp: { enabled: false }, attachments: { max_archive_entries: 20 } }, { env: {} });
    const many = uuencode([...Array.from({ length: 30 }, (_, i) => ({ name: `page${i}.txt`, data: Buffer.from('x') })), { name: 'zz.exe', data: PE }]);
    assert.deepEqual(await codes('pages.uue', many, 'application/octet-stream', few), ['ARCHIVE_LIMIT']);
  });

  it('reads a name after a long run of blanks, and a megabyte of begin lines, in one pass', () => {
    const spaced = listUuencoded(
      Buffer.from(`begin 644${' \t'.repeat(500_000)}Invoice.exe  \r\nM\nend\n`, 'latin1'),
      new InflateBudget(1 << 20, 100),
      emptyArchiveInfo(),
    );
    assert.deepEqual(
      spaced.entries.map((e) => e.name),
      ['Invoice.exe'],
    );
    const lines = listUuencoded(Buffer.from('begin 644 a.txt\n'.repeat(70_000), 'latin1'), new InflateBudget(1 << 20, 100_000), emptyArchiveInfo());
    assert.equal(lines.entries.length, 70_000);
    assert.equal(lines.truncated, false);
    // Padded with the word past what is looked at: the program after it is not seen, and that is recorded.
    const padded = Buffer.from(`${'x begin '.repeat(MAX_BEGIN_WORDS)}\nbegin 644 Invoice.exe\nM\nend\n`, 'latin1');
    const cut = listUuencoded(padded, new InflateBudget(1 << 20, 100), emptyArchiveInfo());
    assert.deepEqual(cut.entries, []);
    assert.equal(cut.uninspected, `more than ${MAX_BEGIN_WORDS} words 'begin': the rest not looked at`);
  });
});
