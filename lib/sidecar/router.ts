import type http from 'node:http';
import { errorMessage } from '../errors.js';
import { processMetrics } from '../metrics/catalog.js';
import { bearerOf, scopeAllows, TokenVerifier, type ApiToken, type Principal, type Scope } from './auth.js';
import { RateLimiter } from './rate-limit.js';
import { verifyWebhook, type NonceCache, type SigningSecret } from '../webhooks/signing.js';

/**
 * The sidecar's request pipeline, shared by every route (health, metrics and the SOC API
 * that attaches later): route match (404 / 405) ─► per-client rate limit (429 +
 * Retry-After) ─► bearer auth (401 + WWW-Authenticate) ─► bounded JSON body (413 / 415 /
 * 400) ─► handler ─► JSON (or text) reply. Every request is counted by route, never by raw
 * path, so unknown paths cannot blow up label cardinality.
 */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestContext {
  req: http.IncomingMessage;
  query: URLSearchParams;
  /** Parsed JSON body (methods with a body), else undefined. */
  body: unknown;
  /** Rate-limit identity: the token id when authenticated, else the remote address. */
  client: string;
  /** Token id when the request carried a valid token. */
  tokenId: string | null;
  /** The valid token's id, scope and tenant, else null. */
  principal: Principal | null;
  /** Values of the route's `{name}` path segments (decoded). */
  params: Record<string, string>;
}

