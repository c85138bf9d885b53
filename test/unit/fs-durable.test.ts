import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { appendLineDurable, createFileDurable, writeFileDurable } from '../../lib/fs-durable.js';

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
