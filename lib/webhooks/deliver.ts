/**
 * One delivery attempt: POST the signed body to the endpoint with undici, within a
 * deadline, without following redirects (a 3xx is a failure: a webhook URL that moved must
 * be reconfigured, not followed to wherever it points), reading at most 64 KiB of the
 * answer and discarding it.
 */
import { Agent, request } from 'undici';
import { oneLineMessage, WebhookDeliveryError } from '../errors.js';

const MAX_ANSWER_BYTES = 64 * 1024;
/** A Retry-After above this is capped (a consumer cannot park an event for days). */
export const MAX_RETRY_AFTER_MS = 3_600_000;

let agent: Agent | null = null;
function dispatcher(): Agent {
  agent ??= new Agent({ connections: 8, keepAliveTimeout: 10_000 });
  return agent;
}

/** Retry-After as ms: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d{1,9}$/.test(v.trim())) return Math.min(Number(v.trim()) * 1000, MAX_RETRY_AFTER_MS);
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.min(Math.max(0, t - now), MAX_RETRY_AFTER_MS) : undefined;
}

/**
 * POST once; resolves with the status when `accept` takes it (default any 2xx), throws
 * WebhookDeliveryError otherwise (with the start of the answer, e.g. Slack's `invalid_payload`).
 */
export async function postOnce(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  accept: (status: number) => boolean = (st) => st >= 200 && st < 300,
): Promise<number> {
  let res;
  try {
    res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'PhishX-Webhooks/1', ...headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      dispatcher: dispatcher(),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  } catch (err) {
    const name = (err as { name?: string }).name;
    const code = (err as { code?: string }).code;
    if (name === 'TimeoutError' || name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT')
      throw new WebhookDeliveryError('PHISHX_WEBHOOK_TIMEOUT', `no answer within ${timeoutMs} ms`, 0, undefined, { cause: err });
    throw new WebhookDeliveryError('PHISHX_WEBHOOK_UNREACHABLE', oneLineMessage(err) || 'failed', 0, undefined, { cause: err });
  }
  // Read a bounded part of the answer (a consumer may stream forever): its start goes into an error.
  let read = 0;
  let start = '';
  try {
    for await (const chunk of res.body) {
      if (start.length < 300) start += (chunk as Buffer).subarray(0, 300).toString('utf8');
      read += (chunk as Buffer).length;
      if (read > MAX_ANSWER_BYTES) break;
    }
  } catch {
    /* an answer cut short does not change the status */
  } finally {
    res.body.destroy();
  }
  if (accept(res.statusCode)) return res.statusCode;
  const said = start.slice(0, 300).replace(/\s+/g, ' ').trim();
  throw new WebhookDeliveryError(
    'PHISHX_WEBHOOK_HTTP_STATUS',
    `answered HTTP ${res.statusCode}${res.statusCode >= 300 && res.statusCode < 400 ? ' (redirects are not followed)' : ''}${said ? ` ${said}` : ''}`,
    res.statusCode,
    retryAfterMs(res.headers['retry-after']),
  );
}

/**
 * Delay before attempt `attempt + 1` (attempt ≥ 1): exponential from `baseMs`, capped at
 * `maxMs`, with full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"); a
 * Retry-After from the endpoint is honoured when it asks for longer.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, retryAfter?: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  const jittered = Math.max(baseMs / 2, Math.round(random() * ceiling));
  return retryAfter !== undefined ? Math.max(jittered, retryAfter) : jittered;
}

export async function closeDeliveryAgent(): Promise<void> {
  const a = agent;
  agent = null;
  await a?.close().catch(() => undefined);
}
