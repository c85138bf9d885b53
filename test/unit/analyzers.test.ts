import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { DEFAULT_BRANDS } from '../../lib/config/schema.js';
import { splitHost } from '../../lib/message/domain.js';
import { nameFitsAddress } from '../../lib/analyzers/sender-name.js';
import { analyze } from '../../lib/scan.js';
import { extractScanInput, fromAmbiguity } from '../../lib/message/extract.js';
import { brandsNamedIn, buildBrandIndex, lookalikeBrand, oneEditApart, skeleton } from '../../lib/analyzers/brands.js';
import { toCrlf } from '../helpers/smtp.js';
import { REASONS } from '../../lib/reasons.js';
import type { SenderAuth } from '../../lib/message/types.js';

const config = buildConfig({ nlp: { enabled: false } }, { env: {} });
const env = { mailFrom: '', rcptTo: ['bob@example.org'] };

async function codesFor(opts: {
  from?: string | null;
  html?: string;
  text?: string;
  replyTo?: string;
  subject?: string;
  mailFrom?: string;
  auth?: SenderAuth;
  /** Header lines written after From. */
  headers?: string[];
}): Promise<string[]> {
  const lines = [
    ...(opts.from === null ? [] : [`From: ${opts.from ?? 'Alice <alice@example.com>'}`]),
    ...(opts.headers ?? []),
    'To: bob@example.org',
    `Subject: ${opts.subject ?? 'test'}`,
  ];
  if (opts.replyTo) lines.push(`Reply-To: ${opts.replyTo}`);
  if (opts.html !== undefined) lines.push('Content-Type: text/html; charset=utf-8');
  lines.push('', opts.html ?? opts.text ?? 'hello', '');
  const input = await extractScanInput(
    toCrlf(lines.join('\n')),
    { ...env, mailFrom: opts.mailFrom ?? env.mailFrom, ...(opts.auth ? { auth: opts.auth } : {}) },
    config.limits,
  );
  // NOTHING_TO_ACT_ON, which most of these minimal messages earn, is tested in nothing-to-act-on.test.ts.
  return [...new Set(analyze(input, config).map((s) => s.code))].filter((c) => c !== 'NOTHING_TO_ACT_ON').sort();
}

describe('URL heuristics', () => {
  it('flags link text showing paypal.com that points elsewhere as URL_TEXT_HREF_BRAND_MISMATCH', async () => {
    assert.deepEqual(await codesFor({ html: '<a href="https://secure-check.example.net/">www.paypal.com</a>' }), ['URL_TEXT_HREF_BRAND_MISMATCH']);
  });

  it('flags link text showing another (non-brand) domain as the weaker URL_TEXT_HREF_MISMATCH', async () => {
    assert.deepEqual(await codesFor({ html: '<a href="https://other.example.net/">www.example.com</a>' }), ['URL_TEXT_HREF_MISMATCH']);
  });

  it("weighs a shown site lightly when the link goes through the sender's own domain (its click tracker)", async () => {
    const from = 'CNET News <newsletter@cnet.news.example>';
    // An advertiser's brand shown, the click counted by the sender's own tracker: the plain mismatch only.
    assert.deepEqual(await codesFor({ from, html: '<a href="https://clickthru.news.example/r?ad=7">www.paypal.com</a>' }), [
      'SENDER_LINKS_ALIGNED',
      'URL_TEXT_HREF_MISMATCH',
    ]);
    // A non-brand site shown through the sender's tracker: nothing.
    assert.deepEqual(await codesFor({ from, html: '<a href="https://clickthru.news.example/r?id=9">www.vendor.example</a>' }), ['SENDER_LINKS_ALIGNED']);
    // The same brand link going anywhere else keeps its full weight.
    assert.deepEqual(await codesFor({ from, html: '<a href="https://clickthru.other.example/r">www.paypal.com</a>' }), ['URL_TEXT_HREF_BRAND_MISMATCH']);
  });

  it('does not flag link text and href on the same registered domain', async () => {
    // (the sender, example.com, links only to its own domain: SENDER_LINKS_ALIGNED)
    assert.deepEqual(await codesFor({ from: 'Example <alice@example.com>', html: '<a href="https://click.example.com/r/1">www.example.com</a>' }), [
      'SENDER_LINKS_ALIGNED',
    ]);
  });

  it('does not flag a mismatch behind a known click tracker, and unwraps targets it names', async () => {
    assert.deepEqual(await codesFor({ html: '<a href="https://us1.list-manage.com/track/click?id=1">www.shop.example</a>' }), []);
    // Klaviyo, Brevo, ActiveCampaign click tracking beside a link on the sender's own site: aligned.
    const tracked = ['https://trk.klclick.com/ls/click?upn=abc', 'https://r.sendibt3.com/tr/cl/xyz', 'https://lt.acemlnb.com/Prod/link-tracker?notrack=1'];
    assert.deepEqual(
      await codesFor({
        from: 'Example Shop <alice@example.com>',
        html: `${tracked.map((u) => `<a href="${u}">www.example.com/sale</a>`).join(' ')} <a href="https://www.example.com/">Shop</a>`,
      }),
      ['SENDER_LINKS_ALIGNED'],
    );
    const wrapped = 'https://eur01.safelinks.protection.outlook.com/?url=' + encodeURIComponent('http://45.33.32.156/login') + '&data=x';
    assert.deepEqual(await codesFor({ html: `<a href="${wrapped}">Sign in</a>` }), ['URL_IP_LITERAL']);
  });

  it('flags links to public IP literals but not to private or loopback ones', async () => {
    assert.deepEqual(await codesFor({ text: 'go to http://45.33.32.156/verify' }), ['URL_IP_LITERAL']);
    assert.deepEqual(await codesFor({ text: 'board at http://192.168.10.2/ and http://127.0.0.1:8080/' }), []);
  });

  it('flags links to a host named by its public address as URL_IP_HOSTNAME', async () => {
    for (const host of [
      '69.140.167.72.host.secureserver.net',
      'ec2-16-170-148-0.eu-north-1.compute.amazonaws.com',
      'static.151.155.156.178.clients.your-server.de',
    ])
      assert.ok((await codesFor({ html: `<a href="https://${host}/login">Sign in</a>` })).includes('URL_IP_HOSTNAME'), host);
    assert.deepEqual(await codesFor({ text: 'log in at http://bzq-82-81-85-250.red.bezeqint.net/x' }), ['URL_IP_HOSTNAME']);
    // Private addresses, version or date numbers, an image, an address-like name without a scheme in text: nothing.
    for (const host of ['ip-10-0-0-1.ec2.internal', 'release-1-2-3.example.com', '2024-12-01-10.example.com'])
      assert.deepEqual(await codesFor({ html: `<a href="https://${host}/">x</a>` }), [], host);
    assert.ok(!(await codesFor({ html: '<img src="https://69.140.167.72.host.secureserver.net/p.gif">' })).includes('URL_IP_HOSTNAME'));
    assert.ok(!(await codesFor({ text: 'the box is 69.140.167.72.host.secureserver.net' })).includes('URL_IP_HOSTNAME'));
  });

  it('flags punycode hosts, and mixed Latin/Cyrillic labels as URL_MIXED_SCRIPT', async () => {
    const codes = await codesFor({ html: '<a href="https://xn--pypal-4ve.com/">login</a>' });
    assert.ok(codes.includes('URL_PUNYCODE'));
    assert.ok(codes.includes('URL_MIXED_SCRIPT'));
    assert.ok(codes.includes('URL_BRAND_LOOKALIKE'));
  });

  it('flags brand look-alikes: digit swaps, homoglyphs, one edit, brand token', () => {
    const idx = buildBrandIndex(config.brands);
    assert.equal(lookalikeBrand('paypa1.com', 'com', idx)?.brand, 'paypal');
    assert.equal(lookalikeBrand('rnicrosoft.com', 'com', idx)?.brand, 'microsoft');
    assert.equal(lookalikeBrand('micros0ft-support.top', 'top', idx)?.brand, 'microsoft');
    assert.equal(lookalikeBrand('netfllix.com', 'com', idx)?.brand, 'netflix');
    assert.equal(lookalikeBrand('paypal-secure.example', 'example', idx)?.brand, 'paypal');
  });

  it("does not flag brand domains, the brand's own name under another suffix, or unrelated words", () => {
    const idx = buildBrandIndex(config.brands);
    for (const d of ['paypal.com', 'microsoft.com', 'amazon.de', 'paypal.de', 'example.com', 'applebees.com', 'github.com', 'olive.com', 'kernel.org']) {
      assert.equal(lookalikeBrand(d, d.slice(d.indexOf('.') + 1), idx), null, d);
    }
  });

  it('flags a brand domain used as subdomain (paypal.com.secure-login.example)', async () => {
    assert.ok((await codesFor({ text: 'https://paypal.com.secure-login.example/x' })).includes('URL_BRAND_IN_SUBDOMAIN'));
  });

  it('flags userinfo in a URL', async () => {
    assert.ok((await codesFor({ text: 'https://www.paypal.com@evil.example/login' })).includes('URL_USERINFO'));
  });

  it('flags suspicious TLDs, shorteners and very deep subdomains', async () => {
    assert.deepEqual(await codesFor({ text: 'http://invoice-view.top/doc' }), ['URL_SUSPICIOUS_TLD']);
    assert.deepEqual(await codesFor({ text: 'https://bit.ly/3abcdef' }), ['URL_SHORTENER']);
    assert.deepEqual(await codesFor({ text: 'https://a.b.c.d.e.example.net/' }), ['URL_DEEP_SUBDOMAIN']);
  });

  it('flags data: and javascript: links but not data: images', async () => {
    assert.ok((await codesFor({ html: '<a href="data:text/html;base64,PGgxPg==">open</a>' })).includes('URL_DATA_URI'));
    assert.ok((await codesFor({ html: '<a href="javascript:alert(1)">open</a>' })).includes('URL_JAVASCRIPT'));
    assert.deepEqual(await codesFor({ html: '<img src="data:image/png;base64,iVBORw0KGgo=">' }), []);
  });

  it("flags a form posting to another domain than the sender's, and password fields", async () => {
    const codes = await codesFor({ html: '<form action="https://collect.example.net/p"><input type="password"></form>' });
    assert.deepEqual(codes, ['FORM_EXTERNAL_ACTION', 'FORM_PASSWORD_FIELD', 'HTML_FORM']);
    assert.deepEqual(await codesFor({ from: 'Example <alice@example.com>', html: '<form action="https://www.example.com/search"></form>' }), [
      'HTML_FORM',
      'SENDER_LINKS_ALIGNED',
    ]);
  });
});

