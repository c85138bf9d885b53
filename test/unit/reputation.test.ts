import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { PhishXError } from '../../lib/errors.js';
import { extractScanInput } from '../../lib/message/extract.js';
import { createReputation } from '../../lib/reputation/index.js';
import { MAX_FEED_FILE_BYTES, parseFeed, parseFeedInTurns, syncFeedDir, type ParsedFeed } from '../../lib/reputation/feed-dir.js';
import { normalizeDomain, normalizeUrl, parseFeedLine } from '../../lib/reputation/normalize.js';
import { SafeBrowsing } from '../../lib/reputation/safe-browsing.js';
import { domainCandidates, feedReputation } from '../../lib/reputation/sources.js';
import { scanMessage } from '../../lib/scan.js';
import { MemoryStore } from '../../lib/store/memory.js';
import { json, jsonWithoutEnd, startHttpServer, type TestServer } from '../helpers/http-server.js';
import { toCrlf } from '../helpers/smtp.js';
import { eventually } from '../helpers/eventually.js';

const config = buildConfig({ nlp: { enabled: false } }, { env: {} });
const env = { mailFrom: '', rcptTo: ['bob@example.org'] };

async function urlsOf(html: string) {
  return (await extractScanInput(toCrlf(`From: a@example.com\nContent-Type: text/html\n\n${html}\n`), env, config.limits)).urls;
}

function mail(href: string): Buffer {
  return toCrlf(`From: Alice <alice@example.com>\nTo: bob@example.org\nSubject: hi\nContent-Type: text/html\n\n<p>See <a href="${href}">this</a></p>\n`);
}

