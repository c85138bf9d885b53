import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashToken } from '../../lib/sidecar/auth.js';
import { api } from '../helpers/api.js';
import { eventually } from '../helpers/eventually.js';
import { headersOf, reasonsLogged, REPO, startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { readFile, writeFile } from 'node:fs/promises';
import { cleanMessage, phishMessage, quarantineMessage } from '../helpers/messages.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';
import { idFrom, sendRaw } from '../helpers/smtp.js';

const token = (name: string): string => `${name}-${randomBytes(12).toString('hex')}`;
const ADMIN = token('admin');
const ACT = token('act');
const READ = token('read');
const TENANT_A = token('tenant-a');

const tokenEnv = {
  PHISHX_SIDECAR_TOKEN_HASHES: [`${hashToken(ADMIN)}`, `${hashToken(ACT)}:act`, `${hashToken(READ)}:read`, `${hashToken(TENANT_A)}:act:tenant-a.example`].join(
    ',',
  ),
};
const TENANTS = '[tenant.tenant-a.example]\nmode=enforce\n[tenant.tenant-b.example]\nmode=enforce\n';

const header = (raw: string, name: string): string[] =>
  headersOf(raw)
    .filter(([k]) => k.toLowerCase() === name.toLowerCase())
    .map(([, v]) => v);

describe('SOC review of held mail over real SMTP and HTTP (embedded store)', () => {
  let h: HarakaInstance;
  let idA: string;
  let idB: string;

  before(async () => {
    h = await startHaraka({ env: tokenEnv, phishxIni: TENANTS });
    const a = await sendRaw(h.port, quarantineMessage(), { from: 'alerts@account-notice.example.net', to: ['ann@tenant-a.example'] });
    const b = await sendRaw(h.port, quarantineMessage().replace('Unusual sign-in activity', 'Unusual sign-in activity (B)'), {
      from: 'alerts@account-notice.example.net',
      to: ['bob@tenant-b.example', 'bea@tenant-b.example'],
    });
    assert.equal(a.code, 250, a.response);
    assert.equal(b.code, 250, b.response);
    idA = idFrom(a.response);
    idB = idFrom(b.response);
  });
  after(async () => {
    await h?.stop();
  });

  it('refuses the API without a token (401) and lists held mail, newest first, with a read token', async () => {
    const none = await api(h.sidecarPort, 'GET', '/api/v1/quarantine');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /Bearer/);
    const r = await api(h.sidecarPort, 'GET', '/api/v1/quarantine', { token: READ });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      r.body.items.map((i: { id: string }) => i.id),
      [idB, idA],
    );
    const a = r.body.items[1];
    assert.equal(a.status, 'held');
    assert.equal(a.tenant, 'tenant-a.example');
    assert.deepEqual(a.envelope.rcpt_to, ['ann@tenant-a.example']);
    assert.equal(a.subject, 'Unusual sign-in activity');
    assert.ok(a.score >= 50 && a.score < 70, `score ${a.score}`);
    assert.ok(a.reasons.some((x: { code: string }) => x.code === 'SENDER_BRAND_IMPERSONATION'));
    assert.equal(r.body.next_cursor, null);
    const filtered = await api(h.sidecarPort, 'GET', `/api/v1/quarantine?q=${encodeURIComponent('(B)')}&status=held`, { token: READ });
    assert.deepEqual(
      filtered.body.items.map((i: { id: string }) => i.id),
      [idB],
    );
    const badParam = await api(h.sidecarPort, 'GET', '/api/v1/quarantine?colour=red', { token: READ });
    assert.equal(badParam.status, 400);
    assert.match(badParam.body.error, /unknown parameter "colour"/);
  });

  it('previews a held message safely: text only, links defanged, headers listed', async () => {
    const r = await api(h.sidecarPort, 'GET', `/api/v1/quarantine/${idA}`, { token: READ });
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.preview.text, /We detected something unusual/);
    assert.ok(!r.body.preview.text.includes('https://bit.ly'), 'a live link in the preview');
    assert.ok(r.body.preview.text.includes('hxxps://bit[.]ly/3xQz9Lm'), r.body.preview.text);
    assert.deepEqual(r.body.preview.links, [{ url: 'hxxps://bit[.]ly/3xQz9Lm' }]);
    assert.ok(r.body.headers.some(([k, v]: [string, string]) => k === 'Subject' && v === 'Unusual sign-in activity'));
  });

  it('keeps tenants apart: a tenant-bound token sees only its tenant', async () => {
    const list = await api(h.sidecarPort, 'GET', '/api/v1/quarantine', { token: TENANT_A });
    assert.deepEqual(
      list.body.items.map((i: { id: string }) => i.id),
      [idA],
    );
    assert.equal((await api(h.sidecarPort, 'GET', `/api/v1/quarantine/${idB}`, { token: TENANT_A })).status, 404);
    assert.equal((await api(h.sidecarPort, 'GET', `/api/v1/quarantine/${idB}/raw`, { token: TENANT_A })).status, 404);
    assert.equal((await api(h.sidecarPort, 'POST', `/api/v1/quarantine/${idB}/release`, { token: TENANT_A })).status, 404);
    assert.equal((await api(h.sidecarPort, 'GET', '/api/v1/quarantine?tenant=tenant-b.example', { token: TENANT_A })).status, 403);
  });

  it('needs the act scope for raw bytes and release (403 with a read token)', async () => {
    const raw403 = await api(h.sidecarPort, 'GET', `/api/v1/quarantine/${idA}/raw`, { token: READ });
    assert.equal(raw403.status, 403);
    assert.match(raw403.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    const rel403 = await api(h.sidecarPort, 'POST', `/api/v1/quarantine/${idA}/release`, { token: READ });
    assert.equal(rel403.status, 403);
    const raw = await api(h.sidecarPort, 'GET', `/api/v1/quarantine/${idA}/raw`, { token: ACT });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers.get('content-type'), 'message/rfc822');
    assert.match(raw.text, /Subject: Unusual sign-in activity/);
    assert.match(raw.text, new RegExp(`X-PhishX-Id: ${idA}`));
  });

  it('releases once through the delivery path with a release header; a second release answers 409', async () => {
    assert.equal((await h.delivered()).length, 0);
    const r = await api(h.sidecarPort, 'POST', `/api/v1/quarantine/${idA}/release`, { token: ACT, body: { note: 'false positive, confirmed with Ann' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.status, 'released');
    assert.deepEqual(r.body.recipients, ['ann@tenant-a.example']);
    const delivered = await eventually(async () => {
      const d = await h.delivered();
      assert.equal(d.length, 1);
      return d[0];
    });
    assert.deepEqual(header(delivered, 'X-PhishX-Verdict'), ['released']);
    assert.match(header(delivered, 'X-PhishX-Released')[0] ?? '', new RegExp(`^\\d{4}-\\d\\d-\\d\\dT.* by token:[0-9a-f]{8} \\(PhishX id ${idA}\\)$`));
    assert.deepEqual(header(delivered, 'X-PhishX-Release'), [], 'the marker is not delivered');
    assert.deepEqual(header(delivered, 'X-PhishX-Score'), [], 'the held verdict headers are not delivered');
    assert.match(delivered, /We detected something unusual/);
    const again = await api(h.sidecarPort, 'POST', `/api/v1/quarantine/${idA}/release`, { token: ACT });
    assert.equal(again.status, 409, again.text);
    assert.match(again.body.error, /already released/);
    const item = await api(h.sidecarPort, 'GET', `/api/v1/quarantine/${idA}`, { token: READ });
    assert.equal(item.body.status, 'released');
    assert.equal(item.body.released.note, 'false positive, confirmed with Ann');
    assert.equal((await h.delivered()).length, 1, 'delivered exactly once');
  });

  it('strips a forged release marker and scans the message as any other', async () => {
    const forged = cleanMessage({
      subject: 'Forged release',
      extraHeaders: [`X-PhishX-Release: v1; id=${idB}; claim=${'0'.repeat(32)}; exp=9999999999; by=token:00000000; sig=${'A'.repeat(43)}`],
    });
    const a = await sendRaw(h.port, forged, { from: 'alice@example.com', to: ['bob@tenant-b.example'] });
    assert.equal(a.code, 250, a.response);
    const d = await eventually(async () => {
      const m = (await h.delivered()).find((x) => x.includes('Forged release'));
      assert.ok(m);
      return m;
    });
    assert.deepEqual(header(d, 'X-PhishX-Release'), []);
    assert.deepEqual(header(d, 'X-PhishX-Verdict'), ['allow']);
    const b = await api(h.sidecarPort, 'GET', `/api/v1/quarantine/${idB}`, { token: READ });
    assert.equal(b.body.status, 'held', 'the forged marker released nothing');
  });

  it('reports and deletes with the act scope; a deleted message keeps its record, not its bytes', async () => {
    const rep = await api(h.sidecarPort, 'POST', `/api/v1/quarantine/${idB}/report`, { token: ACT, body: { verdict: 'phish', note: 'campaign' } });
    assert.equal(rep.status, 200, rep.text);
    assert.equal(rep.body.reports[0].verdict, 'phish');
    assert.equal((await api(h.sidecarPort, 'POST', `/api/v1/quarantine/${idB}/report`, { token: ACT, body: { verdict: 'maybe' } })).status, 400);
    const del = await api(h.sidecarPort, 'DELETE', `/api/v1/quarantine/${idB}`, { token: ACT });
    assert.equal(del.status, 200, del.text);
    assert.equal((await api(h.sidecarPort, 'DELETE', `/api/v1/quarantine/${idB}`, { token: ACT })).status, 409);
    assert.equal((await api(h.sidecarPort, 'GET', `/api/v1/quarantine/${idB}/raw`, { token: ACT })).status, 410);
    const deleted = await api(h.sidecarPort, 'GET', '/api/v1/quarantine?status=deleted', { token: READ });
    assert.deepEqual(
      deleted.body.items.map((i: { id: string }) => i.id),
      [idB],
    );
    assert.equal((await api(h.sidecarPort, 'POST', `/api/v1/quarantine/${idB}/release`, { token: ACT })).status, 409);
  });

  it('keeps a reported message for training after its deletion: phishx feedback export writes a labelled corpus', async () => {
    const out = path.join(h.dir, 'feedback-corpus');
    const r = spawnSync(process.execPath, [path.join(REPO, 'lib', 'cli', 'phishx.cjs'), 'feedback', 'export', '--out', out, '--dir', h.dir], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /1 message\(s\) written .*\(1 phish, 0 ham\)/);
    assert.equal(await readFile(path.join(out, 'labels.csv'), 'utf8'), `path,label,source\nphish/${idB}.eml,phish,phishx-feedback\n`);
    assert.match(await readFile(path.join(out, 'phish', `${idB}.eml`), 'latin1'), /Subject: Unusual sign-in activity \(B\)/);
  });

  it('audits every action, visible to admin tokens only', async () => {
    assert.equal((await api(h.sidecarPort, 'GET', '/api/v1/audit', { token: ACT })).status, 403);
    const r = await api(h.sidecarPort, 'GET', '/api/v1/audit', { token: ADMIN });
    assert.equal(r.status, 200, r.text);
    const steps = (r.body.items as Array<{ action: string; target: string; result: string; actor: string }>)
      .reverse()
      .map((x) => `${x.action} ${x.target === idA ? 'A' : x.target === idB ? 'B' : x.target} ${x.result}`);
    assert.deepEqual(steps, ['raw A ok', 'release A ok', 'release A conflict', 'report_phish B ok', 'delete B ok', 'delete B conflict', 'release B conflict']);
    assert.ok(r.body.items.every((x: { actor: string }) => /^token:[0-9a-f]{8}$/.test(x.actor)));
  });

  it('counts review actions in metrics', async () => {
    const m = await api(h.sidecarPort, 'GET', '/metrics');
    assert.match(m.text, /phishx_quarantine_actions_total\{action="release",result="ok"\} 1/);
    assert.match(m.text, /phishx_quarantine_actions_total\{action="release",result="conflict"\} 2/);
  });
});

