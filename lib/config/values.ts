import { createHash } from 'node:crypto';

/**
 * Parsers of config values that other layers also use (clamd hosts, API token specs): they
 * live here, at the bottom, so the config imports nothing above it. Pure.
 */

/**
 * `host:port` or `[IPv6]:port` (port 0–65535) ─► { host (brackets removed), port }; null
 * when it is not that. The one host:port parser: config keys, clamd hosts, the release
 * target, `phishx send --server` and `phishx nlp-serve --listen` all read addresses with it.
 */
export function parseHostPort(text: string): { host: string; port: number } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(text.trim());
  if (!m || Number(m[2]) > 65535) return null;
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export type ClamdHost = { kind: 'tcp'; host: string; port: number; label: string } | { kind: 'unix'; path: string; label: string };

/** `host:port`, `[v6]:port` or an absolute unix socket path ─► ClamdHost. Throws on anything else. */
export function parseClamdHost(s: string): ClamdHost {
  const t = s.trim();
  if (t.startsWith('/')) return { kind: 'unix', path: t, label: t };
  const hp = parseHostPort(t);
  if (!hp) throw new Error(`not host:port or /path/to/socket: ${JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s)}`);
  return { kind: 'tcp', host: hp.host, port: hp.port, label: t };
}

/** The stored form of an API token: `sha256:<hex>`. */
export function hashToken(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

/**
 * Token scopes, each including the one before: `read` (lists, details, alerts), `act`
 * (release, delete, raw, report, alert actions), `admin` (everything: audit, bulk).
 */
export type Scope = 'read' | 'act' | 'admin';
export const SCOPES: readonly Scope[] = ['read', 'act', 'admin'];

/** A stored API token: its hash, scope and, when bound to one, the tenant it may see. */
export interface ApiToken {
  hash: string;
  scope: Scope;
  tenant?: string;
}

/**
 * `sha256:<64 hex>[:<scope>[:<tenant>]]` (scope `admin` when left out, as before scopes
 * existed) ─► ApiToken; null when malformed.
 */
export function parseTokenSpec(spec: string): ApiToken | null {
  const m = /^(sha256:[0-9a-f]{64})(?::(read|act|admin)(?::([a-z0-9.-]{1,253}))?)?$/.exec(spec.trim().toLowerCase());
  if (!m) return null;
  return { hash: m[1], scope: (m[2] as Scope | undefined) ?? 'admin', ...(m[3] ? { tenant: m[3] } : {}) };
}
