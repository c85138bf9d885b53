import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { stream as MessageStream } from 'haraka-email-message';
import { readMessage } from '../../lib/haraka/read-message.js';

// readMessage against Haraka's own message stream (haraka-email-message's, the one Haraka's transactions use).

/** A message stream holding `lines` as Haraka's DATA phase fills it; `headers` = the transaction's live header list. */
async function streamOf(lines: string[], headers?: string[]): Promise<MessageStream> {
  const ms = new MessageStream({ main: {} }, 'test-uuid', headers);
  for (const l of lines) ms.add_line(Buffer.from(l, 'latin1'));
  await new Promise<void>((resolve) => ms.add_line_end(resolve));
  return ms;
}

const getData = (ms: MessageStream): Promise<Buffer> => new Promise((resolve) => ms.get_data(resolve));

describe('readMessage', () => {
  const body = Array.from({ length: 3000 }, (_, i) => (i % 97 === 0 ? `..dot-stuffed line ${i}\r\n` : `line ${i} ${'x'.repeat(i % 120)}\r\n`));
  const lines = ['From: a@example.com\r\n', 'Subject: hi\r\n', '\r\n', ...body];

  it('reads the same bytes as get_data: dot-unstuffed, with the header lines plugins changed', async () => {
    for (const headers of [undefined, ['From: a@example.com\r\n', 'X-Added: by a plugin\r\n', 'Subject: hi\r\n']]) {
      const ms = await streamOf(lines, headers);
      const expected = await getData(ms);
      for (const hint of [0, 100, expected.length, 10 * expected.length, NaN, -5, undefined]) {
        const got = await readMessage(ms, hint);
        assert.ok(got.equals(expected), `hint ${hint}: ${got.length} vs ${expected.length} bytes`);
      }
      assert.match(expected.toString('latin1'), /\r\n\.dot-stuffed line 0\r\n/);
    }
  });

  it('returns memory of its own: moving it to another thread leaves every other buffer intact', async () => {
    const ms = await streamOf(['Subject: tiny\r\n', '\r\n', 'x\r\n']);
    const neighbour = Buffer.from('pooled'); // small buffers share Node's pool
    const got = await readMessage(ms, 10);
    const { port1, port2 } = new MessageChannel();
    const arrived = new Promise<Uint8Array>((resolve) => port2.once('message', resolve));
    port1.postMessage(got, [got.buffer as ArrayBuffer]);
    const there = await arrived;
    port1.close();
    assert.equal(Buffer.from(there).toString('latin1'), 'Subject: tiny\r\n\r\nx\r\n');
    assert.equal(got.length, 0, 'moved, not copied');
    assert.equal(neighbour.toString(), 'pooled');
  });

  it('rejects when the stream cannot be read (never hangs, never resolves half a message)', async () => {
    await assert.rejects(
      readMessage({
        pipe: () => {
          throw new Error('spool file gone');
        },
      }),
      /spool file gone/,
    );
    const failing = {
      pipe(dest: NodeJS.WritableStream) {
        const w = dest as Writable;
        w.write(Buffer.from('Subject: half\r\n'));
        w.destroy(new Error('read error'));
        return dest;
      },
    };
    await assert.rejects(readMessage(failing), /read error/);
  });
});