describe('feed parsing and normalisation', () => {
  it('normalises URLs: scheme and host case, default port, fragment and userinfo dropped', () => {
    assert.equal(normalizeUrl('HTTP://User:pw@Evil.Example:80/Path?q=1#frag'), 'http://evil.example/Path?q=1');
    assert.equal(normalizeUrl('https://evil.example:8443'), 'https://evil.example:8443/');
    assert.equal(normalizeUrl('evil.example/login'), 'http://evil.example/login');
    assert.equal(normalizeUrl('javascript:alert(1)'), null);
  });

  it('spells percent-escapes one way, drops a trailing dot, keeps commas: a listed URL spelled otherwise still matches', async () => {
    assert.equal(normalizeUrl('http://evil.example/log%69n%2fx%7E?a=%2f'), 'http://evil.example/login%2Fx~?a=%2F');
    assert.equal(normalizeUrl('http://evil.example./a'), 'http://evil.example/a');
    assert.equal(normalizeUrl('http://./a'), null);
    assert.equal(normalizeDomain('=a!..'), null);
    const store = new MemoryStore();
    await store.replaceFeed('t', parseFeed('http://evil.example/a%2fb\nhttp://evil.example/x,y\nbad-host.example,2026-12-05\n'));
    const rep = feedReputation(store);
    for (const [href, code] of [
      ['http://evil.example/a%2Fb', 'URL_FEED_MATCH'],
      ['http://evil.example/%61%2fb', 'URL_FEED_MATCH'],
      ['http://evil.example/x,y', 'URL_FEED_MATCH'],
      ['https://login.bad-host.example./p', 'DOMAIN_FEED_MATCH'],
    ])
      assert.deepEqual(
        (await rep.check(await urlsOf(`<a href="${href}">x</a>`), 1000)).map((x) => x.code),
        [code],
        href,
      );
    await store.close();
  });

  it('normalises domains and refuses non-domains', () => {
    assert.equal(normalizeDomain('*.Bad.Example.'), 'bad.example');
    assert.equal(normalizeDomain('xn--pypal-4ve.com'), 'xn--pypal-4ve.com');
    assert.equal(normalizeDomain('not a domain'), null);
    assert.equal(normalizeDomain('localhost'), null);
    // Past DNS's bounds (a label over 63 characters, a name over 253) no resolver looks it up.
    assert.equal(normalizeDomain(`${'d'.repeat(63)}.example`), `${'d'.repeat(63)}.example`);
    assert.equal(normalizeDomain(`${'d'.repeat(64)}.example`), null);
    assert.equal(normalizeDomain(`${'abc.'.repeat(64)}example`), null);
    assert.equal(normalizeUrl(`http://${'c'.repeat(64)}.example/x`), null);
    assert.equal(parseFeedLine(`${'b'.repeat(1_000_000)}.example`), null);
  });

  it('reads past a line too long to be a CSV row: skipped, the rows after it kept', () => {
    const huge = `${'x,'.repeat(100_000)}url`;
    const feed = parseFeed(`id,url,note\n1,http://a.example/x,n\n${huge}\n2,http://b.example/y,n\n`);
    assert.deepEqual([feed.format, feed.urls, feed.skipped], ['CSV, column "url"', ['http://a.example/x', 'http://b.example/y'], 1]);
    // A comment that long is no header either, and a plain line of separators no entry.
    assert.equal(parseFeed(`# ${huge}\n"1","http://a.example/x"\n`).kind, 'lines');
    assert.deepEqual(parseFeed(`${huge}\nhttp://a.example/x\n`).urls, ['http://a.example/x']);
  });

  it('reads OpenPhish / PhishTank / URLhaus plain exports: URLs, domains, comments, junk', () => {
    const f = parseFeed('# URLhaus\nhttp://1.2.3.4/mozi.m\nhttps://evil.example/a\r\nbad.example\n\n; comment\nnot a thing\nhttps://evil.example/a\n');
    assert.deepEqual(f.urls, ['http://1.2.3.4/mozi.m', 'https://evil.example/a']);
    assert.deepEqual(f.domains, ['bad.example']);
    assert.equal(f.skipped, 1);
  });

  it("reads PhishTank's CSV (header first, a URL with a comma quoted) and URLhaus's (header in a comment, every field quoted)", () => {
    const phishtank = parseFeed(
      'phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target\r\n' +
        '8482391,https://login.bad.example/signin?x=1,https://www.phishtank.com/phish_detail.php?phish_id=8482391,2024-08-01T12:00:00+00:00,yes,2024-08-01T12:05:00+00:00,yes,Other\r\n' +
        '8482392,"http://paypa1.example.net/a,b",https://www.phishtank.com/phish_detail.php?phish_id=8482392,2024-08-01T12:00:00+00:00,yes,2024-08-01T12:05:00+00:00,yes,PayPal\r\n' +
        '8482393\r\n',
    );
    const fromCsv = (urls: string[], skipped: number): ParsedFeed => ({ urls, domains: [], skipped, format: 'CSV, column "url"', kind: 'csv' });
    assert.deepEqual(phishtank, fromCsv(['http://paypa1.example.net/a,b', 'https://login.bad.example/signin?x=1'], 1));
    const urlhaus = parseFeed(
      '################################################################\n' +
        '# abuse.ch URLhaus Database Dump (CSV - online URLs only)      #\n' +
        '#\n' +
        '# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n' +
        '"3164857","2024-08-01 12:00:00","http://198.51.100.7/bins/x.arm","online","2024-08-01 12:00:00","malware_download","elf,mirai","https://urlhaus.abuse.ch/url/3164857/","abuse_ch"\n' +
        '"3164858","2024-08-01 12:01:00","https://evil.example.org/dl/invoice.zip#frag","online","","malware_download","zip","https://urlhaus.abuse.ch/url/3164858/","abuse_ch"\n',
    );
    assert.deepEqual(urlhaus, fromCsv(['http://198.51.100.7/bins/x.arm', 'https://evil.example.org/dl/invoice.zip'], 0));
    // A domain column, and a plain list whose first URL holds ",url" or whose remark names columns, stay what they are.
    assert.deepEqual(parseFeed('domain,added\nbad.example,2024\n').domains, ['bad.example']);
    assert.equal(parseFeed('http://a.example/x,url\nhttp://b.example/\n').urls.length, 2);
    assert.deepEqual(parseFeed('# id,url\nhttp://a.example/x,y\n').urls, ['http://a.example/x,y']);
    // A header comment is looked for near the top only (each one is parsed as CSV: a file of
    // comments read whole so held the event loop): below the first 1,000 lines it is a remark.
    const row = '"1","http://late.example/p","x"\n';
    assert.equal(parseFeed(`${'# remark\n'.repeat(990)}# id,url,note\n${row}`).format, 'CSV, column "url"');
    assert.equal(parseFeed(`${'# remark\n'.repeat(1000)}# id,url,note\n${row}`).format, 'one entry per line');
  });

  it('takes a CSV or JSON field whole: a URL with a space is the URL a browser goes to, and a mail linking to it matches', async () => {
    const feed = parseFeed('id,url\n1,http://evil.example/a b\n2,"http://evil.example/c?d=e f"\n');
    assert.deepEqual(feed.urls, ['http://evil.example/a%20b', 'http://evil.example/c?d=e%20f']);
    // On a plain list a line's entry ends at its first space (what follows is a remark).
    assert.deepEqual(parseFeed('http://evil.example/a b\n').urls, ['http://evil.example/a']);
    const store = new MemoryStore();
    await store.replaceFeed('csv', feed);
    const rep = feedReputation(store);
    for (const href of ['http://evil.example/a b', 'http://evil.example/a%20b', 'http://evil.example/c?d=e f'])
      assert.deepEqual(
        (await rep.check(await urlsOf(`<a href="${href}">x</a>`), 1000)).map((x) => x.code),
        ['URL_FEED_MATCH'],
        href,
      );
    await store.close();
  });

  it("reads PhishTank's JSON, and a list starting with '[' that is no JSON as lines", () => {
    const f = parseFeed(JSON.stringify([{ phish_id: 1, url: 'https://evil.example/x' }, 'http://b.example/', { url: 7 }, null]));
    assert.deepEqual(f, { urls: ['http://b.example/', 'https://evil.example/x'], domains: [], skipped: 2, format: 'JSON list', kind: 'json' });
    assert.deepEqual(parseFeed('[feed of 2024-08-01]\nhttp://a.example/\n').urls, ['http://a.example/']);
  });

  it("reads an export's column of another name when told it (ThreatFox's ioc_value), and only from a header naming it", () => {
    const threatfox =
      '################################################################\n' +
      '# ThreatFox IOCs: CSV export                                   #\n' +
      '################################################################\n' +
      '#\n' +
      '# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware","malware_alias","malware_printable",' +
      '"last_seen_utc","confidence_level","reference","tags","anonymous","reporter"\n' +
      '"2024-08-01 12:00:00", "1300001", "http://evil.example/gate.php", "url", "botnet_cc", "win.x", "None", "X", "", "100", "", "None", "0", "abuse_ch"\n' +
      '"2024-08-01 12:01:00", "1300002", "c2.bad.example", "domain", "botnet_cc", "win.x", "None", "X", "", "100", "", "None", "0", "abuse_ch"\n' +
      '"2024-08-01 12:02:00", "1300003", "198.51.100.9:443", "ip:port", "botnet_cc", "win.x", "None", "X", "", "100", "", "None", "0", "abuse_ch"\n';
    // Without the name nothing usable is found, and its first row, whose type field is "url", is
    // data under the commented header (as many fields), not a header: the import refuses it, naming --column.
    const plain = parseFeed(threatfox);
    assert.deepEqual([plain.urls, plain.domains, plain.kind], [[], [], 'lines']);
    // A header row below a comment of another shape is still one.
    assert.equal(parseFeed('# PhishTank export, 2024-08-01\nphish_id,url,target\n1,http://a.example/x,Other\n').format, 'CSV, column "url"');
    // With it (any case): the URL and the domain; the IP:port entry is no URL or domain.
    assert.deepEqual(parseFeed(threatfox, ['IOC_Value']), {
      urls: ['http://evil.example/gate.php'],
      domains: ['c2.bad.example'],
      skipped: 1,
      format: 'CSV, column "ioc_value"',
      kind: 'csv',
    });
    // A header first; a JSON list's objects by that field, a key in another case too.
    assert.deepEqual(parseFeed('id,link\n1,http://a.example/x\n', ['link']).urls, ['http://a.example/x']);
    const json = parseFeed(JSON.stringify([{ Link: 'http://a.example/y' }, { url: 'http://b.example/' }]), ['link']);
    assert.deepEqual([json.urls, json.format], [['http://a.example/y'], 'JSON list, field "link"']);
    // Only that column: a header without it is no CSV (the caller refuses the file), the default names no longer count.
    assert.equal(parseFeed('id,url\n1,http://a.example/x\n', ['link']).kind, 'lines');
  });

  it('takes no URL whose host no link can reach: a CSV row read as one URL, one label', () => {
    assert.equal(normalizeUrl('8482391,https://login.bad.example/signin'), null);
    assert.equal(normalizeUrl('http://intranet/x'), null);
    // A label starting with a hyphen is no domain name, but a resolver looks it up: still a link's host.
    assert.equal(normalizeUrl('http://-login.evil.example/x'), 'http://-login.evil.example/x');
    assert.equal(normalizeUrl('http://[2001:db8::1]/x'), 'http://[2001:db8::1]/x');
    assert.equal(normalizeUrl('http://192.0.2.7:8080/x'), 'http://192.0.2.7:8080/x');
  });

  it('reads a CSV export in turns as it reads it at once, over batches', async () => {
    const rows = Array.from({ length: 12_345 }, (_, i) => `${i},"https://h${i % 997}.bad.example/p/${i},x",2024`);
    const text = `id,url,date\n${rows.join('\n')}\nbroken,"\n`;
    const whole = parseFeed(text);
    const sliced = await parseFeedInTurns(text);
    assert.equal(whole.urls.length, 12_345);
    assert.deepEqual({ ...sliced, urls: [...sliced.urls].sort() }, whole);
  });

  it('lists the host and its parent domains down to the registered domain', async () => {
    assert.deepEqual(domainCandidates(await urlsOf('<a href="https://a.b.evil.co.uk/x">x</a>')), ['a.b.evil.co.uk', 'b.evil.co.uk', 'evil.co.uk']);
  });
});

