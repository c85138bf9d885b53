import http from 'node:http';

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
 * Answer 200 with a JSON body that never ends (a broken or hostile service): chunks as fast
 * as the client reads them until it goes away. `declared`: a Content-Length to claim.
 */
export function jsonWithoutEnd(res: http.ServerResponse, declared?: number): void {
  res.writeHead(200, { 'content-type': 'application/json', ...(declared !== undefined ? { 'content-length': declared } : {}) });
  const chunk = Buffer.from(`[${'{"label":"phishing","score":0.5},'.repeat(2000)}`);
  res.on('error', () => undefined);
  const pump = (): void => {
    while (!res.destroyed && !res.writableEnded && res.write(chunk));
    if (!res.destroyed) res.once('drain', pump);
  };
  res.socket?.once('close', () => res.destroy());
  pump();
}
