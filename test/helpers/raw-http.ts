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

interface TalkOptions {
  timeoutMs: number;
  /** Write in pieces of this many bytes, 1 ms apart (a slow writer); null: all at once. */
  chunk: number | null;
  /** Half-close after writing (the server sees the end of the input). */
  halfClose: boolean;
  /** Stop early once the bytes received satisfy this. */
  enough?: (text: string) => boolean;
  host: string;
}

/** One TCP connection: write `bytes`, collect the answer until the server closes, `enough`, or the timeout. */
function talk(port: number, bytes: string | Buffer, o: TalkOptions): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(port, o.host);
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
    const timer = setTimeout(() => finish(true), o.timeoutMs);
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      if (o.enough?.(Buffer.concat(chunks).toString('latin1'))) finish(false);
    });
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
    sock.on('connect', () => {
      const all = Buffer.from(bytes);
      const end = (): void => void (o.halfClose ? sock.end() : undefined);
      if (o.chunk === null) {
        sock.write(all, end);
        return;
      }
      const size = o.chunk;
      let at = 0;
      const step = (): void => {
        if (done) return;
        if (at >= all.length) return end();
        sock.write(all.subarray(at, at + size));
        at += size;
        setTimeout(step, 1);
      };
      step();
    });
  });
}

/** One complete response with a Content-Length is enough: do not wait for keep-alive to end. */
function oneResponse(text: string): boolean {
  const head = text.indexOf('\r\n\r\n');
  const len = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, head));
  return head >= 0 && len !== null && text.length - head - 4 >= Number(len[1]);
}

/**
 * Send `bytes` as they are over one TCP connection and collect the first answer (or until
 * the server closes, or `timeoutMs`): for request lines and headers no HTTP client would send.
 */
export function rawRequest(port: number, bytes: string | Buffer, timeoutMs = 5000, host = '127.0.0.1'): Promise<RawAnswer> {
  return talk(port, bytes, { timeoutMs, chunk: null, halfClose: false, enough: oneResponse, host });
}

/**
 * Send `bytes` (perhaps several pipelined requests, perhaps in slow pieces), half-close, and
 * collect everything until the server closes or `timeoutMs`.
 */
export function rawExchange(port: number, bytes: Buffer, chunk: number | null, timeoutMs = 15_000, host = '127.0.0.1'): Promise<RawAnswer> {
  return talk(port, bytes, { timeoutMs, chunk, halfClose: true, host });
}
