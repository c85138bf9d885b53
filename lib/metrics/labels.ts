import { REASONS, reasonSpec, type ReasonCode } from '../reasons.js';

/**
 * Label values with a fixed, small set of possible values (Prometheus cost grows with
 * every distinct label set). Pure.
 */

/** Tenant label: a configured tenant or `default`, everything else `other`. */
export function tenantLabel(tenant: string, configured: ReadonlySet<string>): string {
  return tenant === 'default' || configured.has(tenant) ? tenant : 'other';
}

export function reasonLabel(code: string): string {
  return code in REASONS ? code : 'other';
}

/** The service a breaker name belongs to (`clamav 10.0.0.5:3310` ─► `clamav`) kept with its target when configured. */
export function serviceLabel(service: string): string {
  return /^[a-z][a-z0-9_-]*( [\w.:[\]-]{1,80})?$/i.test(service) ? service : 'other';
}

/** Kind of a failed service call, from the error's code or name. */
export function errorKind(err: unknown): 'timeout' | 'unreachable' | 'http_status' | 'bad_response' | 'breaker_open' | 'other' {
  const e = err as { code?: unknown; name?: unknown; cause?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const name = typeof e?.name === 'string' ? e.name : '';
  if (code === 'PHISHX_BREAKER_OPEN') return 'breaker_open';
  if (/TIMEOUT|ETIMEDOUT/.test(code) || /Timeout|Abort/.test(name)) return 'timeout';
  if (/UNREACHABLE|UNAVAILABLE|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|EPIPE|UND_ERR_SOCKET|UND_ERR_CONNECT/.test(code)) return 'unreachable';
  if (/HTTP_STATUS/.test(code)) return 'http_status';
  if (/BAD_RESPONSE|BAD_REPLY/.test(code)) return 'bad_response';
  if (e?.cause && e.cause !== err) {
    const inner = errorKind(e.cause);
    if (inner !== 'other') return inner;
  }
  return 'other';
}

/** The service whose absence a reason records (the reason table's `defersWhenRequired`: nlp, clamav, reputation), or null. */
export function degradedService(code: ReasonCode): string | null {
  return reasonSpec(code).defersWhenRequired ?? null;
}
