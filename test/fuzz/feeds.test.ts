import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildConfig } from '../../lib/config/load.js';
import { extractScanInput } from '../../lib/message/extract.js';
import { splitHost } from '../../lib/message/domain.js';
import { parseFeed, parseFeedInTurns } from '../../lib/reputation/feed-dir.js';
import { normalizeDomain, normalizeUrl } from '../../lib/reputation/normalize.js';
import { feedReputation } from '../../lib/reputation/sources.js';
import { MemoryStore } from '../../lib/store/memory.js';
import { check, runs, SEED } from './settings.js';

/**
 * Blocklist feeds are an input boundary: their files come from third parties (OpenPhish,
 * URLhaus, PhishTank exports) and from operators, and the links they list were written by
 * attackers. Whatever a feed file holds — URLs of any shape (upper case, IDN, IP hosts, ports,
 * percent-escapes in any spelling, trailing dots, commas), bare domains, comments, junk lines,
 * any line ends — parsing never throws, its entries are their own canonical form, and a mail
 * linking to a listed URL or to a host under a listed domain is found: a listed link spelled
 * another way that a browser reads alike must not get through.
 */

const config = buildConfig({ nlp: { enabled: false } }, { env: {} });
const ENV = { mailFrom: '', rcptTo: ['bob@example.org'] };

const mixCase = (s: string, flips: boolean[]): string => [...s].map((c, i) => (flips[i % Math.max(1, flips.length)] ? c.toUpperCase() : c)).join('');

const ascii = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?$/);
const label = fc.oneof({ weight: 6, arbitrary: ascii }, { weight: 1, arbitrary: fc.constantFrom('пример', 'bücher', '例え', 'παράδειγμα', 'xn--80ak6aa92e') });
const suffix = fc.constantFrom('com', 'net', 'org', 'co.uk', 'com.br', 'top', 'xyz', 'de', 'рф', 'io');
/** A registered domain and its subdomain labels (a feed lists either; a link may add more). */
const domain = fc.record({ sub: fc.array(label, { maxLength: 2 }), name: label, suffix }).map((d) => [...d.sub, d.name, d.suffix].join('.'));
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
const host = fc.oneof({ weight: 5, arbitrary: domain }, { weight: 1, arbitrary: ipv4 });
const escape = fc.tuple(fc.nat(255), fc.boolean()).map(([b, upper]) => {
  const hex = b.toString(16).padStart(2, '0');
  return `%${upper ? hex.toUpperCase() : hex}`;
});
const pathChar = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~') },
  { weight: 2, arbitrary: fc.constantFrom(...`!$'()*+,;=:@`) },
  { weight: 2, arbitrary: escape },
  { weight: 1, arbitrary: fc.constantFrom('ä', 'é', 'ж', '字', '😀', '\\', '|', '^', '`', '{', '}') },
);
const piece = fc.array(pathChar, { maxLength: 12 }).map((cs) => cs.join(''));
const url = fc
  .record({
    scheme: fc.constantFrom('http', 'https', 'HTTP', 'HtTpS'),
    host,
    flips: fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
    dot: fc.boolean(),
    port: fc.oneof(
      fc.constant(''),
      fc.constantFrom(':80', ':443', ':8080'),
      fc.integer({ min: 1, max: 65535 }).map((p) => `:${p}`),
    ),
    path: fc.array(piece, { maxLength: 4 }),
    slash: fc.boolean(),
    query: fc.option(fc.array(fc.tuple(piece, piece), { maxLength: 3 }), { nil: undefined }),
    fragment: fc.option(piece, { nil: undefined }),
  })
  .map(
    (u) =>
      `${u.scheme}://${mixCase(u.host, u.flips)}${u.dot ? '.' : ''}${u.port}${u.path.length || u.slash ? '/' : ''}${u.path.join('/')}` +
      `${u.query ? `?${u.query.map(([k, v]) => `${k}=${v}`).join('&')}` : ''}${u.fragment !== undefined ? `#${u.fragment}` : ''}`,
  );
const domainLine = fc
  .record({ d: host, prefix: fc.constantFrom('', '*.', '.'), dot: fc.boolean(), flips: fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }) })
  .map((x) => `${x.prefix}${mixCase(x.d, x.flips)}${x.dot ? '.' : ''}`);
