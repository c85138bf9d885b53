import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { Writable, type Transform } from 'node:stream';
import { describe, it } from 'node:test';
import { createRequire } from 'node:module';
import { stream as MessageStream } from 'haraka-email-message';
import { fastLineReads, readMessage } from '../../lib/haraka/read-message.js';
import { dotUnstuffer } from '../../lib/haraka/dot-unstuff.js';
import { prng } from '../../lib/nlp/train.js';

// haraka-message-stream's per-line transform, the one its pipe() uses (the module instance Haraka loads).
type TransformCtor = new (opts?: object) => Transform;
const LineTransformer = createRequire(require.resolve('haraka-email-message'))('haraka-message-stream/lib/line-transformer') as TransformCtor;

/** What `LineTransformer` with its defaults (pipe()'s for a reader passing no options) makes of `chunks`. */
function lineTransformed(chunks: readonly Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const t = new LineTransformer({});
    const out: Buffer[] = [];
    t.on('data', (b: Buffer) => out.push(Buffer.from(b)));
    t.once('end', () => resolve(Buffer.concat(out)));
    t.once('error', reject);
    for (const c of chunks) t.write(c);
    t.end();
  });
}

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

  it('reads without the per-line transform while haraka-message-stream is the known shape (an upgrade that changes it fails here)', async () => {
    const ms = await streamOf(lines);
    assert.equal(fastLineReads(ms, LineTransformer), true, 'pipe() or LineTransformer changed: re-check dot-unstuff.ts against it and update the shapes');
    const proto = LineTransformer.prototype as Transform & { _transform: Transform['_transform'] };
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called back with apply(this)
    const original = proto._transform;
    let perLine = 0;
    proto._transform = function (this: Transform, ...args: Parameters<Transform['_transform']>) {
      perLine++;
      return original.apply(this, args);
    };
    try {
      const fast = await readMessage(ms, 0);
      assert.equal(perLine, 0, 'readMessage went through the per-line transform');
      const slow = await getData(ms);
      assert.ok(perLine > 0, 'get_data reads through it (the counter counts)');
      assert.ok(fast.equals(slow));
    } finally {
      proto._transform = original;
    }
    assert.equal(fastLineReads(ms, class LineTransformer {}), false, 'another class is not the known shape');
  });

  it("reads messages longer than the stream's 64 KB chunks the same, with dot-stuffed lines at every chunk edge", async () => {
    const rnd = prng(11);
    for (let round = 0; round < 6; round++) {
      const body: string[] = [];
      for (let size = 0; size < 200_000;) {
        const r = rnd();
        const line =
          r < 0.15 ? '..\r\n' : r < 0.3 ? `..${'y'.repeat(Math.floor(rnd() * 90))}\r\n` : r < 0.35 ? '.\r\n' : `${'x'.repeat(Math.floor(rnd() * 200))}\r\n`;
        body.push(line);
        size += line.length;
      }
      const ms = await streamOf(['From: a@example.com\r\n', '\r\n', ...body], round % 2 ? ['From: a@example.com\r\n', 'X-Dot: .x\r\n'] : undefined);
      const got = await readMessage(ms, 0);
      assert.ok(got.equals(await getData(ms)), `round ${round}`);
    }
  });
});

describe('dotUnstuffer', () => {
  it("gives the bytes of haraka-message-stream's LineTransformer on any stream cut anywhere", async () => {
    const rnd = prng(5);
    const pieces = ['.', '.', '..', '\n', '\r', '\r\n', '\r\n.', 'a', 'bc'];
    for (let n = 0; n < 3000; n++) {
      let text = '';
      for (let len = Math.floor(rnd() * 40); len > 0; len--) text += pieces[Math.floor(rnd() * pieces.length)];
      const bytes = Buffer.from(text, 'latin1');
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length;) {
        const len = Math.floor(rnd() * 6); // empty chunks too
        chunks.push(bytes.subarray(at, at + len));
        at += len;
      }
      const out: Buffer[] = [];
      const u = dotUnstuffer();
      for (const c of chunks) u.write(c, (b) => out.push(Buffer.from(b)));
      u.end((b) => out.push(Buffer.from(b)));
      const expected = await lineTransformed(chunks);
      assert.equal(Buffer.concat(out).toString('latin1'), expected.toString('latin1'), JSON.stringify(chunks.map((c) => c.toString('latin1'))));
    }
  });

  it('pushes slices of the chunks, not copies, and holds only a dot at a line start', () => {
    const u = dotUnstuffer();
    const got: Buffer[] = [];
    const chunk = Buffer.from('a\r\n..b\r\n.');
    u.write(chunk, (b) => got.push(b));
    assert.deepEqual(
      got.map((b) => b.toString()),
      ['a\r\n', '.b\r\n'],
    );
    assert.equal(got[0].buffer, chunk.buffer);
    u.write(Buffer.from('.c'), (b) => got.push(b));
    u.end((b) => got.push(b));
    assert.equal(Buffer.concat(got).toString(), 'a\r\n.b\r\n.c');
  });
});
