import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { actionInText, otherAddress } from '../../lib/analyzers/nothing-to-act-on.js';
import { buildConfig } from '../../lib/config/load.js';
import { extractScanInput } from '../../lib/message/extract.js';
import type { TextClassifier } from '../../lib/nlp/model.js';
import { analyze, scanMessage } from '../../lib/scan.js';
import { withAttachment } from '../helpers/mime.js';
import { qrPng, quishingMessage } from '../helpers/qr-pictures.js';
import { toCrlf } from '../helpers/smtp.js';

// NOTHING_TO_ACT_ON: a message that gives its reader nothing to do cannot be held on its text alone.

const config = buildConfig({}, { env: {} });
const env = { mailFrom: '', rcptTo: ['bob@example.org'] };
const alwaysPhish: TextClassifier = { name: 'always', classify: () => ({ p: 0.99, top: [] }) };

function mail(body: string, opts: { from?: string; subject?: string; type?: string; headers?: string[] } = {}): Buffer {
  return toCrlf(
    [
      `From: ${opts.from ?? 'Example Shop <orders@shop.example.com>'}`,
      'To: bob@example.org',
      `Subject: ${opts.subject ?? 'Your receipt'}`,
      ...(opts.headers ?? []),
      'MIME-Version: 1.0',
      `Content-Type: ${opts.type ?? 'text/plain'}; charset=utf-8`,
      '',
      body,
      '',
    ].join('\n'),
  );
}

async function codesOf(raw: Buffer): Promise<string[]> {
  const input = await extractScanInput(raw, env, config.limits);
  return analyze(input, config).map((s) => s.code);
}

const acts = async (raw: Buffer): Promise<boolean> => !(await codesOf(raw)).includes('NOTHING_TO_ACT_ON');