describe('brands and government domains outside the English world', () => {
  it('finds a Japanese brand name inside unspaced text and flags it from a foreign domain', async () => {
    assert.deepEqual(
      await codesFor({
        from: '=?utf-8?b?5LiJ5LqV5L2P5Y+L44Kr44O844OJ?= <contact.vpass1@rongshux.example>',
        subject: '=?utf-8?b?44GK5pSv5omV44GE5pel44Gu44GU5qGI5YaF?=',
      }),
      ['SENDER_BRAND_IMPERSONATION'],
    );
    assert.deepEqual(await codesFor({ from: 'info <info@shop.example>', subject: '【楽天カード】カードご請求金額のご案内' }), ['BRAND_SUBJECT_MISALIGNED']);
    assert.deepEqual(
      await codesFor({
        from: '"三井住友カード" <info@smbc-card.com>',
        mailFrom: 'bounce@smbc-card.com',
        html: '<a href="https://www.smbc-card.com/mem/index.jsp">ログイン</a>',
      }),
      ['BRAND_ALIGNED'],
    );
  });

  it('gives a throw-away sender no alignment credit for linking to itself (suspicious TLD, free hosting)', async () => {
    assert.deepEqual(await codesFor({ from: 'Rewards <rewards@gifts-today.bond>', html: '<a href="https://gifts-today.bond/claim">Claim</a>' }), [
      'SENDER_SUSPICIOUS_TLD',
      'URL_SUSPICIOUS_TLD',
    ]);
    assert.deepEqual(await codesFor({ from: 'Password Reset <reset@acme-reset.web.app>', html: '<a href="https://acme-reset.web.app/r">Reset</a>' }), [
      'URL_FREE_HOSTING',
    ]);
    assert.deepEqual(await codesFor({ from: 'Gifts Today <rewards@gifts-today.example>', html: '<a href="https://gifts-today.example/claim">Claim</a>' }), [
      'SENDER_LINKS_ALIGNED',
    ]);
    // A name of a role or a function only ("Rewards", "Account Security") names no one: not aligned.
    assert.deepEqual(await codesFor({ from: 'Rewards <rewards@gifts-today.example>', html: '<a href="https://gifts-today.example/claim">Claim</a>' }), []);
  });

  it('knows UPS: its own notice is aligned, a "UPS" sender elsewhere impersonates it', async () => {
    assert.deepEqual(
      await codesFor({
        from: 'UPS <mcinfo@ups.com>',
        mailFrom: 'bounce@ups.com',
        subject: 'UPS Update: Package Scheduled for Delivery',
        html: '<a href="https://www.ups.com/track?tracknum=1Z9">Track</a>',
      }),
      ['BRAND_ALIGNED'],
    );
    assert.ok((await codesFor({ from: '"UPS Delivery Status" <ups.delivery.status@nytoups.example>' })).includes('SENDER_BRAND_UNLISTED_DOMAIN'));
    assert.ok((await codesFor({ from: '"UPS Delivery Status" <status@parcel-notices.example>' })).includes('SENDER_BRAND_IMPERSONATION'));
  });

  it('flags a government domain with another suffix after it (links and From), never a real one', async () => {
    assert.deepEqual(await codesFor({ html: '<a href="https://afip.gob.ar.com/pagar">Pagar</a>' }), ['DOMAIN_GOV_LOOKALIKE']);
    assert.deepEqual(await codesFor({ from: 'Receita <aviso@receita.gov.br.example>' }), ['DOMAIN_GOV_LOOKALIKE']);
    for (const real of [
      'https://www.afip.gob.ar/x',
      'https://www.gov.uk/tax',
      'https://www.nta.go.jp/',
      'https://service.gouv.fr/',
      'https://www.sat.gob.mx/',
    ]) {
      assert.ok(!(await codesFor({ html: `<a href="${real}">x</a>` })).includes('DOMAIN_GOV_LOOKALIKE'), real);
    }
  });
});

