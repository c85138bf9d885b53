import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** fsync a directory, so a rename or unlink in it survives a crash (not supported everywhere: best effort). */
export async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    /* some platforms cannot fsync a directory; the rename is still atomic */
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * Write `data` to `file` so that after this resolves the file survives a crash or power
 * loss whole, and a reader never sees half of it: a private temp file in the same
 * directory, written and fsync'd, renamed over `file`, the directory fsync'd.
 */
export async function writeFileDurable(file: string, data: Buffer | string): Promise<void> {
  const tmp = await writeTemp(file, data);
  await rename(tmp, file);
  await syncDir(path.dirname(file));
}

/** Directories this process has created or found (a store writes into the same few, thousands of times). */
const knownDirs = new Set<string>();

/**
 * `open(file, flags, mode)`, creating the file's directory first the first time this process
 * writes there; a directory removed since (an operator's cleanup) is made again.
 */
async function openCreatingDir(file: string, flags: string, mode: number): Promise<FileHandle> {
  const dir = path.dirname(file);
  if (!knownDirs.has(dir)) {
    await mkdir(dir, { recursive: true });
    knownDirs.add(dir);
  }
  try {
    return await open(file, flags, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    knownDirs.delete(dir);
    await mkdir(dir, { recursive: true });
    knownDirs.add(dir);
    return open(file, flags, mode);
  }
}

/** `data` written and fsync'd to a private temp file beside `file` (mode 0600); returns its path. */
async function writeTemp(file: string, data: Buffer | string): Promise<string> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await openCreatingDir(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  return tmp;
}

/**
 * Create `file` with `data` only if it does not exist yet: written whole and fsync'd under a
 * private temp name, then hard-linked to its name. `link` is atomic and fails when the name
 * exists, so of several processes creating the same name exactly one succeeds: a
 * compare-and-set on the file system. Returns false when the name was taken.
 */
export async function createFileDurable(file: string, data: Buffer | string): Promise<boolean> {
  const tmp = await writeTemp(file, data);
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  await syncDir(path.dirname(file));
  return true;
}

/** Append one line to `file` (created 0600) and fsync it before resolving. */
export async function appendLineDurable(file: string, line: string): Promise<void> {
  const fh = await openCreatingDir(file, 'a', 0o600);
  try {
    // One write() with O_APPEND: lines of several processes never interleave.
    await fh.write(`${line}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
