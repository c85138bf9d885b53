/**
 * The one description of phishx.ini: every key, its type, default and meaning.
 * Validation (load.ts), environment overrides and the config reference in docs/configuration.md
 * (`phishx config --reference`) are all derived from this table, so they cannot drift.
 */
export type KeyType = 'int' | 'bool' | 'string' | 'enum' | 'list' | 'strings' | 'listen' | 'cidrs';

export interface KeySpec {
  type: KeyType;
  default: string | number | boolean;
  doc: string;
  min?: number;
  max?: number;
  values?: readonly string[];
}

export type SectionSpec = Record<string, KeySpec>;

export const DEFAULT_BRANDS: Record<string, string> = {
  paypal:
    'paypal.com, paypal.me, paypalobjects.com, paypal.de, paypal.co.uk, paypal.fr, paypal.it, paypal.es, paypal.nl, paypal.com.br, paypal.com.au, paypal.ca',
  microsoft: 'microsoft.com, office.com, live.com, outlook.com, microsoftonline.com, office365.com, sharepoint.com, onmicrosoft.com, microsoft365.com',
  office365: 'microsoft.com, office.com, office365.com, microsoftonline.com, outlook.com',
  outlook: 'microsoft.com, outlook.com, live.com, office.com',
  apple: 'apple.com, icloud.com, me.com',
  icloud: 'apple.com, icloud.com',
  amazon:
    'amazon.com, images-amazon.com, amazon.co.uk, amazon.de, amazon.fr, amazon.it, amazon.es, amazon.ca, ' +
    'amazon.com.br, amazon.co.jp, amazon.in, amazonaws.com, amazonses.com, amazon.com.au, ' +
    'media-amazon.com, ssl-images-amazon.com',
  google: 'google.com, gmail.com, youtube.com, googlemail.com, withgoogle.com',
  gmail: 'google.com, gmail.com, googlemail.com',
  netflix: 'netflix.com',
  facebook: 'facebook.com, facebookmail.com, fb.com, meta.com',
  instagram: 'instagram.com, facebookmail.com, meta.com',
  whatsapp: 'whatsapp.com, whatsapp.net, meta.com',
  linkedin: 'linkedin.com',
  docusign: 'docusign.com, docusign.net',
  dropbox: 'dropbox.com, dropboxmail.com',
  adobe: 'adobe.com',
  dhl: 'dhl.com, dhl.de, dhl-news.com, dpdhl.com, dhl.co.uk, dhl.fr, dhl.nl, dhl.it, dhl.es, dhl.pl, dhl.at, dhl.ch, dhl.be, dhl.com.br, dhl.com.au, dhl.ca',
  fedex: 'fedex.com',
  usps: 'usps.com, usps.gov',
  wellsfargo: 'wellsfargo.com, wf.com',
  'wells fargo': 'wellsfargo.com, wf.com',
  'bank of america': 'bankofamerica.com, bofa.com',
  chase: 'chase.com, jpmorgan.com, jpmorganchase.com',
  coinbase: 'coinbase.com',
  binance: 'binance.com',
  metamask: 'metamask.io',
  ebay: 'ebay.com, ebay.co.uk, ebay.de, ebay.fr, ebay.it, ebay.es, ebay.nl, ebay.ca, ebay.com.au',
  steam: 'steampowered.com, steamcommunity.com',
  itau: 'itau.com.br',
  itaú: 'itau.com.br',
  bradesco: 'bradesco.com.br',
  santander: 'santander.com.br, santander.com, santander.de, santander.co.uk',
  caixa: 'caixa.gov.br',
  correios: 'correios.com.br',
  nubank: 'nubank.com.br',
  'deutsche bank': 'db.com, deutsche-bank.de',
  'american express': 'americanexpress.com, aexp.com',
  amex: 'americanexpress.com, aexp.com',
  'mercado livre': 'mercadolivre.com.br, mercadolibre.com',
  'mercado pago': 'mercadopago.com, mercadopago.com.br, mercadolibre.com',
  'banco do brasil': 'bb.com.br',
  'receita federal': 'fazenda.gov.br, economia.gov.br, www.gov.br',
  walmart: 'walmart.com, w-mt.co, walmartimages.com',
  ups: 'ups.com',
  kroger: 'kroger.com',
  'home depot': 'homedepot.com',
  lowes: 'lowes.com',
  marriott: 'marriott.com',
  costco: 'costco.com',
  starbucks: 'starbucks.com',
  'state farm': 'statefarm.com',
  'quicken loans': 'quickenloans.com, rocketmortgage.com',
  'geek squad': 'bestbuy.com, geeksquad.com',
  norton: 'norton.com, nortonlifelock.com, gen.com',
  mcafee: 'mcafee.com',
  'trust wallet': 'trustwallet.com',
  trezor: 'trezor.io',
  ledger: 'ledger.com',
  ripple: 'ripple.com, xrpl.org',
  kraken: 'kraken.com',
  blockchain: 'blockchain.com',
  onedrive: 'microsoft.com, live.com, onedrive.com, sharepoint.com',
  sharepoint: 'microsoft.com, sharepoint.com',
  wetransfer: 'wetransfer.com',
  'royal mail': 'royalmail.com, royalmail.co.uk',
  'la poste': 'laposte.fr, laposte.net',
  postnl: 'postnl.nl',
  'deutsche post': 'deutschepost.de, dhl.de',
  hmrc: 'hmrc.gov.uk, service.gov.uk, www.gov.uk',
  xfinity: 'xfinity.com, comcast.net',
  verizon: 'verizon.com, verizonwireless.com',
  'at&t': 'att.com, att.net, att-mail.com',
  'booking.com': 'booking.com',
  airbnb: 'airbnb.com',
  spotify: 'spotify.com',
  'disney+': 'disneyplus.com',
  'capital one': 'capitalone.com',
  citibank: 'citi.com, citibank.com',
  'american airlines': 'aa.com',
  aliexpress: 'aliexpress.com',
  temu: 'temu.com, temuemail.com',
  shein: 'shein.com',
  roblox: 'roblox.com',
  'epic games': 'epicgames.com',
  playstation: 'playstation.com, sony.com, sonyentertainmentnetwork.com',
  rabobank: 'rabobank.nl, rabobank.com',
  'abn amro': 'abnamro.nl, abnamro.com',
  'ing bank': 'ing.nl, ing.com, ing.de',
  volksbank: 'volksbank.de, vr.de',
  commerzbank: 'commerzbank.de',
  postbank: 'postbank.de',
  // Japan: card issuers, banks, marketplaces, rail and utilities that phishers imitate there,
  // by their names as written in Japanese and in Latin letters.
  三井住友カード: 'smbc-card.com, vpass.ne.jp, smbc.co.jp',
  vpass: 'smbc-card.com, vpass.ne.jp, smbc.co.jp',
  myjcb: 'jcb.co.jp, jcb.jp, jcb.com',
  jcbカード: 'jcb.co.jp, jcb.jp, jcb.com',
  ucカード: 'uccard.co.jp',
  'uc card': 'uccard.co.jp',
  セディナ: 'cedyna.co.jp',
  ビューカード: 'viewsnet.jp, jreast.co.jp',
  イオンカード: 'aeon.co.jp, aeonbank.co.jp, aeon.com',
  'aeon card': 'aeon.co.jp, aeonbank.co.jp, aeon.com',
  三菱ufj: 'mufg.jp, mufg.co.jp',
  楽天: 'rakuten.co.jp, rakuten-card.co.jp, rakuten-sec.co.jp, rakuten-bank.co.jp, rakuten.com',
  rakuten: 'rakuten.co.jp, rakuten-card.co.jp, rakuten-sec.co.jp, rakuten-bank.co.jp, rakuten.com',
  メルカリ: 'mercari.com, mercari.jp',
  mercari: 'mercari.com, mercari.jp',
  えきねっと: 'eki-net.com, jreast.co.jp',
  paypay銀行: 'paypay-bank.co.jp, japannetbank.co.jp, paypay.ne.jp',
  東京電力: 'tepco.co.jp',
  ライフカード: 'lifecard.co.jp',
  りそな銀行: 'resonabank.co.jp, resona-gr.co.jp',
  野村證券: 'nomura.co.jp',
  dcカード: 'dccard.co.jp, mufg.jp',
  アマゾン: 'amazon.co.jp, amazon.com',
  'club j-west': 'jr-odekake.net, westjr.co.jp',
  jr西日本: 'jr-odekake.net, westjr.co.jp',
  マスターカード: 'mastercard.com, mastercard.co.jp',
  paidy: 'paidy.com',
  // Spain and Latin America: tax agencies and banks.
  afip: 'afip.gob.ar, afip.gov.ar',
  bbva: 'bbva.es, bbva.com, bbva.mx, bbva.com.ar, bbva.pe, bbva.com.co',
  'banco galicia': 'bancogalicia.com, bancogalicia.com.ar',
  'agencia tributaria': 'agenciatributaria.gob.es, agenciatributaria.es',
};