const junkLine = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('# OpenPhish feed', '; comment', '', '   ', 'not a thing', 'http://', 'https:///x', 'ftp://evil.example/x', '"123","http://x.example/"'),
  fc.string({ maxLength: 3000 }).map((s) => `http://${s}`),
);

type Line = { kind: 'url' | 'domain' | 'junk'; text: string };
const line: fc.Arbitrary<Line> = fc.oneof(
  { weight: 4, arbitrary: url.map((text) => ({ kind: 'url' as const, text })) },
  { weight: 2, arbitrary: domainLine.map((text) => ({ kind: 'domain' as const, text })) },
  { weight: 2, arbitrary: junkLine.map((text) => ({ kind: 'junk' as const, text })) },
);
const feedFile = fc.record({
  lines: fc.array(line, { minLength: 1, maxLength: 12 }),
  eol: fc.constantFrom('\n', '\r\n'),
  bom: fc.boolean(),
  extraSub: label,
});

/** A CSV field as exporters write it: quoted always (URLhaus) or when it must be (PhishTank). */
const csvField = (v: string, always: boolean): string => (always || /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v);
const otherName = fc.constantFrom(
  'id',
  'phish_id',
  'dateadded',
  'url_status',
  'last_online',
  'threat',
  'tags',
  'urlhaus_link',
  'reporter',
  'target',
  'verified',
);
const otherValue = fc.oneof(
  fc.nat().map(String),
  fc.constantFrom(
    '2024-08-01 12:00:00',
    '2024-08-01T12:05:00+00:00',
    'yes',
    'online',
    'elf,mirai',
    'say "hi"',
    '',
    'https://www.phishtank.com/phish_detail.php?phish_id=1',
  ),
  fc.string({ maxLength: 20 }).filter((v) => !/[\r\n]/.test(v) && !v.startsWith('#')),
);
/** A URL as an export's field may hold it: now and then with a space in its query (a field is taken whole). */
const fieldUrl = fc.tuple(url, fc.boolean()).map(([u, space]) => (space ? `${u.split('#')[0]}${u.includes('?') ? '&' : '?'}q=a b` : u));
/** A CSV export: the url column among others, its header the first line or the last comment (URLhaus); or a column of another name, given with --column. */
const csvExport = fc.record({
  urls: fc.array(fieldUrl, { minLength: 1, maxLength: 10 }),
  column: fc.option(fc.constantFrom('ioc_value', 'link', 'URI', 'Indicator')),
  before: fc.array(otherName, { maxLength: 3 }),
  after: fc.array(otherName, { maxLength: 3 }),
  values: fc.array(otherValue, { minLength: 6, maxLength: 6 }),
  headerInComment: fc.boolean(),
  quoteAll: fc.boolean(),
  eol: fc.constantFrom('\n', '\r\n'),
  bom: fc.boolean(),
});
/** A JSON export: URL strings, or objects with a "url" field (PhishTank). */
const jsonExport = fc.record({ urls: fc.array(fieldUrl, { minLength: 1, maxLength: 10 }), objects: fc.boolean() });

const html = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

async function linkCodes(store: MemoryStore, href: string): Promise<string[]> {
  const raw = Buffer.from(
    `From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: menu\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p><a href="${html(href)}">menu</a></p>\r\n`,
  );
  const input = await extractScanInput(raw, ENV, config.limits);
  return (await feedReputation(store).check(input.urls, 1000)).map((s) => s.code);
}

