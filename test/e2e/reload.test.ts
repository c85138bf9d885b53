import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { phishMessage } from '../helpers/messages.js';
import { sendRaw } from '../helpers/smtp.js';
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
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status, 401);
    const before = await readFile(ini, 'utf8');
    await writeFile(ini, before.replace(/^(listen=.*)$/m, `$1\ntoken_hashes=${hashToken(token)}`));
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      status = (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(status, 200, h.logs().slice(-2000));
    const metrics = await (await fetch(`http://127.0.0.1:${h.sidecarPort}/metrics`)).text();
    assert.match(metrics, /^phishx_config_reloads_total\{result="applied"\} [1-9]/m);
  });

  it('refuses an invalid edit, logs the key, and keeps the previous config', async () => {
    const good = await readFile(ini, 'utf8');
    await writeFile(ini, good.replace('mode=monitor', 'mode=loud'));
    for (let i = 0; i < 40 && !h.logs().includes('config reload rejected'); i++) await new Promise((r) => setTimeout(r, 250));
    assert.match(h.logs(), /config reload rejected.*\[main\] mode = "loud"/);
    assert.equal((await sendRaw(h.port, phishMessage(), env)).code, 250, 'previous (monitor) config not kept');
    assert.equal(h.proc.exitCode, null);
  });
});
