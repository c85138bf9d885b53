import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { phishMessage } from '../helpers/messages.js';
import { sendRaw } from '../helpers/smtp.js';

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

  it('refuses an invalid edit, logs the key, and keeps the previous config', async () => {
    const good = await readFile(ini, 'utf8');
    await writeFile(ini, good.replace('mode=monitor', 'mode=loud'));
    for (let i = 0; i < 40 && !h.logs().includes('config reload rejected'); i++) await new Promise((r) => setTimeout(r, 250));
    assert.match(h.logs(), /config reload rejected.*\[main\] mode = "loud"/);
    assert.equal((await sendRaw(h.port, phishMessage(), env)).code, 250, 'previous (monitor) config not kept');
    assert.equal(h.proc.exitCode, null);
  });
});
