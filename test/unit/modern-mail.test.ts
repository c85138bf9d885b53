import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { LinkifyIt } from 'linkify-it';
import { displayedHost, findUrls, lineLinks, linkifyMatch, linksOf, schemeRelativeAt, schemeRelativeLength } from '../../lib/message/domain.js';
import { extractScanInput } from '../../lib/message/extract.js';
import { LANGUAGE_HAM_PACKAGES, languageHamExamples, paragraphEntries } from '../../lib/nlp/language-ham.js';
import type { TextClassifier } from '../../lib/nlp/model.js';
import { classifierText, withoutHeaderBlocks } from '../../lib/nlp/text.js';
import { analyze, scanMessage, textWeightCap } from '../../lib/scan.js';
import { toCrlf } from '../helpers/smtp.js';

// What keeps PhishX from holding modern legitimate mail (bounces, forwarded order mails,
// notifications of organisations with several domains) on the text score alone.

const config = buildConfig({ nlp: { enabled: false } }, { env: {} });
const env = { mailFrom: '', rcptTo: ['bob@example.org'] };

async function codesOf(raw: string, mailFrom = ''): Promise<string[]> {
  const input = await extractScanInput(toCrlf(raw), { ...env, mailFrom }, config.limits);
  return [...new Set(analyze(input, config).map((s) => s.code))].sort();
}

function html(from: string, subject: string, body: string): string {
  return [`From: ${from}`, 'To: bob@example.org', `Subject: ${subject}`, 'MIME-Version: 1.0', 'Content-Type: text/html; charset=utf-8', '', body, ''].join(
    '\n',
  );
}

/** A bounce in the RFC 3464 form: human text, machine status, the returned message. */
function bounce(humanText: string, from = 'MAILER-DAEMON@mx.provider.example', returned = 'See you at noon.'): string {
  return [
    `From: ${from}`,
    'To: bob@example.org',
    'Subject: Undelivered Mail Returned to Sender',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
    '',
    '--B',
    'Content-Type: text/plain; charset=utf-8',
    '',
    humanText,
    '',
    '--B',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.provider.example',
    '',
    'Final-Recipient: rfc822; carol@example.net',
    'Action: failed',
    'Status: 5.1.1',
    '',
    '--B',
    'Content-Type: message/rfc822',
    '',
    'From: bob@example.org',
    'To: carol@example.net',
    'Subject: lunch',
    '',
    returned,
    '',
    '--B--',
    '',
  ].join('\n');
}

/** A classifier that finds every text phishing: what remains of NLP_PHISH is the cap. */
const alwaysPhish: TextClassifier = { name: 'always', classify: () => ({ p: 0.99, top: [] }) };

