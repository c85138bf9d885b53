import { crc32 } from 'node:zlib';
import SevenZip from '7z-wasm';

/**
 * Archives of other formats than zip, for tests. RAR cannot be written with free software:
 * `rar5` lays out a RAR 5.0 archive of stored files by the format's documentation
 * (rarlab.com/technote.htm — signature, main header, one file header per file, end of
 * archive); 7-Zip (7z-wasm, the library PhishX lists such archives with) writes the others.
 */

/** A RAR variable-length integer: 7 bits per byte, low first, high bit set while more follow. */
function vint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** One header: CRC32 of what follows it, its size, then type, flags and the fields. */
function rarHeader(type: number, flags: number, fields: Buffer[], extra?: Buffer, dataSize?: number): Buffer {
  const body = Buffer.concat([
    vint(type),
    vint(flags),
    ...(extra ? [vint(extra.length)] : []),
    ...(dataSize !== undefined ? [vint(dataSize)] : []),
    ...fields,
    ...(extra ? [extra] : []),
  ]);
  const sized = Buffer.concat([vint(body.length), body]);
  return Buffer.concat([u32(crc32(sized)), sized]);
}

export interface RarFile {
  name: string;
  data?: Buffer;
  /** Marked encrypted (AES-256 record with a zero salt and IV; the data is left as given). */
  encrypted?: boolean;
}

/** A RAR 5.0 archive holding `files` stored (uncompressed). */
export function rar5(files: readonly RarFile[]): Buffer {
  const parts: Buffer[] = [Buffer.from('526172211a070100', 'hex'), rarHeader(1, 0, [vint(0)])];
  for (const f of files) {
    const data = f.data ?? Buffer.alloc(0);
    const name = Buffer.from(f.name, 'utf8');
    // File encryption record: type 1, version 0, flags 0, KDF count 15, salt and IV.
    const record = f.encrypted ? Buffer.concat([vint(1), vint(0), vint(0), Buffer.from([15]), Buffer.alloc(32)]) : undefined;
    const extra = record ? Buffer.concat([vint(record.length), record]) : undefined;
    const fields = [
      vint(0x04), // file flags: data CRC32 present
      vint(data.length), // unpacked size
      vint(0x20), // attributes (archive)
      u32(crc32(data)),
      vint(0), // compression: version 0, stored
      vint(0), // host OS: Windows
      vint(name.length),
      name,
    ];
    parts.push(rarHeader(2, 0x02 | (extra ? 0x01 : 0), fields, extra, data.length), data);
  }
  parts.push(rarHeader(5, 0, [vint(0)]));
  return Buffer.concat(parts);
}

/** An archive 7-Zip writes: `format` as its -t switch (7z, tar, gzip, bzip2, xz), `args` more switches (-pSECRET -mhe=on). */
export async function sevenZipArchive(format: string, files: ReadonlyArray<{ name: string; data: Buffer }>, args: string[] = []): Promise<Buffer> {
  const errors: string[] = [];
  const sz = await SevenZip({ print: () => undefined, printErr: (s: string) => errors.push(s) });
  sz.FS.mkdir('/in');
  const made = new Set<string>();
  for (const f of files) {
    const dirs = f.name.split('/').slice(0, -1);
    for (let i = 1; i <= dirs.length; i++) {
      const d = `/in/${dirs.slice(0, i).join('/')}`;
      if (!made.has(d)) sz.FS.mkdir(d);
      made.add(d);
    }
    sz.FS.writeFile(`/in/${f.name}`, f.data);
  }
  sz.FS.chdir('/in');
  const exitCode = process.exitCode;
  sz.callMain(['a', `-t${format}`, '-bsp0', ...args, '/out.bin', ...new Set(files.map((f) => f.name.split('/')[0]))]);
  process.exitCode = exitCode;
  try {
    return Buffer.from(sz.FS.readFile('/out.bin'));
  } catch {
    throw new Error(`7-Zip wrote no archive: ${errors.join(' ')}`);
  }
}

/** `files` uuencoded as `uuencode` writes them (`base64`: as `uuencode -m`, base64 lines between `begin-base64` and `====`). */
export function uuencode(files: ReadonlyArray<{ name: string; data: Buffer }>, base64 = false, eol = '\n'): Buffer {
  const parts = files.map(({ name, data }) => {
    if (base64) return [`begin-base64 644 ${name}`, ...(data.toString('base64').match(/.{1,60}/g) ?? []), '===='].join(eol);
    const lines: string[] = [];
    for (let i = 0; i < data.length; i += 45) {
      const chunk = data.subarray(i, i + 45);
      let line = String.fromCharCode(32 + chunk.length);
      for (let j = 0; j < chunk.length; j += 3) {
        const [a, b = 0, c = 0] = chunk.subarray(j, j + 3);
        for (const v of [a >> 2, ((a & 3) << 4) | (b >> 4), ((b & 15) << 2) | (c >> 6), c & 63]) line += v ? String.fromCharCode(32 + v) : '`';
      }
      lines.push(line);
    }
    return [`begin 644 ${name}`, ...lines, '`', 'end'].join(eol);
  });
  return Buffer.from(parts.join(eol) + eol, 'latin1');
}