describe(`blocklist feed files under generated input (seed ${SEED})`, () => {
  it('parses any feed file without throwing into canonical entries, and finds every listed link in a mail', async () => {
    await check('feeds', feedFile, runs(150, 3000), async (f) => {
      const text = `${f.bom ? '\uFEFF' : ''}${f.lines.map((l) => l.text).join(f.eol)}${f.eol}`;
      const feed = parseFeed(text);
      const sliced = await parseFeedInTurns(text);
      assert.deepEqual([[...sliced.urls].sort(), [...sliced.domains].sort(), sliced.skipped], [feed.urls, feed.domains, feed.skipped]);
      // Canonical: read again, the entries are the same.
      const again = parseFeed([...feed.urls, ...feed.domains].join('\n'));
      assert.deepEqual([again.urls, again.domains, again.skipped], [feed.urls, feed.domains, 0]);
      for (const u of feed.urls) assert.equal(normalizeUrl(u), u);
      for (const d of feed.domains) assert.equal(normalizeDomain(d), d);

      const store = new MemoryStore();
      await store.replaceFeed('fuzz', feed);
      for (const l of f.lines) {
        if (l.kind === 'url' && normalizeUrl(l.text) !== null) {
          const codes = await linkCodes(store, l.text);
          assert.ok(
            codes.includes('URL_FEED_MATCH'),
            `listed ${JSON.stringify(l.text)} (entries ${JSON.stringify(feed.urls)}) not found in a mail: ${codes.join(',')}`,
          );
        }
        if (l.kind === 'domain') {
          const d = normalizeDomain(l.text);
          if (d === null || (splitHost(d).registrable === null && !splitHost(d).isIp)) continue;
          // The listed host itself, and a host under it spelled with a trailing dot and another case.
          for (const href of [`http://${d}/x`, ...(splitHost(d).isIp ? [] : [`https://${f.extraSub}.${d.toUpperCase()}./y`])]) {
            const codes = await linkCodes(store, href);
            assert.ok(codes.includes('DOMAIN_FEED_MATCH'), `listed domain ${JSON.stringify(l.text)} (${d}) not found for ${href}: ${codes.join(',')}`);
          }
        }
      }
      await store.close();
    });
  });
});

describe(`CSV and JSON blocklist exports under generated input (seed ${SEED})`, () => {
  const expected = (urls: readonly string[]): string[] => [...new Set(urls.map((u) => normalizeUrl(u)).filter((u): u is string => u !== null))].sort();

  it('reads the url column of any CSV export (or the column named with --column), header first or in a comment, quoted or not', async () => {
    await check('feeds-csv', csvExport, runs(100, 2000), async (x) => {
      const entries = x.column ?? 'url';
      // URLhaus's dumps (header in a comment) have nine columns; a one-column "# url" remark is no header.
      const cols = [...x.before, entries, ...x.after, ...(x.headerInComment && !x.before.length && !x.after.length ? ['id'] : [])];
      // URLhaus quotes every field; PhishTank (header first) only what must be.
      const quoteAll = x.quoteAll || x.headerInComment;
      const header = cols.map((c) => csvField(c, quoteAll)).join(',');
      const rows = x.urls.map((u, i) => cols.map((c, j) => csvField(c === entries ? u : x.values[(i + j) % x.values.length], quoteAll)).join(','));
      const lines = x.headerInComment ? ['#####', '# abuse.ch URLhaus Database Dump (CSV)', '#', `# ${header}`, ...rows] : [header, ...rows];
      const text = `${x.bom ? '\uFEFF' : ''}${lines.join(x.eol)}${x.eol}`;
      const feed = parseFeed(text, x.column === null ? undefined : [x.column]);
      assert.equal(feed.format, `CSV, column "${entries.toLowerCase()}"`, text);
      assert.deepEqual(feed.urls, expected(x.urls), text);
      assert.deepEqual(feed.domains, []);
      if (x.column === null) {
        const sliced = await parseFeedInTurns(text);
        assert.deepEqual([[...sliced.urls].sort(), sliced.skipped], [feed.urls, feed.skipped]);
      }
      if (feed.urls.length) {
        const store = new MemoryStore();
        await store.replaceFeed('csv', feed);
        const listed = x.urls.find((u) => normalizeUrl(u) !== null) ?? '';
        assert.ok((await linkCodes(store, listed)).includes('URL_FEED_MATCH'), `${listed} not found`);
        await store.close();
      }
    });
  });

  it('reads any JSON list of URLs or of objects with a url field', async () => {
    await check('feeds-json', jsonExport, runs(100, 2000), async (x) => {
      const text = JSON.stringify(x.objects ? x.urls.map((u, i) => ({ phish_id: i, url: u, verified: 'yes' })) : x.urls);
      const feed = parseFeed(text);
      assert.equal(feed.format, 'JSON list');
      assert.deepEqual(feed.urls, expected(x.urls));
      assert.equal(feed.skipped, x.urls.filter((u) => normalizeUrl(u) === null).length);
      const sliced = await parseFeedInTurns(text);
      assert.deepEqual([...sliced.urls].sort(), feed.urls);
    });
  });
});
