import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { appendStats } from '../../lib/fs-durable.js';
import { buildConfig } from '../../lib/config/load.js';
import { addEvent, blockTargets, campaignKeys, openAlert, securityEventOf, setAlertStatus, subjectSkeleton } from '../../lib/soc/alerts.js';
import { foldEvent, foldPending, keyListsOf, windowsOf } from '../../lib/soc/fold.js';
import { FileStore } from '../../lib/store/file.js';
import { AlertTable } from '../../lib/store/local-alerts.js';
import { MemoryStore } from '../../lib/store/memory.js';
import type { SecurityEvent, SocAlert } from '../../lib/store/types.js';
import type { ScanResult } from '../../lib/scan.js';

const config = buildConfig({}, { env: {} });
const lists = keyListsOf(config);
const w = windowsOf(config);
const T0 = Date.now();

function ev(over: Partial<SecurityEvent> = {}): SecurityEvent {
  return {
    id: `e${Math.random().toString(36).slice(2, 8)}`,
    at: T0,
    action: 'quarantine',
    smtpCode: 250,
    score: 60,
    tenant: 'default',
    mailFrom: 'billing@invoices-evil.example',
    from: 'billing@invoices-evil.example',
    subject: 'Invoice 4471 overdue',
    urlHosts: ['pay.invoices-evil.example'],
    reasons: ['SENDER_BRAND_IMPERSONATION'],
    recipients: ['bob@example.org'],
    quarantineId: 'q1',
    ...over,
  };
}

describe('SOC alerts: grouping (pure)', () => {
  it('makes a security event of rejected and held messages only', () => {
    const result = {
      id: 'x',
      verdict: {
        action: 'reject',
        wouldAction: 'reject',
        score: 90,
        mode: 'enforce',
        tenant: 'default',
        reasons: [
          { code: 'URL_IP_HOST', weight: 30, detail: '' },
          { code: 'SKIP_X', weight: 0, detail: '' },
        ],
      },
      summary: { subject: 's', from: 'a@b.example', urlHosts: ['1.2.3.4'] },
    } as unknown as ScanResult;
    const envelope = { mailFrom: 'a@b.example', rcptTo: ['c@d.example'] };
    const rejected = securityEventOf({ result, envelope, smtpCode: 550, at: new Date(T0) });
    assert.deepEqual(rejected?.reasons, ['URL_IP_HOST']);
    assert.equal(rejected?.action, 'reject');
    assert.equal(securityEventOf({ result: { ...result, verdict: { ...result.verdict, action: 'allow' } }, envelope, smtpCode: 250, at: new Date(T0) }), null);
    assert.equal(
      securityEventOf({ result: { ...result, verdict: { ...result.verdict, action: 'quarantine' } }, envelope, smtpCode: 451, at: new Date(T0) }),
      null,
      'not held: no alert',
    );
  });

  it('keys a campaign by sender domain, first uncommon link host and subject skeleton', () => {
    assert.deepEqual(campaignKeys(ev(), lists), ['d:invoices-evil.example', 'u:pay.invoices-evil.example', 's:invoice # overdue']);
    assert.deepEqual(
      campaignKeys(ev({ from: 'x@gmail.com', mailFrom: 'x@gmail.com', urlHosts: ['bit.ly', 'evil.top'], subject: 'Hi' }), lists),
      ['u:evil.top'],
      'freemail, shorteners and short subjects are not keys',
    );
    assert.equal(subjectSkeleton('RE: Fwd: Your invoice #4471 of 12/01 (ref 9f3a2b1c0d)'), 'your invoice # of #/# ref #');
  });

  it('counts events into one alert and moves it through acknowledge and resolve', () => {
    const a = openAlert('a1', ev(), campaignKeys(ev(), lists), w);
    assert.equal(a.version, 1);
    const b = addEvent(a, ev({ action: 'reject', score: 85, at: T0 + 1000, quarantineId: undefined, subject: 'Invoice 4480 overdue' }), [], w);
    assert.equal(b.count, 2);
    assert.deepEqual(b.actions, { reject: 1, quarantine: 1 });
    assert.equal(b.maxScore, 85);
    assert.deepEqual(b.quarantineIds, ['q1']);
    assert.equal(b.keyUntil, T0 + 1000 + w.windowMs);
    const acked = setAlertStatus(b, 'acknowledged', 'token:a', T0 + 2000, w.historyMs);
    assert.ok(acked.ok && acked.alert.status === 'acknowledged' && acked.alert.history[0].action === 'acknowledge');
    assert.ok(!setAlertStatus(acked.alert, 'acknowledged', 'token:a', T0, w.historyMs).ok);
    const resolved = setAlertStatus(acked.alert, 'resolved', 'token:a', T0 + 3000, w.historyMs);
    assert.ok(resolved.ok && resolved.alert.status === 'resolved');
    assert.ok(!setAlertStatus(resolved.alert, 'acknowledged', 'token:a', T0, w.historyMs).ok);
    assert.deepEqual(blockTargets(b, lists), ['invoices-evil.example', 'pay.invoices-evil.example']);
  });
});

