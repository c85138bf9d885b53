/** A small client for the sidecar API in tests: JSON in, status + JSON (or text) out. */
export interface ApiAnswer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  headers: Headers;
}

/**
 * A connection per request (`connection: close`): tests block their event loop in spawnSync
 * (the phishx CLI) for seconds, after which fetch could reuse a kept-alive socket the sidecar
 * had just closed (its keep-alive timeout is 5 s) and fail with "fetch failed" — a client's
 * race, not the server's answer.
 */
export const FRESH_CONNECTION = { connection: 'close' } as const;

export async function api(port: number, method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<ApiAnswer> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: {
      ...FRESH_CONNECTION,
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

/** `fetch` with a connection of its own (FRESH_CONNECTION), for requests a test makes without `api()`. */
export function fetchFresh(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  for (const [k, v] of Object.entries(FRESH_CONNECTION)) headers.set(k, v);
  return fetch(url, { ...init, headers });
}
