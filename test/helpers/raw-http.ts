import net from 'node:net';

export interface RawAnswer {
  /** HTTP status of the first response, 0 when the server closed without one. */
  status: number;
  /** Everything the server sent. */
  text: string;
  /** The server closed the connection (or it timed out: `timedOut`). */
  closed: boolean;
  timedOut: boolean;
}

/**
 * Send `bytes` as they are over one TCP connection and collect the answer until the server
 * closes or `timeoutMs` passes: for request lines and headers that no HTTP client would send.
 */
export function rawRequest(port: number, bytes: string | Buffer, timeoutMs = 5000, host = '127.0.0.1'): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(port, host);
    let done = false;
    const finish = (timedOut: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text, closed: !timedOut, timedOut });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      // One complete response with a Content-Length is enough: do not wait for keep-alive to end.
      const text = Buffer.concat(chunks).toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      const len = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, head));
      if (head >= 0 && len && text.length - head - 4 >= Number(len[1])) finish(false);
    });
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
    sock.write(bytes);
  });
}