describe('NOTHING_TO_ACT_ON', () => {
  it('short notices of an organisation with nothing to act on are not held on their text', async () => {
    for (const [subject, body] of [
      ['Your receipt', 'Thank you for your purchase. Your receipt number is 4711.'],
      ['Your verification code', 'Your verification code is 482913. It expires in 10 minutes. If you did not request this code, you can ignore this email.'],
      [
        'Your password was changed',
        'The password for your account was changed on 5 December. If this was you, no action is needed. Please do not reply to this email.',
      ],
      ['Ihr Code', 'Ihr Bestätigungscode lautet 482913. Bitte nicht auf diese E-Mail antworten.'],
    ]) {
      const raw = mail(body, { subject });
      assert.ok((await codesOf(raw)).includes('NOTHING_TO_ACT_ON'), body);
      const r = await scanMessage(raw, env, config, 'n1', { classifier: alwaysPhish });
      const nlp = r.verdict.reasons.find((x) => x.code === 'NLP_PHISH');
      assert.equal(nlp?.weight, 25, body);
      assert.match(nlp?.detail ?? '', /capped at 25 by NOTHING_TO_ACT_ON/);
      assert.equal(r.verdict.action, 'allow', body);
    }
    // The same text with a link to follow keeps its full weight: held.
    const linked = mail('Thank you for your purchase. See your receipt at https://receipts.example.net/4711', { subject: 'Your receipt' });
    const held = await scanMessage(linked, env, config, 'n2', { classifier: alwaysPhish });
    assert.equal(held.verdict.reasons.find((x) => x.code === 'NLP_PHISH')?.weight, 50);
    assert.notEqual(held.verdict.action, 'allow');
  });

  it('anything to act on keeps the text whole: a link, a file, a QR code, a free mailbox, a Reply-To elsewhere', async () => {
    const text = 'Your mailbox is full. Your access will be suspended today.';
    assert.equal(await acts(mail(text)), false);
    assert.equal(await acts(mail(`<p>${text} <a href="https://mail-quota.example/">Keep access</a></p>`, { type: 'text/html' })), true);
    assert.equal(await acts(mail(`<p>${text} <a href="tel:+18085550134">Call us</a></p>`, { type: 'text/html' })), true);
    assert.equal(await acts(mail(`<p>${text} <a href="mailto:quota@mail-help.example">Write to us</a></p>`, { type: 'text/html' })), true);
    assert.equal(await acts(toCrlf(quishingMessage('https://mail-quota.example/', { picture: qrPng('https://mail-quota.example/') }))), true);
    const attached = withAttachment('invoice.bin', Buffer.from([0, 1, 2, 3, 4, 5]), 'application/octet-stream', {
      from: 'IT <it@corp.example.com>',
      text: 'See the attached invoice.',
    });
    assert.equal(await acts(toCrlf(attached)), true);
    assert.equal(await acts(mail(text, { from: 'IT Desk <it.desk.mailbox@gmail.com>' })), true);
    assert.equal(await acts(mail(text, { headers: ['Reply-To: quota@mail-help.example'] })), true);
    assert.equal(await acts(mail(text, { headers: ['Reply-To: orders@shop.example.com'] })), false);
    assert.equal(await acts(mail(text, { from: 'no address' })), true);
    // Pictures and drawn grids a reader may read where PhishX could not, and anything left unread.
    const dot = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgAB4iG8MwAAAABJRU5ErkJggg==';
    assert.equal(await acts(mail(`<p>${text}</p><img src="data:image/png;base64,${dot}">`, { type: 'text/html' })), true);
    const blocks = Array.from({ length: 25 }, (_, y) => Array.from({ length: 25 }, (_, x) => ((x * 7 + y * 3) % 5 < 2 ? '██' : '  ')).join('')).join('\n');
    assert.equal(await acts(mail(`${text}\n\n${blocks}`)), true);
    const cut = await extractScanInput(
      mail(`${text} ${'More words. '.repeat(200)}`),
      env,
      buildConfig({ limits: { max_decoded_bytes: '1024' } }, { env: {} }).limits,
    );
    assert.ok(cut.limits.length > 0);
    assert.deepEqual(
      analyze(cut, config).filter((s) => s.code === 'NOTHING_TO_ACT_ON'),
      [],
    );
  });

  it('numbers to call, payment addresses, hidden domains, other addresses and requests to answer are something to act on', () => {
    const own = 'orders@shop.example.com';
    for (const text of [
      'If you did not authorise this charge call +1 (808) 555-0134 within 24 hours.',
      'Call 0800 123 4567 today.',
      'Pay the open invoice to IBAN DE89 3704 0044 0532 0130 00 today.',
      'Send 0.1 BTC to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq or your files are published.',
      'Below is my bitcoin address: 1FQ5wTNVzGvqmzfUgFYsEXXGN2cATR7oac',
      'Website : Astarcoin .net [REMOVE GAP]',
      'website: CRYPTONCOIN. NET',
      'Log in at verify-mail[.]com to keep receiving mail.',
      'Log in at verify-mail(dot)com to keep receiving mail.',
      'For your refund contact claims.dept@gmail.com with your card number.',
      'Reply with your username and password to keep receiving mail.',
      'Scan the code with your phone camera to keep access.',
      'Den QR-Code mit dem Handy scannen.',
      '请扫描二维码。',
      'Please get back to me at once.',
      'Buy five gift cards and send me the codes.',
      'Bitte antworten Sie umgehend.',
      'Merci de répondre à ce message.',
      'Por favor responda a este correo.',
      '至急ご返信ください。',
    ])
      assert.ok(actionInText(text, own), text);
    for (const text of [
      'Thank you for your purchase. Your receipt number is 4711.',
      'Your verification code is 482913.',
      'Order #112-4455 has shipped.',
      'Please do not reply to this email. Sent from a no-reply address.',
      "Don't reply to this message.",
      'Bitte nicht auf diese E-Mail antworten.',
      'Merci de ne pas répondre à ce message.',
      'Não responda a este e-mail.',
      'Non rispondere a questa email.',
      'このメールは送信専用です。返信不要です。',
      `Questions? Write to ${own}.`,
      'Thanks. Net total 4.50. Shop now. Info: open 9-5.',
      'It happened at 10:00. See you.',
    ])
      assert.equal(actionInText(text, own), null, text);
  });

  it('finds other addresses in linear time, whatever the text holds', () => {
    assert.equal(otherAddress('write to Claims.Dept@Gmail.com.', 'x@y.com'), 'claims.dept@gmail.com');
    assert.equal(otherAddress('a@b, @, x@, @y.com, joe@localhost', 'x@y.com'), null);
    // A megabyte of '@' and letters: each '@' looks at most 254 characters each way.
    for (const big of ['@'.repeat(1_000_000), 'a'.repeat(1_000_000) + '@', `${'a@'.repeat(500_000)}`, '1 '.repeat(500_000), 'ab '.repeat(300_000)]) {
      assert.equal(otherAddress(big, 'x@y.com'), null);
      assert.ok(actionInText(big, 'x@y.com') === null || typeof actionInText(big, 'x@y.com') === 'string');
    }
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '.', '@', ' ', '1', '-', 'é', '(', '+'), maxLength: 300 }), (s) => {
        const found = otherAddress(s, 'x@y.com');
        assert.ok(found === null || (found.includes('@') && s.toLowerCase().includes(found)));
      }),
      { numRuns: 500 },
    );
  });
});
