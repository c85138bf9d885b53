import net from 'node:net';
import { PhishXError } from '../errors.js';
import type { BreakerConfig } from '../config/types.js';
import { guarded } from '../resilience/breaker.js';
import { parseClamdHost, type ClamdHost } from '../config/values.js';

export { parseClamdHost, type ClamdHost } from '../config/values.js';

export type ClamdResult = { status: 'clean'; host: string } | { status: 'virus'; signature: string; host: string } | { status: 'size_limit'; host: string };

/** clamd answers "stream: OK", "stream: <Signature> FOUND", "INSTREAM size limit exceeded. ERROR". Pure. */
export function parseInstreamReply(reply: string, host: string): ClamdResult {
  const r = reply.replace(/\0+$/, '').trim();
  if (/size limit exceeded/i.test(r)) return { status: 'size_limit', host };
  const found = /^(?:stream|[^:]*):\s*(.+?)\s+FOUND$/.exec(r);
  if (found) return { status: 'virus', signature: found[1], host };
  if (/:\s*OK$/.test(r)) return { status: 'clean', host };
  throw new PhishXError('PHISHX_CLAMD_BAD_REPLY', `clamd ${host}: unexpected reply ${JSON.stringify(r.slice(0, 120))}`);
}

const CHUNK = 64 * 1024;
/** Longest reply read from a clamd (its replies — OK, FOUND, VERSION, PONG — are one short line). */
const MAX_REPLY_BYTES = 4096;

/**
 * clamd client: INSTREAM over TCP or a unix socket, streamed in chunks with backpressure,
 * one deadline per host (the socket is destroyed at it), failover across hosts in order.
 * Throws PHISHX_CLAMD_UNAVAILABLE when no host answers.
 */
export class ClamdClient {
  readonly hosts: ClamdHost[];
  constructor(
    hosts: string[],
    private readonly timeoutMs: number,
    private readonly breaker?: BreakerConfig,
  ) {
    this.hosts = hosts.map(parseClamdHost);
  }

  private connect(h: ClamdHost): net.Socket {
    return h.kind === 'unix' ? net.connect({ path: h.path }) : net.connect({ host: h.host, port: h.port });
  }

  /** One command on one host: send `payload()`'s bytes, collect the reply up to the NUL. */
  private exchange(h: ClamdHost, command: string, body: Buffer | null, deadlineMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const sock = this.connect(h);
      const chunks: Buffer[] = [];
      let done = false;
      let streamed = 0;
      const finish = (err: Error | null, reply?: string): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve(reply!);
      };
      const timer = setTimeout(() => finish(new PhishXError('PHISHX_CLAMD_UNAVAILABLE', `clamd ${h.label}: no answer within ${deadlineMs} ms`)), deadlineMs);
      let replied = 0;
      sock.on('data', (d: Buffer) => {
        const nul = d.indexOf(0);
        chunks.push(nul >= 0 ? d.subarray(0, nul) : d);
        replied += d.length;
        if (nul >= 0) finish(null, Buffer.concat(chunks).toString('utf8'));
        else if (replied > MAX_REPLY_BYTES)
          // A clamd's replies are one short line; this is another service, or a broken one.
          finish(new PhishXError('PHISHX_CLAMD_UNAVAILABLE', `clamd ${h.label}: ${replied} bytes of reply without its end (a clamd answers one short line)`));
      });
      sock.on('error', (err: NodeJS.ErrnoException) => {
        // clamd answers "size limit exceeded" and closes as soon as a stream passes its
        // StreamMaxLength; our next writes then meet a reset that can swallow that reply.
        // A reset in the middle of a stream is therefore read as the size limit (a dead
        // clamd shows up as a refused connection on the next message instead).
        const got = Buffer.concat(chunks).toString('utf8');
        if (got) finish(null, got);
        else if (streamed > 0 && (err.code === 'EPIPE' || err.code === 'ECONNRESET'))
          finish(null, `INSTREAM size limit exceeded (connection reset after ${streamed} bytes)`);
        else finish(new PhishXError('PHISHX_CLAMD_UNAVAILABLE', `clamd ${h.label}: ${err.code ?? err.message}`, { cause: err }));
      });
      sock.on('end', () => {
        const got = Buffer.concat(chunks).toString('utf8');
        if (got) finish(null, got);
        else finish(new PhishXError('PHISHX_CLAMD_UNAVAILABLE', `clamd ${h.label}: closed without a reply`));
      });
      sock.once('connect', () => {
        void (async () => {
          const write = (b: Buffer): Promise<void> => (sock.write(b) ? Promise.resolve() : new Promise((r) => sock.once('drain', () => r())));
          await write(Buffer.from(`z${command}\0`));
          if (body) {
            for (let off = 0; off < body.length && !done; off += CHUNK) {
              const part = body.subarray(off, off + CHUNK);
              const len = Buffer.alloc(4);
              len.writeUInt32BE(part.length);
              await write(len);
              await write(part);
              streamed += part.length;
            }
            if (!done) await write(Buffer.alloc(4));
          }
        })().catch(() => undefined); // write errors surface through 'error'
      });
    });
  }

  /** Scan bytes; tries each host in order until one answers. */
  async scan(data: Buffer, deadlineMs = this.timeoutMs): Promise<ClamdResult> {
    const errors: string[] = [];
    const until = Date.now() + Math.min(deadlineMs, this.timeoutMs);
    for (const h of this.hosts) {
      const left = until - Date.now();
      if (left <= 0) break;
      try {
        // One breaker per clamd host: an open one is skipped at once, the next host tried.
        const call = async (): Promise<ClamdResult> => parseInstreamReply(await this.exchange(h, 'INSTREAM', data, left), h.label);
        return this.breaker ? await guarded(`clamav ${h.label}`, this.breaker, call) : await call();
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    throw new PhishXError('PHISHX_CLAMD_UNAVAILABLE', errors.length ? errors.join('; ') : `no clamd answered within ${deadlineMs} ms`);
  }

  /** PING every host: label ─► PONG latency in ms, or the error. For health checks. */
  async ping(deadlineMs = this.timeoutMs): Promise<Array<{ host: string; ok: boolean; ms?: number; version?: string; error?: string }>> {
    return Promise.all(
      this.hosts.map(async (h) => {
        const t0 = performance.now();
        try {
          const pong = await this.exchange(h, 'PING', null, deadlineMs);
          if (pong.trim() !== 'PONG') throw new Error(`answered ${JSON.stringify(pong.slice(0, 80))}`);
          const version = (await this.exchange(h, 'VERSION', null, Math.max(1, deadlineMs - (performance.now() - t0)))).trim().slice(0, 200);
          return { host: h.label, ok: true, ms: performance.now() - t0, version };
        } catch (err) {
          return { host: h.label, ok: false, error: (err as Error).message };
        }
      }),
    );
  }
}

const clients = new Map<string, ClamdClient>();

/** One client per host list and timeout per process; null when ClamAV is off. */
export function clamdFor(cfg: { hosts: string[]; timeout_ms: number }, breaker?: BreakerConfig): ClamdClient | null {
  if (!cfg.hosts.length) return null;
  const key = JSON.stringify([cfg.hosts, cfg.timeout_ms, breaker]);
  let c = clients.get(key);
  if (!c) {
    c = new ClamdClient(cfg.hosts, cfg.timeout_ms, breaker);
    clients.set(key, c);
  }
  return c;
}
