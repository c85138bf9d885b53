import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_FEED_FILE_BYTES } from '../../lib/reputation/feed-dir.js';
import { RedisStore } from '../../lib/store/redis.js';
import { REPO, startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';
import { sendRaw } from '../helpers/smtp.js';
import { sampleSum } from '../helpers/metrics.js';
import { fetchFresh } from '../helpers/api.js';
import { eventually } from '../helpers/eventually.js';

const env = { from: 'alice@example.com', to: ['bob@example.org'] };
const mail = (href: string): string =>
  `From: Alice <alice@example.com>\nTo: bob@example.org\nSubject: lunch menu\nContent-Type: text/html\n\n<p>The menu: <a href="${href}">here</a></p>\n`;

function phishx(args: string[], extraEnv: NodeJS.ProcessEnv): { code: number; out: string; err: string } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PHISHX_')));
  const r = spawnSync(process.execPath, [path.join(REPO, 'lib', 'cli', 'phishx.cjs'), ...args], {
    cwd: REPO,
    env: { ...clean, ...extraEnv },
    encoding: 'utf8',
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('blocklist feeds through real Haraka (in-memory store, feed_dir)', () => {
  let h: HarakaInstance;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-feeds-'));
    await writeFile(path.join(dir, 'feed.txt'), 'https://menu-evil.example.net/lunch\n');
    const r = phishx(['feeds', 'import', '--name', 'openphish', path.join(dir, 'feed.txt')], { PHISHX_REPUTATION_FEED_DIR: path.join(dir, 'feeds') });
    assert.equal(r.code, 0, r.err);
    // PhishTank's CSV export as downloaded: a header, a URL with a comma quoted.
    await writeFile(
      path.join(dir, 'online-valid.csv'),
      'phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target\n' +
        '8482391,"https://pay-evil.example.org/a,b",https://www.phishtank.com/phish_detail.php?phish_id=8482391,2024-08-01T12:00:00+00:00,yes,2024-08-01T12:05:00+00:00,yes,PayPal\n',
    );
    const p = phishx(['feeds', 'import', '--name', 'phishtank', path.join(dir, 'online-valid.csv')], { PHISHX_REPUTATION_FEED_DIR: path.join(dir, 'feeds') });
    assert.equal(p.code, 0, p.err);
    assert.match(p.out, /feed "phishtank" \(CSV, column "url"\): 1 URLs, 0 domains/);
    // ThreatFox's CSV export: its entries are under "ioc_value", which only --column names.
    await writeFile(
      path.join(dir, 'full.csv'),
      '# ThreatFox IOCs: CSV export\n#\n# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware"\n' +
        '"2024-08-01 12:00:00", "1300001", "http://gate-evil.example.com/panel/gate.php", "url", "botnet_cc", "win.x"\n' +
        '"2024-08-01 12:02:00", "1300003", "198.51.100.9:443", "ip:port", "botnet_cc", "win.x"\n',
    );
    const feedEnv = { PHISHX_REPUTATION_FEED_DIR: path.join(dir, 'feeds') };
    const guessed = phishx(['feeds', 'import', '--name', 'threatfox', path.join(dir, 'full.csv')], feedEnv);
    assert.equal(guessed.code, 1, guessed.out);
    assert.match(guessed.err, /full\.csv: no URL or domain found .*for another column name: --column NAME; feed "threatfox" left as it was/);
    const absent = phishx(['feeds', 'import', '--name', 'threatfox', '--column', 'link', path.join(dir, 'full.csv')], feedEnv);
    assert.equal(absent.code, 1, absent.out);
    assert.match(absent.err, /full\.csv: no header names a column "link" .*feed "threatfox" left as it was/);
    const bad = phishx(['feeds', 'import', '--column', 'a,b', path.join(dir, 'full.csv')], feedEnv);
    assert.equal(bad.code, 2, bad.out);
    assert.match(bad.err, /--column: "a,b" is not a column name/);
    const t = phishx(['feeds', 'import', '--name', 'threatfox', '--column', 'ioc_value', path.join(dir, 'full.csv')], feedEnv);
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /feed "threatfox" \(CSV, column "ioc_value"\): 1 URLs, 0 domains, 1 entries skipped/);
    // A feed file too large to hold in memory beside it (sparse: only its size counts).
    await writeFile(path.join(dir, 'feeds', 'everything.txt'), '');
    await truncate(path.join(dir, 'feeds', 'everything.txt'), MAX_FEED_FILE_BYTES + 1);
    h = await startHaraka({ env: { PHISHX_REPUTATION_FEED_DIR: path.join(dir, 'feeds') } });
  });
  after(async () => {
    await h?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects mail linking to a URL imported with phishx feeds import', async () => {
    const a = await sendRaw(h.port, mail('https://menu-evil.example.net/lunch'), env);
    assert.equal(a.code, 550, a.response);
    assert.match(h.logs(), /URL_FEED_MATCH\(80\)/);
  });

  it('rejects it behind link padding too: 50 or 300 tracking pixels before the listed link', async () => {
    for (const n of [50, 300]) {
      const pixels = Array.from({ length: n }, (_, k) => `<img src="https://px.example.com/t/${k}.gif" width="1" height="1">`).join('');
      const a = await sendRaw(h.port, mail('https://menu-evil.example.net/lunch').replace('<p>The menu:', `${pixels}<p>The menu:`), env);
      assert.equal(a.code, 550, `${n} pixels: ${a.response}`);
    }
  });

  it("rejects mail linking to a URL of PhishTank's CSV export", async () => {
    const a = await sendRaw(h.port, mail('https://pay-evil.example.org/a,b'), env);
    assert.equal(a.code, 550, a.response);
  });

  it("rejects mail linking to a URL of ThreatFox's export, imported with --column ioc_value", async () => {
    const a = await sendRaw(h.port, mail('http://gate-evil.example.com/panel/gate.php'), env);
    assert.equal(a.code, 550, a.response);
  });

  it('refuses an export in which it finds no URL, and keeps the feed it would have replaced', async () => {
    const feed = path.join(dir, 'feeds', 'phishtank.txt');
    const before = await readFile(feed, 'utf8');
    await writeFile(path.join(dir, 'export.csv'), '"3164857","2024-08-01 12:00:00","online"\n"3164858","2024-08-01 12:01:00","offline"\n');
    const r = phishx(['feeds', 'import', '--name', 'phishtank', path.join(dir, 'export.csv')], { PHISHX_REPUTATION_FEED_DIR: path.join(dir, 'feeds') });
    assert.equal(r.code, 1, r.out);
    assert.match(r.err, /export\.csv: no URL or domain found \(read as one entry per line, 2 entries not a URL or domain\).*feed "phishtank" left as it was/);
    assert.equal(await readFile(feed, 'utf8'), before);
    assert.equal((await sendRaw(h.port, mail('https://pay-evil.example.org/a,b'), env)).code, 550);
  });

  it('exports when each feed was imported (the feed file written by the import), for alerting on a stale feed', async () => {
    const written = Math.round((await stat(path.join(dir, 'feeds', 'openphish.txt'))).mtimeMs / 1000);
    const text = await (await fetchFresh(`http://127.0.0.1:${h.sidecarPort}/metrics`)).text();
    assert.equal(sampleSum(text, 'phishx_reputation_feed_updated_timestamp_seconds', { feed: 'openphish' }), written);
    assert.equal(sampleSum(text, 'phishx_reputation_feed_entries', { feed: 'phishtank', kind: 'url' }), 1);
    const list = phishx(['feeds', 'list'], { PHISHX_REPUTATION_FEED_DIR: path.join(dir, 'feeds') });
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^openphish\t1 URLs\t0 domains\tupdated \d{4}-\d\d-\d\dT\d\d:\d\dZ \(\d+ (s|min) ago\)$/m);
  });

  it('takes a feed imported while Haraka runs within seconds (feed_dir is looked at every 10 s)', async () => {
    const href = 'https://late-evil.example.net/signin';
    assert.notEqual((await sendRaw(h.port, mail(href), env)).code, 550);
    await writeFile(path.join(dir, 'late.txt'), `${href}\n`);
    const r = phishx(['feeds', 'import', path.join(dir, 'late.txt')], { PHISHX_REPUTATION_FEED_DIR: path.join(dir, 'feeds') });
    assert.equal(r.code, 0, r.err);
    // Within one look at the folder (10 s) and a loaded machine's margin; it was once a minute.
    await eventually(async () => assert.equal((await sendRaw(h.port, mail(href), env)).code, 550), { timeoutMs: 25_000, intervalMs: 1000 });
  });

  it('accepts the same mail with an unlisted link', async () => {
    assert.equal((await sendRaw(h.port, mail('https://menu.example.com/lunch'), env)).code, 250);
  });

  it('skips a feed file too large to hold in memory with a logged error, and keeps the others', async () => {
    assert.equal((await sendRaw(h.port, mail('https://menu-evil.example.net/lunch'), env)).code, 550);
    assert.match(h.logs(), /phishx: feed not loaded: feed \S*everything\.txt is 32\.0 MiB, over the 32 MiB a feed may take without Redis/);
  });

  it('refuses to import a feed Haraka would not load, naming the limit and Redis, and writes nothing', async () => {
    const feeds = path.join(dir, 'refused');
    const big = path.join(dir, 'big-feed.txt');
    // ~34 MiB of distinct URLs: canonical, still over the limit.
    const lines = Array.from({ length: 150_000 }, (_, i) => `https://host${i}.phish.example/${'a'.repeat(200)}/${i}`);
    await writeFile(big, `${lines.join('\n')}\n`);
    const r = phishx(['feeds', 'import', big], { PHISHX_REPUTATION_FEED_DIR: feeds });
    assert.equal(r.code, 1, r.out);
    assert.match(r.err, /big-feed\.txt: feed \S*big-feed\.txt is 3\d\.\d MiB, over the 32 MiB .* import it into Redis/);
    assert.deepEqual(await readdir(feeds).catch(() => []), []);
  });
});