describe('feed reputation', () => {
  let store: MemoryStore;
  let dir: string;
  before(async () => {
    store = new MemoryStore();
    dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-feeds-'));
    await writeFile(path.join(dir, 'openphish.txt'), 'https://login.evil.example/signin?x=1\nbad-host.example\n');
    assert.equal(await syncFeedDir(store, dir), 1);
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('matches a listed URL (URL_FEED_MATCH) and a subdomain of a listed domain (DOMAIN_FEED_MATCH)', async () => {
    const rep = feedReputation(store);
    const s = await rep.check(
      await urlsOf(
        '<a href="HTTPS://login.evil.example/signin?x=1#top">a</a><a href="http://www.bad-host.example/p">b</a><a href="https://fine.example/">c</a>',
      ),
      1000,
    );
    assert.deepEqual(s.map((x) => x.code).sort(), ['DOMAIN_FEED_MATCH', 'URL_FEED_MATCH']);
    assert.match(s.find((x) => x.code === 'URL_FEED_MATCH')!.detail, /feed openphish/);
  });

  it('names a listed sender domain, or a parent of it, SENDER_FEED_MATCH, and only a listed link domain DOMAIN_FEED_MATCH', async () => {
    const rep = feedReputation(store);
    const s = await rep.check(await urlsOf('<a href="https://fine.example/">c</a>'), 1000, ['mail.bad-host.example', 'fine.example']);
    assert.deepEqual(
      s.map((x) => `${x.code} ${x.detail}`),
      ['SENDER_FEED_MATCH bad-host.example (feed openphish)'],
    );
    assert.deepEqual(await rep.check([], 1000, ['example.org']), []);
  });

  it('rejects a message linking to a listed URL through the scan path', async () => {
    const r = await scanMessage(mail('https://login.evil.example/signin?x=1'), env, config, undefined, { reputation: [feedReputation(store)] });
    assert.equal(r.verdict.action, 'reject');
  });

  it('finds a listed URL behind any amount of link padding (0, 50, 300, 1000 pixels first; 400 links to other hosts first)', async () => {
    const lure = (padding: string): Buffer =>
      toCrlf(
        `From: Alice <alice@example.com>\nTo: bob@example.org\nSubject: hi\nContent-Type: text/html\n\n${padding}<p>See <a href="https://login.evil.example/signin?x=1">this</a></p>\n`,
      );
    for (const n of [0, 50, 300, 1000]) {
      const pixels = Array.from({ length: n }, (_, k) => `<img src="https://cdn${k % 7}.example.com/px/${k}.gif" width="1" height="1">`).join('');
      const r = await scanMessage(lure(pixels), env, config, undefined, { reputation: [feedReputation(store)] });
      assert.equal(r.verdict.action, 'reject', `${n} pixels: ${JSON.stringify(r.verdict.reasons)}`);
      assert.ok(
        r.verdict.reasons.some((x) => x.code === 'URL_FEED_MATCH'),
        `${n} pixels: feed match lost`,
      );
    }
    // Padding with anchors to hundreds of hosts: the feed still sees the link, and the padding itself is a strong signal.
    const anchors = Array.from({ length: 400 }, (_, k) => `<a href="https://site${k}.example.org/">${k}</a>`).join(' ');
    const r = await scanMessage(lure(anchors), env, config, undefined, { reputation: [feedReputation(store)] });
    const codes = r.verdict.reasons.map((x) => x.code);
    assert.ok(codes.includes('URL_FEED_MATCH') && codes.includes('LIMIT_URL_HOSTS'), codes.join(' '));
    assert.equal(r.verdict.action, 'reject');
  });

  it('skips the feed lookup while the embedded store holds no entry, and asks again once the SOC blocks a sender', async () => {
    const empty = new MemoryStore();
    try {
      const rep = feedReputation(empty);
      assert.equal(empty.holdsNoFeeds(), true);
      assert.equal(rep.idle(), true);
      const before = await scanMessage(mail('https://login.evil.example/signin?x=1'), env, config, undefined, { reputation: [rep] });
      assert.equal(before.phases.reputation, undefined, 'no lookup, no reputation phase');
      // An empty import is still no entry; a SOC block is one.
      await empty.replaceFeed('openphish', { urls: [], domains: [] });
      assert.equal(rep.idle(), true);
      await empty.addFeedEntries('soc-blocked', { urls: [], domains: ['evil.example'] });
      assert.equal(rep.idle(), false);
      const after = await scanMessage(mail('https://login.evil.example/signin?x=1'), env, config, undefined, { reputation: [rep] });
      assert.equal(typeof after.phases.reputation, 'number');
      assert.ok(
        after.verdict.reasons.some((r) => r.code === 'DOMAIN_FEED_MATCH'),
        JSON.stringify(after.verdict.reasons),
      );
    } finally {
      await empty.close();
    }
  });

  it('re-reads only changed feed files', async () => {
    const seen = new Map<string, number>();
    assert.equal(await syncFeedDir(store, dir, seen), 1);
    assert.equal(await syncFeedDir(store, dir, seen), 0);
    assert.equal(await syncFeedDir(store, path.join(dir, 'missing')), 0);
  });

  it('follows the feed folder: a feed written into it is read at once, not at the next poll', async () => {
    const own = await mkdtemp(path.join(os.tmpdir(), 'phishx-feeds-watch-'));
    const local = new MemoryStore();
    // A poll an hour apart: only the watch can find the feed within the test.
    const rep = await createReputation(local, buildConfig({ reputation: { feed_dir: own } }, { env: {} }), {}, 3_600_000);
    try {
      assert.deepEqual(await local.listFeeds(), []);
      // As `phishx feeds import` and a SOC block write one: a temporary file renamed into place.
      await writeFile(path.join(own, '.soc-blocked.tmp'), 'blocked-sender.example\n');
      await rename(path.join(own, '.soc-blocked.tmp'), path.join(own, 'soc-blocked.txt'));
      await eventually(
        async () =>
          assert.deepEqual(
            (await local.listFeeds()).map((f) => f.name),
            ['soc-blocked'],
          ),
        { timeoutMs: 10_000 },
      );
      // And a change to it.
      await writeFile(path.join(own, 'soc-blocked.txt'), 'blocked-sender.example\nsecond.example\n');
      await eventually(async () => assert.equal((await local.listFeeds())[0].domains, 2), { timeoutMs: 10_000 });
    } finally {
      await rep.close();
      await local.close();
      await rm(own, { recursive: true, force: true });
    }
    // A folder that is not there yet: the poll alone, no fault.
    const none = await createReputation(new MemoryStore(), buildConfig({ reputation: { feed_dir: path.join(own, 'missing') } }, { env: {} }), {}, 3_600_000);
    await none.close();
  });

  it('skips a feed file too large to hold in memory, says so once per change, and loads the others', async () => {
    const own = await mkdtemp(path.join(os.tmpdir(), 'phishx-feeds-big-'));
    try {
      const big = path.join(own, 'everything.txt');
      await writeFile(path.join(own, 'small.txt'), 'https://small-feed.example/x\n');
      await writeFile(big, '');
      await truncate(big, MAX_FEED_FILE_BYTES + 1); // a sparse file: its size is all that is looked at, it is never read
      const local = new MemoryStore();
      const seen = new Map<string, number>();
      const errors: unknown[] = [];
      assert.equal(await syncFeedDir(local, own, seen, (e) => errors.push(e)), 1);
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof PhishXError && errors[0].code === 'PHISHX_FEED_TOO_LARGE');
      assert.match(errors[0].message, /everything\.txt is 32\.0 MiB, over the 32 MiB .*Redis/);
      assert.deepEqual(
        (await local.listFeeds()).map((f) => f.name),
        ['small'],
      );
      // Imported when its file was written (the import writes it; Haraka reads it at start).
      assert.equal((await local.listFeeds())[0].updatedAt, (await stat(path.join(own, 'small.txt'))).mtimeMs);
      // Unchanged: not said again every minute; changed, it is.
      assert.equal(await syncFeedDir(local, own, seen, (e) => errors.push(e)), 0);
      assert.equal(errors.length, 1);
      await utimes(big, new Date(), new Date(Date.now() + 5000));
      await syncFeedDir(local, own, seen, (e) => errors.push(e));
      assert.equal(errors.length, 2);
      await local.close();
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });

  it('parses a large feed in turns: the event loop runs between slices, the entries are the same', async () => {
    const text = Array.from({ length: 40_000 }, (_, i) => (i % 2 ? `https://host${i}.example/p/${i}` : `dom${i}.example`)).join('\r\n');
    let turns = 0;
    const tick = setInterval(() => turns++, 0);
    const sliced = await parseFeedInTurns(text);
    clearInterval(tick);
    assert.ok(turns >= 2, `timers ran ${turns} time(s) while parsing`);
    assert.deepEqual({ ...sliced, urls: [...sliced.urls].sort(), domains: [...sliced.domains].sort() }, parseFeed(text));
    assert.equal(sliced.urls.length + sliced.domains.length, 40_000);
  });
});

describe('Google Safe Browsing v4 Lookup client against a local threatMatches:find server', () => {
  let sb: TestServer;
  let broken: TestServer;
  const listed = 'http://malware.testing.google.test/testing/malware/';
  before(async () => {
    // Implements the documented request and reply shapes of POST /v4/threatMatches:find?key=…
    sb = await startHttpServer((req, body, res) => {
      if (req.method !== 'POST' || !req.url?.startsWith('/v4/threatMatches:find?key=test-key'))
        return json(res, 403, { error: { code: 403, message: 'bad key or path' } });
      const r = JSON.parse(body) as {
        client: { clientId: string };
        threatInfo: { threatTypes: string[]; platformTypes: string[]; threatEntryTypes: string[]; threatEntries: Array<{ url: string }> };
      };
      if (!r.client?.clientId || !r.threatInfo?.threatTypes?.includes('SOCIAL_ENGINEERING') || r.threatInfo.threatEntryTypes[0] !== 'URL')
        return json(res, 400, { error: { code: 400 } });
      const matches = r.threatInfo.threatEntries
        .filter((e) => e.url === listed)
        .map((e) => ({
          threatType: 'SOCIAL_ENGINEERING',
          platformType: 'ANY_PLATFORM',
          threatEntryType: 'URL',
          threat: { url: e.url },
          cacheDuration: '300s',
        }));
      json(res, 200, matches.length ? { matches } : {});
    });
    broken = await startHttpServer((_req, _b, res) => json(res, 500, { error: 'backend' }));
  });
  after(async () => {
    await Promise.all([sb.close(), broken.close()]);
  });

  const sbConfig = (url: string) => buildConfig({ reputation: { safe_browsing_url: url, timeout_ms: 500 } }, { env: {} }).reputation;

  it('flags a listed URL, passes a clean one, and caches both answers', async () => {
    const client = new SafeBrowsing(sbConfig(`${sb.url}v4/threatMatches:find`), 'test-key');
    try {
      const urls = await urlsOf(`<a href="${listed}">x</a><a href="https://clean.example/">y</a>`);
      const first = await client.check(urls, 1000);
      assert.deepEqual(
        first.map((s) => s.code),
        ['URL_SAFE_BROWSING'],
      );
      assert.match(first[0].detail, /SOCIAL_ENGINEERING/);
      const before = sb.requests.length;
      const second = await client.check(urls, 1000);
      assert.equal(sb.requests.length, before, 'second lookup was not served from the cache');
      assert.match(second[0].detail, /cached/);
    } finally {
      await client.close();
    }
  });

  it('reads a match list of any shape: odd entries skipped, a threat type that is not text named THREAT, a listing cached for a day at most', async () => {
    const odd = await startHttpServer((_req, _b, res) =>
      json(res, 200, {
        matches: [null, 5, 'x', { threat: null }, { threat: { url: 7 } }, { threat: { url: listed }, threatType: { evil: true }, cacheDuration: '1e308s' }],
      }),
    );
    let now = 1_000_000;
    const client = new SafeBrowsing(sbConfig(`${odd.url}v4/threatMatches:find`), 'test-key', () => now);
    try {
      const urls = await urlsOf(`<a href="${listed}">x</a>`);
      const first = await client.check(urls, 1000);
      assert.deepEqual(
        first.map((x) => [x.code, x.detail]),
        [['URL_SAFE_BROWSING', `${listed} (THREAT)`]],
      );
      now += 86_400_000 - 1;
      assert.match((await client.check(urls, 1000))[0].detail, /cached/);
      assert.equal(odd.requests.length, 1);
      now += 2;
      assert.doesNotMatch((await client.check(urls, 1000))[0].detail, /cached/, 'a cacheDuration of 1e308 s kept it for good');
      assert.equal(odd.requests.length, 2);
    } finally {
      await client.close();
      await odd.close();
    }
  });

  it('reads at most 4 MiB of a reply, and a reply that is not JSON is a typed error', async () => {
    const endless = await startHttpServer((_req, _b, res) => jsonWithoutEnd(res));
    const notJson = await startHttpServer((_req, _b, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html>quota</html>');
    });
    const config = (url: string) =>
      buildConfig({ reputation: { safe_browsing_url: `${url}v4/threatMatches:find`, timeout_ms: 20_000 } }, { env: {} }).reputation;
    const clients = [new SafeBrowsing(config(endless.url), 'test-key'), new SafeBrowsing(config(notJson.url), 'test-key')];
    try {
      for (const [c, why] of [
        [clients[0], /safe browsing: reply longer than 4194304 bytes/],
        [clients[1], /safe browsing: reply is not JSON/],
      ] as const)
        await assert.rejects(c.check(await urlsOf('<a href="https://clean.example/">x</a>'), 20_000), (err: unknown) => {
          assert.ok(err instanceof PhishXError && err.code === 'PHISHX_REPUTATION_BAD_RESPONSE', String(err));
          assert.match(err.message, why);
          return true;
        });
    } finally {
      await Promise.all([...clients.map((c) => c.close()), endless.close(), notJson.close()]);
    }
  });

  it('a failing Safe Browsing is recorded as REPUTATION_UNAVAILABLE and the scan goes on', async () => {
    const client = new SafeBrowsing(sbConfig(`${broken.url}v4/threatMatches:find`), 'test-key');
    try {
      const r = await scanMessage(mail('https://clean.example/'), env, config, undefined, { reputation: [client] });
      assert.deepEqual(
        r.verdict.reasons.map((x) => x.code),
        ['REPUTATION_UNAVAILABLE'],
      );
      assert.equal(r.verdict.action, 'allow');
    } finally {
      await client.close();
    }
  });
});