/** The sections of phishx.ini with fixed keys (the breaker sections are added below). */
const SECTIONS = {
  main: {
    mode: {
      type: 'enum',
      values: ['enforce', 'monitor'],
      default: 'enforce',
      doc: '`enforce` rejects / holds mail; `monitor` only adds headers and records what it would have done.',
    },
    scan_budget_ms: {
      type: 'int',
      min: 100,
      max: 600000,
      default: 10000,
      doc: "Upper bound for one scan. Must stay below Haraka's plugin timeout for phishx (`config/phishx.timeout`, seconds).",
    },
    scan_threads: {
      type: 'int',
      min: -1,
      max: 256,
      default: -1,
      doc:
        "Worker threads that parse and analyse messages, so Haraka's event loop keeps serving sessions while " +
        'scans run. `-1` (auto): one per CPU core but one (at least 1) in single-process mode, 1 per process ' +
        'with `nodes=N`; `0`: scan on the event loop (no threads).',
    },
    max_queued_messages: {
      type: 'int',
      min: 0,
      max: 100000,
      default: 8,
      doc:
        'Received messages waiting for a scan thread at most, per process: beyond it a new DATA command waits ' +
        '(at most `scan_budget_ms`) before Haraka answers 354, so the sender keeps its message until a scan ' +
        'thread has room instead of it waiting in memory (100 sessions of 1 MB messages: ~100 MB less at the ' +
        'peak). Never refuses: after the wait the message is taken as usual. `0`: no limit. With ' +
        '`scan_threads = 0` there is no queue and no wait. A client network (IPv4 /24, IPv6 /48) with no message ' +
        'waiting goes on at once up to twice this many waiting, and past that is let on first; a freed place goes to ' +
        'the network holding the fewest: one network flooding the threads with costly messages waits behind itself.',
    },
    skip_relaying: { type: 'bool', default: true, doc: 'Skip relayed / authenticated (outbound) sessions.' },
    header_reasons_max: { type: 'int', min: 1, max: 100, default: 10, doc: 'Most reason codes written into `X-PhishX-Reasons` (highest weight first).' },
  },
  thresholds: {
    quarantine: { type: 'int', min: 0, max: 100, default: 50, doc: 'Score at or above which mail is quarantined.' },
    reject: { type: 'int', min: 0, max: 100, default: 70, doc: 'Score at or above which mail is rejected with `550 5.7.1`.' },
  },
  limits: {
    max_parts: {
      type: 'int',
      min: 1,
      max: 100000,
      default: 500,
      doc: 'MIME parts examined (attachments opened as more than text or a picture first); beyond it the rest is skipped and `LIMIT_PARTS` recorded.',
    },
    max_urls: {
      type: 'int',
      min: 1,
      max: 100000,
      default: 300,
      doc:
        'Distinct links the URL analyzers look at one by one: clicked links (anchors, forms) before text and ' +
        'attachment links before images, one link of every host before a second of any. Beyond it ' +
        '`LIMIT_URLS` (every host still seen) or `LIMIT_URL_HOSTS` (hosts left out). The feeds look up every ' +
        'distinct link regardless (up to 10 × this, at least 5,000).',
    },
    max_decoded_bytes: {
      type: 'int',
      min: 1024,
      max: 1073741824,
      default: 2097152,
      doc: 'Decoded text + HTML bytes analysed as text; beyond it `LIMIT_DECODED_BYTES` is recorded (links are still read up to 16 × this).',
    },
    max_qr_pixels: {
      type: 'int',
      min: 0,
      max: 100000000,
      default: 500000,
      doc:
        'Pixels of pictures (attached and inline PNG, JPEG, GIF; `data:` images; the pictures of PDFs) decoded per message to read QR codes, ' +
        'squarest pictures first (500,000: a 700 x 700 picture or several smaller); pictures past it are not read ' +
        '(`LIMIT_QR_PIXELS`). Decoding costs ~50 ms of CPU per million pixels. Codes drawn as tables or block ' +
        'characters have a bound of their own. 0: QR codes are not read, pictures or drawn.',
    },
    max_qr_pixels_picture_mail: {
      type: 'int',
      min: 0,
      max: 100000000,
      default: 4000000,
      doc:
        'The same budget for a message that shows fewer than 500 characters of text (its HTML as shown, else its ' +
        'plain text): a lure sent as one picture — the whole mail a screenshot with its code in it — has nothing ' +
        'else to read, and such a picture is seldom under `max_qr_pixels` (4,000,000: a 2000 x 2000 picture, a ' +
        "phone's screenshot, a scanned page at 200 dpi). Costs ~0.05–0.1 s of CPU on such a message of the corpora, " +
        'up to ~1.6 s on a crafted one (4 megapixels of noise as JPEG). The larger of the two applies; ' +
        '`max_qr_pixels = 0` still turns reading off.',
    },
    max_nesting_depth: {
      type: 'int',
      min: 1,
      max: 256,
      default: 32,
      doc: 'MIME nesting depth accepted by the parser; deeper messages get `MIME_UNPARSEABLE`.',
    },
    unparseable_action: {
      type: 'enum',
      values: ['quarantine', 'reject', 'allow'],
      default: 'quarantine',
      doc:
        'The least a message gets when its MIME structure cannot be parsed (`MIME_UNPARSEABLE`: nesting past ' +
        '`max_nesting_depth`, a header block past 2 MB): only its raw text was analysed, so an encoded lure inside ' +
        'it went unread; and when mail readers differ on how a part reads (`MIME_AMBIGUOUS`: two Content-Type ' +
        'headers, a boundary given twice), so what was scanned may not be what is shown. `quarantine` holds it ' +
        'for review; `allow` scores it like any other message.',
    },
  },
  urls: {
    suspicious_tlds: {
      type: 'list',
      default:
        'zip, mov, top, xyz, click, country, gq, tk, ml, cf, ga, work, rest, cam, icu, cfd, sbs, monster, ' +
        'buzz, lol, quest, support, live, shop, bond, beauty, hair, skin, autos, boats, mom, today',
      doc: 'TLDs that add `URL_SUSPICIOUS_TLD` (links) and `SENDER_SUSPICIOUS_TLD` (From address).',
    },
    shorteners: {
      type: 'list',
      default:
        'bit.ly, tinyurl.com, t.co, goo.gl, ow.ly, is.gd, buff.ly, rebrand.ly, cutt.ly, rb.gy, shorturl.at, ' +
        'tiny.cc, t.ly, s.id, v.gd, qrco.de, lnkd.in, bitly.com, shorturl.com, x.gd',
      doc: 'URL-shortener hosts that add `URL_SHORTENER`.',
    },
    max_subdomain_depth: {
      type: 'int',
      min: 1,
      max: 50,
      default: 4,
      doc: 'Subdomain labels (left of the registered domain) above which `URL_DEEP_SUBDOMAIN` is added.',
    },
    expand_shorteners: {
      type: 'bool',
      default: false,
      doc:
        'Follow links through `shorteners` to their target (HEAD requests only) and analyse the target too. ' +
        'Off by default: it makes requests to hosts named by the sender.',
    },
    expand_max_hops: { type: 'int', min: 1, max: 10, default: 3, doc: 'Redirects followed per short link.' },
    expand_timeout_ms: {
      type: 'int',
      min: 100,
      max: 10000,
      default: 1500,
      doc:
        'Time for expanding one short link, all hops together. Never connects to loopback, private, ' +
        'link-local or metadata addresses (checked after DNS resolution).',
    },
    free_hosting: {
      type: 'list',
      default:
        'firebaseapp.com, web.app, run.app, cloudfunctions.net, firebasestorage.googleapis.com, ' +
        'storage.googleapis.com, pages.dev, workers.dev, r2.dev, netlify.app, vercel.app, glitch.me, ' +
        'herokuapp.com, onrender.com, azurewebsites.net, blob.core.windows.net, web.core.windows.net, s3.amazonaws.com, ipfs.io, ' +
        'dweb.link, ipfs.w3s.link, weebly.com, wixsite.com, webflow.io, 000webhostapp.com, sites.google.com, ' +
        'forms.gle, typeform.com, jotform.com, surge.sh, repl.co, ngrok.io, ngrok-free.app, ' +
        'trycloudflare.com, blogspot.com, godaddysites.com, square.site, mystrikingly.com, yolasite.com',
      doc: 'Free hosting / form / file-sharing domains that add `URL_FREE_HOSTING` when linked.',
    },
    footer_hosts: {
      type: 'list',
      default:
        'facebook.com, www.facebook.com, twitter.com, x.com, instagram.com, www.instagram.com, youtube.com, ' +
        'www.youtube.com, tiktok.com, www.tiktok.com, pinterest.com, www.pinterest.com, linkedin.com, ' +
        'www.linkedin.com, apps.apple.com, itunes.apple.com, play.google.com',
      doc:
        'Hosts (exact) of social-network profiles and app stores that the footers of notifications and ' +
        'newsletters link to. Such links neither break nor make sender / brand alignment (`BRAND_ALIGNED`, ' +
        '`SENDER_LINKS_ALIGNED`): a receipt whose footer links to the App Store and Instagram is still ' +
        'aligned.',
    },
    user_content: {
      type: 'list',
      default:
        'docs.google.com, drive.google.com, sites.google.com, script.google.com, translate.google.com, ' +
        'translate.goog, googleusercontent.com, amazonaws.com, cloudfront.net, sharepoint.com, 1drv.ms, ' +
        'onedrive.live.com, dropbox.com, dropboxusercontent.com, box.com, wetransfer.com, we.tl, github.io, ' +
        'githubusercontent.com, notion.site, canva.site, forms.office.com, forms.microsoft.com',
      doc:
        "Hosts of brands that serve their users' content (documents, forms, file shares, static sites): a " +
        "link there is on the brand's domain but says nothing about who wrote the page, so it never counts " +
        'towards `LINKS_BRAND_ONLY` or `SENDER_LINKS_ALIGNED`.',
    },
    redirectors: {
      type: 'list',
      default:
        'safelinks.protection.outlook.com, urldefense.com, urldefense.proofpoint.com, google.com, ' +
        'list-manage.com, mailchimp.com, mcsv.net, sendgrid.net, mandrillapp.com, hubspotlinks.com, ' +
        'hs-sites.com, exacttarget.com, rs6.net, mailgun.org, awstrack.me, sparkpostmail.com, cmail19.com, ' +
        'cmail20.com, createsend.com, salesforce.com, marketo.com, mktoweb.com, mimecast.com, ' +
        'mimecastprotect.com, linkedin.com, facebook.com, substack.com, klaviyo.com, klclick.com, ' +
        'klclick1.com, klclick2.com, klclick3.com, customeriomail.com, sendibt2.com, sendibt3.com, ' +
        'sendibm1.com, mlsend.com, acemlna.com, acemlnb.com, acemlnc.com, convertkit-mail.com, ' +
        'convertkit-mail2.com, beehiiv.com, iterable.com, exct.net, en25.com, emltrk.com',
      doc:
        'Click-tracking and link-protection services (registered domains). A link through one is unwrapped ' +
        'when it names its target in the query (`url=`, `q=`, `u=`) and is never counted as a text/href ' +
        'mismatch: newsletters route every link through them.',
    },
  },
  sender: {
    freemail: {
      type: 'list',
      default:
        'gmail.com, googlemail.com, yahoo.com, yahoo.co.uk, yahoo.fr, yahoo.de, yahoo.es, yahoo.it, ' +
        'yahoo.ca, yahoo.com.au, yahoo.com.br, yahoo.com.mx, yahoo.com.ar, yahoo.co.in, yahoo.co.jp, ' +
        'ymail.com, rocketmail.com, aim.com, hotmail.com, hotmail.co.uk, hotmail.fr, hotmail.de, hotmail.es, ' +
        'hotmail.it, hotmail.com.br, hotmail.co.jp, outlook.com, outlook.fr, outlook.de, outlook.es, ' +
        'outlook.it, outlook.jp, outlook.com.br, live.com, live.fr, live.co.uk, live.it, live.nl, live.ca, ' +
        'live.com.au, msn.com, aol.com, icloud.com, me.com, mac.com, mail.com, email.com, usa.com, gmx.com, ' +
        'gmx.de, gmx.net, gmx.at, gmx.ch, gmx.fr, web.de, t-online.de, freenet.de, yandex.com, yandex.ru, ' +
        'yandex.ua, ya.ru, mail.ru, inbox.ru, bk.ru, list.ru, rambler.ru, ukr.net, proton.me, protonmail.com, ' +
        'protonmail.ch, pm.me, tutanota.com, tutanota.de, tuta.io, tuta.com, zoho.com, zohomail.com, qq.com, ' +
        'foxmail.com, 163.com, 126.com, yeah.net, 139.com, sina.com, sohu.com, aliyun.com, rediffmail.com, ' +
        'naver.com, hanmail.net, daum.net, seznam.cz, wp.pl, o2.pl, interia.pl, onet.pl, libero.it, ' +
        'virgilio.it, laposte.net, orange.fr, wanadoo.fr, free.fr, sfr.fr, uol.com.br, bol.com.br, ' +
        'terra.com.br, comcast.net, att.net, sbcglobal.net, verizon.net, cox.net, earthlink.net, btinternet.com',
      doc:
        'Free webmail and consumer mailbox domains (registered domains). A Reply-To on one of them while From is on ' +
        'another domain adds `SENDER_REPLY_TO_FREEMAIL`; a SOC alert never groups by them nor blocks them ' +
        '(`block_sender`). A value replaces the whole list (`npx phishx config` prints the one in effect).',
    },
    platforms: {
      type: 'list',
      default:
        'stripe.com, squareup.com, shopify.com, substack.com, github.com, gitlab.com, atlassian.net, ' +
        'zendesk.com, freshdesk.com, intuit.com, xero.com, freshbooks.com, waveapps.com, bill.com, ' +
        'gusto.com, eventbrite.com, meetup.com, calendly.com, typeform.com, surveymonkey.com, toasttab.com, ' +
        'etsy.com, patreon.com, gofundme.com, medium.com, wordpress.com, ghost.io, beehiiv.com, ' +
        'buttondown.email, slack.com, asana.com, trello.com, notion.so, linear.app, figma.com, ' +
        'greenhouse.io, lever.co, bamboohr.com, workday.com, myworkday.com',
      doc:
        "Registered domains of platforms that send mail for their customers under the customer's name " +
        '("Fathom Analytics" <invoice+statements@stripe.com>, a GitHub comment from "Jane Doe" ' +
        '<notifications@github.com>). For other senders `SENDER_LINKS_ALIGNED` needs the display name to fit ' +
        'the address.',
    },
  },
  nlp: {
    enabled: {
      type: 'bool',
      default: true,
      doc:
        'Score subject and body text with a text classifier: the embedded model ' +
        '(`lib/nlp/model/text-model.json`, trained by `npm run train`), or the service at `url`.',
    },
    url: {
      type: 'string',
      default: '',
      doc:
        'Text-classification service in the Hugging Face inference format (`POST {"inputs": text}` ─► ' +
        '`[{"label","score"}]` or `[[…]]`), e.g. `http://127.0.0.1:8501/` from `phishx nlp-serve`. Empty: ' +
        'the embedded model.',
    },
    timeout_ms: {
      type: 'int',
      min: 50,
      max: 60000,
      default: 1500,
      doc: 'Deadline of one classification request (the request is aborted); also bounded by what is left of the scan budget.',
    },
    max_chars: { type: 'int', min: 100, max: 1000000, default: 4000, doc: 'Characters of subject + body sent to the service.' },
    phish_labels: {
      type: 'list',
      default: 'phishing, phish, label_1, malicious, spam, fraud',
      doc: 'Labels (case-insensitive) whose score is the phishing probability; for any other label p = 1 - score.',
    },
    auth_header: {
      type: 'string',
      default: 'authorization',
      doc:
        'Header that carries the credential from the environment variable `PHISHX_NLP_AUTH` (e.g. `Bearer ' +
        'hf_…`); nothing is sent when that variable is unset.',
    },
    fallback: {
      type: 'enum',
      values: ['embedded', 'none'],
      default: 'embedded',
      doc:
        'When the service fails (error, 5xx, timeout, garbage): `embedded` scores with the embedded model, ' +
        '`none` skips the signal. Either way `NLP_UNAVAILABLE` is recorded.',
    },
  },
  reputation: {
    feed_dir: {
      type: 'string',
      default: 'var/feeds',
      doc:
        'Without Redis, `phishx feeds import` writes each feed here as `<name>.txt` and Haraka loads the ' +
        'folder at start, then re-reads a file as soon as it changes (a watch on the folder; a look every 10 seconds besides, ' +
        'for file systems a watch does not see) — relative to the Haraka directory. Each Haraka process holds ' +
        'every entry in memory, so a file over 32 MiB (~550,000 URLs) is refused by the import and skipped by ' +
        'Haraka with a logged error (`PHISHX_FEED_TOO_LARGE`). With Redis, feeds live in Redis, any size.',
    },
    safe_browsing_url: {
      type: 'string',
      default: 'https://safebrowsing.googleapis.com/v4/threatMatches:find',
      doc: 'Google Safe Browsing v4 Lookup endpoint. Used only when `PHISHX_SAFE_BROWSING_KEY` is set in the environment.',
    },
    timeout_ms: { type: 'int', min: 50, max: 60000, default: 1500, doc: 'Deadline of one reputation lookup (aborted at it; also bounded by the scan budget).' },
    cache_ttl_s: {
      type: 'int',
      min: 0,
      max: 86400,
      default: 300,
      doc: 'How long a Safe Browsing answer is cached when it carries no `cacheDuration` of its own (0: no cache).',
    },
    max_urls: {
      type: 'int',
      min: 1,
      max: 500,
      default: 50,
      doc: 'Distinct URLs of one message sent to Safe Browsing (clicked links and one per host first). Feeds are not capped: they look up every link.',
    },
  },
  attachments: {
    max_archive_entries: {
      type: 'int',
      min: 1,
      max: 100000,
      default: 1000,
      doc: 'Archive entries listed per message (zip, RAR, 7z, tar …), all archives and nesting levels together; more: `ARCHIVE_LIMIT`.',
    },
    max_archive_depth: {
      type: 'int',
      min: 1,
      max: 10,
      default: 2,
      doc: 'Levels of zip-in-zip opened; inner archives are read into memory only up to 10 MiB each.',
    },
    max_inflated_bytes: {
      type: 'int',
      min: 1048576,
      max: 1073741824,
      default: 33554432,
      doc:
        'Bytes the archives of one message may inflate in all (inner zips are inflated to be listed), ' +
        'counted as they stream out of the decompressor, not from declared sizes. Past it the rest is not ' +
        'opened and `ATTACHMENT_UNINSPECTABLE` is added.',
    },
    max_compression_ratio: {
      type: 'int',
      min: 10,
      max: 100000,
      default: 100,
      doc: 'Declared uncompressed / compressed size above which `ARCHIVE_BOMB` is added.',
    },
  },
  clamav: {
    hosts: { type: 'strings', default: '', doc: 'clamd addresses, `host:port` or unix socket paths, tried in order (failover). Empty: ClamAV off.' },
    timeout_ms: {
      type: 'int',
      min: 100,
      max: 600000,
      default: 5000,
      doc: 'Deadline for one scan across all hosts (sockets destroyed at it); also bounded by the scan budget.',
    },
    max_size: {
      type: 'int',
      min: 1024,
      max: 1073741824,
      default: 26214400,
      doc:
        'Largest message sent to clamd (bytes). Larger messages are not virus-scanned: `CLAMAV_SKIPPED_SIZE` ' +
        "is recorded and the other analyzers decide. Keep it at or below clamd's `StreamMaxLength`.",
    },
    action: { type: 'enum', values: ['reject', 'quarantine'], default: 'reject', doc: 'What a virus finding does (in enforce mode).' },
  },
  defer: {
    nlp: {
      type: 'bool',
      default: false,
      doc:
        'Fail mode when the NLP service (`[nlp] url`) fails: `true` answers `451 4.7.1`; `false` records ' +
        '`NLP_UNAVAILABLE` and scores with the `[nlp] fallback`.',
    },
    reputation: {
      type: 'bool',
      default: false,
      doc:
        'Fail mode when a reputation source (Safe Browsing, the feed store) fails: `true` answers `451 ' +
        '4.7.1`; `false` records `REPUTATION_UNAVAILABLE` and decides without it.',
    },
    redis: {
      type: 'bool',
      default: false,
      doc:
        'Fail mode when Redis cannot take a quarantined message: `true` answers `451 4.7.1`; `false` writes ' +
        'it to `[quarantine] spool_dir`/pending and replays it into Redis when Redis answers again (every ' +
        '`[quarantine] replay_interval_s`). Either way nothing accepted is lost.',
    },
    clamav: {
      type: 'bool',
      default: false,
      doc:
        'Fail mode when no clamd answers: `true` answers `451 4.7.1` (the sender retries later); `false` ' +
        'records `CLAMAV_UNAVAILABLE` and lets mail flow on the other signals.',
    },
  },
  allowlist: {
    domains: {
      type: 'list',
      default: '',
      doc:
        'Envelope sender (MAIL FROM) domains never scanned: the domain or any subdomain of it. The header ' +
        'From is not consulted — anyone can write it; list senders whose SMTP envelope you trust, or better ' +
        'their IPs in `ips`.',
    },
    ips: { type: 'cidrs', default: '', doc: 'Client IPs or CIDR ranges never scanned.' },
  },
  quarantine: {
    ttl_days: { type: 'int', min: 1, max: 3650, default: 30, doc: 'How long a held message is kept; then it reads as `expired` and its bytes are removed.' },
    history_days: {
      type: 'int',
      min: 0,
      max: 3650,
      default: 30,
      doc:
        'How long the record of a released, deleted or expired message stays listed ' +
        '(`/api/v1/quarantine?status=released`), without the message bytes of deleted and expired ones.',
    },
    max_inline_bytes: {
      type: 'int',
      min: 1024,
      max: 536870912,
      default: 10485760,
      doc: 'Largest raw message stored in the store itself; larger ones are written to `spool_dir` and the entry points to the file (`spooled: true`).',
    },
    memory_max_bytes: {
      type: 'int',
      min: 1048576,
      max: 17179869184,
      default: 268435456,
      doc: 'In-memory store (tests and tools) only: raw bytes held in memory in all; beyond it held messages are spooled to `spool_dir` instead.',
    },
    max_entries: {
      type: 'int',
      min: 1,
      max: 10000000,
      default: 100000,
      doc:
        'Embedded store: messages held at most. At it a new hold is answered `451 4.7.1` (the sender ' +
        'retries; nothing is dropped) until expiry or a delete makes room.',
    },
    max_disk_bytes: {
      type: 'int',
      min: 1048576,
      max: 1099511627776,
      default: 10737418240,
      doc: 'Embedded store: raw bytes held on disk at most (10 GiB); same rule as `max_entries`.',
    },
    replay_interval_s: {
      type: 'int',
      min: 1,
      max: 3600,
      default: 30,
      doc: 'How often messages held while Redis was down (`spool_dir`/pending) are replayed into Redis.',
    },
    spool_dir: {
      type: 'string',
      default: 'var/quarantine',
      doc:
        'Directory of held mail (relative to the Haraka directory). Without Redis it is the quarantine ' +
        'itself (`held/<id>.eml` + `<id>.json`, written with fsync, read back at start: held mail survives a ' +
        'restart or a crash); with Redis it takes messages above `max_inline_bytes` and, in `pending/`, ' +
        'messages held while Redis was down.',
    },
  },
  redis: {
    url: {
      type: 'string',
      default: '',
      doc:
        'Redis URL (`redis://host:6379/0`), the store shared by several Haraka nodes. Empty: the embedded ' +
        'store on local disk (`[quarantine] spool_dir`, durable, one machine).',
    },
    key_prefix: {
      type: 'string',
      default: 'phishx:',
      doc: 'Prefix of every Redis key (no `{` or `}`: PhishX adds the hash tags that keep each key family in one Cluster slot).',
    },
    sentinels: {
      type: 'strings',
      default: '',
      doc:
        'Redis Sentinel addresses (`host:port`, comma-separated): PhishX asks them for the master of ' +
        '`sentinel_name` and follows failovers. The `url` host is then ignored (its password and database ' +
        'apply), e.g. `url = redis://:secret@mymaster/0`.',
    },
    sentinel_name: { type: 'string', default: 'mymaster', doc: 'Name of the master the sentinels monitor.' },
    cluster_nodes: {
      type: 'strings',
      default: '',
      doc:
        'Redis Cluster seed nodes (`host:port`, comma-separated; a few suffice, PhishX learns the rest): the ' +
        'store then talks to the cluster and follows slot moves and failovers. The `url` host is ignored (its ' +
        'password applies), e.g. `url = redis://:secret@cluster/0`. Not together with `sentinels`.',
    },
  },
  sidecar: {
    listen: {
      type: 'listen',
      default: '127.0.0.1:9464',
      doc:
        '`host:port` of the sidecar HTTP server (`/metrics`, `/health`, the API); `off` disables it. One per ' +
        'Haraka instance (the cluster master with `nodes=N`).',
    },
    thread: {
      type: 'bool',
      default: true,
      doc:
        'Single-process mode (`nodes=0`): serve the sidecar from its own thread, so probes and scrapes are ' +
        'answered while scanning keeps the main thread busy. `false`: share the main thread. (With `nodes=N` ' +
        'it runs in the cluster master.)',
    },
    token_hashes: {
      type: 'strings',
      default: '',
      doc:
        'API bearer tokens, stored as hashes only: `sha256:<64 hex>[:<scope>[:<tenant>]]` each, scope `read` ' +
        '(lists, details), `act` (release, delete, raw, report) or `admin` (all, incl. audit and bulk; the ' +
        'default), optionally bound to one tenant (`sha256:…:read:example.com` sees only that tenant). `npx ' +
        'phishx token new --scope act` makes a token and its line. Plain tokens may also come from the ' +
        'environment: `PHISHX_API_TOKENS` (admin), `PHISHX_API_TOKENS_ACT`, `PHISHX_API_TOKENS_READ` ' +
        '(comma-separated; hashed at load). No tokens: authenticated routes answer 401.',
    },
    metrics_auth: { type: 'bool', default: false, doc: 'Require a bearer token on `/metrics` too (Prometheus `authorization` / `bearer_token_file`).' },
    rate_limit_per_s: {
      type: 'int',
      min: 0,
      max: 100000,
      default: 20,
      doc:
        'Requests per second each client (token, else IP address) may make to `/metrics`, `/health/full` and ' +
        'the API; above it `429` with `Retry-After`. `0` disables. The probes `/alive`, `/ready`, `/health` ' +
        'are never limited.',
    },
    rate_limit_burst: {
      type: 'int',
      min: 1,
      max: 100000,
      default: 40,
      doc: 'Requests a client may make at once before `rate_limit_per_s` applies (token bucket size).',
    },
    max_body_bytes: { type: 'int', min: 1024, max: 67108864, default: 1048576, doc: 'Largest request body accepted (JSON); larger ones get `413`.' },
    max_connections_per_ip: {
      type: 'int',
      min: 1,
      max: 100000,
      default: 64,
      doc:
        'Open connections one client address may hold; more are closed at once, so one address holding a ' +
        'thousand idle sockets cannot keep the probes out (the server takes 1,024 in all). Idle connections ' +
        'are closed after 30 s, a request whose headers have not arrived after 5 s gets `408`.',
    },
    health_cache_ms: {
      type: 'int',
      min: 0,
      max: 60000,
      default: 1000,
      doc:
        'How long a health result is reused, so a flood of probes cannot hammer Redis, clamd or the NLP ' +
        'service. `/ready` and `/health` answer from cached results while they refresh in the background ' +
        '(store check up to 2×, breakers up to 10× this old); `/health/full` and `/metrics` never use one ' +
        'older than this.',
    },
    worker_timeout_ms: {
      type: 'int',
      min: 50,
      max: 30000,
      default: 1000,
      doc:
        "Cluster mode (`nodes=N`): how long `/metrics` and `/health` wait for each worker's numbers; a " +
        'silent worker is left out and counted in `phishx_cluster_workers{state="silent"}` instead of ' +
        'hanging the scrape.',
    },
  },
  release: {
    smtp: {
      type: 'string',
      default: '',
      doc:
        'Where a released message is delivered, `host:port` of an SMTP server. Empty: this Haraka itself ' +
        '(its first `listen` address in `smtp.ini`), so a release takes the same queue / relay as allowed ' +
        'mail; the message carries a signed single-use `X-PhishX-Release` marker that PhishX checks and then ' +
        'passes it unscanned. Set it to your next hop to deliver there directly. The marker key is ' +
        '`PHISHX_RELEASE_KEY`, else `spool_dir/release.key` (made on first use).',
    },
    timeout_ms: {
      type: 'int',
      min: 1000,
      max: 600000,
      default: 60000,
      doc: 'Deadline of one release delivery (SMTP session). A release that did not get a 2xx answer puts the message back to `held`.',
    },
  },
  soc: {
    alert_window_s: {
      type: 'int',
      min: 60,
      max: 2592000,
      default: 3600,
      doc:
        'Rejected and held messages with the same sender domain, first link host or subject skeleton within ' +
        "this time of an alert's last message join that alert (one alert per campaign, with a count) while " +
        'it is not resolved.',
    },
    blocklist_feed: {
      type: 'string',
      default: 'soc-blocklist',
      doc:
        'Feed that the alert action `block_sender` adds sender domains and link hosts to ' +
        '(`DOMAIN_FEED_MATCH` for later mail). Without Redis it is the file `feed_dir/<name>.txt`, re-read ' +
        'as soon as it is written (within 10 seconds where the folder cannot be watched).',
    },
  },
  webhooks: {
    timeout_ms: {
      type: 'int',
      min: 100,
      max: 120000,
      default: 5000,
      doc: 'Deadline of one delivery attempt (connect, send, answer). The answer body is read up to 64 KiB and discarded; redirects are not followed.',
    },
    max_age_h: {
      type: 'int',
      min: 1,
      max: 720,
      default: 24,
      doc:
        'An event not delivered this long after it happened goes to the dead letters (`GET /api/v1/webhooks/deliveries?status=dead`, ' +
        'redelivered with `POST …/{id}/retry`).',
    },
    retry_base_ms: { type: 'int', min: 10, max: 600000, default: 1000, doc: 'First retry delay; each next one doubles, with full jitter.' },
    retry_max_ms: {
      type: 'int',
      min: 100,
      max: 86400000,
      default: 600000,
      doc: 'Longest delay between two attempts (a `Retry-After` answer may ask for longer, up to an hour).',
    },
    concurrency: { type: 'int', min: 1, max: 64, default: 4, doc: 'Deliveries in flight per endpoint.' },
    key_overlap_h: {
      type: 'int',
      min: 0,
      max: 720,
      default: 24,
      doc: 'After `phishx keys rotate`, the old key keeps signing beside the new one this long (consumers switch within it), then retires.',
    },
    rotate_every_days: {
      type: 'int',
      min: 0,
      max: 3650,
      default: 0,
      doc: 'Rotate the signing key by itself when the primary key is this old (`0`: only by `phishx keys rotate`).',
    },
  },
  alerts: {
    enabled: { type: 'bool', default: true, doc: 'Evaluate the operational alerts in the sidecar and notify the configured channels (docs/alerts.md).' },
    interval_s: { type: 'int', min: 1, max: 3600, default: 10, doc: 'How often the alert rules are evaluated.' },
    for_s: {
      type: 'int',
      min: 0,
      max: 86400,
      default: 30,
      doc: 'A condition must hold this long before its alert fires (a blip never pages anyone).',
    },
    repeat_interval_h: {
      type: 'int',
      min: 1,
      max: 720,
      default: 4,
      doc: 'A firing alert is notified again after this long (state changes are notified at once).',
    },
    rate_limit_per_min: {
      type: 'int',
      min: 1,
      max: 10000,
      default: 10,
      doc: 'Notifications per channel per minute at most; beyond it they wait (grouped) for the next minute: no alert storms.',
    },
    channel_timeout_ms: {
      type: 'int',
      min: 100,
      max: 60000,
      default: 5000,
      doc: 'Deadline of one notification request (Slack, PagerDuty) or SMTP session (email).',
    },
    scan_latency_warn_ms: { type: 'int', min: 1, max: 600000, default: 1000, doc: 'Scan latency p95 over 5 minutes: warn at or above.' },
    scan_latency_critical_ms: { type: 'int', min: 1, max: 600000, default: 5000, doc: 'Scan latency p95 over 5 minutes: critical at or above.' },
    rate_limited_warn: { type: 'int', min: 1, max: 10000000, default: 100, doc: 'Sidecar requests refused with 429 in the last hour: warn.' },
    rate_limited_critical: { type: 'int', min: 1, max: 10000000, default: 1000, doc: 'Sidecar requests refused with 429 in the last hour: critical.' },
    auth_failures_warn: { type: 'int', min: 1, max: 10000000, default: 10, doc: 'Sidecar authentication failures (401 / 403) in the last hour: warn.' },
    auth_failures_critical: { type: 'int', min: 1, max: 10000000, default: 50, doc: 'Sidecar authentication failures in the last hour: critical.' },
    availability_warn_pct: { type: 'int', min: 1, max: 100, default: 95, doc: "An external service's success rate (breaker window) below this: warn." },
    availability_critical_pct: {
      type: 'int',
      min: 1,
      max: 100,
      default: 80,
      doc: 'Below this: critical; so is a failing health check (clamd, NLP service, store) and a breaker open longer than `breaker_open_critical_s`.',
    },
    breaker_open_critical_s: { type: 'int', min: 1, max: 86400, default: 60, doc: 'A circuit breaker open this long is critical.' },
    queue_warn: { type: 'int', min: 1, max: 100000000, default: 1000, doc: 'Messages in the pending spool, or webhook events in an outbox backlog: warn.' },
    queue_critical: { type: 'int', min: 1, max: 100000000, default: 5000, doc: 'The same: critical.' },
    datastore_warn_ms: {
      type: 'int',
      min: 1,
      max: 600000,
      default: 5000,
      doc: 'Store round trip (Redis PING, embedded store check) at the last health check: warn.',
    },
    datastore_critical_ms: { type: 'int', min: 1, max: 600000, default: 10000, doc: 'The same: critical.' },
    campaign_messages: {
      type: 'int',
      min: 2,
      max: 1000000,
      default: 25,
      doc:
        'A SOC campaign (same sender domain, link host or subject) with this many rejected or held messages within ' +
        '`campaign_window_s` raises `campaign_surge` (warn).',
    },
    campaign_window_s: { type: 'int', min: 60, max: 86400, default: 600, doc: 'Window of the campaign surge rule.' },
    links_base_url: {
      type: 'string',
      default: '',
      doc: 'Base URL of the sidecar as analysts reach it (e.g. `https://phishx.example.com`): notifications link to its `/api/v1/alerts` and SOC alerts. Empty: no links.',
    },
    grafana_url: { type: 'string', default: '', doc: 'A Grafana dashboard URL put on every notification as a button / link. Empty: none.' },
    webhook: {
      type: 'bool',
      default: true,
      doc: 'Also send `alert.firing` / `alert.resolved` to the webhook endpoints that subscribe to them (docs/webhooks.md).',
    },
  },
  'alerts.slack': {
    url: {
      type: 'string',
      default: '',
      doc: 'Slack incoming-webhook URL (`https://hooks.slack.com/services/…`; a secret: prefer `PHISHX_ALERTS_SLACK_URL`). Empty: no Slack.',
    },
  },
  'alerts.pagerduty': {
    routing_key: {
      type: 'string',
      default: '',
      doc: 'PagerDuty Events API v2 integration (routing) key (prefer `PHISHX_ALERTS_PAGERDUTY_ROUTING_KEY`). Empty: no PagerDuty.',
    },
    url: { type: 'string', default: 'https://events.pagerduty.com/v2/enqueue', doc: 'Events API v2 endpoint (change for a proxy or EU service region).' },
  },
  'alerts.email': {
    smtp: { type: 'string', default: '', doc: '`host:port` of the SMTP server alert mail goes through. Empty: no email.' },
    from: { type: 'string', default: 'phishx@localhost', doc: 'From address of alert mail.' },
    to: { type: 'strings', default: '', doc: 'Recipients (comma-separated).' },
    tls: {
      type: 'enum',
      values: ['starttls', 'implicit', 'none'],
      default: 'starttls',
      doc: '`starttls` (upgrade when offered, port 587/25), `implicit` (TLS from the start, port 465) or `none`.',
    },
    user: { type: 'string', default: '', doc: 'SMTP AUTH user; the password comes from `PHISHX_ALERTS_EMAIL_PASSWORD`.' },
  },
  local_delivery: {
    dir: { type: 'string', default: 'var/mail', doc: 'Folder where the `phishx_local_delivery` queue plugin writes allowed mail (one `.eml` per message).' },
  },
} as const satisfies Record<string, SectionSpec>;

