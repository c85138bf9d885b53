import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { analyze } from '../../lib/scan.js';
import { extractScanInput } from '../../lib/message/extract.js';
import { withAttachment, zip } from '../helpers/mime.js';
import { toCrlf } from '../helpers/smtp.js';

const config = buildConfig({ nlp: { enabled: false } }, { env: {} });
const limits = { ...config.limits, archive: { maxEntries: config.attachments.max_archive_entries, maxDepth: config.attachments.max_archive_depth } };
const PDF = Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n', 'latin1');
const PE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62), Buffer.from('PE\0\0')]);

async function codes(name: string, content: Buffer, type?: string): Promise<string[]> {
  const input = await extractScanInput(toCrlf(withAttachment(name, content, type)), { mailFrom: '', rcptTo: ['bob@example.org'] }, limits);
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
    assert.deepEqual(await codes('budget.xlsm', zip({ '[Content_Types].xml': Buffer.from('<Types/>') }), 'application/vnd.ms-excel.sheet.macroEnabled.12'), ['ATTACHMENT_MACRO']);
  });

  it('flags HTML and SVG attachments with forms, password fields or scripts', async () => {
    assert.deepEqual(await codes('Remittance.html', Buffer.from('<form action="https://x.example/p"><input type="password" name="p"></form>'), 'text/html'), ['ATTACHMENT_HTML_ACTIVE']);
    assert.deepEqual(await codes('voicemail.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>location="https://x.example"</script></svg>'), 'image/svg+xml'), ['ATTACHMENT_HTML_ACTIVE']);
    assert.deepEqual(await codes('newsletter.html', Buffer.from('<h1>Hello</h1><p>Plain page.</p>'), 'text/html'), []);
  });

  it('analyses the links inside an HTML attachment like links in the body', async () => {
    assert.deepEqual(await codes('Invoice.html', Buffer.from('<p>View your invoice</p><a href="http://45.33.32.156/inv/login.php">Open</a>'), 'text/html'), ['URL_IP_LITERAL']);
    assert.deepEqual(await codes('Doc.htm', Buffer.from('<a href="https://secure-docs-4f2a.web.app/">Open document</a>'), 'text/html'), ['URL_FREE_HOSTING']);
    const input = await extractScanInput(toCrlf(withAttachment('Doc.htm', Buffer.from('<a href="https://files.example.net/x">Open</a><img src="https://cdn.example.net/logo.png">'), 'text/html')), { mailFrom: '', rcptTo: ['bob@example.org'] }, limits);
    assert.deepEqual(input.urls.filter((u) => u.source === 'attachment').map((u) => u.host), ['files.example.net'], 'links only, not images');
  });

  it('flags content that is not what its declared type says', async () => {
    assert.deepEqual(await codes('photo.png', PDF, 'image/png'), ['ATTACHMENT_TYPE_MISMATCH']);
    assert.ok((await codes('statement.pdf', PE, 'application/pdf')).includes('ATTACHMENT_EXECUTABLE'));
    assert.deepEqual(await codes('report.pdf', PDF, 'application/pdf'), []);
  });

  it('lists zips: an executable inside, also one level down, is flagged', async () => {
    assert.deepEqual(await codes('docs.zip', zip({ 'readme.txt': Buffer.from('hi'), 'invoice.pdf.scr': Buffer.from('x') }), 'application/zip'), ['ARCHIVE_EXECUTABLE']);
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

  it('survives a corrupt zip', async () => {
    assert.deepEqual(await codes('broken.zip', Buffer.from('PK\x03\x04 this is not really a zip'), 'application/zip'), []);
  });
});
