import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { appendLineDurable, appendStats, createFileDurable, GroupCommit, writeFileDurable, writeFilesDurableInOrder } from '../../lib/fs-durable.js';
import { eventually } from '../helpers/eventually.js';

describe('durable file writes', () => {
  it('create their directory, and make it again when it was removed after a first write', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'phishx-durable-'));
    try {
      const dir = path.join(root, 'a', 'b');
      await writeFileDurable(path.join(dir, 'one.json'), '1');
      await appendLineDurable(path.join(dir, 'journal.log'), 'first');
      await rm(path.join(root, 'a'), { recursive: true });
      await writeFileDurable(path.join(dir, 'two.json'), '2');
      await appendLineDurable(path.join(dir, 'journal.log'), 'second');
      assert.equal(await createFileDurable(path.join(dir, 'three.json'), '3'), true);
      assert.equal(await createFileDurable(path.join(dir, 'three.json'), 'again'), false);
      assert.equal(await readFile(path.join(dir, 'two.json'), 'utf8'), '2');
      assert.equal(await readFile(path.join(dir, 'journal.log'), 'utf8'), 'second\n');
      assert.equal(await readFile(path.join(dir, 'three.json'), 'utf8'), '3');
      assert.deepEqual((await readdir(dir)).sort(), ['journal.log', 'three.json', 'two.json'], 'no temp file left');
      assert.equal((await stat(path.join(dir, 'two.json'))).mode & 0o777, 0o600);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('group commit', () => {
  it('a call waits for a run that started after it; calls during a run share the next one', async () => {
    const g = new GroupCommit();
    const started: number[] = [];
    let release!: () => void;
    const run = (): Promise<void> => {
      started.push(started.length);
      return new Promise<void>((r) => (release = r));
    };
    const order: string[] = [];
    const first = g.sync('d', run).then(() => order.push('first'));
    assert.equal(started.length, 1, 'the first call starts a run at once');
    // Three calls while it runs: none may settle with it (their writes came after it started).
    const later = [1, 2, 3].map((i) => g.sync('d', run).then(() => order.push(`later${i}`)));
    assert.equal(started.length, 1, 'no second run while one is in flight');
    release();
    await first;
    await eventually(() => assert.equal(started.length, 2, 'the next run starts once the first is done'));
    assert.deepEqual(order, ['first'], 'the later calls still wait for their run');
    release();
    await Promise.all(later);
    assert.deepEqual(order, ['first', 'later1', 'later2', 'later3']);
    assert.equal(g.runs, 2, 'three calls, one run');
    // Another key is independent.
    const other = g.sync('e', run);
    assert.equal(started.length, 3);
    release();
    await other;
  });

  it('a failed run rejects the calls that shared it, and the next call runs again', async () => {
    const g = new GroupCommit();
    let fail = true;
    const run = async (): Promise<void> => {
      await new Promise((r) => setImmediate(r));
      if (fail) throw new Error('EIO');
    };
    const a = g.sync('d', run);
    const b = g.sync('d', run);
    await assert.rejects(a, /EIO/);
    await assert.rejects(b, /EIO/);
    fail = false;
    await g.sync('d', run);
    assert.equal(g.runs, 3);
  });

  it('appends made at once go out in one write and fsync, in the order they were made, whole lines', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'phishx-durable-'));
    try {
      const file = path.join(root, 'events.jsonl');
      const before = appendStats.batches;
      await Promise.all(Array.from({ length: 200 }, (_, i) => appendLineDurable(file, `{"n":${i}}`)));
      // The first line starts a batch at once; the 199 made while it was written share the next.
      assert.equal(appendStats.batches - before, 2);
      const lines = (await readFile(file, 'utf8')).split('\n');
      assert.equal(lines.pop(), '', 'ends with a newline');
      assert.deepEqual(
        lines,
        Array.from({ length: 200 }, (_, i) => `{"n":${i}}`),
      );
      // A batch stops growing at 256 KB: 40 lines of 10 KB take more than one write, in order.
      const big = path.join(root, 'big.jsonl');
      const mark = appendStats.batches;
      await Promise.all(Array.from({ length: 41 }, (_, i) => appendLineDurable(big, `${i}:${'x'.repeat(10_000)}`)));
      assert.ok(appendStats.batches - mark >= 3, `${appendStats.batches - mark} batches`);
      assert.deepEqual(
        (await readFile(big, 'utf8'))
          .trimEnd()
          .split('\n')
          .map((l) => Number(l.split(':')[0])),
        Array.from({ length: 41 }, (_, i) => i),
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('a failed append rejects its batch, and later appends still go out', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'phishx-durable-'));
    try {
      // The file's name is taken by a directory: opening it for append fails.
      const file = path.join(root, 'log');
      await mkdir(file);
      await assert.rejects(Promise.all([appendLineDurable(file, 'a'), appendLineDurable(file, 'b')]), /EISDIR/);
      await rm(file, { recursive: true });
      await appendLineDurable(file, 'c');
      assert.equal(await readFile(file, 'utf8'), 'c\n');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('writeFilesDurableInOrder', () => {
  it('puts every file in place whole, leaves no temp file, and never puts a later file without the earlier ones', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'phishx-durable-'));
    try {
      const held = path.join(root, 'held');
      await writeFilesDurableInOrder([
        [path.join(held, 'm1.eml'), Buffer.from('raw bytes')],
        [path.join(held, 'm1.json'), '{"id":"m1"}'],
      ]);
      assert.equal(await readFile(path.join(held, 'm1.eml'), 'utf8'), 'raw bytes');
      assert.equal(await readFile(path.join(held, 'm1.json'), 'utf8'), '{"id":"m1"}');
      // The bytes cannot be put in place (their name is taken by a directory): the entry must not appear.
      await mkdir(path.join(held, 'm2.eml', 'x'), { recursive: true });
      await assert.rejects(
        writeFilesDurableInOrder([
          [path.join(held, 'm2.eml'), Buffer.from('raw')],
          [path.join(held, 'm2.json'), '{"id":"m2"}'],
        ]),
      );
      const names = await readdir(held);
      assert.ok(!names.includes('m2.json'), 'no entry without its bytes');
      // A temp write that fails (its directory is a file) removes the others' temps and puts nothing in place.
      await writeFile(path.join(root, 'blocked'), '');
      await assert.rejects(
        writeFilesDurableInOrder([
          [path.join(held, 'm3.eml'), Buffer.from('raw')],
          [path.join(root, 'blocked', 'm3.json'), '{}'],
        ]),
        /ENOTDIR|EEXIST/,
      );
      assert.deepEqual((await readdir(held)).sort(), ['m1.eml', 'm1.json', 'm2.eml'].sort(), 'no temp file, no m3');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