export interface Reply {
  status: number;
  /** JSON-encoded unless `contentType` is given (then a string or Buffer sent as is). */
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface Route {
  method: Method;
  path: string;
  /** `none`: open (probes); `token`: bearer token required; `metrics`: token when `[sidecar] metrics_auth`. */
  auth: 'none' | 'token' | 'metrics';
  /** Least token scope for `token` routes (default `read`); a lesser one gets 403. */
  scope?: Scope;
  /** Subject to the per-client rate limit (probes are not: a 429 readiness probe would pull the instance). */
  limited: boolean;
  handler(ctx: RequestContext): Promise<Reply> | Reply;
}

export interface RouterSettings {
  tokens: readonly ApiToken[];
  metricsAuth: boolean;
  ratePerSecond: number;
  rateBurst: number;
  maxBodyBytes: number;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.reject(new HttpError(413, `request body over ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, `request body over ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The request target as a URL on the sidecar's own origin, or null when it is not an
 * origin-form target. Only the path and query are used: `//x:99999/` is the path
 * `//x:99999/`, never an authority (WHATWG parsing would read one and throw on its port).
 */
export function requestTarget(target: string | undefined): URL | null {
  const t = target ?? '/';
  if (!t.startsWith('/') || t.length > 8192) return null;
  try {
    const u = new URL('http://sidecar/');
    const q = t.indexOf('?');
    u.pathname = q >= 0 ? t.slice(0, q) : t;
    if (q >= 0) u.search = t.slice(q);
    return u;
  } catch {
    return null;
  }
}

/**
 * Match a path against a route pattern whose `{name}` segments take one decoded,
 * non-empty segment each: `/api/v1/quarantine/{id}` ─► {id}. Null when it does not match.
 */
export function matchPath(pattern: string, pathname: string): Record<string, string> | null {
  if (!pattern.includes('{')) return pattern === pathname ? {} : null;
  const want = pattern.split('/');
  const got = pathname.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    if (w.startsWith('{') && w.endsWith('}')) {
      let v: string;
      try {
        v = decodeURIComponent(got[i]);
      } catch {
        return null;
      }
      if (!v || v.length > 200 || v.includes('/')) return null;
      params[w.slice(1, -1)] = v;
    } else if (w !== got[i]) return null;
  }
  return params;
}

/** Answer a request whose normal path failed (headers maybe already sent): a plain status, or close. */
function lastResort(res: http.ServerResponse, err: unknown, status = 500): void {
  try {
    processMetrics.httpRequests.inc({ route: 'unmatched', method: 'other', status: String(status) });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify({ error: status === 400 ? errorMessage(err) : 'internal error' });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  } catch {
    res.destroy();
  }
}

/** Signed requests (docs/webhooks.md "Signed requests to the sidecar"): API keys and a shared nonce cache. */
export interface SignedAuth {
  keys(): Promise<Array<SigningSecret & { scope: Scope; tenant: string | null }>>;
  nonces: NonceCache;
  toleranceS: number;
}

export class Router {
  private readonly routes: Route[] = [];
  private signed: SignedAuth | null = null;
  private settings!: RouterSettings;
  private tokens!: TokenVerifier;
  private limiter!: RateLimiter;
  private settingsKey = '';

  constructor(settings: RouterSettings) {
    this.configure(settings);
  }

  /** Apply new settings (config reload); rate-limit state is kept when its numbers did not change. */
  configure(s: RouterSettings): void {
    this.settings = s;
    this.tokens = new TokenVerifier(s.tokens);
    const key = `${s.ratePerSecond}/${s.rateBurst}`;
    if (key !== this.settingsKey) {
      this.limiter = new RateLimiter(s.ratePerSecond, s.rateBurst);
      this.settingsKey = key;
    }
  }

  /** Accept requests signed with an API key (`phishx keys new --scope …`) besides bearer tokens. */
  acceptSignedRequests(auth: SignedAuth): void {
    this.signed = auth;
  }

  /** Every route's method and path pattern (docs and their tests). */
  routeList(): Array<{ method: Method; path: string; auth: Route['auth']; scope?: Scope }> {
    return this.routes.map((r) => ({ method: r.method, path: r.path, auth: r.auth, ...(r.scope ? { scope: r.scope } : {}) }));
  }

  add(route: Route): this {
    if (this.routes.some((r) => r.method === route.method && r.path === route.path)) throw new Error(`route ${route.method} ${route.path} defined twice`);
    this.routes.push(route);
    return this;
  }

  /**
   * The node:http request listener. Whatever the request's bytes, it answers over HTTP
   * (400 / 404 / 405 / 500 …) and never throws into the process: with the sidecar inline
   * or in cluster mode, an exception here would take Haraka down.
   */
  readonly listener: http.RequestListener = (req, res) => {
    try {
      this.dispatch(req, res);
    } catch (err) {
      lastResort(res, err);
    }
  };

  private dispatch(req: http.IncomingMessage, res: http.ServerResponse): void {
    const t0 = performance.now();
    const url = requestTarget(req.url);
    if (!url) return lastResort(res, new HttpError(400, 'malformed request target'), 400);
    const method = (req.method ?? 'GET').toUpperCase();
    const samePath = this.routes.filter((r) => matchPath(r.path, url.pathname) !== null);
    const route = samePath.find((r) => r.method === method || (method === 'HEAD' && r.method === 'GET'));
    const label = route?.path ?? samePath[0]?.path ?? 'unmatched';
    processMetrics.httpInFlight.inc();
    const seen = { requestBytes: Number(req.headers['content-length'] ?? 0) || 0 };
    const finish = (reply: Reply): void => {
      // A body the route did not read (404, 401, 405 …) is read and dropped before the
      // answer goes out, within the body limit: a connection closed with unread input is
      // reset, and the client loses the answer (found by the sidecar fuzzer).
      const limit = this.settings.maxBodyBytes;
      const declared = Number(req.headers['content-length'] ?? 0) || 0;
      if (!req.complete && !req.readableEnded && declared <= limit) {
        let sent = false;
        let read = 0;
        const once = (): void => {
          if (sent) return;
          sent = true;
          if (!res.destroyed) send(reply);
        };
        // A chunked body declares no length: past the limit, answer without waiting for its end.
        req.on('data', (c: Buffer) => {
          read += c.length;
          if (read > limit) once();
        });
        req.once('end', once);
        req.once('error', once);
        req.resume();
        return;
      }
      send(reply);
    };
    const send = (reply: Reply): void => {
      const payload = Buffer.isBuffer(reply.body) ? reply.body : reply.contentType !== undefined ? String(reply.body) : JSON.stringify(reply.body);
      const bytes = Buffer.byteLength(payload);
      res.writeHead(reply.status, {
        'content-type': reply.contentType ?? 'application/json; charset=utf-8',
        'content-length': bytes,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        ...reply.headers,
      });
      res.end(method === 'HEAD' ? undefined : payload);
      processMetrics.httpInFlight.dec();
      processMetrics.httpRequests.inc({ route: label, method: route || samePath.length ? method : 'other', status: String(reply.status) });
      processMetrics.httpDuration.observe({ route: label }, (performance.now() - t0) / 1000);
      processMetrics.httpRequestSize.observe({ route: label }, seen.requestBytes);
      processMetrics.httpResponseSize.observe({ route: label }, bytes);
    };
    const fail = (err: unknown): void => {
      if (err instanceof HttpError) return finish({ status: err.status, body: { error: err.message }, headers: err.headers });
      finish({ status: 500, body: { error: 'internal error', detail: errorMessage(err).slice(0, 200) } });
    };
    try {
      if (!route) {
        if (samePath.length) {
          return finish({
            status: 405,
            body: { error: 'method not allowed', allow: samePath.map((r) => r.method) },
            headers: { allow: samePath.map((r) => r.method).join(', ') },
          });
        }
        return finish({ status: 404, body: { error: 'not found', path: url.pathname.slice(0, 200) } });
      }
      void this.handle(route, req, url, seen)
        .then(finish, fail)
        .catch((err: unknown) => lastResort(res, err));
    } catch (err) {
      fail(err);
    }
  }

  private async handle(route: Route, req: http.IncomingMessage, url: URL, seen: { requestBytes: number }): Promise<Reply> {
    const token = bearerOf(req.headers.authorization);
    let principal = token !== null ? this.tokens.verify(token) : null;
    const client = principal?.id ?? `ip:${req.socket.remoteAddress ?? 'unknown'}`;
    if (route.limited) {
      const r = this.limiter.take(client, performance.now());
      if (!r.ok) {
        processMetrics.httpRateLimited.inc({ route: route.path });
        throw new HttpError(429, `rate limit: at most ${this.settings.ratePerSecond} requests/s per client (burst ${this.settings.rateBurst})`, {
          'retry-after': String(r.retryAfterS),
        });
      }
    }
    const needsToken = route.auth === 'token' || (route.auth === 'metrics' && this.settings.metricsAuth);
    let raw: Buffer | undefined;
    if (needsToken && token === null && this.signed && req.headers['x-phishx-signature'] !== undefined) {
      // A signed request: the body is part of what is signed, so it is read first (bounded).
      raw = BODY_METHODS.has(route.method) ? await readBody(req, this.settings.maxBodyBytes) : Buffer.alloc(0);
      seen.requestBytes = raw.length;
      let keys;
      try {
        keys = await this.signed.keys();
      } catch (err) {
        throw new HttpError(503, `signing keys unavailable: ${errorMessage(err).slice(0, 200)}`, { 'retry-after': '5' });
      }
      const v = await verifyWebhook(req.headers, raw, {
        secrets: keys,
        toleranceS: this.signed.toleranceS,
        nonces: this.signed.nonces,
        request: { method: req.method ?? '', target: req.url ?? '' },
      }).catch((err: unknown) => {
        throw new HttpError(503, `nonce cache unavailable: ${errorMessage(err).slice(0, 200)}`, { 'retry-after': '5' });
      });
      if (!v.ok) {
        processMetrics.httpAuthFailures.inc({ route: route.path, reason: `signed_${v.check}` });
        throw new HttpError(401, `signed request refused (${v.check}): ${v.message}`, { 'www-authenticate': 'PhishX-Signature realm="phishx"' });
      }
      const key = keys.find((k) => k.id === v.keyId)!;
      principal = { id: `key:${key.id}`, scope: key.scope, tenant: key.tenant };
    }
    const tokenId = principal?.id ?? null;
    if (needsToken && !tokenId) {
      const reason = !this.tokens.configured && !this.signed ? 'no_tokens_configured' : token === null ? 'missing' : 'invalid';
      processMetrics.httpAuthFailures.inc({ route: route.path, reason });
      const challenge = reason === 'invalid' ? 'Bearer realm="phishx", error="invalid_token"' : 'Bearer realm="phishx"';
      const why =
        reason === 'no_tokens_configured'
          ? 'no API tokens are configured ([sidecar] token_hashes or PHISHX_API_TOKENS)'
          : reason === 'missing'
            ? 'bearer token or signed request required'
            : 'invalid token';
      throw new HttpError(401, why, { 'www-authenticate': challenge });
    }
    const need = route.scope ?? 'read';
    if (route.auth === 'token' && principal && !scopeAllows(principal.scope, need)) {
      processMetrics.httpAuthFailures.inc({ route: route.path, reason: 'scope' });
      throw new HttpError(403, `this token's scope is ${principal.scope}; ${route.method} ${route.path} needs ${need}`, {
        'www-authenticate': `Bearer realm="phishx", error="insufficient_scope", scope="${need}"`,
      });
    }
    let body: unknown;
    if (BODY_METHODS.has(route.method)) {
      const type = String(req.headers['content-type'] ?? '');
      raw ??= await readBody(req, this.settings.maxBodyBytes);
      seen.requestBytes = raw.length;
      if (raw.length) {
        if (!/^application\/json\b/i.test(type)) throw new HttpError(415, 'request body must be application/json');
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch (err) {
          throw new HttpError(400, `request body is not valid JSON: ${errorMessage(err).slice(0, 120)}`);
        }
      }
    } else {
      req.resume();
    }
    return route.handler({ req, query: url.searchParams, body, client, tokenId, principal, params: matchPath(route.path, url.pathname) ?? {} });
  }
}