describe('link hosts written with a trailing dot', () => {
  it('reads "bit.ly." as bit.ly and "acme.web.app." as acme.web.app, as a browser does', async () => {
    assert.deepEqual(await codesFor({ html: '<a href="https://bit.ly./3xQz9Lm">go</a>' }), ['URL_SHORTENER']);
    assert.deepEqual(await codesFor({ html: '<a href="https://acme-reset.web.app./r">go</a>' }), ['URL_FREE_HOSTING']);
  });
});

describe('sender heuristics', () => {
  it('flags a display name naming a brand whose domain the address is not', async () => {
    assert.deepEqual(await codesFor({ from: '"PayPal Support" <help@mailer.example.net>' }), ['SENDER_BRAND_IMPERSONATION']);
    assert.deepEqual(await codesFor({ from: '"Wells Fargo Online" <alerts@wf-alerts.example>' }), ['SENDER_BRAND_UNLISTED_DOMAIN']);
  });

  it('holds a brand name on an address whose domain bears nothing of the brand; one that bears its name is weaker', async () => {
    const hold = config.thresholds.quarantine;
    const weightOf = async (from: string): Promise<number | undefined> => {
      const codes = await codesFor({ from });
      const brand = codes.find((c): c is 'SENDER_BRAND_IMPERSONATION' | 'SENDER_BRAND_UNLISTED_DOMAIN' => c.startsWith('SENDER_BRAND_'));
      return brand && REASONS[brand].weight;
    };
    // Free mail, a hosting provider's host, an unrelated company's domain: holds alone (50).
    for (const from of [
      '"Accounts PayPal" <bi11y1@isp-q.example>',
      '"Banco do Brasil" <lindalhb686@gmail.com>',
      '"Google Cloud" <no-reply@hey6-dea17.firebaseapp.com>',
      '"Bradesco" <pontos@vmi1158185.contaboserver.net>',
    ])
      assert.ok(((await weightOf(from)) ?? 0) >= hold, from);
    // The brand's name in the domain (written together, one of its words, its own domain's
    // name, behind look-alike letters, under a brand TLD): maybe the brand's own, short of holding.
    for (const from of [
      '"Costco Wholesale" <wholesale@costcorewardscentre.example>',
      '"Banco do Brasil" <notifica@bancodobrasil.com.br>',
      '"Mercado Pago" <avisos@mercadopago.br>',
      '"American Express" <offers@aexp-rewards.example>',
      '"PayPal" <service@paypa1-notices.example>',
      '"Google Cloud Skills Boost" <noreply@cloudskillsboost.google>',
    ])
      assert.ok(((await weightOf(from)) ?? hold) < hold, from);
    // List software that rewrote From keeps the author's brand name before "via": weaker; a
    // person signing "via" the brand from elsewhere is not that.
    assert.deepEqual(await codesFor({ from: '"PayPal via users" <users@lists.example>' }), ['SENDER_BRAND_UNLISTED_DOMAIN']);
    assert.deepEqual(await codesFor({ from: '"Jane Doe via DocuSign" <jane@evil.example>' }), ['SENDER_BRAND_IMPERSONATION']);
  });

  it('catches brand names written with homoglyphs in the display name', async () => {
    // The name mixes Greek / Cyrillic letters into a Latin word: also disguised text.
    assert.deepEqual(await codesFor({ from: '"Ρаураl" <x@evil.example>' }), ['SENDER_BRAND_IMPERSONATION', 'TEXT_MIXED_SCRIPT']);
  });

  it('does not flag the brand mailing from its own domain (BRAND_ALIGNED), or names merely containing a brand', async () => {
    assert.deepEqual(await codesFor({ from: '"PayPal" <service@paypal.com>' }), ['BRAND_ALIGNED']);
    assert.deepEqual(await codesFor({ from: '"Amazon.com" <shipment-tracking@amazon.com>' }), ['BRAND_ALIGNED']);
    assert.deepEqual(await codesFor({ from: '"Appleton Farms" <info@appleton.example>' }), []);
  });

  it('needs the display name to present itself as the brand, not mention it among other names', async () => {
    assert.deepEqual(await codesFor({ from: '"Lockergnome Apple Core" <newsletter@lockergnome.example>' }), []);
    assert.deepEqual(await codesFor({ from: '"Your Apple ID Team" <id@evil.example>' }), ['SENDER_BRAND_IMPERSONATION']);
    assert.deepEqual(await codesFor({ from: '"Security Service PayPal" <x@evil.example>' }), ['SENDER_BRAND_IMPERSONATION']);
  });

  it('does not read an everyday-word brand starting a name as a claim, unless the rest is filler or the subject names it too', async () => {
    assert.deepEqual(
      await codesFor({
        from: '"Apple Valley Dental" <info@applevalleydental.example>',
        subject: 'Appointment reminder',
        html: '<a href="https://applevalleydental.example/appointments">Confirm</a>',
      }),
      ['SENDER_LINKS_ALIGNED'],
    );
    assert.deepEqual(await codesFor({ from: '"Steam Cleaning Pros" <offers@steampros.example>' }), []);
    assert.deepEqual(await codesFor({ from: '"Chase Miller" <chase.miller@example.com>' }), []);
    assert.deepEqual(await codesFor({ from: '"Apple Support" <help@evil.example>' }), ['SENDER_BRAND_IMPERSONATION']);
    assert.deepEqual(await codesFor({ from: '"Amazon Voucher" <gift@evil.example>', subject: 'Your Amazon voucher is waiting' }), [
      'BRAND_SUBJECT_MISALIGNED',
      'SENDER_BRAND_IMPERSONATION',
    ]);
    // A distinctive brand starting the name is a claim whatever follows.
    assert.deepEqual(await codesFor({ from: '"Netflix Kids Club" <club@evil.example>' }), ['SENDER_BRAND_IMPERSONATION']);
  });

  it('reads a person signing for a brand ("John from Ledger") as a claim of that brand', async () => {
    assert.deepEqual(await codesFor({ from: '"John from Ledger" <insights@finance.example>' }), ['SENDER_BRAND_IMPERSONATION']);
    assert.deepEqual(await codesFor({ from: '"Katie at PayPal" <katie@evil.example>' }), ['SENDER_BRAND_IMPERSONATION']);
    assert.deepEqual(await codesFor({ from: '"Jane Doe via DocuSign" <dse@docusign-mail.example>' }), ['SENDER_BRAND_UNLISTED_DOMAIN']);
    assert.deepEqual(await codesFor({ from: '"John from Ledger" <john@ledger.com>' }), ['BRAND_ALIGNED']);
    // A brand inside a longer name after "from" is a topic, not a signature.
    assert.deepEqual(await codesFor({ from: '"Notes from Apple Core fans" <notes@lists.example>' }), []);
  });

  it('flags a display name that shows another e-mail address', async () => {
    assert.deepEqual(await codesFor({ from: '"billing@bank.example" <x@evil.example>' }), ['SENDER_DISPLAY_NAME_ADDRESS']);
  });

  it('records (weight 0) a Reply-To on another registered domain', async () => {
    assert.deepEqual(await codesFor({ replyTo: 'other@elsewhere.example' }), ['SENDER_REPLY_TO_MISMATCH']);
  });

  it('flags replies steered to a free webmail address, except when list software rewrote From', async () => {
    assert.deepEqual(await codesFor({ from: '"Mr. Christos Papadopoulos" <info@company.example>', replyTo: 'christos.p1@gmail.com' }), [
      'SENDER_REPLY_TO_FREEMAIL',
      'SENDER_REPLY_TO_MISMATCH',
    ]);
    // Regional and private webmail in the default list: the diversion is the same.
    for (const replyTo of ['dr.s.t53@zohomail.com', 'x.y@tuta.io', 'kobayashi@yahoo.co.jp', 'j.n@seznam.cz'])
      assert.deepEqual(await codesFor({ from: '<office@motors.example>', replyTo }), ['SENDER_REPLY_TO_FREEMAIL', 'SENDER_REPLY_TO_MISMATCH'], replyTo);
    // Mailman / Google Groups DMARC rewriting: From is the list, Reply-To the author.
    assert.deepEqual(await codesFor({ from: '"Jane Doe via USRP-users" <usrp-users@lists.example.com>', replyTo: 'jane.doe@gmail.com' }), [
      'SENDER_REPLY_TO_MISMATCH',
    ]);
    // A free-webmail sender replying to another free-webmail address: a habit, not a diversion.
    assert.deepEqual(await codesFor({ from: '<jane.doe@hotmail.com>', replyTo: 'jane.doe@yahoo.com' }), ['SENDER_REPLY_TO_MISMATCH']);
    // A freemail sender replying to itself is no mismatch at all.
    assert.deepEqual(await codesFor({ from: '<jane.doe@gmail.com>', replyTo: 'jane.doe@gmail.com' }), []);
  });

  it('flags a From local part that no language spells, not names or role addresses', async () => {
    assert.deepEqual(await codesFor({ from: '<qkkcpxcmd@deals.example.com>' }), ['SENDER_RANDOM_LOCALPART']);
    assert.deepEqual(await codesFor({ from: '<krzysztof@example.pl>' }), []);
    assert.deepEqual(await codesFor({ from: '<notifications@example.com>' }), []);
    // Digits, dots and dashes: not judged (bounce tags, first.last).
    assert.deepEqual(await codesFor({ from: '<qkk.cpxcmd@example.com>' }), []);
  });

  it('flags a From local part in randomised mixed case, not camel-case words', async () => {
    assert.deepEqual(await codesFor({ from: '"AAA Drive Safe." <hrUsmGyi@deck.example.com>' }), ['SENDER_RANDOM_LOCALPART']);
    assert.deepEqual(await codesFor({ from: '<QePEMzkdT@mail.example.com>' }), ['SENDER_RANDOM_LOCALPART']);
    assert.deepEqual(await codesFor({ from: '"Informed Delivery" <USPSInformeddelivery@example.com>' }), []);
    assert.deepEqual(await codesFor({ from: '<DoNotReply@example.com>' }), []);
    assert.deepEqual(await codesFor({ from: '<KrzysztofNowak@example.pl>' }), []);
  });

  it('flags a From address in a TLD of [urls] suspicious_tlds', async () => {
    assert.deepEqual(await codesFor({ from: '<news@deals-today.top>' }), ['SENDER_SUSPICIOUS_TLD']);
    assert.deepEqual(await codesFor({ from: '<news@shop.example.com>' }), []);
  });
});

