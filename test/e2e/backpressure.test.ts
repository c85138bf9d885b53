import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { drive } from '../helpers/load.js';
import { bigMessage } from '../helpers/messages.js';
import { toCrlf } from '../helpers/smtp.js';
import { sampleSum } from '../helpers/metrics.js';
import { fetchFresh } from '../helpers/api.js';

describe('back-pressure at DATA ([main] max_queued_messages)', () => {
  let h: HarakaInstance;
  before(async () => {
    // One scan thread and at most one received message waiting for it: sixteen sessions of
    // 1 MB messages keep more than that waiting, so new DATA commands have to wait for room.
    h = await startHaraka({ env: { PHISHX_SCAN_THREADS: '1', PHISHX_MAX_QUEUED_MESSAGES: '1' } });
  });
  after(async () => {
    await h?.stop();
  });

  it('holds DATA back while the scan queue is full, and takes and delivers every message', async () => {
    const messages = Array.from({ length: 4 }, (_, i) => toCrlf(bigMessage(1).replace('Subject: big attachment', `Subject: big attachment ${i}`)));
    // Whether a burst outruns the scan thread depends on how fast this machine sends: on a
    // busy one a round can pass without a wait, so up to three rounds; a data hook that never
    // waits fails all three. Every round's messages must be taken and delivered whole.
    let sent = 0;
    let waits = 0;
    for (let round = 0; round < 3 && waits === 0; round++) {
      const answers = await drive(h.port, messages, 32, 16, { from: 'big@example.com', to: ['bob@example.org'] });
      sent += 32;
      assert.deepEqual(
        answers.map((a) => a.code),
        Array.from({ length: 32 }, () => 250),
      );
      waits = sampleSum(await (await fetchFresh(`http://127.0.0.1:${h.sidecarPort}/metrics`)).text(), 'phishx_data_waits_total', { result: 'room' });
    }
    assert.ok(waits >= 1, `no DATA command waited for room in ${sent / 32} rounds of 32`);
    const delivered = await h.delivered();
    assert.equal(delivered.length, sent);
    for (const d of delivered) assert.match(d, /filename="report\.bin"[\s\S]*--b1--/);
  });
});