/** External services with a circuit breaker: a `[breaker.<service>]` section each (`webhook`: one breaker per endpoint, these settings). */
export const BREAKER_SERVICES = ['nlp', 'clamav', 'reputation', 'redis', 'webhook'] as const;

function breakerSection(service: string) {
  return {
    volume_threshold: {
      type: 'int',
      min: 1,
      max: 10000,
      default: 10,
      doc: `Calls to ${service} within the rolling window before its breaker may open (one early failure never opens it).`,
    },
    error_threshold_percentage: { type: 'int', min: 1, max: 100, default: 50, doc: `Failure percentage over the window that opens the ${service} breaker.` },
    reset_timeout_ms: {
      type: 'int',
      min: 100,
      max: 3600000,
      default: 10000,
      doc: `Time an open ${service} breaker fails fast before one half-open probe call.`,
    },
    rolling_window_ms: { type: 'int', min: 1000, max: 3600000, default: 10000, doc: `Rolling window over which ${service} failures are counted.` },
  } as const satisfies SectionSpec;
}

/** Every section with fixed keys: what validation, environment overrides and the reference are derived from. */
export const SCHEMA: Readonly<Record<string, SectionSpec>> = {
  ...SECTIONS,
  ...Object.fromEntries(BREAKER_SERVICES.map((s) => [`breaker.${s}`, breakerSection(s)])),
};