describe('disguised text', () => {
  it('flags words that mix Latin with Cyrillic / Greek / Coptic lookalikes', async () => {
    assert.deepEqual(await codesFor({ subject: 'ΑIеrt: (New) Ⲣауmеnt Rеρort' }), ['TEXT_MIXED_SCRIPT']);
    assert.deepEqual(await codesFor({ text: 'Please confirm your Ρауpal account today.' }), ['TEXT_MIXED_SCRIPT']);
  });

  it('flags text set in mathematical-alphanumeric letters', async () => {
    assert.deepEqual(await codesFor({ subject: '𝘿𝙊𝘾𝙏𝙊𝙍 𝙎𝘼𝙔𝙎 𝘿𝙊 𝙏𝙃𝙄𝙎' }), ['TEXT_MIXED_SCRIPT']);
  });

  it('leaves text written wholly in one script alone, whatever the language', async () => {
    assert.deepEqual(await codesFor({ subject: 'Ваш заказ отправлен', text: 'Здравствуйте! Заказ № 1234 передан в службу доставки DHL.' }), []);
    // Russian text declining a Latin brand name ("с iPhoneом") is ordinary spelling there.
    assert.deepEqual(
      await codesFor({ subject: 'Скидка на чехлы', text: 'Новые чехлы для вашего телефона: совместимы с iPhoneом и Samsungом, доставка завтра.' }),
      [],
    );
    assert.deepEqual(await codesFor({ subject: 'Η παραγγελία σας', text: 'Ευχαριστούμε για την παραγγελία σας στο eShop.' }), []);
    assert.deepEqual(await codesFor({ text: 'The α-particle and β-decay, x² and the 𝑥 in one formula.' }), []);
    assert.deepEqual(await codesFor({ text: 'Rotate by cosθ and sinα; the sample holds 5 μmol.' }), []);
  });
});

