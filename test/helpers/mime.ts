import { zipSync } from 'fflate';

const b64 = (b: Buffer): string => b.toString('base64').replace(/.{1,76}/g, '$&\n');

/** A message carrying `content` as a base64 attachment named `name`. */
export function withAttachment(name: string, content: Buffer, type = 'application/octet-stream'): string {
  return ['From: Alice <alice@example.com>', 'To: bob@example.org', `Subject: file ${name}`, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="a1"', '', '--a1', 'Content-Type: text/plain', '', 'The file you asked for.', '--a1', `Content-Type: ${type}; name="${name}"`, `Content-Disposition: attachment; filename="${name}"`, 'Content-Transfer-Encoding: base64', '', b64(content), '--a1--', ''].join('\n');
}

/** A zip archive holding `files`. */
export function zip(files: Record<string, Buffer>): Buffer {
  return Buffer.from(zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, new Uint8Array(v)]))));
}

/** The attachment three levels deep: mixed ─► alternative+related ─► base64 part. */
export function nestedAttachment(name: string, content: Buffer): string {
  return [
    'From: Alice <alice@example.com>', 'To: bob@example.org', `Subject: nested ${name}`, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="n1"', '',
    '--n1', 'Content-Type: multipart/related; boundary="n2"', '',
    '--n2', 'Content-Type: multipart/alternative; boundary="n3"', '',
    '--n3', 'Content-Type: text/plain', '', 'see attached', '--n3', 'Content-Type: text/html', '', '<p>see attached</p>', '--n3--',
    '--n2', `Content-Type: application/octet-stream; name="${name}"`, 'Content-Transfer-Encoding: base64', '', b64(content), '--n2--',
    '--n1--', '',
  ].join('\n');
}
