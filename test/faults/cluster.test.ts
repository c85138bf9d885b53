import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { createStore } from '../../lib/store/index.js';
import { redisKey } from '../../lib/store/redis.js';
import type { PublicEvent, Store } from '../../lib/store/types.js';
import { newSecret } from '../../lib/webhooks/signing.js';
import { api } from '../helpers/api.js';
import { eventually } from '../helpers/eventually.js';
import { clamdFaultServer, type FaultServer } from '../helpers/fault-servers.js';
import { pendingSpoolFiles, startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { startHttpServer, type TestServer } from '../helpers/http-server.js';
import { FailoverLoad, HOLD_ENV } from '../helpers/load.js';
import { phishMessage, quarantineMessage } from '../helpers/messages.js';
import { clusterMasterOf, running, startRedisCluster, type TestRedisCluster } from '../helpers/redis.js';
import { idFrom, sendRaw } from '../helpers/smtp.js';

// Three PhishX nodes (separate Haraka processes) on one Redis Cluster of three masters with a
// replica each, all started here from Debian's redis-server. What one node holds, another
// lists and releases; an operational alert all three see is notified once; each webhook event
// is delivered once. Then the master serving the quarantine is killed under SMTP load: every
// answer within the scan budget + 1 s, every accepted message delivered or held afterwards,
// every held message's webhook event delivered.

const BUDGET_MS = 10_000;
const ADMIN = `admin-${randomBytes(12).toString('hex')}`;
const PREFIX = 'phishx:';
const SLACK_CLAMD = /\[CRITICAL\] service_availability\{service=clamav\}/;

describe('three PhishX nodes on one Redis Cluster (3 masters + 3 replicas)', () => {
  let dir: string;
  let cluster: TestRedisCluster | null = null;
  let clamd: FaultServer;
  let slack: TestServer;
  let hooks: TestServer;
  const nodes: HarakaInstance[] = [];
  let store: Store | undefined;
  let skip = '';

  const events = (): PublicEvent[] => hooks.requests.map((r) => JSON.parse(r.body) as PublicEvent);
  const slackTexts = (): string[] => slack.requests.map((r) => (JSON.parse(r.body) as { text: string }).text);
  const delivered = async (): Promise<string[]> => (await Promise.all(nodes.map((n) => n.delivered()))).flat();

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'phishx-cluster-'));
    cluster = await startRedisCluster(dir, 3, 1);
    if (!cluster) {
      skip = 'redis-server / redis-cli not installed (apt-get install redis-server)';
      return;
    }
    clamd = await clamdFaultServer();
    slack = await startHttpServer((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
    hooks = await startHttpServer((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
    const env = {
      PHISHX_REDIS_URL: 'redis://cluster/0',
      PHISHX_REDIS_CLUSTER_NODES: cluster.nodes.slice(0, 2).join(','),
      PHISHX_RELEASE_KEY: randomBytes(32).toString('hex'),
      PHISHX_API_TOKENS: ADMIN,
      PHISHX_WEBHOOK_URL: hooks.url,
      PHISHX_WEBHOOK_SECRET: newSecret(),
      PHISHX_QUARANTINE_REPLAY_INTERVAL_S: '1',
    };
    const ini = [
      '[clamav]',
      `hosts = 127.0.0.1:${clamd.port}`,
      '[alerts]',
      'interval_s = 1',
      'for_s = 1',
      '[alerts.slack]',
      `url = ${slack.url}`,
      '[webhooks]',
      'retry_base_ms=50',
      'retry_max_ms=500',
    ].join('\n');
    for (let i = 0; i < 3; i++) nodes.push(await startHaraka({ env, phishxIni: ini }));
    const config = buildConfig({ redis: { url: 'redis://cluster/0', cluster_nodes: cluster.nodes.join(',') } }, { env: {} });
    store = createStore(config);
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await store?.close();
    await clamd?.close();
    await slack?.close();
    await hooks?.close();
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a message held through node A is listed and released through node B and delivered once', async (t) => {
    if (skip) return t.skip(skip);
    const [a, b] = nodes;
    const held = await sendRaw(a.port, quarantineMessage(), HOLD_ENV);
    assert.equal(held.code, 250, held.response);
    const qid = idFrom(held.response);
    const list = await api(b.sidecarPort, 'GET', '/api/v1/quarantine?status=held', { token: ADMIN });
    assert.equal(list.status, 200, list.text);
    assert.ok(
      (list.body.items as Array<{ id: string }>).some((x) => x.id === qid),
      `node B lists ${qid}`,
    );
    const r = await api(b.sidecarPort, 'POST', `/api/v1/quarantine/${qid}/release`, { token: ADMIN, body: {} });
    assert.equal(r.status, 200, r.text);
    // Released once: a second release through node C finds it released.
    const again = await api(nodes[2].sidecarPort, 'POST', `/api/v1/quarantine/${qid}/release`, { token: ADMIN, body: {} });
    assert.equal(again.status, 409, again.text);
    await eventually(async () => assert.equal((await delivered()).filter((m) => m.includes('Unusual sign-in activity')).length, 1));
    assert.equal((await store!.getQuarantine(qid))?.entry.state?.status, 'released');
    await eventually(() => assert.equal(events().filter((e) => e.type === 'quarantine.released' && e.data.quarantine_id === qid).length, 1));
  });

  it('webhook events from all three nodes reach the consumer once per event id', async (t) => {
    if (skip) return t.skip(skip);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const a = await sendRaw(nodes[i % 3].port, phishMessage([`X-Seq: ${i}`]), { from: 'service@paypa1-support.top', to: ['bob@example.org'] });
      assert.equal(a.code, 550, a.response);
      ids.push(`evt_${idFrom(a.response)}`);
    }
    await eventually(() => {
      const got = new Set(events().map((e) => e.id));
      assert.deepEqual(
        ids.filter((id) => !got.has(id)),
        [],
      );
    });
    // Give stragglers a moment, then: no event id twice.
    await new Promise((r) => setTimeout(r, 1500));
    const seen = new Map<string, number>();
    for (const e of events()) seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
    assert.deepEqual(
      [...seen].filter(([, n]) => n > 1),
      [],
    );
  });

  it('an alert all three nodes see (clamd down) is notified once', async (t) => {
    if (skip) return t.skip(skip);
    assert.equal(slackTexts().filter((x) => SLACK_CLAMD.test(x)).length, 0);
    await clamd.setMode('refuse');
    await eventually(() => assert.equal(slackTexts().filter((x) => SLACK_CLAMD.test(x)).length, 1));
    // Several more evaluations on every node: still one.
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(slackTexts().filter((x) => SLACK_CLAMD.test(x)).length, 1);
    for (const n of nodes) {
      const listed = await api(n.sidecarPort, 'GET', '/api/v1/alerts', { token: ADMIN });
      assert.equal(listed.status, 200, listed.text);
      assert.ok((listed.body.firing as Array<{ fingerprint: string }>).some((x) => x.fingerprint === 'service_availability{service=clamav}'));
    }
    await clamd.setMode('ok');
  });

  it('killing the master of the quarantine under SMTP load: answers within budget + 1 s; accepted = delivered + held; no webhook event lost', async (t) => {
    if (skip) return t.skip(skip);
    const c = cluster!;
    const victim = await clusterMasterOf(c, redisKey(PREFIX, 'q:index'));
    const deliveredBefore = (await delivered()).length;
    const load = new FailoverLoad(BUDGET_MS, (i) => i % 2 === 0);
    // Through nodes A and B, each taking both kinds of message.
    const send = (i: number): Promise<void> => load.send(nodes[Math.floor(i / 2) % 2].port, i);
    for (let i = 0; i < 6; i++) await send(i);
    c.procs.find((p) => p.port === victim)!.proc.kill('SIGKILL');
    const until = Date.now() + 8000;
    for (let i = 6; Date.now() < until; i++) await send(i);
    assert.deepEqual(load.slow, []);
    assert.ok(load.held.length >= 6, `${load.held.length} held`);
    await c.waitHealthy(30_000);
    assert.notEqual(await clusterMasterOf(c, redisKey(PREFIX, 'q:index')), victim, 'a replica took over the slot');
    await eventually(
      async () => {
        for (const n of nodes) assert.deepEqual(await pendingSpoolFiles(n.spoolDir), [], 'the pending spool was replayed');
        assert.deepEqual(await load.missingIn(store!), [], 'every held message is in the cluster');
        assert.equal((await delivered()).length - deliveredBefore, load.delivered, 'every allowed message delivered');
        assert.deepEqual(load.withoutEvent(hooks.requests), [], 'every held message has its webhook event');
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    t.diagnostic(
      `${load.held.length} held, ${load.delivered} delivered, ${load.later} answered 451; ${nodes.map((n) => (n.logs().match(/pending=store-down/g) ?? []).length).join('+')} held through the pending spool; slowest answer ${load.slowest} ms`,
    );
    for (const n of nodes) assert.ok(running(n.proc), 'Haraka still up');
    const after1 = await sendRaw(nodes[2].port, quarantineMessage(), HOLD_ENV);
    assert.equal(after1.code, 250, after1.response);
  });
});
