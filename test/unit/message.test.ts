import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import * as csstree from 'css-tree';
import { describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { describeUrl } from '../../lib/message/domain.js';
import { splitMbox } from '../../lib/message/mbox.js';
import { extractScanInput } from '../../lib/message/extract.js';
import { DepthCappedParser, MAX_HTML_DEPTH, scanHtml, styleVisibility } from '../../lib/message/html.js';
import { MAX_SHEET_WORK, MAX_STYLE_CHARS, MAX_TAIL_RULE_CHARS, mayHide, styleBlocks, styleRules } from '../../lib/message/stylesheet.js';
import { cssTreeFixes, lazyErrorFactory, useCssTreeFixes } from '../../lib/message/css-tree-fixes.js';
import { tokenize } from '../../lib/nlp/features.js';
import { decodeBase64Native, fastDecoders, joinChunks, pendingBase64, useFastDecoders } from '../../lib/message/mime-decoders.js';
import { isUtf7Charset, transcodeUtf7Words, useUtf7TextParts, utf7TextParts } from '../../lib/message/utf7.js';
import path from 'node:path';
import fc from 'fast-check';
import { deepNestedMessage, garbage8bitMessage, malformedMimeMessage, manyPartsMessage } from '../helpers/messages.js';
import { withAttachment } from '../helpers/mime.js';
import { toCrlf } from '../helpers/smtp.js';

const limits = buildConfig({}, { env: {} }).limits;
const env = { mailFrom: 'bounce@sender.example', rcptTo: ['bob@example.org'] };
const PDF = Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n', 'latin1');

const nested = toCrlf(
  [
    'From: =?UTF-8?B?w4FsdmFybyBHb27Dp2FsdmVz?= <Alvaro@Example.COM.BR>',
    'Reply-To: "Help desk" <help@other.example>',
    'To: bob@example.org',
    'Subject: =?ISO-8859-1?Q?Fatura_dispon=EDvel?=',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="outer"',
    '',
    '--outer',
    'Content-Type: multipart/alternative; boundary="inner"',
    '',
    '--inner',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Ol=E1, veja www.fatura-online.com.br/pagar agora.',
    '--inner',
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(
      '<p>Olá</p><a href="https://pay.example.net/x?a=1">Pagar <b>agora</b></a><img ' +
        'src="https://cdn.example.org/logo.png"><form action="https://collect.example.io/post"></form>',
    ).toString('base64'),
    '--inner--',
    '--outer',
    'Content-Type: image/png; name="fatura.png"',
    'Content-Disposition: attachment; filename="fatura.png"',
    'Content-Transfer-Encoding: base64',
    '',
    PDF.toString('base64'),
    '--outer--',
    '',
  ].join('\n'),
);

describe('message bytes as the scan thread gets them', () => {
  it('parses bytes that are a whole ArrayBuffer in place, as it parses a view, and leaves them unchanged', async () => {
    const whole = Buffer.from(new Uint8Array(nested).buffer);
    assert.equal(whole.byteLength, whole.buffer.byteLength);
    const before = Buffer.from(whole);
    assert.deepEqual(await extractScanInput(whole, env, limits), await extractScanInput(nested, env, limits));
    assert.deepEqual(whole, before);
  });
});

describe('message extraction', () => {
  it('decodes RFC 2047 headers and From / Reply-To / Return-Path addresses', async () => {
    const i = await extractScanInput(nested, env, limits);
    assert.equal(i.subject, 'Fatura disponível');
    assert.equal(i.from?.name, 'Álvaro Gonçalves');
    assert.equal(i.from?.address, 'alvaro@example.com.br');
    assert.equal(i.from?.registrable, 'example.com.br');
    assert.equal(i.replyTo[0]?.address, 'help@other.example');
    assert.equal(i.returnPath?.address, 'bounce@sender.example');
    assert.ok(i.headers.some((h) => h.name === 'subject' && h.value === 'Fatura disponível'));
  });

  it('decodes text and HTML parts inside nested multipart (quoted-printable latin-1, base64 utf-8)', async () => {
    const i = await extractScanInput(nested, env, limits);
    assert.match(i.text, /Olá, veja www\.fatura-online\.com\.br\/pagar agora/);
    assert.match(i.html, /<p>Olá<\/p>/);
    assert.match(i.htmlText, /Olá/);
    assert.equal(i.parts, 3);
  });

  it('extracts href with anchor text, img src, form action and URLs in plain text', async () => {
    const i = await extractScanInput(nested, env, limits);
    const by = (s: string) => i.urls.filter((u) => u.source === s).map((u) => [u.host, u.anchorText]);
    assert.deepEqual(by('href'), [['pay.example.net', 'Pagar agora']]);
    assert.deepEqual(by('img'), [['cdn.example.org', undefined]]);
    assert.deepEqual(by('form'), [['collect.example.io', undefined]]);
    assert.deepEqual(by('text'), [['www.fatura-online.com.br', undefined]]);
  });

  it('describes attachments: name, declared and sniffed type, size, sha256', async () => {
    const i = await extractScanInput(nested, env, limits);
    assert.equal(i.attachments.length, 1);
    const a = i.attachments[0];
    assert.equal(a.filename, 'fatura.png');
    assert.equal(a.declaredType, 'image/png');
    assert.equal(a.sniffedType, 'application/pdf');
    assert.equal(a.size, PDF.length);
    assert.equal(a.sha256, createHash('sha256').update(PDF).digest('hex'));
  });

  it('parses the registered domain with the public suffix list (co.uk, com.br)', async () => {
    const raw = toCrlf('From: a@mail.shop.example.co.uk\nTo: b@example.org\nSubject: x\n\nsee https://login.secure.example.co.uk/x\n');
    const i = await extractScanInput(raw, env, limits);
    assert.equal(i.from?.registrable, 'example.co.uk');
    assert.equal(i.urls[0].registrable, 'example.co.uk');
    assert.equal(i.urls[0].subdomain, 'login.secure');
  });

  it('records LIMIT_URL_HOSTS when links go to more hosts than [limits] max_urls, LIMIT_URLS when only one host repeats', async () => {
    const links = Array.from({ length: 20 }, (_, n) => `<a href="https://h${n}.example.com/">x</a>`).join('');
    const raw = toCrlf(`From: a@example.com\nTo: b@example.org\nContent-Type: text/html\n\n${links}\n`);
    const i = await extractScanInput(raw, env, { ...limits, max_urls: 5 });
    assert.equal(i.urls.length, 5);
    assert.equal(i.moreUrls.length, 15);
    assert.deepEqual(
      i.limits.map((l) => l.code),
      ['LIMIT_URL_HOSTS'],
    );
    const oneHost = Array.from({ length: 20 }, (_, n) => `<a href="https://shop.example.com/item/${n}">x</a>`).join('');
    const j = await extractScanInput(
      toCrlf(`From: a@example.com\nTo: b@example.org\nContent-Type: text/html\n\n${oneHost}<a href="https://other.example.net/">y</a>\n`),
      env,
      { ...limits, max_urls: 5 },
    );
    assert.deepEqual(
      j.limits.map((l) => l.code),
      ['LIMIT_URLS'],
    );
    assert.ok(
      j.urls.some((u) => u.host === 'other.example.net'),
      'the last link, on another host, is analysed',
    );
  });

  it('analyses anchors before images and a link of every host first, so pixels cannot push a link out', async () => {
    const pixels = Array.from({ length: 1000 }, (_, n) => `<img src="https://t.example.com/p/${n}.gif" width=1 height=1>`).join('');
    const raw = toCrlf(`From: a@example.com\nTo: b@example.org\nContent-Type: text/html\n\n${pixels}<a href="https://evil.example.net/login">Sign in</a>\n`);
    const i = await extractScanInput(raw, env, limits);
    assert.equal(i.urls.length, limits.max_urls);
    assert.ok(i.urls.some((u) => u.host === 'evil.example.net' && u.source === 'href'));
    assert.equal(i.urls.length + i.moreUrls.length, 1001, 'every distinct link is kept for the feeds');
    assert.deepEqual(
      i.limits.map((l) => l.code),
      ['LIMIT_URLS'],
    );
    // The same pixel repeated is one link.
    const same = await extractScanInput(
      toCrlf(
        `From: a@example.com\nContent-Type: text/html\n\n${'<img src="https://t.example.com/p.gif">'.repeat(5000)}<a href="https://evil.example.net/">x</a>\n`,
      ),
      env,
      limits,
    );
    assert.equal(same.urls.length, 2);
    assert.deepEqual(same.limits, []);
  });

  it('analyses the lure behind more padding than the collection bound (5,000 links) when the padding is one site', async () => {
    const lure = '<a href="https://evil.example.net/login">Sign in</a>';
    const scan = (body: string, type = 'text/html') =>
      extractScanInput(
        toCrlf(`From: a@example.com\nContent-Type: ${type}\n\n${body}${type === 'text/html' ? lure : ' https://evil.example.net/login'}\n`),
        env,
        limits,
      );
    const pads: Array<[string, string, string, boolean]> = [
      // [what, padding, type, recorded as LIMIT_URL_HOSTS]
      ['one pixel 6,000 times', '<img src="https://t.example.com/p.gif">'.repeat(6000), 'text/html', false],
      ['one anchor 6,000 times', '<a href="https://www.paypal.com/">PayPal</a>'.repeat(6000), 'text/html', false],
      ['6,000 pixels of one host', Array.from({ length: 6000 }, (_, n) => `<img src="https://t.example.com/${n}.gif">`).join(''), 'text/html', true],
      ['6,000 anchors to one host', Array.from({ length: 6000 }, (_, n) => `<a href="https://www.paypal.com/${n}">x</a>`).join(''), 'text/html', true],
      ['6,000 text links to one host', Array.from({ length: 6000 }, (_, n) => `https://www.paypal.com/${n}`).join(' '), 'text/plain', true],
      // One of the links left out, repeated 60,000 times: each repeat is looked at once.
      [
        'a link left out, repeated',
        `${Array.from({ length: 6000 }, (_, n) => `https://www.paypal.com/${n}`).join(' ')}${' https://www.paypal.com/5999'.repeat(60_000)}`,
        'text/plain',
        true,
      ],
    ];
    for (const [what, pad, type, recorded] of pads) {
      const i = await scan(pad, type);
      assert.ok(
        i.urls.some((u) => u.host === 'evil.example.net'),
        `${what}: the lure's link is analysed`,
      );
      assert.equal(
        i.limits.some((l) => l.code === 'LIMIT_URL_HOSTS'),
        recorded,
        `${what}: ${JSON.stringify(i.limits)}`,
      );
    }
    // Links to 7,000 different hosts first: past the bound and 1,000 more hosts the rest is not read, and that is recorded.
    const hosts = await scan(Array.from({ length: 7000 }, (_, n) => `<a href="https://h${n}.example.com/">x</a>`).join(''));
    assert.ok(
      hosts.limits.some((l) => l.code === 'LIMIT_URL_HOSTS' && /more than 5000 links/.test(l.detail)),
      JSON.stringify(hosts.limits),
    );
    assert.equal(hosts.urls.length + hosts.moreUrls.length, 6000);
  });

  it('records LIMIT_PARTS beyond [limits] max_parts and examines only that many attachments', async () => {
    const i = await extractScanInput(toCrlf(manyPartsMessage(50)), env, { ...limits, max_parts: 10 });
    assert.ok(i.limits.some((l) => l.code === 'LIMIT_PARTS'));
    assert.equal(i.attachments.length, 10);
  });

  it('records LIMIT_DECODED_BYTES and analyses only the first max_decoded_bytes', async () => {
    const raw = toCrlf(`From: a@example.com\nTo: b@example.org\n\n${'word '.repeat(2000)}\n`);
    const i = await extractScanInput(raw, env, { ...limits, max_decoded_bytes: 1024 });
    assert.ok(i.text.length <= 1024);
    assert.ok(i.limits.some((l) => l.code === 'LIMIT_DECODED_BYTES'));
  });

  it('still reads the links past max_decoded_bytes (padding before a lure), the text only up to it', async () => {
    const pad = 'lorem ipsum '.repeat(200);
    const html = toCrlf(
      `From: a@example.com\nTo: b@example.org\nContent-Type: text/html\n\n<div style="display:none">${pad}</div><a href="https://evil.example/login">Sign in</a>\n`,
    );
    const h = await extractScanInput(html, env, { ...limits, max_decoded_bytes: 1024 });
    assert.ok(h.limits.some((l) => l.code === 'LIMIT_DECODED_BYTES'));
    assert.ok(h.htmlText.length <= 1024, `${h.htmlText.length}`);
    assert.deepEqual(
      h.urls.map((u) => [u.host, u.source, u.anchorText]),
      [['evil.example', 'href', 'Sign in']],
    );
    const text = toCrlf(`From: a@example.com\nTo: b@example.org\n\n${pad}\nhttps://evil.example/login\n`);
    const t = await extractScanInput(text, env, { ...limits, max_decoded_bytes: 1024 });
    assert.ok(t.text.length <= 1024);
    assert.deepEqual(
      t.urls.map((u) => u.host),
      ['evil.example'],
    );
  });

  it('reads a Subject of many encoded words in linear time (postal-mime 4.0.0: 200,000 took 22 s, 50,000 folded 5 s)', async () => {
    for (const sep of [' ', '\r\n ']) {
      const words = Array.from({ length: sep === ' ' ? 200_000 : 30_000 }, () => '=?utf-8?B?YWJj?=').join(sep);
      const raw = Buffer.from(`From: a@example.com\r\nSubject: ${words}\r\n\r\nhello\r\n`);
      const t0 = performance.now();
      const i = await extractScanInput(raw, env, limits);
      const ms = performance.now() - t0;
      // A real-time bound: the promise is that a crafted header cannot hold the scan thread (~0.3 s measured).
      assert.ok(ms < 5000, `${Math.round(ms)} ms`);
      if (sep !== ' ') assert.ok(i.subject.startsWith('abcabcabc'), i.subject.slice(0, 20));
    }
  });

  it('turns nesting beyond max_nesting_depth into MIME_UNPARSEABLE and still finds URLs', async () => {
    const i = await extractScanInput(toCrlf(deepNestedMessage(40)), env, { ...limits, max_nesting_depth: 10 });
    assert.ok(i.limits.some((l) => l.code === 'MIME_UNPARSEABLE'));
    assert.ok(i.urls.some((u) => u.host === 'example.com'));
  });

  it('never throws on malformed MIME or 8-bit garbage', async () => {
    const m = await extractScanInput(toCrlf(malformedMimeMessage()), env, limits);
    assert.ok(m.rawBytes > 0);
    const g = await extractScanInput(garbage8bitMessage(), env, limits);
    assert.equal(g.from?.address, 'noise@example.com');
    const empty = await extractScanInput(Buffer.alloc(0), env, limits);
    assert.equal(empty.urls.length, 0);
  });
});

describe('HTML scan on hostile markup', () => {
  it('reads <noscript> text: mail clients run no scripts, so they show it', () => {
    assert.equal(
      scanHtml('<p>a</p><noscript><p>Verify your account</p></noscript><script>x()</script><template>t</template>', 10).text,
      'a\nVerify your account',
    );
  });

  it('marks text an element draws right to left letter by letter, so its readers read it forwards', () => {
    for (const html of [
      '<p>Please <bdo dir="RTL">drowssap ruoy yfirev</bdo> now</p>',
      '<p>Please <span style="direction: rtl; unicode-bidi: bidi-override">drowssap ruoy yfirev</span> now</p>',
    ]) {
      const r = scanHtml(html, 10);
      assert.equal(r.text, 'Please \u202edrowssap ruoy yfirev\u202c now');
      assert.deepEqual(tokenize(r.text), tokenize('Please verify your password now'));
    }
    // The marks count against the text budget like line breaks: 100,000 overrides add nothing past it.
    assert.ok(scanHtml('<bdo dir=rtl>x</bdo>'.repeat(100_000), 10, 1000).text.length <= 1000);
    // Right-to-left direction alone, or a bdo to ltr, reorders no Latin letters.
    assert.equal(scanHtml('<p dir="rtl">password</p><bdo dir="ltr">x</bdo><span style="direction:rtl">y</span>', 10).text, 'password\nxy');
  });

  it('collapses blanks as a browser shows them, keeping a gap of no-break spaces a reader sees as one', () => {
    assert.equal(scanHtml('<p>a \t  b\u00a0c</p>', 10).text, 'a b c');
    assert.equal(scanHtml('<p>V e r i f y&nbsp;&nbsp;&nbsp;y o u r</p>', 10).text, 'V e r i f y  y o u r');
    assert.equal(scanHtml('<p>one&nbsp; two</p>', 10).text, 'one  two');
  });

  it('keeps at most MAX_HTML_DEPTH elements open, as browsers do (htmlparser2 costs O(depth) per tag)', () => {
    let deepest = 0;
    const parser = new DepthCappedParser({
      onopentag() {
        deepest = Math.max(deepest, parser.depth);
      },
    });
    parser.write('<div><span>'.repeat(5000));
    assert.equal(parser.depth, MAX_HTML_DEPTH, 'the parser no longer exposes its open-element stack: re-check the cap');
    parser.end();
    assert.equal(deepest, MAX_HTML_DEPTH);
    // Past the cap tags become siblings; links, text and hidden sections still come through.
    // (`<b>` inside the link at the cap closes the link first: "in" is not link text, in Blink either.)
    const r = scanHtml(`${'<div>'.repeat(3000)}<style>.x{}</style><a href="https://evil.example/">Sign <b>in</b></a>${'</div>'.repeat(3000)}`, 10);
    assert.deepEqual(r.links, [{ url: 'https://evil.example/', kind: 'href', anchorText: 'Sign' }]);
    assert.equal(r.text, 'Sign in');
  });

  it('shows anchor text as a browser does whatever whitespace pads it, and bounds it', () => {
    const padded = scanHtml(`<a href="https://evil.example/">${`${' \n\t'.repeat(100_000)}<span> </span>`.repeat(3)}www.paypal.com</a>`, 10);
    assert.equal(padded.links[0]?.anchorText, 'www.paypal.com');
    const unclosed = scanHtml(`<a href="https://evil.example/">${'word '.repeat(200_000)}`, 10);
    assert.equal(unclosed.links[0]?.anchorText?.length, 500);
    const capped = scanHtml(`<p>${'word '.repeat(1000)}</p><a href="https://x.example/">late</a>`, 10, 100);
    assert.equal(capped.text.length, 99); // 100 characters kept, trailing space trimmed
    assert.deepEqual(
      capped.links.map((l) => l.anchorText),
      ['late'],
    );
  });
});

describe('links a sender hides from a scanner but a mail client shows', () => {
  it('resolves links against <base href> (the baseStriker split), reads SVG links, button formaction and meta refresh', () => {
    const r = scanHtml(
      [
        '<head><base href="https://evil.example/kit/"><base href="https://second.example/"></head>',
        '<a href="login?u=1">Sign in</a><a href="//cdn.example.net/x">cdn</a><a href="https://ok.example/">ok</a>',
        '<form><input type=password name=p><button formaction="collect.php">Go</button></form>',
        '<svg><a xlink:href="https://svg.example/">Open</a></svg>',
        '<meta http-equiv="Refresh" content="0; URL=\'https://refresh.example/r\'">',
        '<img src="logo.png">',
      ].join(''),
      50,
    );
    assert.deepEqual(
      r.links.map((l) => [l.kind, l.url]),
      [
        ['href', 'https://evil.example/kit/login?u=1'],
        ['href', 'https://cdn.example.net/x'],
        ['href', 'https://ok.example/'],
        ['form', ''],
        ['form', 'https://evil.example/kit/collect.php'],
        ['href', 'https://svg.example/'],
        ['href', 'https://refresh.example/r'],
        ['img', 'https://evil.example/kit/logo.png'],
      ],
    );
    // A base that is not an absolute http(s) URL changes nothing.
    assert.deepEqual(
      scanHtml('<base href="javascript:x"><a href="login">x</a>', 5).links.map((l) => l.url),
      ['login'],
    );
  });

  it('reads the links Outlook shows inside its conditional comments and VML shapes, and only them', async () => {
    const html = [
      // The Outlook-only lure: other readers show example.org, Outlook the IP address.
      '<!--[if !mso]><!--><a href="https://example.org/statement">View statement</a><!--<![endif]-->',
      '<!--[if mso]><a href="http://45.33.32.156/inv">View statement</a><![endif]-->',
      // A bulletproof button: VML for Outlook, its href a link.
      '<!--[if (gte mso 9)|(IE)]><v:roundrect href="https://button.example/go" arcsize="10%"><center>Go</center></v:roundrect><![endif]-->',
      '<v:rect href="https://vml.example/">x</v:rect>',
      // Comments that are only comments: no links from them.
      '<!-- <a href="https://commented-out.example/">old</a> -->',
      '<!--[if mso]><a href="https://unterminated.example/">x</a>-->',
    ].join('');
    assert.deepEqual(
      scanHtml(html, 50).links.map((l) => [l.kind, l.url, l.anchorText]),
      [
        ['href', 'https://example.org/statement', 'View statement'],
        ['href', 'http://45.33.32.156/inv', 'View statement'],
        ['href', 'https://button.example/go', ''],
        ['href', 'https://vml.example/', ''],
      ],
    );
    // The message's analysis gets the Outlook-only link like any other.
    const message = toCrlf(['From: a@example.com', 'To: b@example.org', 'Subject: Statement', 'Content-Type: text/html', '', html, ''].join('\n'));
    assert.ok((await extractScanInput(message, env, limits)).urls.some((u) => u.source === 'href' && u.host === '45.33.32.156'));
    // Their text is not the message's text (Outlook's copy of a button or a layout cell repeats the rest).
    assert.equal(scanHtml('<!--[if mso]><p>Only in Outlook</p><![endif]--><p>Everywhere</p>', 5).text, 'Everywhere');
    // A link written twice is one; the bound on links holds inside the comments.
    assert.equal(scanHtml('<a href="https://a.example/">a</a><!--[if mso]><a href="https://a.example/">a</a><![endif]-->', 5).links.length, 1);
    assert.equal(
      scanHtml(`<!--[if mso]>${'<a href="https://x.example/N">x</a>'.replace('N', '1')}${'<a href="https://y.example/">y</a>'}<![endif]-->`, 1).links.length,
      1,
    );
  });

  it('reads one level of conditional comments: a crafted nest of them costs one more pass, not one per level', () => {
    // Comments cannot nest (the first --> ends one), but an unterminated one inside another can
    // be written so that each level holds the next: only the first level is read.
    const two = '<!--[if mso]><a href="https://first.example/">a</a><!--[if mso]><a href="https://second.example/">b</a><![endif]<![endif]-->';
    assert.deepEqual(
      scanHtml(two, 5).links.map((l) => l.url),
      ['https://first.example/'],
    );
    // 50,000 levels (1 MB): read level by level this would be ~25 GB of parsing.
    const nested = `<!--[if mso]>${'<!--[if mso]>'.repeat(50_000)}<a href="https://deep.example/">x</a>${'<![endif]'.repeat(50_000)}-->`;
    assert.deepEqual(scanHtml(nested, 50).links, []);
    const long = `<!--[if mso]>${' '.repeat(1_000_000)}<![endif]x${' '.repeat(1_000_000)}-->`;
    assert.deepEqual(scanHtml(long, 5).links, []);
    // Any mix of comment and conditional markers: never throws, never more links than asked, only links written.
    const pieces = ['<!--', '-->', '<!--[if mso]>', '<!--[if !mso]><!-->', '<![endif]', '<!--<![endif]-->', '<a href="https://a.example/">', '</a>'];
    const more = ['<v:roundrect href="https://v.example/">', '<area href="https://m.example/">', 'text', ' ', '<p>', '[if gte mso 9]>', '<'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces, ...more), { maxLength: 60 }), fc.integer({ min: 1, max: 4 }), (parts, max) => {
        const links = scanHtml(parts.join(''), max).links;
        assert.ok(links.length <= max);
        for (const l of links) assert.match(l.url, /^https:\/\/[avm]\.example\/$/);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a link as a browser does: control characters around it, tabs and line breaks inside it, backslashes for slashes', () => {
    const written = [
      'ht\ttp://evil.example/x',
      'h\nttps://evil.example/',
      '\u0000https://evil.example/',
      ' \u0001https://evil.example/\u0000',
      '\\\\evil.example/x',
      '/\\evil.example/x',
      'https:\\\\evil.example\\x',
    ];
    for (const raw of written) {
      const d = describeUrl(raw, 'href', 'x');
      assert.equal(d?.host, 'evil.example', JSON.stringify(raw));
      assert.equal(d?.registrable, 'evil.example', JSON.stringify(raw));
    }
    // The HTML scan hands such a link over as written (entities decoded): it reaches the analysis.
    assert.equal(scanHtml('<a href="ht&#9;tps://evil.example/">x</a>', 5).links[0]?.url, 'ht\ttps://evil.example/');
    assert.equal(describeUrl('relative/path', 'href'), null);
  });

  it('reads the form and links of an HTML attachment behind padding (60 pixels once pushed them out)', async () => {
    const page = `${'<img src="https://px.example/p.gif">'.repeat(60)}<form action="https://evil.example/collect"><input type="password"></form>`;
    const raw = toCrlf(withAttachment('invoice.html', Buffer.from(page), 'text/html'));
    const i = await extractScanInput(raw, env, limits);
    assert.deepEqual(i.attachments[0]?.links, ['https://evil.example/collect']);
    assert.ok(i.urls.some((u) => u.source === 'attachment' && u.host === 'evil.example'));
  });

  it("reads an attached message's links (message/rfc822, .eml) as another sender's: source 'message'", async () => {
    const inner = [
      'From: "Amazon" <service@amazon.com>',
      'Subject: Verify',
      'Content-Type: text/html',
      '',
      '<a href="http://amazon.com.ssl-session.cn/x">Verify</a>',
      '',
    ].join('\n');
    const outer = (type: string, name: string): Buffer =>
      toCrlf(
        [
          'From: a@example.com',
          'To: b@example.org',
          'Subject: fwd',
          'MIME-Version: 1.0',
          'Content-Type: multipart/mixed; boundary="b"',
          '',
          '--b',
          'Content-Type: text/plain',
          '',
          'See attached: https://www.example.com/',
          '--b',
          `Content-Type: ${type}${name ? `; name="${name}"` : ''}`,
          ...(name ? [`Content-Disposition: attachment; filename="${name}"`] : []),
          '',
          inner,
          '--b--',
          '',
        ].join('\n'),
      );
    for (const [type, name] of [
      ['message/rfc822', ''],
      ['application/octet-stream', 'Voicemail.eml'],
    ]) {
      const i = await extractScanInput(outer(type, name), env, limits);
      assert.deepEqual(
        i.urls.map((u) => [u.source, u.host]),
        [
          ['text', 'www.example.com'],
          ['message', 'amazon.com.ssl-session.cn'],
        ],
        `${type} ${name}`,
      );
      assert.equal(i.attachments[0]?.message, true);
    }
  });
});

describe('text the HTML hides', () => {
  it('reads an inline style as a browser renders it', () => {
    const hides = (style: string, hidden = false): boolean => styleVisibility(style, hidden).hides;
    assert.ok(hides('display:none'));
    assert.ok(hides('DISPLAY: none !important; color: red'));
    assert.ok(hides('opacity:0'));
    assert.ok(hides('opacity: 0.0'));
    assert.ok(hides('max-height:0px; overflow:hidden'));
    assert.ok(hides('height:0;overflow-y:hidden'));
    assert.ok(hides('', true));
    assert.ok(!hides('display:block; opacity:0.5'));
    assert.ok(!hides('max-height:0')); // without overflow:hidden the text spills out visibly
    assert.ok(hides('width:0; overflow:hidden'));
    assert.ok(hides('text-indent:-9999px'));
    assert.ok(!hides('text-indent:-2em')); // a hanging indent
    assert.ok(hides('position:absolute; left:-10000px'));
    assert.ok(!hides('position:relative; left:-10000px; top:0'));
    assert.ok(hides('transform:scale(0)'));
    assert.ok(hides('transform: translate(1px) scaleY(0)'));
    assert.ok(!hides('transform:scale(0.5)'));
    assert.equal(styleVisibility('font:0/0 a', false).fontZero, true);
    assert.equal(styleVisibility('font: italic 700 1px serif', false).fontZero, true);
    assert.equal(styleVisibility('font: 700 14px/1.4 Arial, sans-serif', false).fontZero, false);
    assert.equal(styleVisibility('font-size:0', false).fontZero, true);
    assert.equal(styleVisibility('font-size:1px', false).fontZero, true);
    assert.equal(styleVisibility('font-size:14px', false).fontZero, false);
    assert.equal(styleVisibility('visibility:hidden', false).invisible, true);
    assert.equal(styleVisibility('color:#FFF', false).white, true);
    assert.equal(styleVisibility('color: rgb(255, 255, 255)', false).white, true);
    assert.equal(styleVisibility('color:#fffffe', false).white, false);
    assert.equal(styleVisibility('background-color:#0072c6', false).background, true);
  });

  it('keeps the whole text and the visible text apart: hidden salt, zero fonts a child resizes, white on white and on colour', () => {
    const r = scanHtml(
      [
        '<div style="display:none">salt one</div>',
        '<span hidden>salt two</span>',
        '<td style="font-size:0">salt three<div style="font-size:14px">Pay now</div></td>',
        '<p style="color:#fff">salt four</p>',
        '<table bgcolor="#0072c6"><tr><td style="color:#ffffff">Sign in</td></tr></table>',
        '<div style="visibility:hidden">salt five <b style="visibility:visible">today</b></div>',
        '<div style="opacity:0"><p style="opacity:1">salt six</p></div>',
      ].join(''),
      10,
    );
    assert.equal(r.visibleText.replace(/\s+/g, ' '), 'Pay now Sign in today');
    for (const salt of ['salt one', 'salt two', 'salt three', 'salt four', 'salt five', 'salt six']) assert.ok(r.text.includes(salt), salt);
    assert.equal(r.hiddenChars, 'salt onesalt twosalt threesalt foursalt five salt six'.length);
    const plain = scanHtml('<p>Nothing hidden</p>', 10);
    assert.equal(plain.hiddenChars, 0);
    assert.equal(plain.visibleText, plain.text);
  });
});

describe('text a <style> sheet hides', () => {
  it('still reads the rule that hides the salt when junk pads the sheet past its budget', () => {
    const salt = 'Minutes of the planning meeting are attached for review. '.repeat(20);
    const html = `<style>${'.p{color:red}\n'.repeat(MAX_STYLE_CHARS / 14 + 100)}.salt{display:none}</style><div class="salt">${salt}</div><p>Verify your account now.</p>`;
    const r = scanHtml(html, 10);
    assert.ok(r.hiddenChars > 0);
    assert.equal(r.visibleText, 'Verify your account now.');
  });

  const visible = (html: string): string => scanHtml(html, 10).visibleText.replace(/\s+/g, ' ').trim();

  it('applies class, id, tag and * rules, whatever the case, comments or an unclosed rule', () => {
    assert.equal(visible('<style>.s{display:none}</style><div class="a s">salt</div><p>Pay now</p>'), 'Pay now');
    assert.equal(visible('<style>#x{font-size:0}</style><div id="x">salt</div><p>Pay now</p>'), 'Pay now');
    assert.equal(visible('<style>span{visibility:hidden}</style><span>salt</span><p>Pay now</p>'), 'Pay now');
    assert.equal(visible('<style>*{opacity:0}</style><p>salt</p>'), '');
    assert.equal(visible('<STYLE type="text/css">/* x */ .s { DISPLAY : /* y */ NONE } </STYLE ><div class="s">salt</div><p>Pay now</p>'), 'Pay now');
    assert.equal(visible('<style>.s{display:none</style><div class="s">salt</div><p>Pay now</p>'), 'Pay now');
    assert.equal(visible('<style>.\\73{dis\\70 lay:n\\6f ne}</style><div class="s">salt</div><p>Pay now</p>'), 'Pay now');
    assert.equal(visible('<style>div.s.t{color:#fff}</style><div class="t s">salt</div><div class="s">kept</div><p>Pay now</p>'), 'kept Pay now');
  });

  it('applies a rule to text before its sheet, and matches the element a rule is for whatever its context', () => {
    assert.equal(visible('<p class="late">salt</p><p>Pay now</p><style>.late{display:none}</style>'), 'Pay now');
    assert.equal(visible('<style>body > div .s, .nope{display:none}</style><div class="s">salt</div><p>Pay now</p>'), 'Pay now');
  });

  it('leaves what holds only on some screens or states: @media, :hover, ::before, [attr]', () => {
    const html =
      '<style>@media (max-width:600px){.m{display:none}} @supports (display:grid){.g{display:none}} ' +
      '.h:hover{display:none} .b::before{display:none} [data-x]{display:none}</style>' +
      '<p class="m">one</p><p class="g">two</p><p class="h">three</p><p class="b">four</p><p data-x="1">five</p>';
    assert.equal(visible(html), 'one two three four five');
  });

  it('cascades: inline over a sheet, !important over inline, the more specific and the later rule over the others', () => {
    assert.equal(visible('<style>.s{display:none}</style><div class="s" style="display:block">shown</div>'), 'shown');
    assert.equal(visible('<style>.s{display:none !important}</style><div class="s" style="display:block">salt</div><p>x</p>'), 'x');
    assert.equal(visible('<style>#i{font-size:14px} .s{font-size:0}</style><div class="s" id="i">shown</div>'), 'shown');
    assert.equal(visible('<style>.s{font-size:0} .s{font-size:14px}</style><div class="s">shown</div>'), 'shown');
    // Specificity before source order, !important before both.
    assert.equal(visible('<style>.s.t{display:none} .s{display:block}</style><p class="s t">gone</p><p>x</p>'), 'x');
    assert.equal(visible('<style>p.s{display:block} .s{display:none}</style><p class="s">shown</p>'), 'shown');
    assert.equal(visible('<style>#i{display:block} p{display:none !important}</style><p id="i">gone</p><b>x</b>'), 'x');
    // A sheet's white text on a sheet's background stays visible.
    assert.equal(visible('<style>.btn{background:#0072c6} .w{color:#fff}</style><td class="btn"><span class="w">Sign in</span></td>'), 'Sign in');
  });

  it('keeps the cascade when rules of one selector are merged (later in source and !important still decide)', () => {
    // The first `.a` and the last are one rule; `.b` between them still wins `display` for an element of both.
    assert.equal(visible('<style>.a{display:none} .b{display:block} .a{color:red}</style><p class="a b">shown</p>'), 'shown');
    assert.equal(visible('<style>.a{display:none !important} .b{display:block} .a{display:block}</style><p class="a b">gone</p><p>x</p>'), 'x');
    assert.equal(visible('<style>.a{display:block} .a{display:none}</style><p class="a">gone</p><p>x</p>'), 'x');
    assert.equal(visible('<style>.a{display:none !important} .a{display:block}</style><p class="a">gone</p><p>x</p>'), 'x');
  });

  it('matches a sheet repeating one rule thousands of times as one rule (8,000 × 8,000 elements: 55 s before)', () => {
    const html = `<style>${'.a{display:none}\n'.repeat(8000)}</style>${'<span class=a>pad</span>'.repeat(8000)}<p>Verify your account</p>`;
    const t0 = performance.now();
    const r = scanHtml(html, 100);
    assert.ok(performance.now() - t0 < 5000, `${Math.round(performance.now() - t0)} ms`);
    assert.equal(r.visibleText, 'Verify your account');
    assert.equal(r.sheetWorkCut, false);
  });

  it('stops matching elements against the sheets past MAX_SHEET_WORK, and says so (LIMIT_STYLE_RULES)', async () => {
    // A rule for every pair of 100 classes, each on 300 elements: 1.5 million rule matches.
    const cls = Array.from({ length: 100 }, (_, i) => `c${i}`);
    const css = cls.flatMap((a, i) => cls.slice(i + 1).map((b) => `.${a}.${b}{color:#fff}`)).join('');
    const html = `<style>${css}</style>${`<span class="${cls.join(' ')}">x</span>`.repeat(300)}`;
    const t0 = performance.now();
    const input = await extractScanInput(Buffer.from(`From: a@example.com\r\nContent-Type: text/html\r\n\r\n${html}\r\n`), env, limits);
    assert.ok(performance.now() - t0 < 5000, `${Math.round(performance.now() - t0)} ms`);
    assert.deepEqual(
      input.limits.map((l) => l.code),
      ['LIMIT_STYLE_RULES'],
    );
    // A read for links alone (an HTML attachment, no text kept) matches no sheet at all.
    const t1 = performance.now();
    assert.equal(scanHtml(html, 10, 0).sheetWorkCut, false);
    assert.ok(performance.now() - t1 < 5000);
    // Ordinary sheets are far from it.
    assert.equal(scanHtml('<style>.h{display:none}</style><p class="h">a</p><p>b</p>', 10).sheetWorkCut, false);
    assert.ok(MAX_SHEET_WORK >= 80 * 2406, "eighty times the corpora's most");
  });

  it('skips parsing sheets that cannot hide anything, never one that can', () => {
    assert.equal(styleRules('<style>.a{color:#333;font-size:14px} p{line-height:1.4}</style><p class="a">x</p>'), null);
    assert.equal(mayHide(['.a{color:#333}', 'p{margin:0}']), false);
    for (const css of [
      '.a{display:none}',
      '.a{DISPLAY:/* x */NONE}',
      '.a{dis\\70 lay:none}',
      '.a{font-family:"/*"} .b{display:none}',
      '.a{opacity:.0}',
      '.a{font-size:1px}',
      '.a{color:WHITE}',
      '.a{font:0/0 a}',
      '.a{font: bold 1px serif}',
      '.a{text-indent:-9999px}',
      '.a{position:absolute;left:-9999px}',
      '.a{transform:scale(0)}',
      '.a{width:0;overflow:hidden}',
    ])
      assert.ok(mayHide(['p{margin:0}', css]), css);
  });

  it('reads the sheets of hostile input in bounded time, and never throws', () => {
    assert.deepEqual(styleBlocks('<style>a</style><style x>b</STYLE ><style>c'), ['a', 'b', 'c']);
    assert.equal(styleBlocks(`<style>${'x'.repeat(MAX_STYLE_CHARS + 10)}</style><style>y</style>`).join('').length, MAX_STYLE_CHARS);
    // Past the budget only rules that may hide text are kept, within their own budget.
    const tailRules = styleBlocks(
      `<style>${'x'.repeat(MAX_STYLE_CHARS + 10)}{color:red} .a{color:red} .h{display:none} @media print{.m{display:none}} .k{dis\\70 lay:none}</style>`,
    );
    assert.deepEqual(tailRules.slice(1), [' .h{display:none}\n .k{dis\\70 lay:none}\n']);
    const flood = styleBlocks(`<style>${'x'.repeat(MAX_STYLE_CHARS)}${'.h{display:none}'.repeat(100_000)}</style>`);
    assert.ok(flood[1].length <= MAX_TAIL_RULE_CHARS && flood[1].length > MAX_TAIL_RULE_CHARS - 20, String(flood[1].length));
    const t0 = performance.now();
    styleBlocks('<style'.repeat(200_000));
    styleRules(`<style>${'{'.repeat(50_000)}${'.a{display:none}'.repeat(5_000)}</style>`);
    assert.ok(performance.now() - t0 < 5_000);
    for (const css of ['}}}{{{', '.a{display:none', '@media{', '.a{color:', '\\', '"', '/*', '<!--', '.a, {display:none}', ':is(.a){display:none}'])
      assert.doesNotThrow(() => styleRules(`<style>${css}</style>`), css);
  });
});

describe('css-tree faults a sheet can trigger (css-tree-fixes.ts)', () => {
  it('replaces both once the sheet reader is loaded (a css-tree upgrade that changes them fails here: re-check both faults)', () => {
    assert.deepEqual([...cssTreeFixes()].sort(), ['parser#SyntaxError', 'token-stream#setSource']);
    assert.deepEqual(useCssTreeFixes(), cssTreeFixes(), 'installing twice changes nothing');
  });

  it('reads a sheet after a longer one to its end (css-tree left alone loops forever on the second)', async () => {
    // In a worker: were the fault back, the parse would never return and only ending the thread stops it.
    const code = `const { parentPort, workerData } = require('node:worker_threads');
      const { styleRules } = require(workerData);
      const r = styleRules('<style>a{}a{}a{color:#fff}</style><style>{,}}a/*</style><style>.h{display:none}</style>');
      parentPort.postMessage(r ? [...r.byClass.keys()] : null);`;
    const worker = new Worker(code, { eval: true, workerData: path.join(__dirname, '..', '..', 'lib', 'message', 'stylesheet.js') });
    let timer: NodeJS.Timeout | undefined;
    try {
      const classes = await Promise.race([
        once(worker, 'message').then(([m]) => m as unknown),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the sheets were not read within 20 s')), 20_000))),
      ]);
      assert.deepEqual(classes, ['h'], 'the rule after the broken sheet is read');
    } finally {
      clearTimeout(timer);
      await worker.terminate();
    }
  });

  it("builds a parse error's quoted source only when it is read, with css-tree's own function", () => {
    let calls = 0;
    const original = (message: string, source: string, offset: number, line: number, column: number) => {
      calls++;
      const parts = { source, offset, line, column, sourceFragment: (n?: number) => `fragment ${n}`, formattedMessage: `formatted ${message}` };
      return Object.assign(new SyntaxError(message), parts);
    };
    const e = lazyErrorFactory(original)('Colon is expected', 'a{b}', 3, 1, 4);
    assert.equal(calls, 0, 'nothing built up front');
    assert.ok(e instanceof SyntaxError);
    const fields = [e.name, e.message, e.stack, e.source, e.offset, e.line, e.column];
    assert.deepEqual(fields, ['SyntaxError', 'Colon is expected', 'SyntaxError: Colon is expected', 'a{b}', 3, 1, 4]);
    assert.equal(e.formattedMessage, 'formatted Colon is expected');
    assert.equal(e.sourceFragment(2), 'fragment 2');
    assert.equal(calls, 1, 'built once, when read');
    // What the parser hands to onParseError now: css-tree's message and quoted source, on demand.
    const seen: Array<{ message: string; stack?: string; formattedMessage: string }> = [];
    csstree.parse('.x{display:none}\n.a{b}', { onParseError: (err) => void seen.push(err) });
    assert.equal(seen.length, 1);
    assert.equal(seen[0].stack, `SyntaxError: ${seen[0].message}`);
    assert.match(seen[0].formattedMessage, /^Parse error: Colon is expected\n.*\|\.a\{b\}/s);
  });
});

describe('postal-mime decoders without Blob', () => {
  /** A class of postal-mime's module `file` as postal-mime ships it (loaded fresh: the one its parser uses is replaced), and the replaced one. */
  const originalAndFast = <T>(file: string): { Original: T; Fast: T } => {
    const resolved = path.join(path.dirname(require.resolve('postal-mime')), file);
    const patched = require.cache[resolved];
    delete require.cache[resolved];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Original = require(resolved) as T;
    require.cache[resolved] = patched;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { Original, Fast: require(resolved) as T };
  };

  it('replaces the chunk joins, base64 decoding and the parse loop once extraction is loaded (a postal-mime upgrade that changes them fails here)', () => {
    assert.deepEqual([...fastDecoders()].sort(), [
      'base64-decoder#finalize',
      'base64-decoder#pushChunk',
      'base64-decoder#update',
      'chunk-writer#finalize',
      'pass-through-decoder#finalize',
      'postal-mime#parse',
    ]);
    assert.deepEqual(useFastDecoders(), fastDecoders(), 'installing twice changes nothing');
  });

  it("parses any message to the same result as postal-mime's own parse loop (boundaries, '--' lines, nesting, no final newline)", async () => {
    type Parse = new (o: object) => { parse(b: Buffer): Promise<unknown> };
    const { Original, Fast } = originalAndFast<Parse>('postal-mime.js');
    assert.notEqual(Fast.prototype.parse, Original.prototype.parse, 'the fast loop is installed');
    const options = { maxNestingDepth: 8, attachmentEncoding: 'arraybuffer', rfc822Attachments: true, maxHeadersSize: 400 };
    const outcome = async (P: Parse, raw: Buffer): Promise<unknown> => {
      try {
        return await new P(options).parse(raw);
      } catch (err) {
        return { error: (err as Error).message };
      }
    };
    const line = fc.oneof(
      fc.constantFrom('--', '--b', '--b--', '--b \t', '--bx', '--c', '--c--', '-', '', 'text', '=3D=', 'QUJDRA==', 'é', 'Content-Type: text/html'),
      fc.string({ maxLength: 24 }),
    );
    const part = fc.record({
      type: fc.constantFrom('text/plain', 'text/html', 'application/octet-stream', 'message/rfc822', 'multipart/alternative; boundary="c"'),
      enc: fc.constantFrom('7bit', 'base64', 'quoted-printable'),
      lines: fc.array(line, { maxLength: 8 }),
      // No empty line after the part's headers: its first line that is no field ends them (read again as content).
      blank: fc.boolean(),
    });
    const message = fc.record({
      multipart: fc.boolean(),
      parts: fc.array(part, { maxLength: 4 }),
      eol: fc.constantFrom('\r\n', '\n'),
      end: fc.constantFrom('', '\r\n', '--b--\r\n', 'epilogue'),
      headerLines: fc.nat(30),
    });
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        const head = ['From: a@example.com', 'Subject: s', ...Array.from({ length: m.headerLines }, (_, i) => `X-H${i}: ${'v'.repeat(10)}`)];
        const body = m.parts.flatMap((p) => {
          const inner = p.type.startsWith('multipart') ? ['--c', 'Content-Type: text/plain', '', ...p.lines, '--c--'] : p.lines;
          return [...(m.multipart ? ['--b'] : []), `Content-Type: ${p.type}`, `Content-Transfer-Encoding: ${p.enc}`, ...(p.blank ? [''] : []), ...inner];
        });
        const text = m.multipart
          ? [...head, 'Content-Type: multipart/mixed; boundary="b"', '', 'preamble', ...body, '--b--'].join(m.eol) + m.eol + m.end
          : [...head, '', ...body].join(m.eol) + m.end;
        const raw = Buffer.from(text, 'utf8');
        assert.deepStrictEqual(await outcome(Fast, raw), await outcome(Original, raw));
        compared++;
      }),
      { numRuns: 400, seed: 20261204 },
    );
    for (const raw of [deepNestedMessage(12), malformedMimeMessage(), manyPartsMessage(300), garbage8bitMessage()])
      assert.deepStrictEqual(await outcome(Fast, Buffer.from(raw)), await outcome(Original, Buffer.from(raw)));
    assert.equal(compared, 400);
  });

  it('joins chunks to the same bytes as new Blob(chunks).arrayBuffer()', async () => {
    const chunk = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.uint8Array({ maxLength: 64 }).map((a) => a.buffer),
      fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 64 }), fc.nat(3)).map(([a, off]) => a.subarray(off)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { maxLength: 30 }), async (chunks) => {
        const viaBlob = Buffer.from(await new Blob(chunks).arrayBuffer());
        assert.deepEqual(Buffer.from(joinChunks(chunks)), viaBlob);
      }),
      { numRuns: 300 },
    );
  });

  it("decodes a run of base64 letters to the same bytes as postal-mime's own decoder", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const postal = require(path.join(path.dirname(require.resolve('postal-mime')), 'decode-strings.js')) as { decodeBase64: (s: string) => ArrayBuffer };
    const letters = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'), maxLength: 200 });
    fc.assert(
      fc.property(letters, (s) => assert.deepEqual(Buffer.from(decodeBase64Native(s)), Buffer.from(postal.decodeBase64(s)))),
      { numRuns: 2000 },
    );
    const exact = decodeBase64Native('QUJD');
    assert.equal(exact.byteLength, 3, 'an exact-size buffer, not a pooled slice');
  });

  type Base64DecoderClass = new () => { update(l: Uint8Array): void; finalize(): Promise<ArrayBuffer>; remainder: string; maxChunkSize: number };
  const base64Decoders = (): { Original: Base64DecoderClass; Fast: Base64DecoderClass } => {
    const { Original, Fast } = originalAndFast<Base64DecoderClass>('base64-decoder.js');
    assert.notEqual(Fast.prototype.update, Original.prototype.update, 'the fast update is installed');
    return { Original, Fast };
  };

  /** Feed `lines` to both decoders (chunk size `chunk`): the same letters pending after every line, the same bytes at the end. */
  const sameAsPostal = async (lines: readonly Uint8Array[], chunk: number): Promise<void> => {
    const { Original, Fast } = base64Decoders();
    const a = new Original();
    const b = new Fast();
    a.maxChunkSize = b.maxChunkSize = chunk;
    for (const l of lines) {
      a.update(l);
      b.update(l);
      assert.equal(pendingBase64(b), a.remainder);
    }
    assert.deepEqual(Buffer.from(await b.finalize()), Buffer.from(await a.finalize()));
  };

  it("keeps a line's base64 letters and '=' as postal-mime's decode-and-replace does, for any bytes", async () => {
    const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...Buffer.from('AZaz09+/==  \t\r\n-_.')));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(byte, { maxLength: 200 }), { maxLength: 6 }), fc.constantFrom(100 * 1024, 8, 5), (lines, chunk) =>
        sameAsPostal(
          lines.map((l) => Uint8Array.from(l)),
          chunk,
        ),
      ),
      { numRuns: 1500 },
    );
    // A broken UTF-8 sequence does not swallow the ASCII letter after it; a BOM and other text are dropped.
    await sameAsPostal([Buffer.from([0xe2, 0x51, 0xef, 0xbb, 0xbf, 0x55, 0xc3, 0xa9, 0x4a, 0x44, 0x3d])], 100 * 1024);
  });

  it("base64 lines in, the same decoder state and bytes out as postal-mime's own update (padding anywhere, junk, chunk cuts)", async () => {
    const piece = fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.from(a).toString('base64'));
    const junk = fc.oneof(fc.constant(''), fc.constant(' '), fc.constant('\t'), fc.constant('==='), fc.constant('é'), fc.string({ maxLength: 4 }));
    const line = fc.tuple(fc.array(fc.tuple(piece, junk), { maxLength: 4 }), fc.integer({ min: 1, max: 90 })).map(([parts, width]) => {
      const text = parts.map(([p, j]) => p + j).join('');
      return (text.match(new RegExp(`[^]{1,${width}}`, 'g')) ?? ['']).map((l) => Buffer.from(l, 'utf8'));
    });
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 8 }), fc.constantFrom(100 * 1024, 8, 5), (groups, chunk) => sameAsPostal(groups.flat(), chunk)),
      { numRuns: 500 },
    );
    // A whole attachment in one part, cut at postal-mime's own chunk size: one pass of the letters buffer's growth and cuts.
    const big = randomBytes(300_000).toString('base64');
    await sameAsPostal(
      (big.match(/.{1,76}/g) ?? []).map((l) => Buffer.from(l)),
      100 * 1024,
    );
  });

  /** A message with a short text part and one attachment "x.bin" whose encoded body is `lines` (CRLF after each). */
  const attachmentMessage = (encoding: string, lines: readonly Buffer[]): Buffer =>
    Buffer.concat([
      Buffer.from(
        [
          'From: a@example.com',
          'Subject: x',
          'Content-Type: multipart/mixed; boundary="b"',
          '',
          '--b',
          'Content-Type: text/plain',
          '',
          'see attached',
          '--b',
          'Content-Type: application/octet-stream; name="x.bin"',
          'Content-Disposition: attachment; filename="x.bin"',
          `Content-Transfer-Encoding: ${encoding}`,
          '',
          '',
        ].join('\r\n'),
      ),
      ...lines.map((l) => Buffer.concat([l, Buffer.from('\r\n')])),
      Buffer.from('--b--\r\n'),
    ]);

  /** The message's one attachment decodes to exactly `bytes`. */
  const assertAttachment = async (msg: Buffer, bytes: Buffer): Promise<void> => {
    const input = await extractScanInput(msg, env, limits);
    assert.equal(input.attachments.length, 1);
    assert.equal(input.attachments[0].size, bytes.length);
    assert.equal(input.attachments[0].sha256, createHash('sha256').update(bytes).digest('hex'));
  };

  it('decodes a base64 attachment of padded pieces, folded at any width, to its bytes', async () => {
    const piece = fc.uint8Array({ maxLength: 300 });
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 6 }), fc.integer({ min: 4, max: 120 }), async (pieces, width) => {
        const b64 = pieces.map((p) => Buffer.from(p).toString('base64')).join('');
        const lines = (b64.match(new RegExp(`.{1,${width}}`, 'g')) ?? []).map((l) => Buffer.from(l));
        await assertAttachment(attachmentMessage('base64', lines), Buffer.concat(pieces.map((p) => Buffer.from(p))));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps an 8bit attachment of any lines byte for byte (line breaks as sent, the one before the boundary not content)', async () => {
    const line = fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.from(a.filter((b) => b !== 0x0a && b !== 0x0d)));
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 400 }), async (lines) => {
        const body = lines.filter((l) => !l.toString('latin1').startsWith('--'));
        fc.pre(body.length > 0 && Buffer.concat(body).length > 0); // an empty part is no attachment
        await assertAttachment(attachmentMessage('8bit', body), Buffer.from(body.map((l) => l.toString('latin1')).join('\r\n'), 'latin1'));
      }),
      { numRuns: 200 },
    );
  });

  it('decodes base64, quoted-printable and 8bit parts as before', async () => {
    const input = await extractScanInput(nested, env, limits);
    assert.match(input.text, /Olá, veja www\.fatura-online\.com\.br\/pagar agora\./);
    assert.match(input.html, /<a href="https:\/\/pay\.example\.net\/x\?a=1">Pagar <b>agora<\/b><\/a>/);
  });
});