describe('links in plain text', () => {
  // Real TLDs: linkify finds a name without a scheme only under a suffix it knows.
  const pieces = [
    'http://a.com/x',
    'www.b.net',
    'c.org/path?q=1',
    'user@d.de',
    'mailto:e@f.fr',
    '203.0.113.7',
    '203.0.113.7/login',
    'http://203.0.113.8:8080/',
    '//g.io/p',
    'https://user:pw@h.co.uk',
    'Booking.com',
    'e.g.',
    'end.',
    'word',
    '3.14',
    '(i.info)',
    '<j.biz>',
    'k.com.',
    'ftp://l.org',
    'xn--80ak6aa92e.com',
    'пример.рф',
    'a:b',
    '@',
    '.',
    '//',
    ' ',
    '\t',
    ',',
    '"',
    "'",
  ];
  /** A seeded pseudo-random integer in [0, n) per call. */
  const randomBelow =
    (seed: number) =>
    (n: number): number =>
      (((seed = (seed * 1103515245 + 12345) % 2147483648) % n) + n) % n;

  it('finds the same links line by line as linkify over the whole text', () => {
    const rand = randomBelow(7);
    let links = 0;
    for (let i = 0; i < 800; i++) {
      const line = (): string => Array.from({ length: 1 + rand(4) }, () => pieces[rand(pieces.length)] + (rand(3) ? ' ' : '')).join('');
      const text = Array.from({ length: 1 + rand(8) }, line).join(rand(2) ? '\n' : '\r\n');
      const whole = linkifyMatch(text).map((m) => m.url);
      assert.deepEqual(
        linksOf(text).map((m) => m.url),
        whole,
        JSON.stringify(text),
      );
      links += whole.length;
      // Anchor text (one line): the host linkify shows, whether or not the text passes the line filter.
      const anchor = text.split('\n')[0].trim();
      const first = linkifyMatch(anchor)[0];
      let host: string | null;
      try {
        host = first ? new URL(first.url).hostname.toLowerCase() : null;
      } catch {
        host = null;
      }
      assert.equal(displayedHost(anchor), host, JSON.stringify(anchor));
    }
    assert.ok(links > 500, `${links} links compared`);
  });

  it('reads a long line in windows with the same links as linkify over the whole line', () => {
    const rand = randomBelow(11);
    const urls = (ms: Iterable<{ url: string; index: number }>): string[] => [...ms].map((m) => m.url);
    let links = 0;
    for (let i = 0; i < 300; i++) {
      // Blanks at least every few pieces: each window ends after one, and the matches are linkify's own.
      const line = Array.from({ length: 20 + rand(200) }, () => pieces[rand(pieces.length)] + (rand(3) ? ' ' : '')).join('');
      const whole = urls(linkifyMatch(line));
      assert.deepEqual(urls(lineLinks(line, 256)), whole, line);
      links += whole.length;
    }
    assert.ok(links > 5000, `${links} links compared`);
    // Without a blank the window is cut: a link across the cut is read whole from its start.
    const lure = `${'x'.repeat(1000)}(https://evil.example.com/${'p'.repeat(40)})${'y'.repeat(2000)}`;
    assert.deepEqual(urls(lineLinks(lure, 1060)), urls(linkifyMatch(lure)));
    const dense = '[https://x.com/]('.repeat(5000);
    assert.deepEqual(urls(lineLinks(dense, 1024)), urls(linkifyMatch(dense)));
  });

  it('yields the links of a text one at a time: 1,000,000 links are never held at once', () => {
    const text = 'x.co '.repeat(200_000).concat('\n').repeat(5); // 5 MB, lines of 1 MB
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let n = 0;
    for (const u of findUrls(text)) {
      if (++n % 100_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      assert.equal(u.url, 'http://x.co');
    }
    assert.equal(n, 1_000_000);
    // As one list they took ~300 MB (a 24 MB message of them ran a scan thread out of heap).
    assert.ok(peak < 100e6, `heap grew ${Math.round(peak / 1e6)} MB`);
  });

  it('returns every link of one line holding 200,000 (more than a spread of arguments can carry)', () => {
    const line = '[https://x.com/]('.repeat(200_000);
    const found = linksOf(line);
    assert.equal(found.length, 200_000);
    assert.equal(found[199_999].url, 'https://x.com/');
  });

  it('"//" links: the same lengths as linkify-it\'s own rule, and the "//" of a scheme is refused before any regex runs', () => {
    // A run of thousands of URLs without spaces spent ~1 s in linkify-it's "//" rule, which
    // ran its host-and-path regex before looking at the character in front of the "//".
    const noRegex = {
      re: {
        get_relative_proto_validator: () => {
          throw new Error('regex used');
        },
      },
    } as unknown as LinkifyIt;
    const run = Array.from({ length: 4000 }, (_, i) => `a${i}=https://www.paypal.com/${i}`).join('&');
    let refused = 0;
    for (let pos = run.indexOf('//') + 2; pos > 1; pos = run.indexOf('//', pos) + 2) {
      assert.equal(schemeRelativeLength(run, pos, noRegex), 0);
      refused++;
    }
    assert.equal(refused, 4000);
    const stock = new LinkifyIt({ fuzzyLink: true, fuzzyEmail: false, fuzzyIP: true, urlAuth: true, maxLength: 4096 });
    const texts = [
      run,
      '(//cdn.example.com/a.js) x://y //evil.example/path?q=1 ///triple a//b.com "//q.org" <//r.net/>',
      Array.from({ length: 300 }, (_, i) => [`(//h${i}.com/p)`, `x:${i}//`, `/${i}//a.io`, ` //${i}.${i}.1.1/`][i % 4]).join(''),
    ];
    let compared = 0;
    let links = 0;
    for (const text of texts) {
      for (let pos = text.indexOf('//') + 2; pos > 1; pos = text.indexOf('//', pos) + 2) {
        const want = stock.testSchemaAt(text, '//', pos);
        assert.equal(schemeRelativeAt(text, pos), want, `at ${pos}: ${JSON.stringify(text.slice(Math.max(0, pos - 5), pos + 20))}`);
        compared++;
        if (want) links++;
      }
    }
    assert.ok(compared > 4300 && links > 100, `${compared} positions, ${links} links`);
  });

  it('does not take a bare IP address (an SMTP transcript, a quoted Received line) for a link', () => {
    assert.deepEqual([...findUrls('gmail-smtp-in.l.google.com [74.125.203.27] said: 550')], [{ url: 'http://gmail-smtp-in.l.google.com', bare: true }]);
    assert.deepEqual([...findUrls('by SRV124 (10.1.0.124) with SMTP')], []);
    // With a scheme or a path it is a link (and URL_IP_LITERAL applies).
    assert.deepEqual(
      [...findUrls('go to http://203.0.113.9/login now')].map((u) => u.url),
      ['http://203.0.113.9/login'],
    );
  });

  it('marks a domain written as a name ("SomeVendor.com") as bare, not www. names or URLs with a path', () => {
    assert.deepEqual(
      [...findUrls('Shipper: SomeVendor.com')].map((u) => u.bare),
      [true],
    );
    assert.deepEqual(
      [...findUrls('see www.example.com and example.com/track?id=1')].map((u) => u.bare),
      [false, false],
    );
  });

  it('reads a name after a symbol no host name has as the name ("d=yahoo.co.jp" in quoted DKIM headers)', () => {
    assert.deepEqual([...findUrls('  s=yj20110701; d=yahoo.co.jp;')], [{ url: 'http://yahoo.co.jp', bare: true }]);
    assert.deepEqual(
      [...findUrls('smtp.mailfrom=example.com; header.d=mail.example.org')],
      [
        { url: 'http://example.com', bare: true },
        { url: 'http://mail.example.org', bare: true },
      ],
    );
    assert.deepEqual([...findUrls('<a HREF=www.example.com/enlarge>')], [{ url: 'http://www.example.com/enlarge', bare: false }]);
    assert.deepEqual([...findUrls('Return-Path: stable+bounces-1-greg=kroah.com')], [{ url: 'http://kroah.com', bare: true }]);
    assert.deepEqual([...findUrls('a|b=c~d.example.net/x?y=z.com')], [{ url: 'http://d.example.net/x?y=z.com', bare: false }]);
    // Nothing a link after the symbol: no link at all (never the symbol-laden host).
    assert.deepEqual([...findUrls('x=y.nosuchtld and a=1.2')], []);
    // With a scheme the host is what the browser goes to, as written.
    assert.deepEqual(
      [...findUrls('https://www.guidep=osts.org/newsletter')].map((u) => u.url),
      ['https://www.guidep=osts.org/newsletter'],
    );
  });

  it('a bounce quoting its DKIM headers is still a delivery report', async () => {
    const raw = [
      'From: MAILER-DAEMON@mail.example.net',
      'To: recipient@example.org',
      'Subject: Failure Notice',
      '',
      'Sorry, we were unable to deliver your message to the following address.',
      '',
      '--- Below this line is a copy of the message.',
      '',
      'DomainKey-Signature:a=rsa-sha1; q=dns; c=nofws;',
      '  s=s1; d=example.net;',
      'Subject: hello',
      '',
    ].join('\r\n');
    assert.deepEqual(await codesOf(raw), ['DELIVERY_REPORT']);
  });

  it('a bare name neither breaks nor makes sender alignment', async () => {
    const raw = html(
      '"Shop Mail" <orders@shopmail.example>',
      'Your order shipped',
      '<p>Sold by SomeVendor.com</p><a href="https://www.shopmail.example/track">Track</a>',
    );
    assert.deepEqual(await codesOf(raw), ['SENDER_LINKS_ALIGNED']);
  });
});

describe('header blocks quoted in a body', () => {
  it('drops a quoted header block that holds a field only mail software writes', () => {
    const lines = [
      'Your message could not be delivered.',
      'Received: from a.example (10.0.0.1)',
      '  by b.example with SMTP',
      'Message-ID: <1@a.example>',
      'From: bob@example.org',
      'Thank you.',
    ];
    assert.deepEqual(withoutHeaderBlocks(lines), ['Your message could not be delivered.', 'Thank you.']);
  });

  it('keeps a run of 300,000 header-like lines of a message (more than a spread of arguments can carry)', () => {
    const lines = Array.from({ length: 300_000 }, () => 'To: a');
    assert.equal(withoutHeaderBlocks(lines).length, 300_000);
  });

  it("keeps a forward's From / Sent / To / Subject block and form-like lines of a message", () => {
    const forward = ['---------- Forwarded message ---------', 'From: Amazon <ship@amazon.com>', 'Date: Mon, 1 Dec 2026', 'Subject: Your order', 'To: me'];
    assert.deepEqual(withoutHeaderBlocks(forward), forward);
    const lure = ['Status: suspended', 'Action: verify your account'];
    assert.deepEqual(withoutHeaderBlocks(lure), lure);
  });

  it("the classifier reads the bounce's words, not the returned headers", () => {
    const t = classifierText({
      subject: 'Delivery failed',
      text: 'Delivery to carol failed.\nReceived: from x (1.2.3.4)\nMessage-ID: <a@b>\nDKIM-Signature: v=1; d=news.example\n',
      htmlText: '',
    });
    assert.equal(t.trim(), 'Delivery failed\nDelivery to carol failed.');
  });
});

describe('LINKS_BRAND_ONLY: nothing to click leads off one brand', () => {
  it('a forwarded Amazon order (a personal sender, every link on amazon.com)', async () => {
    const raw = html(
      'Test User <test@mail.example>',
      'Fwd: Your Amazon.com order',
      '<a href="https://www.amazon.com/gp/css/order">View order</a> <a href="https://amazon.com/help">Help</a>',
    );
    assert.ok((await codesOf(raw)).includes('LINKS_BRAND_ONLY'));
  });

  it("not for a brand's user-content hosts, redirectors or another host beside the brand's", async () => {
    for (const body of [
      '<a href="https://docs.google.com/forms/d/e/1FAIp/viewform">Verify</a>',
      '<a href="https://evil.s3.amazonaws.com/login.html">Sign in</a>',
      '<a href="https://www.amazon.com/">Amazon</a> <a href="https://amaz0n-verify.example/">Verify</a>',
    ]) {
      assert.ok(!(await codesOf(html('Amazon <x@mail.example>', 'Your account', body))).includes('LINKS_BRAND_ONLY'), body);
    }
  });

  it("not for a From on a brand's domain that the envelope sender contradicts (spoofed)", async () => {
    const raw = html('Apple <no_reply@email.apple.com>', 'Your receipt', '<a href="https://support.apple.com/billing">Support</a>');
    assert.ok(!(await codesOf(raw, 'bounce@mailer.attacker.example')).includes('LINKS_BRAND_ONLY'));
    assert.ok((await codesOf(raw, '0100018c-abc@amazonses.com')).includes('BRAND_ALIGNED'));
  });

  it('caps the text at half its weight: a text-only verdict cannot hold such a message', async () => {
    const raw = toCrlf(html('Test User <test@mail.example>', 'Fwd: Your Amazon.com order', '<a href="https://www.amazon.com/gp/css/order">View order</a>'));
    const r = await scanMessage(raw, env, buildConfig({}, { env: {} }), 'cap1', { classifier: alwaysPhish });
    const nlp = r.verdict.reasons.find((x) => x.code === 'NLP_PHISH');
    assert.equal(nlp?.weight, 25);
    assert.match(nlp?.detail ?? '', /capped at 25/);
    assert.equal(r.verdict.action, 'allow');
    // The same text with a link elsewhere keeps the full weight: held.
    const other = toCrlf(html('Test User <test@mail.example>', 'Fwd: Your Amazon.com order', '<a href="https://order-check.example/">View order</a>'));
    const r2 = await scanMessage(other, env, buildConfig({}, { env: {} }), 'cap2', { classifier: alwaysPhish });
    assert.equal(r2.verdict.reasons.find((x) => x.code === 'NLP_PHISH')?.weight, 50);
    assert.notEqual(r2.verdict.action, 'allow');
  });

  it('textWeightCap is the full weight unless LINKS_BRAND_ONLY or DELIVERY_REPORT is among the signals', () => {
    assert.equal(textWeightCap([{ code: 'URL_SHORTENER', detail: '' }], 50), 50);
    assert.equal(textWeightCap([{ code: 'LINKS_BRAND_ONLY', detail: '' }], 50), 25);
    assert.equal(textWeightCap([{ code: 'DELIVERY_REPORT', detail: '' }], 40), 20);
  });
});

describe("DELIVERY_REPORT: a mail system's bounce with nothing to act on", () => {
  it('a multipart/report bounce without links', async () => {
    assert.ok((await codesOf(bounce('Your message to carol@example.net could not be delivered. The address was not found.'))).includes('DELIVERY_REPORT'));
  });

  it("a bounce returning a message with links: they are the original sender's, not the report's", async () => {
    const codes = await codesOf(
      bounce('Your message could not be delivered.', undefined, 'Menu: https://lunch-place.example/menu and https://maps.example.com/x'),
    );
    assert.ok(codes.includes('DELIVERY_REPORT'), codes.join(' '));
  });

  it("a plain-text bounce from postmaster, linking only to a provider's help page", async () => {
    const raw = [
      'From: postmaster@outlook.com',
      'To: bob@example.org',
      'Subject: Email Delivery Failure',
      '',
      'Delivery has failed. See https://support.microsoft.com/help/ndr for details.',
      '',
    ].join('\n');
    assert.ok((await codesOf(raw)).includes('DELIVERY_REPORT'));
  });

  it('a plain-text bounce whose From is the null sender ("From: <>", "From: MAILER-DAEMON <>"), not a person without an address', async () => {
    const plain = (from: string, body = 'There was an error delivering your mail to <carol@example.net>.'): string =>
      [`From: ${from}`, 'To: bob@example.org', 'Subject: Mail delivery failed', '', body, ''].join('\n');
    for (const from of ['<>', 'MAILER-DAEMON <>', '"Mail Delivery System" <>']) assert.ok((await codesOf(plain(from))).includes('DELIVERY_REPORT'), from);
    assert.ok(!(await codesOf(plain('"Alice" <>'))).includes('DELIVERY_REPORT'));
    assert.ok(!(await codesOf(plain('<>', 'Release your held mail: https://mail-release.example/login'))).includes('DELIVERY_REPORT'));
  });

  it('not a fake bounce with a link to release "held messages", nor one with a file', async () => {
    assert.ok(!(await codesOf(bounce('5 messages could not be delivered. Release them: https://mail-release.example/login'))).includes('DELIVERY_REPORT'));
    const withFile = [
      'From: postmaster@example.org',
      'To: bob@example.org',
      'Subject: Undelivered messages',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="B"',
      '',
      '--B',
      'Content-Type: text/plain',
      '',
      'Your messages are held. Open the attachment to release them.',
      '',
      '--B',
      'Content-Type: text/html; name="release.html"',
      'Content-Disposition: attachment; filename="release.html"',
      '',
      '<form action="https://x.example/p"><input type="password"></form>',
      '',
      '--B--',
      '',
    ].join('\n');
    assert.ok(!(await codesOf(withFile)).includes('DELIVERY_REPORT'));
  });

  it('not an ordinary message', async () => {
    assert.ok(!(await codesOf(html('Alice <alice@example.com>', 'Lunch', '<p>See you</p>'))).includes('DELIVERY_REPORT'));
  });
});

describe('SENDER_LINKS_ALIGNED for an organisation with two domains', () => {
  it('links on the domain the display name spells, from an address its initials fit', async () => {
    const raw = html(
      '"Kaiser Permanente" <noreply@kp.org>',
      'Reminder: upcoming appointment',
      '<a href="https://healthy.kaiserpermanente.org/secure/appointments">View</a>',
    );
    assert.ok((await codesOf(raw, 'bounces@kp.org')).includes('SENDER_LINKS_ALIGNED'));
  });

  it('not for a name-spelt domain on a suspicious TLD or free hosting, nor when another host is linked', async () => {
    assert.ok(
      !(await codesOf(html('"Kaiser Permanente" <noreply@kp.org>', 'Reminder', '<a href="https://kaiserpermanente.top/login">View</a>'))).includes(
        'SENDER_LINKS_ALIGNED',
      ),
    );
    assert.ok(
      !(
        await codesOf(
          html(
            '"Kaiser Permanente" <noreply@kp.org>',
            'Reminder',
            '<a href="https://kaiserpermanente.org/a">View</a> <a href="https://elsewhere.example/b">Pay</a>',
          ),
        )
      ).includes('SENDER_LINKS_ALIGNED'),
    );
  });
});

describe('everyday French for the text model', () => {
  it('splits a plain-text document into paragraph entries, dropping short ones', () => {
    assert.deepEqual(
      paragraphEntries(
        'Titre\n\nUn paragraphe assez long pour compter comme une entrée du texte.\n  \nEncore un paragraphe, lui aussi\nsur deux lignes et assez long.\n',
      ),
      ['Un paragraphe assez long pour compter comme une entrée du texte.', 'Encore un paragraphe, lui aussi sur deux lignes et assez long.'],
    );
  });

  it('reads the gzipped FAQs under the documentation root as fr, ja, zh and nl documents', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'phishx-ham-'));
    const fortunes = path.join(root, 'fortunes');
    const entry = (lang: string, i: number): string => `Entry ${i} of ${lang} with words enough to pass the length filter of fortune entries.`;
    for (const [dir, lang] of [
      ['.', 'en'],
      ['de', 'de'],
      ['brasil', 'pt'],
      ['es', 'es'],
      ['it', 'it'],
    ]) {
      mkdirSync(path.join(fortunes, dir), { recursive: true });
      const text = Array.from({ length: 60 }, (_, i) => entry(lang, i)).join('\n%\n');
      if (dir === '.') for (const f of LANGUAGE_HAM_PACKAGES[0].files ?? []) writeFileSync(path.join(fortunes, f), text);
      else writeFileSync(path.join(fortunes, dir, 'sprueche'), text);
    }
    mkdirSync(path.join(root, 'doc', 'debian', 'FAQ'), { recursive: true });
    const faq = Array.from({ length: 80 }, (_, i) => `Paragraphe ${i} : vous trouverez votre réponse dans la documentation de Debian, page ${i}.`).join('\n\n');
    writeFileSync(path.join(root, 'doc', 'debian', 'FAQ', 'debian-faq.fr.txt.gz'), gzipSync(faq));
    // A Japanese paragraph wrapped mid-word, as the FAQ's text edition is.
    const ja = Array.from({ length: 80 }, (_, i) => `${i}. パッケージをアップグレードするためにシングルユーザモードに入\nる必要はありますか?`).join('\n\n');
    writeFileSync(path.join(root, 'doc', 'debian', 'FAQ', 'debian-faq.ja.txt.gz'), gzipSync(ja));
    writeFileSync(path.join(root, 'doc', 'debian', 'FAQ', 'debian-faq.zh-cn.txt.gz'), gzipSync(ja.replace(/パッケージ/g, '软件包')));
    writeFileSync(path.join(root, 'doc', 'debian', 'FAQ', 'debian-faq.nl.txt.gz'), gzipSync(faq.replace(/vous/g, 'u')));
    const docs = languageHamExamples(fortunes, path.join(root, 'doc'));
    const fr = docs.filter((e) => e.source === 'fortunes-fr');
    assert.ok(fr.length >= 3, `${fr.length} French documents`);
    assert.ok(fr.every((e) => e.y === 0 && e.calibrate === false && e.weight === 0.5 && e.text.includes('votre')));
    const jaDocs = docs.filter((e) => e.source === 'fortunes-ja');
    assert.ok(jaDocs.length >= 3, `${jaDocs.length} Japanese documents`);
    // The line break inside a word is the wrap, not a gap: the word is whole again.
    assert.ok(
      jaDocs.every((e) => e.text.includes('入る必要')),
      jaDocs[0]?.text,
    );
    assert.ok(docs.some((e) => e.source === 'fortunes-zh') && docs.some((e) => e.source === 'fortunes-nl'));
  });
});
