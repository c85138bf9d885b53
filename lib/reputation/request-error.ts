import { oneLineMessage, PhishXError } from '../errors.js';

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * A failed request to a reputation service (Safe Browsing, a short link's next hop) as a typed
 * error: PHISHX_REPUTATION_TIMEOUT when it ran out of time, else PHISHX_REPUTATION_UNREACHABLE
 * with the cause on one short line (a reset, a refused or blocked connection, a reply that is
 * not HTTP, undici's own assertion on a 101 to a plain request). PhishX's own errors pass as they are.
 */
export function reputationRequestError(what: string, err: unknown, timeoutMs: number): PhishXError {
  if (err instanceof PhishXError) return err;
  const e = err as { name?: string; code?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || TIMEOUT_CODES.has(e.code ?? ''))
    return new PhishXError('PHISHX_REPUTATION_TIMEOUT', `${what}: no answer within ${timeoutMs} ms`, { cause: err });
  return new PhishXError('PHISHX_REPUTATION_UNREACHABLE', `${what}: ${oneLineMessage(err)}`, { cause: err });
}
