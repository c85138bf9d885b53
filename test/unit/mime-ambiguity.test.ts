import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildConfig } from '../../lib/config/load.js';
import { extractScanInput } from '../../lib/message/extract.js';
import { fileNames, headerParams, MAX_PARAMS, mimeAmbiguities } from '../../lib/message/mime-ambiguity.js';
import { scanMessage } from '../../lib/scan.js';
import { toCrlf } from '../helpers/smtp.js';

const limits = buildConfig({}, { env: {} }).limits;
const env = { mailFrom: 'anna@partner-firm.example', rcptTo: ['bob@example.org'] };
const HEAD = ['From: Anna <anna@partner-firm.example>', 'To: bob@example.org', 'Subject: Minutes', 'MIME-Version: 1.0'];
/** The lure a reader is shown when it takes the other reading. */
const LURE = '<p>Your mailbox is full.</p><a href="http://45.33.32.156/owa/login.php">Sign in</a>';

const message = (lines: string[]): Buffer => toCrlf([...HEAD, ...lines, ''].join('\n'));
const ambiguity = async (raw: Buffer): Promise<string | undefined> =>
  (await extractScanInput(raw, env, limits)).limits.find((l) => l.code === 'MIME_AMBIGUOUS')?.detail;

/** Messages mail readers read two ways: the decoy first (postal-mime's reading), the lure after. */
const twoReadings: Record<string, Buffer> = {
  'a boundary given twice': message([
    'Content-Type: multipart/mixed; boundary="decoy"; boundary="real"',
    '',
    '--decoy',
    'Content-Type: text/plain',
    '',
    'See you at lunch.',
    '--decoy--',
    '--real',
    'Content-Type: text/html',
    '',
    LURE,
    '--real--',
  ]),
  'two Content-Type headers': message(['Content-Type: text/plain; charset=utf-8', 'Content-Type: text/html; charset=utf-8', '', LURE]),
  'two Content-Transfer-Encoding headers': message([
    'Content-Type: text/html',
    'Content-Transfer-Encoding: 7bit',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(LURE).toString('base64'),
  ]),
  'a Content-Type that is not a type/subtype': message(['Content-Type: =?utf-8?q?text=2Fhtml?=', '', LURE]),
  'a uuencoded part': message(['Content-Type: text/html', 'Content-Transfer-Encoding: x-uuencode', '', 'begin 644 notice.html', 'M/&AT;6P^', '`', 'end']),
  'an attachment named twice, in a nested part': attached('attachment; filename="invoice.pdf"; filename="invoice.exe"'),
  'a file named as a PDF in filename and as a script in filename*': attached('attachment; filename="invoice.pdf"; filename*=utf-8\'\'invoice.js'),
  'a file named as a PDF in Content-Disposition and as a program in Content-Type': attached(
    'attachment; filename="invoice.pdf"',
    'application/pdf; name="invoice.exe"',
  ),
  'a file named in RFC 2231 pieces': attached('attachment; filename="invoice.pdf"; filename*0*=utf-8\'\'inv; filename*1*=oice%2Ehta'),
};

/** A message with one attachment, its Content-Disposition and Content-Type as given. */
function attached(disposition: string, type = 'application/octet-stream'): Buffer {
  return message([
    'Content-Type: multipart/mixed; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'The invoice.',
    '--b',
    `Content-Type: ${type}`,
    `Content-Disposition: ${disposition}`,
    'Content-Transfer-Encoding: base64',
    '',
    'dmFyIHggPSAxOw==',
    '--b--',
  ]);
}

