import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { hashToken } from '../../lib/sidecar/auth.js';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { inParallel } from '../helpers/load.js';
import { quarantineMessage } from '../helpers/messages.js';
import { idFrom, sendRaw } from '../helpers/smtp.js';
import { runs, SEED } from './settings.js';
import { eventually } from '../helpers/eventually.js';

const TOKENS = {
  admin: `admin-${randomBytes(12).toString('hex')}`,
  act: `act-${randomBytes(12).toString('hex')}`,
  read: `read-${randomBytes(12).toString('hex')}`,
  tenant: `tenant-${randomBytes(12).toString('hex')}`,
};
type Who = keyof typeof TOKENS | 'none' | 'wrong';

/** A value from anywhere: JSON of every shape, odd strings, long strings. */
const junk = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    '',
    ' ',
    'held',
    'phish',
    'not_phish',
    'release',
    'delete',
    '../../etc/passwd',
    '%00',
    '\u0000',
    'a'.repeat(5000),
    '2026-13-45',
    '-1',
    '1e999',
    'NaN',
    '<script>',
    'bob@example.org',
    'BOB@EXAMPLE.ORG',
  ),
);

const segment = (ids: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...ids) },
    { weight: 1, arbitrary: fc.constantFrom('bulk', 'x', '0000000000000000', '%2e%2e', '%E0%A4%A', 'a%2Fb', '..', '%00', 'a'.repeat(300)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s)) },
  );

const QUERY_KEYS = [
  'limit',
  'cursor',
  'status',
  'sender',
  'recipient',
  'tenant',
  'reason',
  'action',
  'score_min',
  'score_max',
  'since',
  'until',
  'q',
  'before',
  'bogus',
];
const junkAlertIds = ['0', 'x'.repeat(20)];

const request = (ids: string[], alertIds: string[]) =>
  fc.record({
    who: fc.constantFrom<Who>('admin', 'act', 'read', 'tenant', 'none', 'wrong'),
    method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'),
    path: fc.oneof(
      fc.constant('/api/v1/quarantine'),
      fc.constant('/api/v1/audit'),
      fc.constant('/api/v1/quarantine/bulk'),
      segment(ids).map((s) => `/api/v1/quarantine/${s}`),
      fc.tuple(segment(ids), fc.constantFrom('raw', 'release', 'report', 'x')).map(([s, a]) => `/api/v1/quarantine/${s}/${a}`),
      fc.constant('/api/v1/soc/alerts'),
      segment(alertIds).map((s) => `/api/v1/soc/alerts/${s}`),
      segment(alertIds).map((s) => `/api/v1/soc/alerts/${s}/actions`),
    ),
    query: fc.array(
      fc.tuple(
        fc.constantFrom(...QUERY_KEYS),
        junk.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
      ),
      { maxLength: 4 },
    ),
    body: fc.option(
      fc.oneof(
        junk,
        fc.record({ recipients: fc.oneof(junk, fc.array(junk, { maxLength: 3 })), note: junk }, { requiredKeys: [] }),
        fc.record({ verdict: junk, note: junk }, { requiredKeys: [] }),
        fc.record(
          {
            action: fc.oneof(fc.constantFrom('acknowledge', 'resolve', 'release_all', 'delete_all', 'block_sender'), junk),
            note: junk,
            targets: fc.oneof(junk, fc.array(junk, { maxLength: 3 })),
          },
          { requiredKeys: [] },
        ),
        fc.record(
          {
            action: fc.oneof(fc.constantFrom('release', 'delete'), junk),
            filter: fc.oneof(junk, fc.dictionary(fc.constantFrom(...QUERY_KEYS), junk, { maxKeys: 3 })),
            dry_run: fc.oneof(fc.constant(true), junk),
          },
          { requiredKeys: [] },
        ),
      ),
      { nil: undefined },
    ),
  });

