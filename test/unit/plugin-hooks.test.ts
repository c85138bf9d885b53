import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import constants from 'haraka-constants';
import { callHook, makeConnection, makePlugin, type FixtureConnection, type FixturePlugin } from 'haraka-test-fixtures';
import { cleanMessage, phishMessage, quarantineMessage } from '../helpers/messages.js';
import { toCrlf } from '../helpers/smtp.js';
import { breakerEvents } from '../../lib/resilience/breaker.js';
import { verdictEvents } from '../../lib/events.js';
import { admissionSlots, type ScanPool } from '../../lib/scan-pool.js';
import { clientNetwork } from '../../lib/ip-address.js';
import { eventually } from '../helpers/eventually.js';

// The phishx plugin's hooks in-process, with haraka-test-fixtures' Haraka analogs (plugin
// loading as Haraka does it, connections, transactions, the message stream) — beside the
// end-to-end tests, which run the same plugin in real Haraka processes over SMTP.

const dir = mkdtempSync(path.join(tmpdir(), 'phishx-hooks-'));
const spool = path.join(dir, 'quarantine');
const previousHaraka = process.env.HARAKA;

/** A connection whose transaction carries `raw`, as Haraka's DATA phase leaves it. */
async function withMessage(raw: string | Buffer, opts: { relaying?: boolean; ip?: string } = {}): Promise<FixtureConnection> {
  const conn = makeConnection({
    ip: opts.ip ?? '192.0.2.7',
    mailFrom: 'sender@example.com',
    rcptTo: ['bob@example.org'],
    silent: true,
    ...(opts.relaying ? { relaying: true } : {}),
  });
  const txn = conn.transaction!;
  const text = Buffer.isBuffer(raw) ? raw.toString('latin1') : toCrlf(raw).toString('latin1');
  for (const line of text.split(/(?<=\n)/)) txn.add_data(Buffer.from(line, 'latin1'));
  await new Promise<void>((resolve) => txn.end_data(resolve));
  return conn;
}

