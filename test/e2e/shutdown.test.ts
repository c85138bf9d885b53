import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../helpers/eventually.js';
import { accepts } from '../helpers/ports.js';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { cleanMessage, quarantineMessage } from '../helpers/messages.js';
import { idFrom, sendRaw } from '../helpers/smtp.js';

// Graceful shutdown as deploy/kubernetes runs it (smtp.ini graceful_shutdown=true,
// force_shutdown_timeout=25; Kubernetes sends SIGTERM, which Haraka as PID 1 treats as SIGINT):
// listeners close at once, sessions in the middle of a scan get their answer, then the
// process exits. A clamd that takes the message and never answers keeps the scans in flight.

describe('graceful shutdown with sessions in flight', () => {
  let clamd: net.Server;
  let seen = 0;
  const hanging: net.Socket[] = [];
  let h: HarakaInstance;

  before(async () => {
    // A clamd that reads a scan request and never answers (the scan waits for its timeout).
    clamd = net.createServer((sock) => {
      hanging.push(sock);
      sock.once('data', (d) => {
        if (/INSTREAM/.test(d.toString('latin1', 0, 16))) seen++;
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => clamd.listen(0, '127.0.0.1', r));
    h = await startHaraka({
      env: { PHISHX_CLAMAV_HOSTS: `127.0.0.1:${(clamd.address() as AddressInfo).port}`, PHISHX_CLAMAV_TIMEOUT_MS: '2500' },
      smtpIni: 'graceful_shutdown=true\nforce_shutdown_timeout=25',
    });
  });
  after(async () => {
    for (const r of hanging) r.destroy();
    await h?.stop();
    await new Promise((r) => clamd.close(r));
  });

  it('SIGTERM-equivalent mid-scan: no new sessions, both scans in flight answered (delivered, held), then the process exits', async () => {
    const deliver = sendRaw(h.port, cleanMessage({ subject: 'In flight at shutdown' }), { from: 'alice@example.com', to: ['bob@example.org'] });
    const hold = sendRaw(h.port, quarantineMessage(), { from: 'alerts@account-notice.example.net', to: ['carol@example.org'] });
    // Both are being scanned: clamd has both.
    await eventually(() => assert.equal(seen, 2));
    const exited = new Promise<number | null>((r) => h.proc.once('exit', (code) => r(code)));
    h.proc.kill('SIGINT');
    await eventually(async () => assert.equal(await accepts(h.port), false, 'listener closed'));
    const [a, b] = await Promise.all([deliver, hold]);
    assert.equal(a.code, 250, a.response);
    assert.equal(b.code, 250, b.response);
    assert.match(b.response, /held|quarantin/i);
    assert.ok(idFrom(b.response));
    assert.equal((await h.delivered()).filter((m) => m.includes('In flight at shutdown')).length, 1);
    assert.equal(await exited, 0);
  });
});