describe('MIME parts mail readers read differently (MIME_AMBIGUOUS)', () => {
  for (const [what, raw] of Object.entries(twoReadings))
    it(`records ${what}`, async () => {
      const detail = await ambiguity(raw);
      assert.ok(detail, 'no MIME_AMBIGUOUS');
      assert.ok(detail.length <= 300);
    });

  it('records it in an attached message too, as the reader opens it', async () => {
    const inner = twoReadings['a boundary given twice'].toString('latin1');
    const raw = message([
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      '--outer',
      'Content-Type: text/plain',
      '',
      'Forwarded as asked.',
      '--outer',
      'Content-Type: message/rfc822',
      'Content-Disposition: attachment; filename="Minutes.eml"',
      '',
      inner.replace(/\r\n/g, '\n'),
      '--outer--',
    ]);
    assert.equal(await ambiguity(raw), "attached message Minutes.eml: boundary given twice in content-type: 'decoy' and 'real'");
  });

  it('says what it found: both values', async () => {
    assert.equal(await ambiguity(twoReadings['a boundary given twice']), "boundary given twice in content-type: 'decoy' and 'real'");
    assert.match(
      (await ambiguity(twoReadings['an attachment named twice, in a nested part']))!,
      /filename given twice in content-disposition: 'invoice\.pdf' and 'invoice\.exe'/,
    );
    assert.match(
      (await ambiguity(twoReadings['two Content-Type headers']))!,
      /two content-type headers: 'text\/plain; charset=utf-8' and 'text\/html; charset=utf-8'/,
    );
    assert.equal(await ambiguity(twoReadings['a file named in RFC 2231 pieces']), "the file is named 'invoice.pdf' and 'invoice.hta'");
  });

  it('reads every name a part gives its file, decoded', () => {
    assert.deepEqual(fileNames(headerParams('attachment; filename*1*=%2Eexe; filename*0*=utf-8\'en\'Rechnung; filename="Rechnung.pdf"')), [
      'Rechnung.pdf',
      'Rechnung.exe',
    ]);
    assert.deepEqual(fileNames(headerParams('application/pdf; name="=?utf-8?B?UsOpc3Vtw6kucGRm?="; name*0="a"; name*1="b.txt"')), ['Résumé.pdf', 'ab.txt']);
    assert.deepEqual(fileNames(headerParams("attachment; filename*=utf-8''%E2%82%AC%zz.pdf")), ['€%zz.pdf']);
    assert.deepEqual(fileNames(headerParams('text/plain; charset=utf-8')), []);
  });

  it('does not record what readers agree on: one header written twice alike, filename and filename*, quoted semicolons, no MIME', async () => {
    const agreed = [
      message(['Content-Type: text/plain; charset=utf-8', 'Content-Type: text/plain;  charset="UTF-8"', '', 'Hello']),
      message([
        'Content-Type: multipart/mixed; boundary="b"',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        'Hi',
        '--b',
        'Content-Type: application/pdf; name="=?utf-8?q?R=C3=A9sum=C3=A9.pdf?="',
        'Content-Disposition: attachment; filename="Resume.pdf"; filename*=utf-8\'\'R%C3%A9sum%C3%A9.pdf',
        '',
        'x',
        '--b--',
      ]),
      message(['Content-Type: text/plain; name="a; name=b.txt"; name="a; name=b.txt"', '', 'Hi']),
      attached('attachment; filename="Invoice.PDF"; filename*=utf-8\'\'Invoice.pdf.', 'application/pdf; name="Invoice.pdf"'),
      toCrlf('From: a@b.example\nTo: bob@example.org\nSubject: old\n\nno MIME headers at all\n'),
      readFileSync('test/fixtures/corpus-ham-jailhouse-1df0fc9ae7968327.eml'),
      readFileSync('test/fixtures/corpus-phish-amazon-0f7adde91ff4631a.eml'),
    ];
    for (const raw of agreed) assert.equal(await ambiguity(raw), undefined, raw.toString('latin1').slice(0, 200));
  });

  it('holds such a message as an unparseable one ([limits] unparseable_action), whatever its score', async () => {
    const cfg = (action?: string): ReturnType<typeof buildConfig> =>
      buildConfig({ nlp: { enabled: false }, ...(action ? { limits: { unparseable_action: action } } : {}) }, { env: {} });
    const decoy = twoReadings['a boundary given twice'];
    const held = await scanMessage(decoy, env, cfg());
    assert.ok(held.verdict.score < cfg().thresholds.quarantine, `score ${held.verdict.score}`);
    assert.equal(held.verdict.action, 'quarantine');
    assert.equal((await scanMessage(decoy, env, cfg('reject'))).verdict.action, 'reject');
    assert.equal((await scanMessage(decoy, env, cfg('allow'))).verdict.action, 'allow');
  });

  it('keeps at most five findings, reads a name of 600,000 escapes whole and compares 1,000 parameters of a header (past them: recorded)', async () => {
    const escapes = attached(`attachment; filename="a.pdf"; filename*=utf-8''${'%41'.repeat(600_000)}.exe`);
    assert.match((await ambiguity(escapes))!, /^the file is named 'a\.pdf' and 'A{40}…A{12}\.exe'$/);
    const twice = message([`Content-Type: text/plain; ${Array.from({ length: 100_000 }, (_, i) => `p${i % 50_000}=${i}`).join('; ')}`, '', 'Hi']);
    const found = (await ambiguity(twice))!.split('; ');
    assert.equal(found.length, 1); // what no mailer writes, and past it nothing is compared
    assert.equal(found[0], 'content-type has more than 1000 parameters');
    const five = message([`Content-Type: text/plain; ${Array.from({ length: 20 }, (_, i) => `p${i % 10}=${i}`).join('; ')}`, '', 'Hi']);
    const first = (await ambiguity(five))!.split('; ');
    assert.equal(first.length, 5);
    assert.equal(first[0], "p0 given twice in content-type: '0' and '10'");
    assert.equal(headerParams(`a; ${'x=1; '.repeat(5000)}`).length, MAX_PARAMS + 1);
  });

  it('never throws on any tree of headers, and finds at most five things', () => {
    const header = fc.record({
      key: fc.constantFrom('content-type', 'content-disposition', 'content-transfer-encoding', 'subject'),
      value: fc.string({ maxLength: 80 }),
    });
    const node: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      node: fc.record({ headers: fc.array(header, { maxLength: 6 }), childNodes: fc.array(tie('node'), { maxLength: 3 }) }, { requiredKeys: [] }),
    })).node;
    fc.assert(
      fc.property(node, (root) => {
        const found = mimeAmbiguities({ root });
        assert.ok(found.length <= 5);
      }),
      { numRuns: 500 },
    );
    assert.deepEqual(mimeAmbiguities(null), []);
    assert.deepEqual(mimeAmbiguities({ root: 'not a tree' }), []);
  });

  it('reads parameters as written: quoted semicolons and escaped quotes do not split, duplicates are kept', () => {
    assert.deepEqual(headerParams('text/plain; a=1; B="x;y"; a="2"'), [
      ['a', '1'],
      ['b', 'x;y'],
      ['a', '2'],
    ]);
    assert.deepEqual(headerParams('attachment; filename="say \\"hi\\"; ok.txt"'), [['filename', 'say \\"hi\\"; ok.txt']]);
    assert.deepEqual(headerParams('text/plain'), []);
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        for (const [name] of headerParams(s)) assert.equal(name, name.toLowerCase());
      }),
      { numRuns: 500 },
    );
  });
});
