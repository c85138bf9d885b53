import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { eventually } from '../helpers/eventually.js';
import { clamdFaultServer, type FaultServer } from '../helpers/fault-servers.js';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { startHttpServer, type TestServer } from '../helpers/http-server.js';
import { phishMessage } from '../helpers/messages.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { sendRaw } from '../helpers/smtp.js';

// Operational alerts through a real Haraka + sidecar, to local servers speaking Slack's
// incoming-webhook and PagerDuty's Events API v2 formats and to a real SMTP receiver.

const ADMIN = `admin-${randomBytes(12).toString('hex')}`;
const CLAMD = 'service_availability{service=clamav}';

describe('operational alerts: clamd down and back, a failing channel, a silence, a campaign', () => {
  let clamd: FaultServer;
  let slack: TestServer;
  let pd: TestServer;
  let sink: SmtpSink;
  let h: HarakaInstance;
  let slackFailures = 1;
  const pdArrivals: number[] = [];

  const slackTexts = (): string[] => slack.requests.map((r) => (JSON.parse(r.body) as { text: string }).text);
  const pdEvents = (): Array<{ event_action: string; dedup_key: string }> =>
    pd.requests.map((r) => JSON.parse(r.body) as { event_action: string; dedup_key: string });
  const mails = (): string[] => sink.messages.map((m) => m.data);
  const count = (list: string[], re: RegExp): number => list.filter((x) => re.test(x)).length;

  before(async () => {
    clamd = await clamdFaultServer();
    slack = await startHttpServer((_req, _body, res) => {
      // Slack answers 200 "ok"; the first request meets a server error (retried).
      const fail = slackFailures-- > 0;
      res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain' });
      res.end(fail ? 'internal_error' : 'ok');
    });
    pd = await startHttpServer((_req, body, res) => {
      pdArrivals.push(Date.now());
      const e = JSON.parse(body) as { dedup_key: string };
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: e.dedup_key }));
    });
    sink = await startSmtpSink();
    h = await startHaraka({
      env: { PHISHX_API_TOKENS: ADMIN, PHISHX_ALERTS_PAGERDUTY_ROUTING_KEY: 'R0UTINGKEY' },
      phishxIni: [
        '[clamav]',
        `hosts = 127.0.0.1:${clamd.port}`,
        '[alerts]',
        'interval_s = 1',
        'for_s = 1',
        'campaign_messages = 3',
        'links_base_url = https://phishx.example.com',
        '[alerts.slack]',
        `url = ${slack.url}`,
        '[alerts.pagerduty]',
        `url = ${pd.url}`,
        '[alerts.email]',
        `smtp = 127.0.0.1:${sink.port}`,
        'to = soc@example.org',
        'tls = none',
      ].join('\n'),
    });
    // Settled: clamd answers, nothing fires.
    await new Promise((r) => setTimeout(r, 3000));
  });
  after(async () => {
    await h?.stop();
    await clamd?.close();
    await slack?.close();
    await pd?.close();
    await sink?.close();
  });

  it('clamd stopped: one critical on Slack (after a 500, retried), PagerDuty and email; not repeated; resolved on each when it is back', async () => {
    assert.equal(count(slackTexts(), /clamav/), 0, 'nothing fired while clamd answered');
    await clamd.setMode('refuse');
    const t0 = Date.now();
    await eventually(() => {
      assert.equal(count(slackTexts().slice(1), /\[CRITICAL\] service_availability\{service=clamav\}/), 1, 'Slack, after its retry');
      assert.equal(pdEvents().filter((e) => e.event_action === 'trigger' && e.dedup_key === `phishx:${CLAMD}`).length, 1);
      assert.equal(count(mails(), /Subject: PhishX \[CRITICAL\] service_availability\{service=clamav\}/), 1);
    });
    assert.ok(slack.requests.length >= 2, 'the 500 was retried');
    // The promise: notified within for_s after the failure is seen. Seeing it takes one health
    // check (cached up to 1 s) and one evaluation (interval 1 s); 3 s margin for a busy machine.
    const firstPage = pdArrivals[pdEvents().findIndex((e) => e.event_action === 'trigger' && e.dedup_key === `phishx:${CLAMD}`)];
    assert.ok(firstPage - t0 <= 1000 + 1000 + 1000 + 3000, `paged ${firstPage - t0} ms after clamd stopped`);
    // Scanning goes on meanwhile (ClamAV fail mode: its reason, no hang).
    const a = await sendRaw(h.port, phishMessage(), { from: 'service@paypa1-support.top', to: ['bob@example.org'] });
    assert.equal(a.code, 550, a.response);
    // Still down for several more evaluations: nobody is paged again.
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(count(slackTexts(), /\[CRITICAL\] service_availability\{service=clamav\}/), 2, 'the refused first attempt and its retry, nothing more');
    assert.equal(pdEvents().filter((e) => e.event_action === 'trigger' && e.dedup_key === `phishx:${CLAMD}`).length, 1);
    const listed = await api(h.sidecarPort, 'GET', '/api/v1/alerts', { token: ADMIN });
    assert.equal(listed.status, 200, listed.text);
    assert.ok((listed.body.firing as Array<{ fingerprint: string }>).some((x) => x.fingerprint === CLAMD));
    await clamd.setMode('ok');
    await eventually(() => {
      assert.equal(count(slackTexts(), /\[RESOLVED\] service_availability\{service=clamav\}/), 1);
      assert.equal(pdEvents().filter((e) => e.event_action === 'resolve' && e.dedup_key === `phishx:${CLAMD}`).length, 1);
      assert.equal(count(mails(), /Subject: PhishX \[RESOLVED\] service_availability\{service=clamav\}/), 1);
    });
    assert.ok(Date.now() - t0 < 60_000);
  });

  it('a silence suppresses the next outage; the alert is listed as silenced', async () => {
    const s = await api(h.sidecarPort, 'POST', '/api/v1/alerts/silences', { token: ADMIN, body: { matcher: CLAMD, for_s: 600, note: 'clamd maintenance' } });
    assert.equal(s.status, 201, s.text);
    const before = slack.requests.length + pd.requests.length + sink.messages.length;
    await clamd.setMode('refuse');
    const firing = await eventually(async () => {
      const r = await api(h.sidecarPort, 'GET', '/api/v1/alerts', { token: ADMIN });
      const f = (r.body.firing as Array<{ fingerprint: string; silenced: boolean }>).find((x) => x.fingerprint === CLAMD);
      assert.ok(f);
      return f;
    });
    assert.equal(firing.silenced, true);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(slack.requests.length + pd.requests.length + sink.messages.length, before, 'nobody notified');
    await clamd.setMode('ok');
    assert.equal((await api(h.sidecarPort, 'DELETE', `/api/v1/alerts/silences/${String(s.body.id)}`, { token: ADMIN })).status, 200);
    assert.equal((await api(h.sidecarPort, 'POST', '/api/v1/alerts/silences', { token: ADMIN, body: { matcher: 'no good!' } })).status, 400);
  });

  it('a burst of phish from one sender domain over SMTP fires campaign_surge with the SOC alert to open', async () => {
    for (let i = 0; i < 3; i++) {
      const a = await sendRaw(h.port, phishMessage().replace('limited', `limited ${i}`), { from: 'service@paypa1-support.top', to: ['bob@example.org'] });
      assert.equal(a.code, 550, a.response);
    }
    await eventually(() => {
      assert.ok(
        slackTexts().some((t) => /\[WARN\] campaign_surge\{campaign=sender:paypa1-support\.top\}/.test(t)),
        slackTexts().join('\n'),
      );
      assert.ok(pdEvents().some((e) => e.dedup_key === 'phishx:campaign_surge{campaign=sender:paypa1-support.top}'));
    });
    const slackMsg = slack.requests.map((r) => r.body).find((b) => b.includes('campaign_surge'))!;
    assert.match(slackMsg, /https:\/\/phishx\.example\.com\/api\/v1\/soc\/alerts\?status=open/);
  });
});