/** The value a key of this spec takes once validated. */
type ValueOf<K> = K extends { type: 'int' }
  ? number
  : K extends { type: 'bool' }
    ? boolean
    : K extends { type: 'list' | 'strings' | 'cidrs' }
      ? string[]
      : K extends { type: 'enum'; values: readonly (infer V)[] }
        ? V
        : K extends { type: 'listen' }
          ? { host: string; port: number } | null
          : string;

/** A validated section: each key of its spec with the type its spec gives. */
export type SectionValues<S> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/** The validated fixed-key sections, inferred from the table above (no hand-kept copy). */
export type SchemaValues = { -readonly [S in keyof typeof SECTIONS]: SectionValues<(typeof SECTIONS)[S]> };

/** A `[breaker.<service>]` section, validated. */
export type BreakerValues = SectionValues<ReturnType<typeof breakerSection>>;

/** Keys allowed in a `[tenant.<recipient-domain>]` section. */
export const TENANT_SCHEMA: SectionSpec = {
  mode: { type: 'enum', values: ['enforce', 'monitor'], default: '', doc: 'Overrides `[main] mode` for recipients in this domain.' },
  quarantine: { type: 'int', min: 0, max: 100, default: '', doc: 'Overrides `[thresholds] quarantine`.' },
  reject: { type: 'int', min: 0, max: 100, default: '', doc: 'Overrides `[thresholds] reject`.' },
};