describe('blocklist feeds in Redis, imported while Haraka runs', () => {
  let redis: TestRedis | { skip: string };
  let h: HarakaInstance | undefined;
  let dir: string;
  const prefix = `phishx-e2e-feeds:${randomBytes(4).toString('hex')}:`;
  before(async () => {
    redis = await testRedis();
    dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-feeds-'));
    if ('skip' in redis) return;
    h = await startHaraka({ env: { PHISHX_REDIS_URL: redis.url, PHISHX_REDIS_KEY_PREFIX: prefix } });
  });
  after(async () => {
    await h?.stop();
    if (redis && !('skip' in redis)) {
      const s = new RedisStore({ url: redis.url, keyPrefix: prefix });
      await s.ping(); // waits for the connection (the offline queue is off)
      const keys = await s.client.keys(`${prefix}*`);
      if (keys.length) await s.client.del(...keys);
      await s.close();
      await redis.stop();
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('takes effect at once: a listed domain (weight 60) quarantines the message', async (t) => {
    if ('skip' in redis) return t.skip(redis.skip);
    assert.doesNotMatch((await sendRaw(h!.port, mail('https://cdn.bad-menus.example/x'), env)).response, /held for review/);
    await writeFile(path.join(dir, 'urlhaus.txt'), '# URLhaus domains\nbad-menus.example\n');
    const r = phishx(['feeds', 'import', path.join(dir, 'urlhaus.txt')], { PHISHX_REDIS_URL: redis.url, PHISHX_REDIS_KEY_PREFIX: prefix });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /feed "urlhaus" \(one entry per line\): 0 URLs, 1 domains ─► Redis/);
    const a = await sendRaw(h!.port, mail('https://cdn.bad-menus.example/x'), env);
    assert.equal(a.code, 250, a.response);
    assert.match(a.response, /held for review/);
    assert.match(h!.logs(), /DOMAIN_FEED_MATCH\(60\)/);
  });
});
