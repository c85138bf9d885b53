import net from 'node:net';
import { toCrlf, type SmtpAnswer } from './smtp.js';

/**
 * A lean SMTP client for load generation: one session per message, the commands a plain
 * client sends (EHLO, MAIL, RCPT…, DATA, QUIT) without pipelining, each after the previous
 * reply, over one socket with Nagle off. Unlike nodemailer's SMTPConnection it parses nothing
 * but reply codes and sends the message's wire form prepared once per buffer, so the load
 * generator costs the cores it shares with the server as little as it can: the bench measures
 * the server, not the client (nodemailer capped bare Haraka at ~300–375 msg/s at 20 sessions
 * on two cores with a third of the CPU idle).
 */

/** DATA payload: CRLF line ends, dot-stuffed (RFC 5321 4.5.2), ended by CRLF.CRLF. Built once per buffer. */
const wireForm = new WeakMap<Buffer, Buffer>();

export function dataBytes(raw: Buffer | string): Buffer {
  const cached = typeof raw === 'string' ? undefined : wireForm.get(raw);
  if (cached) return cached;
  const text = toCrlf(raw)
    .toString('latin1')
    .replace(/(^|\r\n)\./g, '$1..');
  const out = Buffer.from(`${text}${text.endsWith('\r\n') ? '' : '\r\n'}.\r\n`, 'latin1');
  if (typeof raw !== 'string') wireForm.set(raw, out);
  return out;
}

/** Index just past the first complete reply in `buf` (its last line has a space or nothing after the code), or -1. */
function replyEnd(buf: string): number {
  let at = 0;
  for (;;) {
    const nl = buf.indexOf('\r\n', at);
    if (nl < 0) return -1;
    if (nl - at < 4 || buf[at + 3] !== '-') return nl + 2;
    at = nl + 2;
  }
}

/** Send one message; resolves with the reply to its data (or the first refusal), never rejects. */
export function sendLean(
  port: number,
  raw: Buffer | string,
  env: { from: string; to: string[] },
  opts: { timeoutMs?: number; host?: string; localAddress?: string } = {},
): Promise<SmtpAnswer> {
  const t0 = performance.now();
  const data = dataBytes(raw);
  // Each command is sent once the reply before it came with the expected code.
  const steps: Array<{ send: string | Buffer; expect: number }> = [
    { send: 'EHLO phishx.client.localhost\r\n', expect: 220 },
    { send: `MAIL FROM:<${env.from}>\r\n`, expect: 250 },
    ...env.to.map((to) => ({ send: `RCPT TO:<${to}>\r\n`, expect: 250 })),
    { send: 'DATA\r\n', expect: 250 },
    { send: data, expect: 354 },
  ];
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: opts.host ?? '127.0.0.1', ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    sock.setNoDelay(true);
    sock.setTimeout(opts.timeoutMs ?? 60_000);
    let buf = '';
    let step = 0;
    let settled = false;
    const finish = (code: number, response: string): void => {
      if (settled) return;
      settled = true;
      if (code) sock.end('QUIT\r\n');
      else sock.destroy();
      resolve({ code, response, ms: performance.now() - t0 });
    };
    sock.on('timeout', () => finish(0, 'timeout'));
    sock.on('error', (err) => finish(0, err.message));
    sock.on('close', () => finish(0, step < steps.length ? 'connection closed' : 'connection closed before the final reply'));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = replyEnd(buf); end >= 0 && !settled; end = replyEnd(buf)) {
        const reply = buf.slice(0, end - 2);
        buf = buf.slice(end);
        const code = Number(reply.slice(0, 3)) || 0;
        const last = reply.slice(reply.lastIndexOf('\n') + 1);
        if (step === steps.length) return finish(code, last);
        if (code !== steps[step].expect) return finish(code, last);
        sock.write(steps[step++].send);
      }
    });
  });
}