describe('recipient and sender-shape signals', () => {
  it("flags the recipient's address in the subject", async () => {
    assert.deepEqual(await codesFor({ subject: 'bob@example.org: your mailbox is almost full' }), ['RCPT_IN_SUBJECT']);
  });

  it('flags mail that claims to come from the recipient', async () => {
    assert.deepEqual(await codesFor({ from: '<bob@example.org>' }), ['SENDER_IS_RECIPIENT']);
  });

  it('flags a missing or malformed From address', async () => {
    assert.deepEqual(await codesFor({ from: null }), ['SENDER_MALFORMED']);
    assert.deepEqual(await codesFor({ from: 'Target <rewards@showcase-survey>' }), ['SENDER_MALFORMED']);
    // An unquoted comma makes the display name a second "address" without one (a bulk-mail tool's From).
    assert.deepEqual(await codesFor({ from: 'Nachricht von DM, <service@stayfriends.example>' }), ['SENDER_MALFORMED']);
    assert.deepEqual(await codesFor({ from: 'Hit N Spin,(<service@stayfriends.example>)' }), ['SENDER_MALFORMED']);
    // postal-mime folds "Name, PhD <x@…>" into one mailbox as mail clients show it; the field still has the unquoted comma.
    assert.deepEqual(await codesFor({ from: 'T-e-m-u Pallets Department    ,_<axquvel@4mlpd57p0y.example>' }), ['SENDER_MALFORMED']);
    // A quoted phrase and a comma before the address: a mailbox without an address, then another.
    assert.ok((await codesFor({ from: '"delivery@FedEx.es", <info@reply.shop-canda.example>' })).includes('SENDER_MALFORMED'));
    // Quoted, the comma is part of the name.
    assert.deepEqual(await codesFor({ from: '"Acme, Inc." <alice@example.com>' }), []);
  });

  it('flags a From given twice, or naming several mailboxes without a Sender: the one checked may not be the one shown', async () => {
    // Which one a reader shows and which one DMARC (and this analysis, the first) checks can differ.
    assert.deepEqual(await codesFor({ headers: ['From: "PayPal" <service@paypal.com>'] }), ['SENDER_MALFORMED']);
    assert.deepEqual(await codesFor({ from: 'Accounts <billing@example.com>, "PayPal" <service@paypal.com>' }), ['SENDER_MALFORMED']);
    assert.deepEqual(await codesFor({ from: 'Member@example.com, Servicer@example.com' }), ['SENDER_MALFORMED']);
    // RFC 5322 3.6.2: several authors are fine with a Sender saying who sent it.
    assert.deepEqual(await codesFor({ from: 'Alice <alice@example.com>, Bob <bob@example.com>', headers: ['Sender: alice@example.com'] }), []);
    // One mailbox, however written, is not.
    assert.deepEqual(await codesFor({ from: '"Smith, Alice (alice@example.com)" <alice@example.com>' }), []);
    assert.deepEqual(await codesFor({ from: 'alice@example.com (Alice, Accounts)' }), []);
    assert.equal(
      fromAmbiguity([
        { name: 'from', value: 'a@example.com' },
        { name: 'from', value: 'b@example.com' },
      ]),
      "From given 2 times: 'a@example.com' and 'b@example.com'",
    );
    assert.equal(fromAmbiguity([]), null);
    // A From past 16 KB is not parsed for its mailboxes (100,000 of them took ~0.5 s): no mailer writes one.
    assert.equal(fromAmbiguity([{ name: 'from', value: `"${'x, '.repeat(6000)}" <a@example.com>` }]), 'From of 18018 characters');
  });

  it("takes the null sender a mail system writes into a bounce's From as no malformed From", async () => {
    for (const from of ['<>', 'MAILER-DAEMON <>', 'Mail Delivery System <>'])
      assert.ok(!(await codesFor({ from, text: 'Your message could not be delivered.' })).includes('SENDER_MALFORMED'), from);
    // Under another name, or empty, it is malformed.
    assert.ok((await codesFor({ from: 'PayPal <>' })).includes('SENDER_MALFORMED'));
    assert.ok((await codesFor({ from: '' })).includes('SENDER_MALFORMED'));
  });

  it('flags a From domain that cannot exist as written, and passes international domain names', async () => {
    // Forms from the corpora's phish: a percent sign or braces in the domain, the address in
    // quotes inside the angle brackets, mathematical bold letters.
    for (const from of [
      'Atendimento <taxas@312501%taxacorreios.com.br>',
      'Team <team@{nutella.de}>',
      'Sale <"no-reply@ikea.de">',
      'Service <noreply@𝐚𝐨𝐤.𝐝𝐞>',
      'Service <service@ｐａｙｐａｌ.com>',
      'Resgate <resgatar@atendimento__livelo.com.br>',
    ])
      assert.deepEqual(await codesFor({ from, mailFrom: 'x@example.net' }), ['SENDER_DOMAIN_INVALID'], from);
    for (const from of ['Stadt <info@münchen.de>', 'Shop <info@例え.jp>', 'Shop <info@xn--mnchen-3ya.de>', 'Bob <bob@mail.example.co.uk>'])
      assert.deepEqual(await codesFor({ from, mailFrom: 'x@example.net' }), [], from);
  });

  it("flags a From on a free-hosting project's host whose links lead elsewhere as SENDER_FREE_HOSTING", async () => {
    const from = 'Casino <noreply@uiadhgoiaj.firebaseapp.com>';
    assert.deepEqual(await codesFor({ from, html: '<a href="https://bonus-spins.example.net/x">Jetzt spielen</a>' }), ['SENDER_FREE_HOSTING']);
    // The app's own mail links back to its host (Firebase's reset and sign-in links); no links; the platform itself writing.
    assert.deepEqual(await codesFor({ from, html: '<a href="https://uiadhgoiaj.firebaseapp.com/__/auth/action?mode=resetPassword">Reset</a>' }), [
      'URL_FREE_HOSTING',
    ]);
    assert.deepEqual(await codesFor({ from, text: 'Your code is 123456.' }), []);
    assert.deepEqual(await codesFor({ from: 'Typeform <notifications@typeform.com>', html: '<a href="https://shop.example.net/">Shop</a>' }), []);
  });

  it('flags links to free hosting, but not images served from it', async () => {
    assert.deepEqual(await codesFor({ html: '<a href="https://login-secure-4f2a.web.app/">Sign in</a>' }), ['URL_FREE_HOSTING']);
    assert.deepEqual(await codesFor({ html: '<img src="https://firebasestorage.googleapis.com/v0/b/x/logo.png">' }), []);
  });
});

