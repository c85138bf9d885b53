import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { drive } from '../helpers/load.js';
import { bigMessage, cleanMessage, costlyBlockCharMessage } from '../helpers/messages.js';
import { toCrlf } from '../helpers/smtp.js';
import { sampleSum } from '../helpers/metrics.js';
import { fetchFresh } from '../helpers/api.js';
import { eventually } from '../helpers/eventually.js';
import { sendLean } from '../helpers/smtp-lean.js';

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

describe('scan places shared between client networks', () => {
  let h: HarakaInstance;
  before(async () => {
    // One scan thread (three places: the scan it runs and two waiting) and four received messages
    // waiting at most: the flood below keeps up to five waiting, so first come first served
    // another network's DATA would wait for room too (up to twice the limit it does not).
    h = await startHaraka({ env: { PHISHX_SCAN_THREADS: '1', PHISHX_MAX_QUEUED_MESSAGES: '4' } });
  });
  after(async () => {
    await h?.stop();
  });

  it("serves another network's message next while one network floods the scan thread with costly messages", async () => {
    // ~0.6 MB of random block characters in a <pre>: a scan of a tenth of a second or more.
    const costly = toCrlf(costlyBlockCharMessage(4000, 7));
    const flood = { from: 'a@flood.example', to: ['bob@example.org'] };
    let answered = 0;
    let stop = false;
    const codes: number[] = [];
    // Eight sessions from 127.0.0.1 keep sending: every place is taken and more wait.
    const floods = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const a = await sendLean(h.port, costly, flood, { timeoutMs: 60_000 });
        codes.push(a.code);
        answered++;
      }
    });
    try {
      await eventually(() => assert.ok(answered >= 8, `${answered} flood messages answered`), { timeoutMs: 60_000 });
      // Another network's message (127.0.1.1, another /24). Served first come first served it
      // would wait behind the flood's waiting messages, at DATA and for a place (seven or more
      // answers of the flood before its own); it gets the next free place instead: only the
      // messages already on the thread or handed to it finish before it.
      for (let i = 0; i < 3; i++) {
        const before = answered;
        const a = await sendLean(h.port, cleanMessage(), { from: 'alice@partner.example', to: ['bob@example.org'] }, { localAddress: '127.0.1.1' });
        assert.equal(a.code, 250, a.response);
        assert.ok(answered - before <= 4, `${answered - before} flood messages were answered while the other network's message waited`);
      }
    } finally {
      stop = true;
      await Promise.all(floods);
    }
    assert.deepEqual([...new Set(codes)], [250], 'the flood is served too');
  });
});