describe(`SOC API fuzzing with every token scope (seed ${SEED})`, () => {
  let h: HarakaInstance;
  const ids: string[] = [];
  const alertIds: string[] = [];
  before(async () => {
    h = await startHaraka({
      env: {
        PHISHX_SIDECAR_RATE_LIMIT_PER_S: '0',
        PHISHX_SIDECAR_TOKEN_HASHES: `${hashToken(TOKENS.admin)},${hashToken(TOKENS.act)}:act,${hashToken(TOKENS.read)}:read,${hashToken(TOKENS.tenant)}:act:example.org`,
      },
    });
    for (const to of ['bob@example.org', 'carol@example.net', 'dave@example.org']) {
      const a = await sendRaw(h.port, quarantineMessage(), { from: 'alerts@account-notice.example.net', to: [to] });
      assert.equal(a.code, 250, a.response);
      ids.push(idFrom(a.response));
    }
    // The sidecar folds the held messages into a SOC alert: fuzz its actions too.
    await eventually(
      async () => {
        const r = await fetch(`http://127.0.0.1:${h.sidecarPort}/api/v1/soc/alerts`, { headers: { authorization: `Bearer ${TOKENS.read}` } });
        const items = ((await r.json()) as { items: Array<{ id: string }> }).items;
        assert.ok(items.length, 'no SOC alert to fuzz');
        alertIds.push(...items.map((a) => a.id));
      },
      { intervalMs: 100 },
    );
  });
  after(async () => {
    await h?.stop();
  });

  it('answers every request with JSON (raw bytes on /raw), never 5xx, honours scopes, and delivers no message twice', async () => {
    const samples = fc.sample(request(ids, [...alertIds, ...junkAlertIds]), { seed: SEED, numRuns: runs(300, 5000) });
    const statuses = new Map<number, number>();
    await inParallel(samples.length, 6, async (i) => {
      const s = samples[i];
      const q = new URLSearchParams(s.query);
      const headers: Record<string, string> = {};
      if (s.who === 'wrong') headers.authorization = 'Bearer not-a-token-at-all';
      else if (s.who !== 'none') headers.authorization = `Bearer ${TOKENS[s.who]}`;
      const body = s.method === 'GET' ? undefined : s.body;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const url = `http://127.0.0.1:${h.sidecarPort}${s.path}${q.size ? `?${q.toString()}` : ''}`;
      const res = await fetch(url, { method: s.method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      const where = `request ${i} (seed ${SEED}): ${s.method} ${url.slice(0, 200)} as ${s.who} body ${JSON.stringify(s.body)?.slice(0, 200)} ─► ${res.status} ${text.slice(0, 200)}`;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      assert.ok(res.status < 500 || res.status === 502, where); // 502: a release the delivery path refused (then held again)
      if (!(res.status === 200 && s.path.endsWith('/raw'))) {
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/, where);
        JSON.parse(text);
      }
      if (res.status === 200 && s.who === 'read')
        assert.ok(s.method === 'GET' && !s.path.endsWith('/raw') && !s.path.includes('/audit'), `a read token acted: ${where}`);
      if (res.status === 200 && s.who === 'act') assert.ok(!s.path.includes('/audit') && !s.path.endsWith('/bulk'), `an act token did admin work: ${where}`);
      if (s.who === 'none' || s.who === 'wrong')
        assert.ok([401, 404, 405].includes(res.status) || (res.status === 400 && /malformed request target/.test(text)), where);
    });
    assert.ok((statuses.get(200) ?? 0) > 0, `no request succeeded: ${JSON.stringify([...statuses])}`);
    assert.equal(h.proc.exitCode, null, 'Haraka exited');
    assert.doesNotMatch(h.logs(), /uncaught|Unhandled|sidecar thread exited/i);
    const delivered = await h.delivered();
    for (const id of ids) assert.ok(delivered.filter((m) => m.includes(`(PhishX id ${id})`)).length <= 1, `${id} delivered twice`);
    const alive = await fetch(`http://127.0.0.1:${h.sidecarPort}/alive`);
    assert.equal(alive.status, 200);
  });
});
