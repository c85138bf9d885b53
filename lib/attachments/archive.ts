import yauzl from 'yauzl';

export interface ArchiveEntry {
  name: string;
  size: number;
  compressed: number;
  encrypted: boolean;
  /** Depth of the archive that holds it (1 = the attachment itself). */
  depth: number;
}

export interface ArchiveInfo {
  entries: ArchiveEntry[];
  /** Listing stopped early: more entries than the limit, or nesting deeper than allowed. */
  truncated: boolean;
  /** Declared uncompressed total / compressed size, over all listed entries. */
  ratio: number;
  /** Not a readable zip (corrupt, or not a zip despite its name / magic). */
  unreadable: boolean;
}

export interface ArchiveLimits {
  maxEntries: number;
  maxDepth: number;
  /** Inner archives above this uncompressed size are listed but not opened. */
  maxInnerBytes: number;
}

function open(buf: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.fromBuffer(buf, { lazyEntries: true, validateEntrySizes: true, autoClose: false }, (err, zf) => (err || !zf ? reject(err ?? new Error('no zip')) : resolve(zf))));
}

function readEntry(zf: yauzl.ZipFile, e: yauzl.Entry, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zf.openReadStream(e, (err, s) => {
      if (err || !s) return reject(err ?? new Error('no stream'));
      const chunks: Buffer[] = [];
      let n = 0;
      s.on('data', (c: Buffer) => {
        n += c.length;
        if (n > max) s.destroy(new Error('inner archive above limit'));
        else chunks.push(c);
      });
      s.on('error', reject);
      s.on('end', () => resolve(Buffer.concat(chunks)));
    });
  });
}

/**
 * List a zip's entries from its central directory (nothing is decompressed), then, within
 * the depth and size limits, the entries of zips inside it. Bounded in entries, depth and
 * bytes, so an archive bomb is measured (declared ratio) but never inflated.
 */
export async function listZip(buf: Buffer, limits: ArchiveLimits, depth = 1, acc: ArchiveInfo = { entries: [], truncated: false, ratio: 0, unreadable: false }): Promise<ArchiveInfo> {
  let zf: yauzl.ZipFile;
  try {
    zf = await open(buf);
  } catch {
    if (depth === 1) acc.unreadable = true;
    return acc;
  }
  const inner: yauzl.Entry[] = [];
  await new Promise<void>((resolve) => {
    zf.on('entry', (e: yauzl.Entry) => {
      if (acc.entries.length >= limits.maxEntries) {
        acc.truncated = true;
        return resolve();
      }
      const name = e.fileName;
      acc.entries.push({ name, size: e.uncompressedSize, compressed: e.compressedSize, encrypted: (e.generalPurposeBitFlag & 1) === 1, depth });
      if (/\.zip$/i.test(name) && !(e.generalPurposeBitFlag & 1)) inner.push(e);
      zf.readEntry();
    });
    zf.on('end', () => resolve());
    zf.on('error', () => {
      if (depth === 1) acc.unreadable = true;
      resolve();
    });
    zf.readEntry();
  });
  for (const e of inner) {
    if (depth >= limits.maxDepth) {
      acc.truncated = true;
      break;
    }
    if (e.uncompressedSize > limits.maxInnerBytes) continue;
    try {
      await listZip(await readEntry(zf, e, limits.maxInnerBytes), limits, depth + 1, acc);
    } catch {
      acc.truncated = true;
    }
  }
  zf.close();
  const size = acc.entries.reduce((a, x) => a + x.size, 0);
  const comp = acc.entries.reduce((a, x) => a + x.compressed, 0);
  acc.ratio = comp > 0 ? size / comp : 0;
  return acc;
}
