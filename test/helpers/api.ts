/** A small client for the sidecar API in tests: JSON in, status + JSON (or text) out. */
export interface ApiAnswer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  headers: Headers;
}

export async function api(port: number, method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<ApiAnswer> {
  const res = await fetchFresh(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, body, text, headers: res.headers };
}

/**
 * `fetch` with a connection per request (`connection: close`), for every request a test makes
 * to a server: tests block their event loop in spawnSync (the phishx CLI) for seconds, after
 * which fetch could reuse a kept-alive socket the sidecar had just closed (its keep-alive
 * timeout is 5 s) and fail with "fetch failed" — a client's race, not the server's answer.
 */
export function fetchFresh(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('connection', 'close');
  return fetch(url, { ...init, headers });
}