/** Run the phishx CLI against a sidecar. */
function phishx(port: number, tokenValue: string | null, args: string[]): { code: number; out: string; err: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, PHISHX_API_URL: `http://127.0.0.1:${port}` };
  delete env.PHISHX_API_TOKEN;
  if (tokenValue) env.PHISHX_API_TOKEN = tokenValue;
  const r = spawnSync(process.execPath, [path.join(REPO, 'lib', 'cli', 'phishx.cjs'), ...args], { env, encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('phishx quarantine / audit: the same operations from the command line', () => {
  let h: HarakaInstance;
  let id: string;
  before(async () => {
    h = await startHaraka({ env: tokenEnv });
    const a = await sendRaw(h.port, quarantineMessage(), { from: 'alerts@account-notice.example.net', to: ['bob@example.org', 'carol@example.org'] });
    assert.equal(a.code, 250, a.response);
    id = idFrom(a.response);
  });
  after(async () => {
    await h?.stop();
  });

  it('lists and shows held mail with a read token', () => {
    const list = phishx(h.sidecarPort, READ, ['quarantine', 'list', '--status', 'held']);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, new RegExp(`^${id}  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  held +\\d+  .*Unusual sign-in activity$`, 'm'));
    const json = JSON.parse(phishx(h.sidecarPort, READ, ['quarantine', 'list', '--json', '--sender', 'account-notice.example.net']).out);
    assert.deepEqual(
      json.items.map((i: { id: string }) => i.id),
      [id],
    );
    const show = phishx(h.sidecarPort, READ, ['quarantine', 'show', id]);
    assert.equal(show.code, 0, show.err);
    assert.match(show.out, /status: +held/);
    assert.match(show.out, /hxxps:\/\/bit\[\.\]ly\/3xQz9Lm/);
  });

  it("refuses a release with a read token (exit 1, the API's 403) and releases to one recipient with an act token", async () => {
    const refused = phishx(h.sidecarPort, READ, ['quarantine', 'release', id]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /403 .*needs act/);
    const r = phishx(h.sidecarPort, ACT, ['quarantine', 'release', id, '--to', 'carol@example.org', '--note', 'cli test']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`released ${id} to carol@example.org`));
    const d = await eventually(async () => {
      const m = (await h.delivered()).filter((x) => x.includes(`(PhishX id ${id})`));
      assert.equal(m.length, 1);
      return m[0];
    });
    assert.match(d, /X-PhishX-Verdict: released/);
    const again = phishx(h.sidecarPort, ACT, ['quarantine', 'release', id]);
    assert.equal(again.code, 1);
    assert.match(again.err, /409 .*already released/);
    const audit = phishx(h.sidecarPort, ADMIN, ['audit']);
    assert.equal(audit.code, 0, audit.err);
    assert.match(audit.out, new RegExp(`release +${id}  ok  "cli test"`));
  });

  it('says what is wrong with bad arguments (exit 2) and an unreachable sidecar (exit 1)', () => {
    const noToken = phishx(h.sidecarPort, null, ['quarantine', 'list']);
    assert.equal(noToken.code, 2);
    assert.match(noToken.err, /no API token/);
    assert.equal(phishx(h.sidecarPort, READ, ['quarantine', 'frobnicate']).code, 2);
    assert.equal(phishx(h.sidecarPort, READ, ['quarantine', 'show']).code, 2);
    assert.equal(phishx(h.sidecarPort, READ, ['quarantine', 'report', id, '--verdict', 'maybe']).code, 2);
    assert.equal(phishx(h.sidecarPort, READ, ['quarantine', 'list', '--bogus']).code, 2);
    const help = phishx(h.sidecarPort, null, ['quarantine', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /Usage: phishx quarantine/);
    const down = phishx(1, READ, ['quarantine', 'list']);
    assert.equal(down.code, 1);
    assert.match(down.err, /cannot reach the sidecar at http:\/\/127\.0\.0\.1:1/);
  });
});

describe('SOC alerts: one per campaign, with actions (embedded store)', () => {
  let h: HarakaInstance;
  /** How the campaign's return was answered: held, or rejected once the block reached the scan. */
  let returned: 'held' | 'rejected' = 'held';
  before(async () => {
    h = await startHaraka({ env: tokenEnv });
  });
  after(async () => {
    await h?.stop();
  });

  type Alert = {
    id: string;
    status: string;
    count: number;
    actions: { reject: number; quarantine: number };
    sender_domains: string[];
    quarantine_ids: string[];
  };
  const alerts = async (query = ''): Promise<Alert[]> => {
    const r = await api(h.sidecarPort, 'GET', `/api/v1/soc/alerts${query}`, { token: READ });
    assert.equal(r.status, 200, r.text);
    return r.body.items as Alert[];
  };
  const subjects = ['Unusual sign-in activity', 'Your password expires today', 'Mailbox almost full'];

  it('raises one alert per campaign with its count, and counts open alerts in metrics', async () => {
    for (const subject of subjects) {
      const a = await sendRaw(h.port, quarantineMessage().replace('Unusual sign-in activity', subject), {
        from: 'alerts@account-notice.example.net',
        to: ['bob@example.org'],
      });
      assert.equal(a.code, 250, a.response);
    }
    assert.equal((await sendRaw(h.port, phishMessage(), { from: 'service@paypa1-support.top', to: ['bob@example.org'] })).code, 550);
    const list = await eventually(async () => {
      const l = await alerts('?status=open');
      assert.equal(l.length, 2);
      assert.equal(
        l.reduce((n, a) => n + a.count, 0),
        4,
      );
      return l;
    });
    const campaign = list.find((a) => a.sender_domains.includes('example.net'))!;
    assert.equal(campaign.count, 3);
    assert.deepEqual(campaign.actions, { reject: 0, quarantine: 3 });
    assert.equal(campaign.quarantine_ids.length, 3);
    const single = list.find((a) => a.sender_domains.includes('paypa1-support.top'))!;
    assert.deepEqual(single.actions, { reject: 1, quarantine: 0 });
    await eventually(async () => assert.match((await api(h.sidecarPort, 'GET', '/metrics')).text, /^phishx_soc_alerts_open\{tenant="default"\} 2$/m));
    assert.deepEqual(
      (await alerts('?sender=paypa1-support.top')).map((a) => a.id),
      [single.id],
    );
    assert.deepEqual(
      (await alerts('?reason=SENDER_BRAND_IMPERSONATION&q=mailbox')).map((a) => a.id),
      [campaign.id],
    );
    assert.equal((await api(h.sidecarPort, 'GET', '/api/v1/soc/alerts?status=closed', { token: READ })).status, 400);
    // A token of another tenant sees none of them.
    assert.deepEqual((await api(h.sidecarPort, 'GET', '/api/v1/soc/alerts', { token: TENANT_A })).body.items, []);
    assert.equal((await api(h.sidecarPort, 'GET', `/api/v1/soc/alerts/${campaign.id}`, { token: TENANT_A })).status, 404);
    assert.equal(
      (await api(h.sidecarPort, 'POST', `/api/v1/soc/alerts/${campaign.id}/actions`, { token: TENANT_A, body: { action: 'release_all' } })).status,
      404,
    );
  });

  it('acknowledges, releases all held messages of a campaign, blocks its sender, and resolves it (act scope)', async () => {
    const campaign = (await alerts()).find((a) => a.sender_domains.includes('example.net'))!;
    const act = (body: unknown, t = ACT) => api(h.sidecarPort, 'POST', `/api/v1/soc/alerts/${campaign.id}/actions`, { token: t, body });
    assert.equal((await act({ action: 'acknowledge' }, READ)).status, 403);
    assert.equal((await act({ action: 'acknowledge', note: 'looking' })).status, 200);
    assert.equal((await act({ action: 'acknowledge' })).status, 409);
    assert.equal((await act({ action: 'explode' })).status, 400);
    const rel = await act({ action: 'release_all', note: 'legitimate after all' });
    assert.equal(rel.status, 200, rel.text);
    assert.deepEqual(rel.body.results, { ok: 3 });
    const delivered = await eventually(async () => {
      const d = (await h.delivered()).filter((m) => /X-PhishX-Verdict: released/.test(m));
      assert.equal(d.length, 3);
      return d;
    });
    for (const subject of subjects) assert.equal(delivered.filter((m) => m.includes(`Subject: ${subject}`)).length, 1);
    assert.equal((await act({ action: 'block_sender', targets: ['gmail.com'] })).status, 400);
    const block = await act({ action: 'block_sender' });
    assert.equal(block.status, 200, block.text);
    assert.deepEqual(block.body.blocked, ['example.net'], 'the registered sender domain; bit.ly (a shortener) is never blocked');
    assert.match(await readFile(`${h.dir}/var/feeds/soc-blocklist.txt`, 'utf8'), /^example\.net$/m);
    assert.equal((await act({ action: 'resolve' })).status, 200);
    const detail = await api(h.sidecarPort, 'GET', `/api/v1/soc/alerts/${campaign.id}`, { token: READ });
    assert.equal(detail.body.status, 'resolved');
    assert.deepEqual(
      detail.body.history.map((x: { action: string }) => x.action),
      ['acknowledge', 'release_all', 'block_sender', 'resolve'],
    );
    await eventually(async () => assert.match((await api(h.sidecarPort, 'GET', '/metrics')).text, /^phishx_soc_alerts_open\{tenant="default"\} 1$/m));
    // The campaign comes back: a new alert, the resolved one stays resolved. The block reaches
    // Haraka's scan when it next reads feed_dir (every 10 s): before, the message is held; after,
    // rejected on the blocked sender. Which one depends on that timer, so both are accepted, each
    // with what it must show.
    const back = await sendRaw(h.port, quarantineMessage(), { from: 'alerts@account-notice.example.net', to: ['bob@example.org'] });
    assert.ok(back.code === 250 || back.code === 550, back.response);
    if (back.code === 550) {
      returned = 'rejected';
      assert.match(reasonsLogged(h, idFrom(back.response)), /SENDER_FEED_MATCH/);
    }
    await eventually(async () => {
      const open = (await alerts('?status=open')).filter((a) => a.sender_domains.includes('example.net'));
      assert.equal(open.length, 1);
      assert.notEqual(open[0].id, campaign.id);
      assert.equal(open[0].count, 1);
    });
    const audit = await api(h.sidecarPort, 'GET', '/api/v1/audit', { token: ADMIN });
    const steps = (audit.body.items as Array<{ action: string; result: string }>)
      .filter((x) => x.action.startsWith('alert_'))
      .reverse()
      .map((x) => `${x.action} ${x.result}`);
    assert.deepEqual(steps, [
      'alert_acknowledge ok',
      'alert_acknowledge conflict',
      'alert_release_all ok',
      'alert_block_sender bad_request',
      'alert_block_sender ok',
      'alert_resolve ok',
    ]);
  });

  it('phishx soc: lists, shows and acknowledges alerts from the command line', () => {
    const list = phishx(h.sidecarPort, READ, ['soc', 'alerts', '--status', 'open']);
    assert.equal(list.code, 0, list.err);
    const lines = list.out.trim().split('\n');
    assert.equal(lines.length, 2, list.out);
    const id = lines.find((l) => l.includes('example.net'))!.split(' ')[0];
    const counts = returned === 'held' ? '0 rejected, 1 held' : '1 rejected, 0 held';
    assert.match(phishx(h.sidecarPort, READ, ['soc', 'show', id]).out, new RegExp(`messages: +1 \\(${counts}\\)`));
    const refused = phishx(h.sidecarPort, READ, ['soc', 'ack', id]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /403/);
    const ack = phishx(h.sidecarPort, ACT, ['soc', 'ack', id, '--note', 'on it']);
    assert.equal(ack.code, 0, ack.err);
    assert.match(ack.out, new RegExp(`${id}: acknowledged`));
    assert.equal(phishx(h.sidecarPort, ACT, ['soc', 'ack', id]).code, 1, 'a second acknowledge is a conflict');
    assert.equal(phishx(h.sidecarPort, ACT, ['soc', 'frob']).code, 2);
  });
});

describe('a release the delivery path refuses', () => {
  let h: HarakaInstance;
  before(async () => {
    // The next hop does not answer: nothing listens on port 1.
    h = await startHaraka({ env: tokenEnv, phishxIni: '[release]\nsmtp = 127.0.0.1:1\ntimeout_ms = 2000\n' });
  });
  after(async () => {
    await h?.stop();
  });

  it('answers 502, keeps the message held, and releases it once the path works', async () => {
    const a = await sendRaw(h.port, quarantineMessage(), { from: 'alerts@account-notice.example.net', to: ['bob@example.org'] });
    const id = idFrom(a.response);
    const r = await api(h.sidecarPort, 'POST', `/api/v1/quarantine/${id}/release`, { token: ACT });
    assert.equal(r.status, 502, r.text);
    assert.match(r.body.error, /delivery (failed|refused).*the message is held again/);
    const item = await api(h.sidecarPort, 'GET', `/api/v1/quarantine/${id}`, { token: READ });
    assert.equal(item.body.status, 'held');
    assert.equal((await h.delivered()).length, 0);
    // Point the release at this Haraka (the config reloads) and release again: delivered once.
    const ini = path.join(h.dir, 'config', 'phishx.ini');
    await writeFile(ini, (await readFile(ini, 'utf8')).replace('smtp = 127.0.0.1:1', `smtp = 127.0.0.1:${h.port}`));
    await eventually(async () => {
      const again = await api(h.sidecarPort, 'POST', `/api/v1/quarantine/${id}/release`, { token: ACT });
      assert.equal(again.status, 200, again.text);
    });
    await eventually(async () => assert.equal((await h.delivered()).filter((m) => m.includes(`(PhishX id ${id})`)).length, 1));
  });
});

describe('cluster mode (nodes=2): the sidecar in the master, holds and releases in the workers', () => {
  let h: HarakaInstance;
  before(async () => {
    h = await startHaraka({ nodes: 2, env: tokenEnv });
  });
  after(async () => {
    await h?.stop();
  });

  it('lists what a worker held, releases it once across processes, and folds its SOC alert', async () => {
    const a = await sendRaw(h.port, quarantineMessage(), { from: 'alerts@account-notice.example.net', to: ['bob@example.org'] });
    assert.equal(a.code, 250, a.response);
    const id = idFrom(a.response);
    await eventually(async () =>
      assert.deepEqual(
        (await api(h.sidecarPort, 'GET', '/api/v1/quarantine', { token: READ })).body.items.map((i: { id: string }) => i.id),
        [id],
      ),
    );
    const r = await api(h.sidecarPort, 'POST', `/api/v1/quarantine/${id}/release`, { token: ACT });
    assert.equal(r.status, 200, r.text);
    assert.equal((await api(h.sidecarPort, 'POST', `/api/v1/quarantine/${id}/release`, { token: ACT })).status, 409);
    await eventually(async () => assert.equal((await h.delivered()).filter((m) => m.includes(`(PhishX id ${id})`)).length, 1));
    await eventually(async () =>
      assert.deepEqual(
        (await api(h.sidecarPort, 'GET', '/api/v1/soc/alerts', { token: READ })).body.items.map((x: { count: number }) => x.count),
        [1],
      ),
    );
  });
});

describe('bulk actions by filter', () => {
  let h: HarakaInstance;
  before(async () => {
    h = await startHaraka({ env: tokenEnv });
  });
  after(async () => {
    await h?.stop();
  });

  it('counts a campaign with a dry run, then deletes all of it (admin only)', async () => {
    for (let i = 0; i < 3; i++)
      assert.equal((await sendRaw(h.port, quarantineMessage(), { from: 'alerts@account-notice.example.net', to: ['bob@example.org'] })).code, 250);
    const body = { action: 'delete', filter: { sender: 'account-notice.example.net' }, dry_run: true };
    assert.equal((await api(h.sidecarPort, 'POST', '/api/v1/quarantine/bulk', { token: ACT, body })).status, 403);
    const dry = await api(h.sidecarPort, 'POST', '/api/v1/quarantine/bulk', { token: ADMIN, body });
    assert.equal(dry.status, 200, dry.text);
    assert.equal(dry.body.matched, 3);
    assert.equal((await api(h.sidecarPort, 'GET', '/api/v1/quarantine?status=held', { token: READ })).body.items.length, 3, 'a dry run changes nothing');
    const real = await api(h.sidecarPort, 'POST', '/api/v1/quarantine/bulk', { token: ADMIN, body: { ...body, dry_run: false } });
    assert.deepEqual(real.body.results, { ok: 3 });
    assert.equal((await api(h.sidecarPort, 'GET', '/api/v1/quarantine?status=held', { token: READ })).body.items.length, 0);
    assert.equal((await api(h.sidecarPort, 'POST', '/api/v1/quarantine/bulk', { token: ADMIN, body: { action: 'delete', filter: {} } })).status, 400);
  });
});

describe('concurrent release from two sidecars on one Redis', () => {
  let redis: TestRedis | { skip: string };
  let one: HarakaInstance | undefined;
  let two: HarakaInstance | undefined;
  const prefix = `phishx-review:${randomBytes(4).toString('hex')}:`;

  before(async () => {
    redis = await testRedis();
    if ('skip' in redis) return;
    const env = { ...tokenEnv, PHISHX_REDIS_URL: redis.url, PHISHX_REDIS_KEY_PREFIX: prefix, PHISHX_RELEASE_KEY: randomBytes(24).toString('hex') };
    [one, two] = await Promise.all([startHaraka({ env }), startHaraka({ env })]);
  });
  after(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
    if (redis && !('skip' in redis)) await redis.stop();
  });

  it('delivers a message once when both nodes release it at the same moment', async (t) => {
    if ('skip' in redis) return t.skip(redis.skip);
    for (let round = 0; round < 3; round++) {
      const a = await sendRaw(one!.port, quarantineMessage(), { from: 'alerts@account-notice.example.net', to: ['bob@example.org'] });
      assert.equal(a.code, 250, a.response);
      const id = idFrom(a.response);
      const [r1, r2] = await Promise.all([one!, two!].map((h) => api(h.sidecarPort, 'POST', `/api/v1/quarantine/${id}/release`, { token: ACT })));
      assert.deepEqual([r1.status, r2.status].sort(), [200, 409], `${r1.text} / ${r2.text}`);
      const copies = async (): Promise<number> =>
        [...(await one!.delivered()), ...(await two!.delivered())].filter((m) => m.includes(`(PhishX id ${id})`)).length;
      assert.equal(
        await eventually(async () => {
          const n = await copies();
          assert.equal(n, 1);
          return n;
        }),
        1,
      );
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await copies(), 1, 'delivered twice');
    }
  });

  it('shares SOC alerts across nodes, and a sender blocked on one node is flagged on the other at once', async (t) => {
    if ('skip' in redis) return t.skip(redis.skip);
    const campaign = await eventually(async () => {
      const r = await api(two!.sidecarPort, 'GET', '/api/v1/soc/alerts', { token: READ });
      const a = (r.body.items as Array<{ id: string; count: number; sender_domains: string[] }>).find((x) => x.sender_domains.includes('example.net'));
      assert.equal(a?.count, 3, 'the three held messages of the release rounds, folded once each across both sidecars');
      return a;
    });
    const block = await api(two!.sidecarPort, 'POST', `/api/v1/soc/alerts/${campaign.id}/actions`, {
      token: ACT,
      body: { action: 'block_sender', targets: ['example.net'] },
    });
    assert.equal(block.status, 200, block.text);
    const a = await sendRaw(
      one!.port,
      cleanMessage({ subject: 'Hello from a blocked sender' }).replace(
        'From: Alice Example <alice@example.com>',
        'From: Alerts <news@mail.account-notice.example.net>',
      ),
      { from: 'news@mail.account-notice.example.net', to: ['bob@example.org'] },
    );
    assert.equal(a.code, 250, a.response);
    const held = await api(one!.sidecarPort, 'GET', `/api/v1/quarantine/${idFrom(a.response)}`, { token: READ });
    assert.equal(held.status, 200, `not held: ${a.response}`);
    assert.ok(
      held.body.reasons.some((r: { code: string; detail: string }) => r.code === 'SENDER_FEED_MATCH' && /^example\.net \(feed soc-blocklist\)$/.test(r.detail)),
      JSON.stringify(held.body.reasons),
    );
  });
});
