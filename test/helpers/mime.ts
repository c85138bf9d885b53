import { zipSync } from 'fflate';

const b64 = (b: Buffer): string => b.toString('base64').replace(/.{1,76}/g, '$&\n');

/** A message carrying `content` as a base64 attachment named `name`, from `head.from` with `head.subject` and `head.text` (a plain part) before it. */
export function withAttachment(
  name: string,
  content: Buffer,
  type = 'application/octet-stream',
  head: { from?: string; subject?: string; text?: string } = {},
): string {
  return [
    `From: ${head.from ?? 'Alice <alice@example.com>'}`,
    'To: bob@example.org',
    `Subject: ${head.subject ?? `file ${name}`}`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="a1"',
    '',
    '--a1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    head.text ?? 'The file you asked for.',
    '--a1',
    `Content-Type: ${type}; name="${name}"`,
    `Content-Disposition: attachment; filename="${name}"`,
    'Content-Transfer-Encoding: base64',
    '',
    b64(content),
    '--a1--',
    '',
  ].join('\n');
}

/** A zip archive holding `files`. */
export function zip(files: Record<string, Buffer>): Buffer {
  return Buffer.from(zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, new Uint8Array(v)]))));
}

/** The attachment three levels deep: mixed ─► alternative+related ─► base64 part. */
export function nestedAttachment(name: string, content: Buffer): string {
  return [
    'From: Alice <alice@example.com>',
    'To: bob@example.org',
    `Subject: nested ${name}`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="n1"',
    '',
    '--n1',
    'Content-Type: multipart/related; boundary="n2"',
    '',
    '--n2',
    'Content-Type: multipart/alternative; boundary="n3"',
    '',
    '--n3',
    'Content-Type: text/plain',
    '',
    'see attached',
    '--n3',
    'Content-Type: text/html',
    '',
    '<p>see attached</p>',
    '--n3--',
    '--n2',
    `Content-Type: application/octet-stream; name="${name}"`,
    'Content-Transfer-Encoding: base64',
    '',
    b64(content),
    '--n2--',
    '--n1--',
    '',
  ].join('\n');
}

/**
 * A zip of `count` copies of one deflated entry, built by hand so that a bomb of gigabytes
 * costs one compression: `content` is deflated once and its bytes are written `count` times
 * under the names `name(i)`.
 */
export function repeatedEntryZip(content: Buffer, count: number, name: (i: number) => string): Buffer {
  // Let fflate compress (and checksum) the content once, then lift its local entry.
  const one = Buffer.from(zipSync({ x: [new Uint8Array(content), { level: 9 }] }));
  const crc = one.readUInt32LE(14);
  const compSize = one.readUInt32LE(18);
  const data = one.subarray(30 + one.readUInt16LE(26) + one.readUInt16LE(28), 30 + one.readUInt16LE(26) + one.readUInt16LE(28) + compSize);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const fname = Buffer.from(name(i));
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(8, 8); // deflate
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(compSize, 18);
    lh.writeUInt32LE(content.length, 22);
    lh.writeUInt16LE(fname.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(8, 10);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(compSize, 20);
    ch.writeUInt32LE(content.length, 24);
    ch.writeUInt16LE(fname.length, 28);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, fname, data);
    centrals.push(ch, fname);
    offset += 30 + fname.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** The probe's archive bomb: `count` inner zips, each storing `innerBytes` of zeros, deflated into one outer zip. */
export function nestedZipBomb(count = 1000, innerBytes = 10_000_000): Buffer {
  const inner = Buffer.from(zipSync({ 'zeros.bin': [new Uint8Array(innerBytes), { level: 0 }] }));
  return repeatedEntryZip(inner, count, (i) => `part${i}.zip`);
}
