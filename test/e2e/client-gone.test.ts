import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { nlpFaultServer, type FaultServer } from '../helpers/fault-servers.js';
import { eventually } from '../helpers/eventually.js';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { cleanMessage, phishMessage } from '../helpers/messages.js';
import { sendRaw, toCrlf } from '../helpers/smtp.js';

/** Speak SMTP up to the end of DATA, then drop the connection without waiting for the answer. */
function sendAndVanish(port: number, raw: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const commands = ['EHLO gone.example', 'MAIL FROM:<a@example.com>', 'RCPT TO:<bob@example.org>', 'DATA'];
    let pending = '';
    sock.on('error', reject);
    sock.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      let nl: number;
      while ((nl = pending.indexOf('\r\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 2);
        if (!/^\d{3} /.test(line)) continue; // a continuation line of a multi-line reply
        if (line.startsWith('354')) {
          sock.write(Buffer.concat([toCrlf(raw), Buffer.from('\r\n.\r\n')]), () => {
            sock.destroy();
            resolve();
          });
          return;
        }
        const next = commands.shift();
        if (next) sock.write(`${next}\r\n`);
      }
    });
  });
}

describe('a client that leaves while its message is being scanned', () => {
  let h: HarakaInstance;
  let nlp: FaultServer;
  before(async () => {
    nlp = await nlpFaultServer();
    await nlp.setMode('hang'); // the scan waits for the service up to its timeout
    h = await startHaraka({ nlp: true, phishxIni: `[nlp]\nurl=${nlp.url}\ntimeout_ms=1500\n` });
  });
  after(async () => {
    await h?.stop();
    await nlp?.close();
  });

  it('is not answered after the scan (logged as gone), and Haraka keeps scanning the next message', async () => {
    await sendAndVanish(h.port, phishMessage());
    await eventually(() => assert.match(h.logs(), /phishx: id=[0-9a-f]{16} client gone or transaction ended during the scan; not answering/), {
      timeoutMs: 15_000,
    });
    assert.equal(h.proc.exitCode, null, 'Haraka exited');
    await nlp.setMode('ok');
    const a = await sendRaw(h.port, cleanMessage(), { from: 'alice@example.com', to: ['bob@example.org'] });
    assert.equal(a.code, 250, a.response);
    assert.doesNotMatch(h.logs(), /uncaught|TypeError/i);
  });
});

describe('clients that leave while their messages wait for a scan thread', () => {
  let h: HarakaInstance;
  before(async () => {
    // One scan thread: three messages hold its places (two running, one waiting), the rest
    // wait to be read; the budget is short so the burst is over quickly.
    h = await startHaraka({ nlp: true, phishxIni: '[main]\nscan_threads=1\nscan_budget_ms=500\n' });
  });
  after(async () => {
    await h?.stop();
  });

  it('give their places back: the messages after the burst are scanned, not deferred', async () => {
    const big = `From: a@example.com\nTo: bob@example.org\nSubject: big\n\n${`${'lorem ipsum dolor sit amet '.repeat(30)}\n`.repeat(2000)}`;
    await Promise.all(Array.from({ length: 30 }, () => sendAndVanish(h.port, big)));
    await eventually(() => assert.match(h.logs(), /client gone or transaction ended while waiting for a scan thread; not answering/), { timeoutMs: 15_000 });
    // Once the burst's admitted scans are done, mail is scanned again; a place never given back
    // would keep every later message at 451 (the places are few: three for one thread).
    await eventually(
      async () => {
        const a = await sendRaw(h.port, cleanMessage(), { from: 'alice@example.com', to: ['bob@example.org'] });
        assert.equal(a.code, 250, a.response);
      },
      { timeoutMs: 20_000 },
    );
    for (let i = 0; i < 5; i++) {
      const a = await sendRaw(h.port, cleanMessage(), { from: 'alice@example.com', to: ['bob@example.org'] });
      assert.equal(a.code, 250, a.response);
    }
    assert.equal(h.proc.exitCode, null, 'Haraka exited');
    assert.doesNotMatch(h.logs(), /uncaught|TypeError/i);
  });
});
