import SMTPConnection from 'nodemailer/lib/smtp-connection';

export interface SmtpAnswer {
  /** Final reply code to the message (250, 550, 451 …), or 0 if the session failed before it. */
  code: number;
  response: string;
  ms: number;
}

/** Haraka refuses bare LF in DATA (as a real MX does): send CRLF like a real client. */
export function toCrlf(raw: Buffer | string): Buffer {
  // Buffers go through latin1 (byte-preserving); strings are encoded as UTF-8.
  if (Buffer.isBuffer(raw)) return Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
  return Buffer.from(raw.replace(/\r?\n/g, '\r\n'), 'utf8');
}

/**
 * Send one raw message over real SMTP with nodemailer's SMTPConnection (no composing:
 * the bytes are sent as given, dot-stuffed). Resolves with the server's final answer.
 */
export function sendRaw(
  port: number,
  raw: Buffer | string,
  env: { from: string; to: string[] },
  opts: { timeoutMs?: number; host?: string } = {},
): Promise<SmtpAnswer> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const conn = new SMTPConnection({
      host: opts.host ?? '127.0.0.1',
      port,
      ignoreTLS: true,
      socketTimeout: opts.timeoutMs ?? 60_000,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      name: 'phishx.client.localhost',
    });
    let settled = false;
    const finish = (a: Omit<SmtpAnswer, 'ms'>): void => {
      if (settled) return;
      settled = true;
      try {
        conn.quit();
      } catch {
        /* already closed */
      }
      resolve({ ...a, ms: performance.now() - t0 });
    };
    conn.on('error', (err: { responseCode?: number; response?: string; message: string }) =>
      finish({ code: err.responseCode ?? 0, response: err.response ?? err.message }),
    );
    conn.connect(() => {
      conn.send({ from: env.from, to: env.to }, toCrlf(raw), (err, info) => {
        if (err) {
          const e = err as unknown as { responseCode?: number; response?: string; message: string };
          return finish({ code: e.responseCode ?? 0, response: e.response ?? e.message });
        }
        const response = info?.response ?? '';
        finish({ code: Number(response.slice(0, 3)) || 0, response });
      });
    });
  });
}