describe('UTF-7 text (a charset mail clients display and TextDecoder does not know)', () => {
  /** Every run of non-space characters of `s` as a UTF-7 base64 run: nothing readable left in the bytes. */
  const utf7All = (s: string): string =>
    s
      .split(/(\s+)/)
      .map((t) => (t.trim() ? `+${Buffer.from(t, 'utf16le').swap16().toString('base64').replace(/=+$/, '')}-` : t))
      .join('');
  const lure = '<p>Your mailbox password expires today. Verify your account now.</p><p><a href="https://mail-verify.example.net/login">Verify now</a></p>';
  const message = (headers: string[], charset: string, body: string, cte = '7bit'): Buffer =>
    toCrlf(
      [
        ...headers,
        'To: bob@example.org',
        'MIME-Version: 1.0',
        `Content-Type: text/html; charset=${charset}`,
        `Content-Transfer-Encoding: ${cte}`,
        '',
        body,
        '',
      ].join('\n'),
    );

  it("wraps postal-mime's text-part decoding (a postal-mime upgrade that moves it fails here)", () => {
    assert.equal(utf7TextParts(), true);
    assert.equal(useUtf7TextParts(), true, 'installing twice changes nothing');
  });

  it('knows the labels mail writes for UTF-7 and no others', () => {
    for (const l of ['utf-7', 'UTF7', 'x-utf-7', 'unicode-1-1-utf-7', 'csUnicode11UTF7']) assert.ok(isUtf7Charset(l), l);
    for (const l of ['utf-8', 'utf-16', 'utf-72', '', undefined, 7]) assert.ok(!isUtf7Charset(l), String(l));
  });

  it('reads a body written entirely in UTF-7 base64 runs: its words and its link', async () => {
    const encoded = utf7All(lure);
    assert.ok(!encoded.includes('Verify') && !encoded.includes('mail-verify'));
    for (const [charset, cte, body] of [
      ['utf-7', '7bit', encoded],
      ['"UNICODE-1-1-UTF-7"', 'base64', Buffer.from(encoded).toString('base64')],
    ]) {
      const input = await extractScanInput(message(['From: a@b.example', 'Subject: x'], charset, body, cte), env, limits);
      assert.match(input.htmlText, /Verify your account now/, charset);
      assert.deepEqual(
        input.urls.map((u) => u.host),
        ['mail-verify.example.net'],
      );
    }
    // Other charsets are decoded as before.
    const latin = await extractScanInput(message(['From: a@b.example', 'Subject: x'], 'iso-8859-1', '<p>Ol=E1</p>', 'quoted-printable'), env, limits);
    assert.equal(latin.htmlText.trim(), 'Olá');
  });

  it('decodes UTF-7 encoded words in the subject and the From name; a decoded name cannot pose as an address', async () => {
    const word = (s: string): string => `=?utf-7?B?${Buffer.from(utf7All(s)).toString('base64')}?=`;
    const input = await extractScanInput(
      message([`From: ${word('PayPal')} ${word('Service')} <alerts@pp-notice.example>`, `Subject: ${word('Your account is limited')}`], 'utf-8', '<p>x</p>'),
      env,
      limits,
    );
    assert.equal(input.subject, 'Your account is limited');
    // White space between two encoded words is dropped (RFC 2047).
    assert.deepEqual([input.from?.name, input.from?.address], ['PayPalService', 'alerts@pp-notice.example']);
    assert.equal(transcodeUtf7Words('=?utf-7?Q?Caf+AOk-?= ok'), `=?utf-8?B?${Buffer.from('Café').toString('base64')}?= ok`);
    const posing = await extractScanInput(
      message([`From: ${word('PayPal <service@paypal.com>')} <x@evil.example>`, 'Subject: s'], 'utf-8', '<p>x</p>'),
      env,
      limits,
    );
    assert.equal(posing.from?.address, 'x@evil.example');
    assert.equal(posing.from?.name, 'PayPal <service@paypal.com>');
  });

  it('never throws on malformed UTF-7 (random bytes, broken runs, any transfer encoding)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.constantFrom('7bit', 'base64', 'quoted-printable'), async (bytes, cte) => {
        const body = cte === 'base64' ? Buffer.from(bytes).toString('base64') : Buffer.from(bytes).toString('latin1');
        const input = await extractScanInput(
          message(['From: =?utf-7?B?' + Buffer.from(bytes).toString('base64') + '?= <a@b.example>', 'Subject: =?utf-7?Q?+AGE?='], 'utf-7', body, cte),
          env,
          limits,
        );
        assert.equal(typeof input.htmlText, 'string');
        assert.equal(typeof input.subject, 'string');
      }),
      { seed: 20261203, numRuns: 300 },
    );
  });
});

