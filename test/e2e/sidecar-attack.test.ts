import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { cleanMessage } from '../helpers/messages.js';
import { rawRequest } from '../helpers/raw-http.js';
import { sendRaw } from '../helpers/smtp.js';

/**
 * Hardening finding 1: `GET //x:99999/` threw out of the request listener. Inline (and in
 * the cluster master) that took Haraka down; in thread mode the thread died and /alive was
 * down most of the time. In every mode the request must get an HTTP answer and nothing
 * else may change.
 */
const MODES: Array<{ name: string; nodes?: number; env?: NodeJS.ProcessEnv }> = [
  { name: 'sidecar thread (default)' },
  { name: 'sidecar inline (PHISHX_SIDECAR_THREAD=false)', env: { PHISHX_SIDECAR_THREAD: 'false' } },
  { name: 'cluster master (nodes=2)', nodes: 2 },
];

for (const mode of MODES) {
  describe(`sidecar under hostile request targets: ${mode.name}`, () => {
    let h: HarakaInstance;
    before(async () => {
      h = await startHaraka({ nodes: mode.nodes, env: mode.env });
    });
    after(async () => {
      await h?.stop();
    });

    it('answers `GET //x:99999/` with 404 fifty times while /alive and SMTP keep answering', async () => {
      for (let i = 0; i < 50; i++) {
        const r = await rawRequest(h.sidecarPort, 'GET //x:99999/ HTTP/1.1\r\nHost: x\r\n\r\n');
        assert.equal(r.status, 404, `request ${i}: ${r.text.slice(0, 200)}\n${h.logs().slice(-2000)}`);
        const alive = await rawRequest(h.sidecarPort, 'GET /alive HTTP/1.1\r\nHost: x\r\n\r\n');
        assert.equal(alive.status, 200, `alive after ${i}: ${alive.text.slice(0, 200)}`);
      }
      assert.equal(h.proc.exitCode, null, 'Haraka exited');
      assert.doesNotMatch(h.logs(), /sidecar thread exited|uncaught|TypeError: Invalid URL/i);
      const a = await sendRaw(h.port, cleanMessage(), { from: 'alice@example.com', to: ['bob@example.org'] });
      assert.equal(a.code, 250, a.response);
    });
  });
}
