import path from 'node:path';
import { loadConfigFromDir } from '../../config/load.js';
import { UsageError } from '../../errors.js';
import { feedName, feedTooLarge, parseFeed } from '../../reputation/feed-dir.js';
import { createReputation } from '../../reputation/index.js';
import { writeFileDurable } from '../../fs-durable.js';
import { createStore } from '../../store/index.js';
import { forEachFile, parse, type Command, type Out } from '../command.js';

/** phishx feeds: import and list URL / domain blocklists. */

const HELP = `Usage: phishx feeds import [options] FILE...
       phishx feeds list [--dir DIR]

import: read blocklist exports — one URL or domain per line with "#" comments (OpenPhish,
URLhaus's text exports), a CSV export whose header names a "url" (or "domain") column
(PhishTank's online-valid.csv, URLhaus's CSV), or a JSON list of URLs or of objects with a
"url" field (PhishTank's online-valid.json); the format is recognised from the text — and
store them as the feed NAME (default: the file name without extension). A re-import
replaces that feed; a file in which no URL or domain is found is refused (exit 1) and the
feed kept. An export whose column has another name is read with --column (ThreatFox's CSV:
--column ioc_value; its IP:port entries are skipped). With [redis] url (or
PHISHX_REDIS_URL) the feed goes into Redis, where every Haraka worker sees it at once;
without Redis it is written to [reputation] feed_dir as NAME.txt, which Haraka loads at
start and re-reads within 10 seconds of a change — up to 32 MiB a feed, since every Haraka
process holds it in memory (a larger one is refused: split it, or use Redis). Links matching a listed URL
add URL_FEED_MATCH, links on a listed domain (or a subdomain of it) DOMAIN_FEED_MATCH.

list: each feed's entries and when it was last imported (a feed nobody refreshes goes stale:
the sidecar exports phishx_reputation_feed_updated_timestamp_seconds to alert on).

Options:
  --name NAME    feed name (import with one FILE only)
  --column NAME  take the entries from the CSV column (or JSON field) NAME, named in the
                 export's header (its first line, or a "#" comment before the rows)
  --dir DIR      Haraka directory whose config/phishx.ini to use (default: .)
  -h, --help     show this help
`;

/** "updated 2026-12-05T14:02Z (3 h ago)", or why it is not known. */
function updated(at: number | null, now: number): string {
  if (at === null) return 'updated: not recorded (imported before PhishX kept it)';
  const ago = Math.max(0, now - at) / 1000;
  const age =
    ago < 90
      ? `${Math.round(ago)} s`
      : ago < 5400
        ? `${Math.round(ago / 60)} min`
        : ago < 172_800
          ? `${Math.round(ago / 3600)} h`
          : `${Math.round(ago / 86_400)} days`;
  return `updated ${new Date(at).toISOString().slice(0, 16)}Z (${age} ago)`;
}

/** A --column value: a header's name as written (compared in any case). */
function columnName(raw: string): string {
  const c = raw.trim();
  if (!c || c.length > 100 || /[\r\n,"]/.test(c))
    throw new UsageError(`feeds import: --column: ${JSON.stringify(raw)} is not a column name (1–100 characters, no comma, quote or line break)`);
  return c;
}

async function cmdFeeds(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { name: { type: 'string' }, column: { type: 'string' }, dir: { type: 'string' } }, 'feeds', HELP);
  if (values.help) return (io.out(HELP), 0);
  const [sub, ...files] = positionals;
  if (sub !== 'import' && sub !== 'list') throw new UsageError(`feeds: expected "import FILE..." or "list"\n\n${HELP}`);
  const config = loadConfigFromDir(path.resolve(String(values.dir ?? '.')));
  const store = createStore(config);
  try {
    if (sub === 'list') {
      if (store.kind !== 'redis') await createReputation(store, config, {}).then((r) => r.close());
      const feeds = await store.listFeeds();
      if (!feeds.length) io.out(`no feeds (${store.kind === 'redis' ? 'Redis' : config.reputation.feed_dir})\n`);
      const now = Date.now();
      for (const f of feeds) io.out(`${f.name}\t${f.urls} URLs\t${f.domains} domains\t${updated(f.updatedAt, now)}\n`);
      return 0;
    }
    if (!files.length) throw new UsageError(`feeds import: no FILE given\n\n${HELP}`);
    if (values.name !== undefined && files.length > 1) throw new UsageError('feeds import: --name takes one FILE');
    const column = values.column === undefined ? undefined : columnName(String(values.column));
    return await forEachFile('feeds import', files, io, async (file, raw) => {
      const name = typeof values.name === 'string' ? feedName(values.name) : feedName(file);
      const feed = parseFeed(raw.toString('utf8'), column === undefined ? undefined : [column]);
      // A re-import replaces the feed: an export read as nothing must not empty it.
      if (column !== undefined && feed.kind === 'lines') {
        io.err(
          `phishx feeds import: ${file}: no header names a column "${column}" (a CSV header as the first line or a "#" comment before the rows, ` +
            `or a JSON list of objects with that field); feed "${name}" left as it was\n`,
        );
        return false;
      }
      if (!feed.urls.length && !feed.domains.length) {
        const expected =
          column === undefined
            ? 'one URL or domain per line, a CSV export with a "url" column (PhishTank, URLhaus) or a JSON list (PhishTank); ' +
              'for another column name: --column NAME'
            : `URLs or domains in the "${column}" column`;
        io.err(
          `phishx feeds import: ${file}: no URL or domain found (read as ${feed.format}, ${feed.skipped} entries not a URL or domain); ` +
            `expected ${expected}; feed "${name}" left as it was\n`,
        );
        return false;
      }
      if (store.kind === 'redis') {
        await store.replaceFeed(name, feed);
      } else {
        const target = path.join(config.reputation.feed_dir, `${name}.txt`);
        const text = Buffer.from([...feed.urls, ...feed.domains].join('\n') + '\n');
        // Haraka would not load it (feedTooLarge): refused here, where the operator sees why.
        const big = feedTooLarge(target, text.length);
        if (big) {
          io.err(`phishx feeds import: ${file}: ${big.message}\n`);
          return false;
        }
        await writeFileDurable(target, text);
      }
      io.out(
        `${file}: feed "${name}" (${feed.format}): ${feed.urls.length} URLs, ${feed.domains.length} domains${feed.skipped ? `, ${feed.skipped} entries skipped (not a URL or domain)` : ''} ─► ${store.kind === 'redis' ? 'Redis' : path.join(config.reputation.feed_dir, `${name}.txt`)}\n`,
      );
      return true;
    });
  } finally {
    await store.close();
  }
}

export const command: Command = { name: 'feeds', help: HELP, run: cmdFeeds };
