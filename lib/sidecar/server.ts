import http from 'node:http';
import { errorMessage, PhishXError } from '../errors.js';
import { breakerSnapshot } from '../resilience/breaker.js';

export interface HealthProbe {
  /** Config loaded and valid. */
  configValid(): boolean;
  /** Haraka is accepting SMTP connections. */
  smtpListening(): boolean;
  /** Store round-trip in ms; throws when unusable. */
  storePing(): Promise<number>;
  storeKind(): string;
}

export interface Sidecar {
  server: http.Server;
  address: { host: string; port: number };
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json), 'cache-control': 'no-store' });
  res.end(json);
}

/**
 * The sidecar HTTP server (one per Haraka instance). This first version answers
 * `/alive`, `/ready` and `/health`; metrics, full health and the SOC API attach here.
 */
export function createSidecarHandler(probe: HealthProbe): http.RequestListener {
  return (req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' });
    const store = async (): Promise<{ ok: boolean; kind: string; latency_ms?: number; error?: string }> => {
      try {
        return { ok: true, kind: probe.storeKind(), latency_ms: Math.round((await probe.storePing()) * 100) / 100 };
      } catch (err) {
        return { ok: false, kind: probe.storeKind(), error: errorMessage(err) };
      }
    };
    switch (url) {
      case '/alive':
        return send(res, 200, { status: 'alive', pid: process.pid, uptime_s: Math.round(process.uptime()) });
      case '/ready': {
        void store().then((s) => {
          const checks = { config: probe.configValid(), smtp: probe.smtpListening(), store: s.ok };
          const ready = checks.config && checks.smtp && checks.store;
          send(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks, ...(s.error ? { store_error: s.error } : {}) });
        });
        return;
      }
      case '/health': {
        // UNHEALTHY (503) when the store is unusable; DEGRADED (200) when a breaker is open
        // (a dependency is failing and PhishX is running on its fail mode).
        void store().then((s) => {
          const breakers = breakerSnapshot();
          const degraded = breakers.some((b) => b.state !== 'closed');
          const status = !s.ok ? 'UNHEALTHY' : degraded ? 'DEGRADED' : 'HEALTHY';
          send(res, s.ok ? 200 : 503, { status, store: s, breakers });
        });
        return;
      }
      default:
        return send(res, 404, { error: 'not found', path: url });
    }
  };
}

export function startSidecar(listen: { host: string; port: number }, probe: HealthProbe): Promise<Sidecar> {
  const server = http.createServer(createSidecarHandler(probe));
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'address already in use (another PhishX or program holds it; set [sidecar] listen or PHISHX_SIDECAR_LISTEN)' : err.message;
      reject(new PhishXError('PHISHX_SIDECAR_LISTEN', `sidecar cannot listen on ${listen.host}:${listen.port}: ${why}`, { cause: err }));
    });
    server.listen(listen.port, listen.host, () => {
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : listen.port;
      resolve({
        server,
        address: { host: listen.host, port },
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}