describe('brand alignment', () => {
  it('marks a brand named in the subject with sender and links elsewhere as BRAND_SUBJECT_MISALIGNED', async () => {
    assert.deepEqual(await codesFor({ subject: 'Your Netflix membership is on hold', html: '<a href="https://billing-update.example.net/">Update</a>' }), [
      'BRAND_SUBJECT_MISALIGNED',
    ]);
  });

  it("marks a sender named as a brand, on the brand's domain, with nothing to click there as BRAND_SENDER_LINKS_MISALIGNED", async () => {
    const mail = (from: string, html: string, auth?: SenderAuth): Promise<string[]> => codesFor({ from, subject: 'Aviso de segurança', html, auth });
    const lure = '<a href="https://b-a4qxna7jwq-rj.a.run.app/x">Acessar</a>';
    assert.deepEqual(await mail('Bradesco <naoresponder@bradesco.com.br>', lure), ['BRAND_SENDER_LINKS_MISALIGNED', 'URL_FREE_HOSTING']);
    assert.deepEqual(await mail('"Mercado Livre" <contato@mercadolivre.com.br>', '<a href="https://login-check.example.net/">Entrar</a>'), [
      'BRAND_SENDER_LINKS_MISALIGNED',
    ]);
    // One link on the brand's domains, or on one bearing its name (a domain [brands] lacks), is the brand's own mail.
    assert.deepEqual(await mail('Bradesco <naoresponder@bradesco.com.br>', `${lure} <a href="https://banco.bradesco.com.br/">Site</a>`), ['URL_FREE_HOSTING']);
    assert.deepEqual(await mail('Bradesco <naoresponder@bradesco.com.br>', '<a href="https://bradescoseguros.com.br/x">Seguros</a>'), []);
    // A person at the brand's company (a list post from a colleague), trackers only or no links: not this signal.
    assert.deepEqual(await mail('Jane Doe <jane@adobe.com>', '<a href="https://github.com/x/y">patch</a>'), []);
    assert.deepEqual(await mail('Bradesco <naoresponder@bradesco.com.br>', '<a href="https://u123.ct.sendgrid.net/ls/click?upn=abc">Ver</a>'), [
      'BRAND_ALIGNED',
    ]);
    assert.deepEqual(await mail('Bradesco <naoresponder@bradesco.com.br>', '<p>Sem links.</p>'), ['BRAND_ALIGNED']);
    // SPF / DKIM confirming the From: the brand sent it, whatever it links to.
    assert.deepEqual(
      await mail('"Mercado Livre" <contato@mercadolivre.com.br>', '<a href="https://partner.example.net/">Oferta</a>', {
        dkim: { pass: ['mercadolivre.com.br'], fail: [] },
      }),
      [],
    );
    // DKIM showing it forged: SENDER_BRAND_UNAUTHENTICATED says so, not both.
    assert.deepEqual(await mail('Bradesco <naoresponder@bradesco.com.br>', lure, { dkim: { pass: [], fail: ['bradesco.com.br'] } }), [
      'SENDER_BRAND_UNAUTHENTICATED',
      'URL_FREE_HOSTING',
    ]);
  });

  it('marks sender and every link on the named brand as BRAND_ALIGNED', async () => {
    assert.deepEqual(
      await codesFor({
        from: 'Netflix <info@mailer.netflix.com>',
        subject: 'Your Netflix membership',
        html: '<a href="https://www.netflix.com/account">Account</a>',
      }),
      ['BRAND_ALIGNED'],
    );
  });

  it("does not count a brand's link that carries another site's URL in its query (an open redirect) as on its domains", async () => {
    const mail = (href: string): Promise<string[]> =>
      codesFor({ from: 'eBay <aw-confirm@ebay.com>', subject: 'eBay: Account Verification', html: `<a href="${href}">Sign in</a>` });
    assert.deepEqual(await mail('https://cgi4.ebay.com/ws/eBayISAPI.dll?RedirectToDomain&DomainUrl=http%3A%2F%2F211.172.96.7%2FLogin%2F'), []);
    assert.deepEqual(await mail('https://signin.ebay.com/ws/eBayISAPI.dll?SignIn&ru=https%3A%2F%2Fverify-ebay.example.net%2F'), []);
    // Its own return address (another host of the same domain) is no redirect elsewhere.
    assert.deepEqual(await mail('https://signin.ebay.com/ws/eBayISAPI.dll?SignIn&ru=https%3A%2F%2Fwww.ebay.com%2Fmyebay'), ['BRAND_ALIGNED']);
    // Nor does such a link let the text through as LINKS_BRAND_ONLY (a forwarded brand mail).
    const forwarded = (href: string): Promise<string[]> => codesFor({ from: 'Bob <bob@example.com>', html: `<a href="${href}">Open</a>` });
    assert.deepEqual(await forwarded('https://www.netflix.com/account'), ['LINKS_BRAND_ONLY']);
    assert.deepEqual(await forwarded('https://www.netflix.com/redirect?to=https://netflix-billing.example.net/'), []);
  });

  it("marks mail naming no brand whose every link is on the sender's domain as SENDER_LINKS_ALIGNED", async () => {
    assert.deepEqual(
      await codesFor({
        from: 'Northwind <billing@northwind.example>',
        subject: 'Your receipt',
        html: '<a href="https://northwind.example/invoice/1">Invoice</a> <a href="https://app.northwind.example/billing">Billing</a>',
      }),
      ['SENDER_LINKS_ALIGNED'],
    );
    // ESP click tracking beside a link on the sender's own domain still counts as aligned.
    assert.deepEqual(
      await codesFor({
        from: 'Northwind <billing@northwind.example>',
        subject: 'Reset your password',
        html: '<a href="https://u123.ct.sendgrid.net/ls/click?upn=abc">Reset</a> <a href="https://northwind.example/help">Help</a>',
      }),
      ['SENDER_LINKS_ALIGNED'],
    );
    // Only trackers (nothing on the sender's domain), one link elsewhere, no links at all, or a brand claimed: no softening.
    assert.deepEqual(
      await codesFor({
        from: 'Northwind <billing@northwind.example>',
        subject: 'Reset your password',
        html: '<a href="https://u123.ct.sendgrid.net/ls/click?upn=abc">Reset</a>',
      }),
      [],
    );
    assert.deepEqual(
      await codesFor({
        from: 'Northwind <billing@northwind.example>',
        subject: 'Your receipt',
        html: '<a href="https://northwind.example/i">Invoice</a> <a href="https://pay-now.example.net/">Pay</a>',
      }),
      [],
    );
    assert.deepEqual(await codesFor({ from: 'Northwind <billing@northwind.example>', subject: 'Your receipt', text: 'Thanks for your order.' }), []);
    // A page on a user-content host is whoever uploaded it: it neither makes alignment (a Drive
    // share mail from google.com leading to a Docs page) nor passes as a click tracker beside
    // the sender's own link (google.com is a redirector, docs.google.com serves user content).
    const drive = '<a href="https://docs.google.com/presentation/d/1x/edit">Open</a> <a href="https://www.google.com/drive/">Drive</a>';
    assert.deepEqual(await codesFor({ from: '"Jane (via Google Slides)" <drive-shares-noreply@google.com>', html: drive }), []);
    assert.deepEqual(
      await codesFor({
        from: 'Northwind <billing@northwind.example>',
        subject: 'Your receipt',
        html: '<a href="https://northwind.example/i">Invoice</a> <a href="https://docs.google.com/forms/d/e/1x/viewform">Confirm</a>',
      }),
      [],
    );
    const claimed = await codesFor({
      from: '"PayPal" <service@northwind.example>',
      subject: 'Your receipt',
      html: '<a href="https://northwind.example/i">Invoice</a>',
    });
    assert.ok(!claimed.includes('SENDER_LINKS_ALIGNED'), claimed.join());
  });

  it('aligns a sender only when its display name fits its address, or it is a platform that mails for its customers', async () => {
    const html = '<a href="https://smedialy.example/offer">Get a quote</a>';
    // A name the address does not spell: no softening.
    assert.deepEqual(await codesFor({ from: '"Home Warranty Plans" <offers@eaux.smedialy.example>', html }), []);
    // A name spelt in the domain or by its initials: aligned.
    assert.deepEqual(await codesFor({ from: '"Smedialy Deals" <offers@eaux.smedialy.example>', html }), ['SENDER_LINKS_ALIGNED']);
    // Spelt only in the local part, which the sender writes for free: not aligned (a phisher's
    // "Blue Cross Blue Shield" <bluecrossandblueshield@vebpropin.com>), nor is a person's name.
    assert.deepEqual(await codesFor({ from: '"Home Warranty" <homewarranty@smedialy.example>', html }), []);
    assert.deepEqual(await codesFor({ from: '"Jane Doe" <jane.doe@smedialy.example>', html }), []);
    assert.deepEqual(await codesFor({ from: '"Springfield Media Library" <notices@sml.smedialy.example>', html }), ['SENDER_LINKS_ALIGNED']);
    // No name claims nothing: aligned. A name of roles and functions only ("Customer Support",
    // "Account Security") says who the sender is not, while the domain can be anyone's: not aligned.
    assert.deepEqual(await codesFor({ from: '<offers@smedialy.example>', html }), ['SENDER_LINKS_ALIGNED']);
    assert.deepEqual(await codesFor({ from: '"Customer Support" <offers@smedialy.example>', html }), []);
    assert.deepEqual(
      await codesFor({
        from: '"Account Security" <alert@secure-account-check.example>',
        html: '<a href="https://secure-account-check.example/login">Verify</a>',
      }),
      [],
    );
    // A receipt a platform sends under a merchant's name ([sender] platforms).
    assert.deepEqual(
      await codesFor({
        from: '"Fathom Analytics" <invoice+statements@stripe.com>',
        html: '<a href="https://pay.stripe.com/receipts/acct_1/rcpt_2">Receipt</a>',
      }),
      ['SENDER_LINKS_ALIGNED'],
    );
  });

  it('nameFitsAddress compares skeletons: diacritics, case and apostrophes do not matter', () => {
    assert.ok(nameFitsAddress({ name: "Lowe's", address: 'lowes@e.lowes.com' }));
    assert.ok(nameFitsAddress({ name: 'Équipe Rénovation', address: 'contact@renovation.example' }));
    assert.ok(nameFitsAddress({ name: 'Department of Motor Vehicles', address: 'noreply@dmv.ca.gov' }));
    // Names of a role or of the mail's function only name no sender, so they fit no address
    // ("Support" <no-reply@noshow.io> linking to its own wallet-verification page).
    assert.ok(!nameFitsAddress({ name: 'Password Reset', address: 'noreply@saas.example' }));
    assert.ok(!nameFitsAddress({ name: 'Shipping Notification', address: 'noreply@shop.example' }));
    assert.ok(!nameFitsAddress({ name: 'Support', address: 'no-reply@noshow.io' }));
    // No name, or words too short to compare (initials), claim nothing.
    assert.ok(nameFitsAddress({ name: '', address: 'jane@shop.example' }));
    assert.ok(nameFitsAddress({ name: 'Ke Li', address: 'ke@lab.example' }));
    assert.ok(!nameFitsAddress({ name: 'Cloud Service Notification', address: 'mevalim@deck.socialja.com' }));
    // Names in other scripts cannot be spelt in an ASCII address: not held against the sender.
    assert.ok(nameFitsAddress({ name: '楽天市場', address: 'info@mail.rakuten.co.jp' }));
    assert.ok(nameFitsAddress({ name: 'Сбербанк Онлайн', address: 'noreply@sberbank.ru' }));
    assert.ok(nameFitsAddress({ name: 'Rakuten 楽天', address: 'info@mail.rakuten.co.jp' }));
    assert.ok(!nameFitsAddress({ name: 'Omaha Steaks', address: 'newsletterlxzfb@sia-pmi.id' }));
    assert.ok(!nameFitsAddress({ name: 'Dan Nicholson', address: 'noreply@ex-bell-mx.com' }));
    // The local part is not the sender's identity: only the domain is compared.
    assert.ok(!nameFitsAddress({ name: 'Home Depot', address: 'homedepotbonus@keepb-hdpot.info' }));
    assert.ok(nameFitsAddress({ name: 'Home Depot', address: 'homedepot@email.homedepot.com' }));
  });

  it('ignores footer links to social profiles and app stores for alignment, either way', async () => {
    const footer =
      '<a href="https://apps.apple.com/us/app/id1">App Store</a> <a ' +
      'href="https://www.instagram.com/netflix/">Instagram</a> <a href="https://x.com/netflix">X</a>';
    assert.deepEqual(
      await codesFor({
        from: 'Netflix <info@mailer.netflix.com>',
        subject: 'Your Netflix membership',
        html: `<a href="https://www.netflix.com/account">Account</a> ${footer}`,
      }),
      ['BRAND_ALIGNED'],
    );
    assert.deepEqual(
      await codesFor({
        from: 'Northwind <billing@northwind.example>',
        subject: 'Your receipt',
        html: `<a href="https://northwind.example/i">Invoice</a> ${footer}`,
      }),
      ['SENDER_LINKS_ALIGNED'],
    );
    // A footer does not make a foreign link aligned, nor does a footer alone align anything.
    assert.deepEqual(
      await codesFor({
        from: 'Northwind <billing@northwind.example>',
        subject: 'Your receipt',
        html: `<a href="https://northwind.example/i">Invoice</a> <a href="https://pay-now.example.net/">Pay</a> ${footer}`,
      }),
      [],
    );
    assert.deepEqual(await codesFor({ from: 'Northwind <billing@northwind.example>', subject: 'Your receipt', html: footer }), []);
  });

  it('with SPF / DKIM results, aligns only a From they confirm and names a spoofed brand sender', async () => {
    const mail = {
      from: 'Netflix <info@mailer.netflix.com>',
      subject: 'Your Netflix membership',
      html: '<a href="https://www.netflix.com/account">Account</a>',
      mailFrom: 'bounce@netflix.com',
    };
    // DKIM d=netflix.com verified (relaxed alignment: the From is a subdomain), or SPF pass for the envelope on it.
    assert.deepEqual(await codesFor({ ...mail, auth: { dkim: { pass: ['netflix.com'], fail: [] } } }), ['BRAND_ALIGNED']);
    assert.deepEqual(await codesFor({ ...mail, auth: { spf: { result: 'pass', domain: 'netflix.com' } } }), ['BRAND_ALIGNED']);
    // The envelope matches (an attacker can say anything in MAIL FROM), but DKIM found no valid signature: spoofed.
    assert.deepEqual(await codesFor({ ...mail, auth: { dkim: { pass: [], fail: ['netflix.com'] } } }), ['SENDER_BRAND_UNAUTHENTICATED']);
    assert.deepEqual(
      await codesFor({ ...mail, auth: { dkim: { pass: ['mailer.example.net'], fail: [] }, spf: { result: 'softfail', domain: 'netflix.com' } } }),
      ['SENDER_BRAND_UNAUTHENTICATED'],
    );
    // SPF alone (forwarding breaks it, DKIM survives): an unconfirmed From only loses its alignment.
    assert.deepEqual(await codesFor({ ...mail, auth: { spf: { result: 'fail', domain: 'netflix.com' } } }), []);
    assert.deepEqual(await codesFor({ ...mail, auth: { spf: { result: 'softfail', domain: 'netflix.com' } } }), []);
    // Non-brand senders: no spoof reason; SENDER_LINKS_ALIGNED is withheld only on evidence of
    // forgery (a failed signature of the From's domain, an SPF hard fail), not for unsigned mail.
    const own = {
      from: 'Northwind <billing@northwind.example>',
      subject: 'Your receipt',
      html: '<a href="https://northwind.example/i">Invoice</a>',
      mailFrom: 'bounce@northwind.example',
    };
    assert.deepEqual(await codesFor({ ...own, auth: { dkim: { pass: ['northwind.example'], fail: [] } } }), ['SENDER_LINKS_ALIGNED']);
    assert.deepEqual(await codesFor({ ...own, auth: { dkim: { pass: [], fail: [] } } }), ['SENDER_LINKS_ALIGNED']);
    assert.deepEqual(await codesFor({ ...own, auth: { dkim: { pass: [], fail: ['northwind.example'] } } }), []);
    assert.deepEqual(await codesFor({ ...own, auth: { spf: { result: 'fail', domain: 'northwind.example' } } }), []);
    // Confirmed by DKIM, the envelope no longer matters (an ESP's bounce domain not on the list).
    assert.deepEqual(await codesFor({ ...own, mailFrom: 'b-123@bounces.esp.example.net', auth: { dkim: { pass: ['northwind.example'], fail: [] } } }), [
      'SENDER_LINKS_ALIGNED',
    ]);
  });

  it('counts image-map links: a spoofed brand sender whose <area> goes to an IP is not aligned', async () => {
    const codes = await codesFor({
      from: 'eBay <support@ebay.com>',
      subject: 'eBay account',
      html: '<a href="https://signin.ebay.com/">Sign in</a><map><area href="http://61.145.119.80/login/"></map>',
    });
    assert.ok(!codes.includes('BRAND_ALIGNED'), codes.join());
    assert.ok(codes.includes('URL_IP_LITERAL'), codes.join());
  });

  it('gives no alignment when the envelope sender is on another domain (a spoofed From), unless it is a bulk-mail service', async () => {
    const mail = {
      from: 'Netflix <info@mailer.netflix.com>',
      subject: 'Your Netflix membership',
      html: '<a href="https://www.netflix.com/account">Account</a>',
    };
    assert.deepEqual(await codesFor({ ...mail, mailFrom: 'bounce@netflix.com' }), ['BRAND_ALIGNED']);
    assert.deepEqual(await codesFor({ ...mail, mailFrom: 'x@attacker.example' }), []);
    assert.deepEqual(await codesFor({ ...mail, mailFrom: 'bounces+123@sendgrid.net' }), ['BRAND_ALIGNED']);
    const own = { from: 'Northwind <billing@northwind.example>', subject: 'Your receipt', html: '<a href="https://northwind.example/i">Invoice</a>' };
    assert.deepEqual(await codesFor({ ...own, mailFrom: 'bounce@northwind.example' }), ['SENDER_LINKS_ALIGNED']);
    assert.deepEqual(await codesFor({ ...own, mailFrom: 'x@attacker.example' }), []);
    assert.deepEqual(await codesFor({ ...own, mailFrom: '0100018c@amazonses.com' }), ['SENDER_LINKS_ALIGNED']);
  });

  it('does not call it aligned when one link leaves the brand', async () => {
    const codes = await codesFor({
      from: 'Netflix <info@mailer.netflix.com>',
      subject: 'Your Netflix membership',
      html: '<a href="https://www.netflix.com/account">Account</a> <a href="https://netflix-billing.example.net/">Update</a>',
    });
    assert.ok(!codes.includes('BRAND_ALIGNED'), codes.join());
  });
});