describe('SOC alerts: folding the event log', () => {
  it('groups a campaign that changes sender but keeps its link host, keeps others apart, and opens a new alert after resolve', async () => {
    const store = new MemoryStore();
    try {
      const one = await foldEvent(store, ev(), lists, w);
      const two = await foldEvent(store, ev({ from: 'x@rotated-sender.example', mailFrom: 'x@rotated-sender.example', subject: 'Payment failed' }), lists, w);
      const three = await foldEvent(
        store,
        ev({ from: 'y@third.example', mailFrom: 'y@third.example', urlHosts: ['other.example'], subject: 'Payment failed' }),
        lists,
        w,
      );
      assert.equal(two, one, 'same link host');
      assert.equal(three, one, 'same subject skeleton as the second');
      const other = await foldEvent(
        store,
        ev({ from: 'z@unrelated.example', mailFrom: 'z@unrelated.example', urlHosts: ['unrelated.example'], subject: 'Quarterly report' }),
        lists,
        w,
      );
      assert.notEqual(other, one);
      assert.equal((await store.getAlert(one))?.count, 3);
      const alert = (await store.getAlert(one))!;
      const r = setAlertStatus(alert, 'resolved', 't', T0, w.historyMs);
      assert.ok(r.ok && (await store.putAlert(r.alert)));
      const after = await foldEvent(store, ev(), lists, w);
      assert.notEqual(after, one, 'a resolved alert takes no new messages');
    } finally {
      await store.close();
    }
  });

  it('on disk: a batch writes each alert once and its activity in a few appends, durable before the events are acknowledged', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-fold-'));
    const store = new FileStore(dir, { maxEntries: 1000, maxBytes: 1 << 30 });
    try {
      for (let i = 0; i < 20; i++) await store.appendEvent(ev({ at: T0 + i }));
      const appends = appendStats.batches;
      assert.equal(await foldPending(store, config, 'c'), 20);
      assert.ok(appendStats.batches - appends <= 2, `20 activity lines in ${appendStats.batches - appends} appends`);
      const files = (await readdir(path.join(dir, 'alerts'))).filter((f) => f.endsWith('.json'));
      assert.equal(files.length, 1, 'one alert file, no temp files left');
      // What a restarted sidecar reads: the alert with all 20, as foldPending returned.
      const again = new FileStore(dir, { maxEntries: 1000, maxBytes: 1 << 30 });
      try {
        const { items } = await again.listAlerts();
        assert.deepEqual(
          items.map((a) => a.count),
          [20],
        );
      } finally {
        await again.close();
      }
      assert.equal(await foldPending(store, config, 'c'), 0, 'acknowledged');
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a failed alert write is reported, its events are not folded twice, and the next batch writes the alert', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-fold-'));
    const store = new FileStore(dir, { maxEntries: 1000, maxBytes: 1 << 30 });
    try {
      await store.appendEvent(ev({ at: T0 }));
      await foldPending(store, config, 'c');
      // The alerts directory becomes unwritable (a file where it was): the next write fails.
      await rm(path.join(dir, 'alerts'), { recursive: true });
      await writeFile(path.join(dir, 'alerts'), 'not a directory');
      for (let i = 1; i < 4; i++) await store.appendEvent(ev({ at: T0 + i }));
      await assert.rejects(foldPending(store, config, 'c'), /ENOTDIR|EEXIST|not a directory/);
      // The next tick finds only the activity lines that batch logged (the three scan events were
      // acknowledged, not folded again) and retries the write, which fails again while the disk does.
      await assert.rejects(foldPending(store, config, 'c'), /ENOTDIR|EEXIST|not a directory/);
      await rm(path.join(dir, 'alerts'));
      await store.appendEvent(ev({ at: T0 + 4 }));
      assert.equal(await foldPending(store, config, 'c'), 1);
      const again = new FileStore(dir, { maxEntries: 1000, maxBytes: 1 << 30 });
      try {
        assert.deepEqual(
          (await again.listAlerts()).items.map((a) => a.count),
          [5],
          'the alert on disk counts every event once',
        );
      } finally {
        await again.close();
      }
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('on disk, a change and a deferred change of one alert at once: one wins the compare-and-set, the file ends at the newest version', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-alerts-'));
    try {
      const table = new AlertTable(dir);
      const e = ev();
      const v1 = openAlert('a1', e, campaignKeys(e, lists), w);
      assert.ok(await table.put(v1));
      // A SOC action (written at once) and the folder (deferred) both build version 2 from version 1.
      const action = { ...v1, version: 2, status: 'acknowledged' as const };
      const folded = addEvent(v1, ev({ at: T0 + 1 }), campaignKeys(e, lists), w);
      const [a, b] = await Promise.all([table.put(action), table.put(folded, true)]);
      assert.deepEqual([a, b], [true, false], 'the second compare-and-set fails (it retries from version 2), it does not overwrite');
      const retried = addEvent((await table.get('a1'))!, ev({ at: T0 + 1 }), campaignKeys(e, lists), w);
      assert.ok(await table.put(retried, true));
      // A deferred write and an immediate one racing with the flush: the file ends at the newest.
      const third = { ...retried, version: 4, status: 'open' as const };
      await Promise.all([table.flush(), table.put(third)]);
      await table.flush();
      const onDisk = JSON.parse(await readFile(path.join(dir, 'a1.json'), 'utf8')) as SocAlert;
      assert.equal(onDisk.version, 4);
      assert.equal(onDisk.count, 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('folds what the log holds and acknowledges it, once', async () => {
    const store = new MemoryStore();
    try {
      for (let i = 0; i < 5; i++) await store.appendEvent(ev({ at: T0 + i }));
      assert.equal(await foldPending(store, config, 'c'), 5);
      assert.equal(await foldPending(store, config, 'c'), 0);
      const { items } = await store.listAlerts();
      assert.equal(items.length, 1);
      assert.equal(items[0].count, 5);
    } finally {
      await store.close();
    }
  });
});
