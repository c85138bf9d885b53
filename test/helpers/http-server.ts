import http from 'node:http';
import type { Writable } from 'node:stream';

export interface TestServer {
  url: string;
  server: http.Server;
  /** Requests received, in order. */
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

/** A real local HTTP server on a free port running `handler` (a stand-in for a remote API). */
export async function startHttpServer(handler: (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function json(res: http.ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

/**
 * Write JSON-looking chunks to `out` as fast as it drains, until it is destroyed (a reply
 * without end from a broken or hostile service); `sent` is told the bytes written so far.
 */
export function pumpWithoutEnd(out: Writable, sent: (bytes: number) => void = () => undefined): void {
  const chunk = Buffer.from('{"label":"phishing","score":0.5},'.repeat(2000));
  let bytes = 0;
  const pump = (): void => {
    while (!out.destroyed && !out.writableEnded && out.write(chunk)) sent((bytes += chunk.length));
    if (!out.destroyed) out.once('drain', pump);
  };
  pump();
}

/** Answer 200 with a JSON body that never ends. `declared`: a Content-Length to claim. */
export function jsonWithoutEnd(res: http.ServerResponse, declared?: number): void {
  res.writeHead(200, { 'content-type': 'application/json', ...(declared !== undefined ? { 'content-length': declared } : {}) });
  res.on('error', () => undefined);
  res.socket?.once('close', () => res.destroy());
  res.write('[');
  pumpWithoutEnd(res);
}