describe('mailbox files (mbox) taken apart', () => {
  const texts = (raw: string | Buffer): string[] | null => splitMbox(Buffer.from(raw))?.map((b) => b.toString('latin1')) ?? null;

  it('a plain message is not an mbox', () => {
    assert.equal(splitMbox(Buffer.from('From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n')), null);
    assert.equal(splitMbox(Buffer.from('From nobody')), null);
  });

  it('splits at "From " lines that start the file or follow an empty line, dropping the separators and the framing empty line', () => {
    const mbox = 'From a@x Thu Jan  1 00:00:00 2026\nSubject: one\n\nFrom here on, a body line.\n\nFrom b@x Fri Jan  2 00:00:00 2026\nSubject: two\n\nbody\n';
    assert.deepEqual(texts(mbox), ['Subject: one\n\nFrom here on, a body line.\n', 'Subject: two\n\nbody']);
    assert.deepEqual(texts(mbox.replace(/\n/g, '\r\n')), ['Subject: one\r\n\r\nFrom here on, a body line.\r\n', 'Subject: two\r\n\r\nbody']);
  });

  it('gives quoted "From " body lines back one ">" (mboxrd), keeping every byte', () => {
    const body = Buffer.concat([
      Buffer.from('From a@x Thu Jan  1 00:00:00 2026\nSubject: q\n\n>From me\n>>From you\n> From no\n'),
      Buffer.from([0xe9, 0xff, 0x0a]),
    ]);
    const [m] = splitMbox(body) ?? [];
    assert.deepEqual(m, Buffer.concat([Buffer.from('Subject: q\n\nFrom me\n>From you\n> From no\n'), Buffer.from([0xe9, 0xff])]));
  });
});
