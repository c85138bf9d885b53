import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { hashToken } from '../../lib/sidecar/auth.js';
import { createSidecarRouter } from '../../lib/sidecar/server.js';
import { OPENAPI } from '../../lib/sidecar/openapi.js';
import { MemoryStore } from '../../lib/store/memory.js';
import { api } from '../helpers/api.js';
import { eventually } from '../helpers/eventually.js';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { quarantineMessage } from '../helpers/messages.js';
import { idFrom, sendRaw } from '../helpers/smtp.js';

const ADMIN = `admin-${randomBytes(12).toString('hex')}`;

type Paths = Record<string, Record<string, { 'x-scope'?: string; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;

describe('OpenAPI document of the SOC API', () => {
  let h: HarakaInstance;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addSchema(OPENAPI, 'openapi');

  /** Validate a real answer against the document's schema for that path, method and status. */
  const conforms = (path: string, method: string, status: number, body: unknown): void => {
    const op = (OPENAPI.paths as unknown as Paths)[path]?.[method.toLowerCase()];
    assert.ok(op, `${method} ${path} is not in the document`);
    const resp = op.responses[String(status)];
    assert.ok(resp, `${method} ${path} ─► ${status} is not documented`);
    const schema = resp.content?.['application/json']?.schema;
    assert.ok(schema, `${method} ${path} ─► ${status} has no JSON schema`);
    const ptr = `openapi#/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1').replaceAll('{', '%7B').replaceAll('}', '%7D')}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
    const validate = ajv.getSchema(ptr);
    assert.ok(validate, `no schema at ${ptr}`);
    assert.ok(validate(body), `${method} ${path} ─► ${status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
  };

  before(async () => {
    h = await startHaraka({ env: { PHISHX_SIDECAR_TOKEN_HASHES: hashToken(ADMIN) } });
  });
  after(async () => {
    await h?.stop();
  });

  it('documents every API route of the sidecar, with its scope', () => {
    const routes = createSidecarRouter({
      config: () => null,
      smtpListening: () => false,
      store: () => new MemoryStore(),
      clamd: () => null,
      nlpProbe: () => null,
    })
      .routeList()
      .filter((r) => r.path.startsWith('/api/v1/') && r.path !== '/api/v1/openapi.json');
    const documented = Object.entries(OPENAPI.paths as unknown as Paths).flatMap(([p, ops]) =>
      Object.entries(ops).map(([m, op]) => `${m.toUpperCase()} ${p} ${op['x-scope']}`),
    );
    assert.deepEqual(routes.map((r) => `${r.method} ${r.path} ${r.scope ?? 'read'}`).sort(), documented.sort());
  });

  it('is served at /api/v1/openapi.json without a token, and every real answer fits it', async () => {
    const doc = await api(h.sidecarPort, 'GET', '/api/v1/openapi.json');
    assert.equal(doc.status, 200);
    assert.equal(doc.body.openapi, '3.1.0');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(idFrom((await sendRaw(h.port, quarantineMessage(), { from: 'alerts@account-notice.example.net', to: ['bob@example.org'] })).response));
    const t = { token: ADMIN };
    const check = async (method: string, path: string, real: string, opts: { body?: unknown } = {}): Promise<unknown> => {
      const r = await api(h.sidecarPort, method, real, { ...t, ...opts });
      conforms(path, method, r.status, r.body);
      return r.body;
    };
    await check('GET', '/api/v1/quarantine', '/api/v1/quarantine?status=held&limit=2');
    await check('GET', '/api/v1/quarantine/{id}', `/api/v1/quarantine/${ids[0]}`);
    await check('POST', '/api/v1/quarantine/{id}/report', `/api/v1/quarantine/${ids[0]}/report`, { body: { verdict: 'phish' } });
    await check('POST', '/api/v1/quarantine/{id}/release', `/api/v1/quarantine/${ids[0]}/release`, { body: { note: 'n' } });
    await check('POST', '/api/v1/quarantine/{id}/release', `/api/v1/quarantine/${ids[0]}/release`); // 409
    await check('DELETE', '/api/v1/quarantine/{id}', `/api/v1/quarantine/${ids[1]}`);
    await check('GET', '/api/v1/quarantine/{id}', `/api/v1/quarantine/${ids[1]}`); // deleted: preview null
    await check('GET', '/api/v1/quarantine/{id}', '/api/v1/quarantine/0000000000000000'); // 404
    await check('GET', '/api/v1/quarantine', '/api/v1/quarantine?colour=red'); // 400
    await check('POST', '/api/v1/quarantine/bulk', '/api/v1/quarantine/bulk', { body: { action: 'delete', filter: { sender: 'example.net' }, dry_run: true } });
    await check('POST', '/api/v1/quarantine/bulk', '/api/v1/quarantine/bulk', { body: { action: 'delete', filter: { sender: 'example.net' } } });
    const alerts = await eventually(async () => {
      const b = (await check('GET', '/api/v1/soc/alerts', '/api/v1/soc/alerts')) as { items: Array<{ id: string }> };
      assert.ok(b.items.length);
      return b;
    });
    await check('GET', '/api/v1/soc/alerts/{id}', `/api/v1/soc/alerts/${alerts.items[0].id}`);
    await check('POST', '/api/v1/soc/alerts/{id}/actions', `/api/v1/soc/alerts/${alerts.items[0].id}/actions`, { body: { action: 'acknowledge' } });
    await check('POST', '/api/v1/soc/alerts/{id}/actions', `/api/v1/soc/alerts/${alerts.items[0].id}/actions`, { body: { action: 'block_sender' } });
    await check('GET', '/api/v1/audit', '/api/v1/audit?limit=5');
    const none = await api(h.sidecarPort, 'GET', '/api/v1/quarantine');
    conforms('/api/v1/quarantine', 'GET', none.status, none.body); // 401
  });
});