/** Keys of a `[webhook.<name>]` section: one endpoint. */
export const WEBHOOK_SCHEMA = {
  url: { type: 'string', default: '', doc: 'Where events are POSTed (`https://…`; `http://` for loopback or a trusted network).' },
  events: {
    type: 'list',
    default: '',
    doc: 'Event types sent (empty: every type but `message.allowed`, which is opt-in; `*`: all). Catalogue: docs/webhooks.md.',
  },
  tenants: { type: 'list', default: '', doc: 'Only events of these tenants (`default` or recipient domains of `[tenant.<domain>]`); empty: all.' },
  secret_env: {
    type: 'string',
    default: '',
    doc:
      "Name of an environment variable holding this endpoint's secret (`whsec_…`; two space-separated during a rotation, both sign). " +
      'Empty: sign with the managed keys (`npx phishx keys`).',
  },
} as const satisfies SectionSpec;

/** Sections whose keys are free-form (validated by value only). */
export const FREE_SECTIONS = ['brands', 'weights'] as const;

/** Environment variable that overrides `[section] key`: PHISHX_<SECTION>_<KEY>, and PHISHX_<KEY> for [main]. */
export function envName(section: string, key: string): string {
  const s = section === 'main' ? '' : `${section.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
  return `PHISHX_${s}${key.toUpperCase()}`;
}