describe('brand helpers', () => {
  it('lists only registered domains for the built-in brands (a public suffix such as gov.uk would never match)', () => {
    for (const [brand, domains] of Object.entries(DEFAULT_BRANDS)) {
      for (const d of domains.split(',').map((x) => x.trim())) assert.equal(splitHost(d).registrable, d, `${brand}: ${d}`);
    }
  });

  it('does not hold a regional savings bank for carrying "sparkasse" in its own domain (no built-in brand for federations)', async () => {
    assert.deepEqual(
      await codesFor({
        from: '"Sparkasse KölnBonn" <noreply@sparkasse-koelnbonn.de>',
        subject: 'Ihr Kontoauszug ist da',
        html: '<a href="https://www.sparkasse-koelnbonn.de/de/home/onlinebanking.html">Zum Online-Banking</a>',
      }),
      ['SENDER_LINKS_ALIGNED'],
    );
  });

  it('aligns brand mail sent from a registered domain under a public suffix (HMRC on service.gov.uk)', async () => {
    assert.deepEqual(
      await codesFor({
        from: 'HMRC <noreply@confirmation.tax.service.gov.uk>',
        subject: 'Your tax return',
        html: '<a href="https://www.gov.uk/log-in-register-hmrc-online-services">Sign in</a>',
      }),
      ['BRAND_ALIGNED'],
    );
  });

  it('folds homoglyphs and digit swaps into a skeleton', () => {
    assert.equal(skeleton('раураl'), 'paypal');
    assert.equal(skeleton('PAYPA1'), 'paypal');
    assert.equal(skeleton('rnicrosoft'), 'microsoft');
  });

  it('reads a display name as the reader sees it: invisible characters, letters spaced out, a capital I for an l', () => {
    // Each seen in the corpora: "N e t f l i x !", "C o i n b a s e", "WaImart MI", "り そ な 銀 行".
    assert.equal(skeleton('Pay\u00adPal'), 'paypal');
    assert.equal(skeleton('Pay\u200bPal\u200e'), 'paypal');
    assert.equal(skeleton('Pay\u115fPal\u3164'), 'paypal'); // Hangul fillers: default-ignorable letters
    assert.equal(skeleton('\u202elaPyaP\u202c Service'), 'paypal service'); // written backwards, drawn right to left
    assert.equal(skeleton('ɴᴇᴛꜰʟɪx'), 'netflix'); // small capitals
    assert.equal(skeleton('N e t f l i x !'), 'netflix i');
    assert.equal(skeleton('PayPaI Service'), 'paypal service');
    assert.equal(skeleton('WaImart'), 'walmart');
    const index = buildBrandIndex({
      paypal: ['paypal.com'],
      netflix: ['netflix.com'],
      walmart: ['walmart.com'],
      ing: ['ing.com'],
      りそな銀行: ['resonabank.co.jp'],
    });
    for (const [name, brand] of [
      ['P a y P a l', 'paypal'],
      ['N e t f l i x !', 'netflix'],
      ['WaImart MI', 'walmart'],
      ['り そ な 銀 行', 'りそな銀行'],
      ['ING', 'ing'],
    ])
      assert.deepEqual(brandsNamedIn(name, index), [brand], name);
    // Capitals and short spaced runs of ordinary names stay as they are.
    assert.equal(skeleton('J R R Tolkien'), 'j r r tolkien');
    assert.equal(skeleton('IBM Ireland'), 'ibm ireland');
    assert.deepEqual(brandsNamedIn('Ingrid Ilse', index), []);
  });

  it('tells strings one edit apart (replace, insert, delete, swap of neighbours) as the full distance does', () => {
    assert.equal(oneEditApart('paypal', 'paypla'), true);
    assert.equal(oneEditApart('paypal', 'paypal'), false);
    assert.equal(oneEditApart('paypal', 'paypall'), true);
    assert.equal(oneEditApart('paypal', 'aypal'), true);
    assert.equal(oneEditApart('paypal', 'xxxxxxxxx'), false);
    assert.equal(oneEditApart('paypal', 'pyapla'), false);
    // Against the textbook optimal-string-alignment distance on every pair of short strings over a small alphabet.
    const osa = (a: string, b: string): number => {
      const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
      for (let i = 1; i <= a.length; i++)
        for (let j = 1; j <= b.length; j++) {
          d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
          if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      return d[a.length][b.length];
    };
    const words = [''];
    for (let n = 1; n <= 4; n++) for (const w of words.filter((x) => x.length === n - 1)) for (const c of 'abc') words.push(w + c);
    let pairs = 0;
    for (const a of words)
      for (const b of words) {
        assert.equal(oneEditApart(a, b), osa(a, b) === 1, `${a} / ${b}`);
        pairs++;
      }
    assert.equal(pairs, 121 * 121);
  });

  it('remembers look-alike answers per brand index, the same as computed afresh', () => {
    const idx = buildBrandIndex(config.brands);
    const domains = ['paypa1.com', 'paypal.de', 'example.org', 'micros0ft-support.top', 'rnicrosoft.com'];
    const first = domains.map((d) => lookalikeBrand(d, d.slice(d.indexOf('.') + 1), idx));
    assert.equal(idx.lookalikes.size, domains.length);
    assert.deepEqual(
      domains.map((d) => lookalikeBrand(d, d.slice(d.indexOf('.') + 1), idx)),
      first,
    );
    assert.deepEqual(
      first.map((r) => r?.brand ?? null),
      ['paypal', null, null, 'microsoft', 'microsoft'],
    );
  });
});
