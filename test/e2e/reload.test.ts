import assert from 'node:assert/strict';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { eventually } from '../helpers/eventually.js';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { phishMessage } from '../helpers/messages.js';
import { sendRaw } from '../helpers/smtp.js';
import { fetchFresh } from '../helpers/api.js';
import { hashToken } from '../../lib/sidecar/auth.js';

const env = { from: 'sender@example.com', to: ['bob@example.org'] };

/** Send until the answer code is `code` (config reload is asynchronous), at most ~10 s. */
async function untilCode(h: HarakaInstance, code: number): Promise<number> {
  let last = 0;
  for (let i = 0; i < 40; i++) {
    last = (await sendRaw(h.port, phishMessage(), env)).code;
    if (last === code) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
}

describe('config hot reload', () => {
  let h: HarakaInstance;
  let ini: string;
  before(async () => {
    h = await startHaraka();
    ini = path.join(h.dir, 'config', 'phishx.ini');
  });
  after(async () => {
    await h?.stop();
  });

  it('switches to monitor mode when phishx.ini changes, without a restart', async () => {
    assert.equal((await sendRaw(h.port, phishMessage(), env)).code, 550);
    await writeFile(ini, `${await readFile(ini, 'utf8')}\n[main]\nmode=monitor\n`);
    assert.equal(await untilCode(h, 250), 250);
  });

  it('applies a new API token to the running sidecar, and counts the reloads', async () => {
    const token = 'reloaded-token-0123456789abcdef';
    const url = `http://127.0.0.1:${h.sidecarPort}/metrics/summary`;
    assert.equal((await fetchFresh(url, { headers: { authorization: `Bearer ${token}` } })).status, 401);
    const before = await readFile(ini, 'utf8');
    await writeFile(ini, before.replace(/^(listen=.*)$/m, `$1\ntoken_hashes=${hashToken(token)}`));
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      status = (await fetchFresh(url, { headers: { authorization: `Bearer ${token}` } })).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(status, 200, h.logs().slice(-2000));
    const metrics = await (await fetchFresh(`http://127.0.0.1:${h.sidecarPort}/metrics`)).text();
    assert.match(metrics, /^phishx_config_reloads_total\{result="applied"\} [1-9]/m);
  });

  it('refuses an invalid edit, logs the key, and keeps the previous config', async () => {
    const good = await readFile(ini, 'utf8');
    await writeFile(ini, good.replace('mode=monitor', 'mode=loud'));
    for (let i = 0; i < 40 && !h.logs().includes('config reload rejected'); i++) await new Promise((r) => setTimeout(r, 250));
    assert.match(h.logs(), /config reload rejected.*\[main\] mode = "loud"/);
    assert.equal((await sendRaw(h.port, phishMessage(), env)).code, 250, 'previous (monitor) config not kept');
    assert.equal(h.proc.exitCode, null);
    await writeFile(ini, good);
  });

  it('refuses an emptied file, a deleted file and a line without "=", keeping monitor mode and counting each refusal', async () => {
    const good = await readFile(ini, 'utf8');
    assert.match(good, /mode=monitor/);
    const refusals = async (): Promise<number> =>
      Number(
        /^phishx_config_reloads_total\{result="rejected"\} (\d+)/m.exec(await (await fetchFresh(`http://127.0.0.1:${h.sidecarPort}/metrics`)).text())?.[1] ?? 0,
      );
    const cases: Array<[string, () => Promise<void>, RegExp]> = [
      ['emptied', () => writeFile(ini, ''), /phishx\.ini is empty: keeping the running config/],
      ['deleted', () => unlink(ini), /phishx\.ini was deleted: keeping the running config/],
      ['line without =', () => writeFile(ini, good.replace('mode=monitor', 'mode monitor')), /phishx\.ini line \d+: "mode monitor" is not `key = value`/],
    ];
    for (const [what, edit, logged] of cases) {
      const before = await refusals();
      await edit();
      await eventually(() => assert.match(h.logs(), logged), { timeoutMs: 15_000 });
      await eventually(async () => assert.ok((await refusals()) > before, `${what}: refusal not counted`));
      assert.equal((await sendRaw(h.port, phishMessage(), env)).code, 250, `${what}: monitor mode lost`);
      await writeFile(ini, good);
    }
    assert.equal(h.proc.exitCode, null);
  });
});

describe('config at start', () => {
  it('refuses to start on a line that is not key = value, naming the file and line', async () => {
    await assert.rejects(startHaraka({ phishxIni: '[main]\nmode enforce\n' }), (err: Error) =>
      /phishx\.ini line \d+: "mode enforce" is not `key = value`/.test(err.message),
    );
  });
});