describe('phishx plugin hooks (haraka-test-fixtures)', () => {
  let plugin: FixturePlugin;
  const logs: string[] = [];

  before(() => {
    mkdirSync(path.join(dir, 'config'), { recursive: true });
    writeFileSync(path.join(dir, 'config', 'phishx.ini'), `[quarantine]\nspool_dir=${spool}\n[nlp]\nenabled=false\n`);
    // Haraka's site directory: where the plugin's config overrides and phishx.ini come from.
    process.env.HARAKA = dir;
    plugin = makePlugin('phishx');
    assert.equal(typeof plugin.phishx_data_post, 'function', 'the plugin loaded from plugins/phishx/package.json');
    // Keep the plugin's log lines (the fixtures' logger would print whole connection objects).
    for (const level of ['logdebug', 'loginfo', 'lognotice', 'logwarn', 'logerror', 'logcrit']) {
      plugin[level] = (...args: unknown[]) => void logs.push(`${level} ${args.filter((a) => typeof a === 'string').join(' ')}`);
    }
  });

  after(() => {
    (plugin.shutdown as () => void).call(plugin);
    if (previousHaraka === undefined) delete process.env.HARAKA;
    else process.env.HARAKA = previousHaraka;
    rmSync(dir, { recursive: true, force: true });
  });

  it('data_post rejects a phishing message with 550 5.7.1 and the scan id', async () => {
    const conn = await withMessage(phishMessage());
    const { rc, msg } = await callHook(plugin, 'phishx_data_post', conn);
    assert.equal(rc, constants.deny);
    const m = msg as { code: number; msg: string };
    assert.equal(m.code, 550);
    assert.match(String(m.msg), /rejected as phishing \(PhishX id [0-9a-f]{16}\)/);
  });

  it('data_post accepts clean mail, adds the X-PhishX-* headers on top and records its result', async () => {
    const conn = await withMessage(cleanMessage());
    const { rc } = await callHook(plugin, 'phishx_data_post', conn);
    assert.equal(rc, undefined);
    const txn = conn.transaction!;
    assert.equal(txn.header.get('X-PhishX-Verdict').trim(), 'allow');
    assert.match(txn.header.get('X-PhishX-Id').trim(), /^[0-9a-f]{16}$/);
    assert.equal(txn.results.get('phishx')?.action, 'allow');
    // The queue hook passes it on to the delivery plugin.
    assert.equal((await callHook(plugin, 'phishx_queue', conn)).rc, undefined);
  });

  it('a held message is accepted at data_post and kept by the queue hook: 250 "held for review", the bytes in the spool', async () => {
    const conn = await withMessage(quarantineMessage());
    assert.equal((await callHook(plugin, 'phishx_data_post', conn)).rc, undefined);
    const { rc, msg } = await callHook(plugin, 'phishx_queue', conn);
    assert.equal(rc, constants.ok);
    assert.match(String(msg), /held for review \(PhishX id [0-9a-f]{16}\)/);
    const id = /PhishX id ([0-9a-f]{16})/.exec(String(msg))![1];
    const held = readdirSync(path.join(spool, 'held')).filter((f) => f.startsWith(id) && f.endsWith('.eml'));
    assert.equal(held.length, 1, readdirSync(path.join(spool, 'held')).join());
    assert.match(readFileSync(path.join(spool, 'held', held[0]), 'latin1'), /X-PhishX-Verdict: quarantine/);
  });

  it('strips X-PhishX-* headers a sender forged before adding its own', async () => {
    const conn = await withMessage(cleanMessage({ extraHeaders: ['X-PhishX-Verdict: allow', 'X-PhishX-Score: 0'] }));
    await callHook(plugin, 'phishx_data_post', conn);
    assert.deepEqual(
      conn.transaction!.header.get_all('X-PhishX-Verdict').map((v) => v.trim()),
      ['allow'],
    );
    assert.equal(conn.transaction!.header.get_all('X-PhishX-Score').length, 1);
  });

  it('answers exactly once and accepts (never drops, never hangs) when reading the message fails', async () => {
    const conn = await withMessage(cleanMessage());
    conn.transaction!.message_stream.pipe = () => {
      throw new Error('stream broken');
    };
    let calls = 0;
    const answered = new Promise<unknown>((resolve) => {
      (plugin.phishx_data_post as (this: FixturePlugin, next: (rc?: unknown) => void, c: FixtureConnection) => void).call(
        plugin,
        (rc) => {
          calls++;
          resolve(rc);
        },
        conn,
      );
    });
    assert.equal(await answered, undefined, 'accepted unscanned: the message is not lost');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(calls, 1);
    assert.equal(conn.transaction!.header.get('X-PhishX-Verdict').trim(), 'unscanned');
    assert.ok(
      logs.some((l) => l.startsWith('logerror') && l.includes('stream broken')),
      logs.slice(-3).join('\n'),
    );
  });

  it('data holds a new message back while the scan queue is full, goes on once a place frees; relayed sessions and other networks never wait', async () => {
    // The queue is empty: DATA goes on at once (and the scan threads start).
    assert.equal((await callHook(plugin, 'phishx_data', await withMessage(cleanMessage()))).rc, undefined);
    const pool = (plugin.phishx as { pool: { pool: ScanPool } }).pool.pool;
    const places = await Promise.all(Array.from({ length: admissionSlots(pool.threads) }, () => pool.admit(1000)));
    // [main] max_queued_messages = 8, all from the test connections' network (192.0.2.0/24).
    const queued = Array.from({ length: 8 }, () => pool.admit(60_000, clientNetwork('192.0.2.7')));
    try {
      await eventually(() => assert.equal(pool.waitingToScan(), 8));
      assert.equal((await callHook(plugin, 'phishx_data', await withMessage(cleanMessage(), { relaying: true }))).rc, undefined);
      // A network with nothing waiting is not held back by another's queue.
      assert.equal((await callHook(plugin, 'phishx_data', await withMessage(cleanMessage(), { ip: '198.51.100.9' }))).rc, undefined);
      let answered = false;
      const held = callHook(plugin, 'phishx_data', await withMessage(cleanMessage())).then((r) => ((answered = true), r));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(answered, false, 'DATA went on while eight received messages waited for a scan thread');
      places[0]();
      assert.equal((await held).rc, undefined);
    } finally {
      for (const release of places) release(); // idempotent
      await Promise.all(queued.map((q) => q.then((release) => release()))); // each gives its place to the next
    }
  });

  it('leaves relayed (authenticated) mail untouched', async () => {
    const conn = await withMessage(phishMessage(), { relaying: true });
    const { rc } = await callHook(plugin, 'phishx_data_post', conn);
    assert.equal(rc, undefined);
    assert.equal(conn.transaction!.header.get('X-PhishX-Verdict'), '');
  });

  it('does not answer for a transaction that ended while the scan ran (client gone)', async () => {
    const conn = await withMessage(phishMessage());
    const p = callHook(plugin, 'phishx_data_post', conn);
    conn.transaction = null;
    const { rc } = await p;
    assert.equal(rc, undefined, 'no 550 written to a connection that has no transaction');
  });

  it('shutdown stops the store upkeep timers and undoes every subscription (a plugin reload does not double them)', async () => {
    // The store (and its upkeep) exists once a message was held above.
    const state = plugin.phishx as { maintenance: unknown; disposers: unknown[] };
    assert.ok(state.maintenance, 'store upkeep started');
    const breakers = breakerEvents.listenerCount('state');
    const verdicts = verdictEvents.listenerCount('verdict');
    (plugin.shutdown as () => void).call(plugin);
    assert.equal(breakerEvents.listenerCount('state'), breakers - 1);
    // The plugin writes security events itself, before answering: it holds no verdict listener.
    assert.equal(verdictEvents.listenerCount('verdict'), verdicts);
    assert.equal(state.disposers.length, 0);
  });
});
