import { checkIniAtStart } from './ini-file.js';
import { PACKAGE_ROOT } from './package-root.js';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { ConfigError } from '../errors.js';
import { REASONS } from '../reasons.js';
import { hashToken, parseClamdHost, parseHostPort, parseTokenSpec, type ApiToken, type Scope } from './values.js';
import { DEFAULT_BRANDS, FREE_SECTIONS, SCHEMA, TENANT_SCHEMA, WEBHOOK_SCHEMA, envName, type KeySpec } from './schema.js';
import type { PhishXConfig, TenantPolicy, WebhookEndpoint } from './types.js';
import { EVENT_TYPES } from '../webhooks/catalog.js';
import { secretBytes } from '../webhooks/signing.js';

/** Raw ini as haraka-config returns it: sections of key ─► string | number | boolean. */
export type RawIni = Record<string, Record<string, unknown> | undefined>;

/** A name or value from the file as an error shows it: one line, at most `max` characters (JSON-quoted when it is not a plain name). */
function shownInError(v: unknown, max = 80, plainName = false): string {
  const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
  const clipped = s.length > max ? `${s.slice(0, max)}…` : s;
  return plainName && /^[\w .@:*-]*$/.test(clipped) ? clipped : JSON.stringify(clipped);
}

const inSection = (section: string): string => `phishx.ini [${shownInError(section, 60, true)}]`;
const where = (section: string, key: string): string => `${inSection(section)} ${shownInError(key, 60, true)}`;

/** The text of an ini value (haraka-config gives strings, numbers and booleans); '' for anything else. */
function scalarText(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

function coerce(section: string, key: string, spec: KeySpec, value: unknown): unknown {
  const shown = typeof value === 'string' ? shownInError(value) : JSON.stringify(value);
  const bad = (expect: string): never => {
    throw new ConfigError(`${where(section, key)} = ${shown}: expected ${expect}`, `${section}.${key}`);
  };
  const s = typeof value === 'string' ? value.trim() : value;
  switch (spec.type) {
    case 'int': {
      const n = typeof s === 'number' ? s : typeof s === 'string' && /^-?\d+$/.test(s) ? Number(s) : NaN;
      if (!Number.isInteger(n)) return bad(`an integer${spec.min !== undefined ? ` ${spec.min}..${spec.max}` : ''}`);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) return bad(`an integer ${spec.min}..${spec.max}`);
      return n;
    }
    case 'bool': {
      if (typeof s === 'boolean') return s;
      const t = String(s).toLowerCase();
      if (['true', 'yes', '1', 'on'].includes(t)) return true;
      if (['false', 'no', '0', 'off'].includes(t)) return false;
      return bad('true or false');
    }
    case 'enum': {
      const t = String(s).toLowerCase();
      if (!spec.values!.includes(t)) return bad(`one of ${spec.values!.join(', ')}`);
      return t;
    }
    case 'string':
      return scalarText(s);
    case 'list':
      return scalarText(s)
        .split(/[,\s]+/)
        .map((x) => x.trim().toLowerCase().replace(/^\./, ''))
        .filter(Boolean);
    case 'strings':
      return scalarText(s)
        .split(/[,\s]+/)
        .map((x) => x.trim())
        .filter(Boolean);
    case 'cidrs': {
      const items = scalarText(s)
        .split(/[,\s]+/)
        .filter(Boolean);
      for (const it of items) {
        const ok = it.includes('/')
          ? (() => {
              try {
                ipaddr.parseCIDR(it);
                return true;
              } catch {
                return false;
              }
            })()
          : ipaddr.isValid(it);
        if (!ok) return bad(`IP addresses or CIDR ranges (bad item ${shownInError(it, 60)})`);
      }
      return items;
    }
    case 'listen': {
      const t = scalarText(s).trim();
      if (t === 'off' || t === '') return null;
      return parseHostPort(t) ?? bad('host:port (e.g. 127.0.0.1:9464) or off');
    }
  }
}

function readSection(
  section: string,
  specs: Record<string, KeySpec>,
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  useDefaults: boolean,
): Record<string, unknown> {
  for (const key of Object.keys(raw)) {
    if (!(key in specs)) {
      throw new ConfigError(`${where(section, key)}: unknown key (known: ${Object.keys(specs).join(', ')})`, `${section}.${key}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const envValue = section.startsWith('tenant.') ? undefined : env[envName(section, key)];
    if (envValue !== undefined) {
      try {
        out[key] = coerce(section, key, spec, envValue);
      } catch (e) {
        throw new ConfigError(`${(e as Error).message} (from environment ${envName(section, key)})`, `${section}.${key}`);
      }
    } else if (raw[key] !== undefined) {
      out[key] = coerce(section, key, spec, raw[key]);
    } else if (useDefaults) {
      out[key] = coerce(section, key, spec, spec.default);
    }
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/**
 * The data_post hook answers by itself this long after the scan budget when the scan has
 * not (an event loop blocked by CPU-bound work): budget + slack must stay below Haraka's
 * plugin timeout, or Haraka would answer `DENYSOFT plugin timeout` first.
 */
export const HOOK_WATCHDOG_SLACK_MS = 1000;

export interface BuildOptions {
  env?: NodeJS.ProcessEnv;
  /** Haraka's plugin timeout for phishx, seconds; the scan budget must stay below it. */
  pluginTimeoutSeconds?: number;
  /** Base directory for relative paths (the Haraka directory). */
  baseDir?: string;
}

/**
 * Validate raw ini + environment into a frozen PhishXConfig. Throws ConfigError naming
 * the section, key and bad value. Pure apart from reading `env`.
 */
export function buildConfig(raw: RawIni, opts: BuildOptions = {}): PhishXConfig {
  const env = opts.env ?? process.env;
  const baseDir = opts.baseDir ?? process.cwd();
  for (const section of Object.keys(raw)) {
    if (section in SCHEMA || section.startsWith('tenant.') || section.startsWith('webhook.') || (FREE_SECTIONS as readonly string[]).includes(section))
      continue;
    throw new ConfigError(
      `phishx.ini [${section}]: unknown section (known: ${[...Object.keys(SCHEMA), ...FREE_SECTIONS, 'tenant.<domain>', 'webhook.<name>'].join(', ')})`,
      section,
    );
  }
  const sections: Record<string, Record<string, unknown>> = {};
  for (const [section, specs] of Object.entries(SCHEMA)) sections[section] = readSection(section, specs, raw[section] ?? {}, env, true);
  // readSection checked every key against SCHEMA, the table PhishXConfig's sections are inferred from.
  const c = sections as unknown as Omit<PhishXConfig, 'brands' | 'weights' | 'tenants' | 'webhookEndpoints'>;

  if (c.redis.cluster_nodes.length && c.redis.sentinels.length)
    throw new ConfigError('phishx.ini [redis]: set cluster_nodes or sentinels, not both (a Redis Cluster fails over by itself)', 'redis.cluster_nodes');
  // Sentinel and Cluster: host:port addresses, and a url for the password (its host is ignored).
  for (const [key, hosts, example] of [
    ['sentinels', c.redis.sentinels, 'redis://[:password@]<master name>/<db>'],
    ['cluster_nodes', c.redis.cluster_nodes, 'redis://[:password@]cluster/0'],
  ] as const) {
    for (const h of hosts) {
      if (!parseHostPort(h)) throw new ConfigError(`phishx.ini [redis] ${key}: ${JSON.stringify(h.slice(0, 80))} is not host:port`, `redis.${key}`);
    }
    if (hosts.length && !c.redis.url) throw new ConfigError(`phishx.ini [redis] ${key}: set url too (${example}; its host is ignored)`, 'redis.url');
  }
  if (/[{}]/.test(c.redis.key_prefix))
    throw new ConfigError(
      `phishx.ini [redis] key_prefix: ${JSON.stringify(c.redis.key_prefix.slice(0, 80))} must not contain { or } (PhishX adds the Cluster hash tags)`,
      'redis.key_prefix',
    );
  for (const h of c.clamav.hosts) {
    try {
      parseClamdHost(h);
    } catch (e) {
      throw new ConfigError(`phishx.ini [clamav] hosts: ${(e as Error).message}`, 'clamav.hosts');
    }
  }
  const tokens = new Map<string, ApiToken>();
  for (const h of c.sidecar.token_hashes) {
    const t = parseTokenSpec(h);
    if (!t) {
      throw new ConfigError(
        `phishx.ini [sidecar] token_hashes: ${JSON.stringify(h.length > 12 ? `${h.slice(0, 8)}…` : h)} is not sha256:<64 hex>[:read|act|admin[:tenant]] (store hashes, never tokens: \`npx phishx token hash\`)`,
        'sidecar.token_hashes',
      );
    }
    tokens.set(t.hash, t);
  }
  for (const [name, scope] of [
    ['PHISHX_API_TOKENS', 'admin'],
    ['PHISHX_API_TOKENS_ACT', 'act'],
    ['PHISHX_API_TOKENS_READ', 'read'],
  ] as Array<[string, Scope]>) {
    for (const t of String(env[name] ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)) {
      if (t.length < 16)
        throw new ConfigError(`environment ${name}: every token must be at least 16 characters (\`npx phishx token new\` makes one)`, 'sidecar.token_hashes');
      const hash = hashToken(t);
      if (!tokens.has(hash)) tokens.set(hash, { hash, scope });
    }
  }
  c.sidecar.token_hashes = [...tokens.keys()];
  c.sidecar.tokens = [...tokens.values()];
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(c.soc.blocklist_feed))
    throw new ConfigError(
      `phishx.ini [soc] blocklist_feed = ${JSON.stringify(c.soc.blocklist_feed.slice(0, 80))}: expected a feed name (letters, digits, _ and -, at most 64)`,
      'soc.blocklist_feed',
    );
  for (const [name, warn, crit, upward] of [
    ['scan_latency', c.alerts.scan_latency_warn_ms, c.alerts.scan_latency_critical_ms, true],
    ['rate_limited', c.alerts.rate_limited_warn, c.alerts.rate_limited_critical, true],
    ['auth_failures', c.alerts.auth_failures_warn, c.alerts.auth_failures_critical, true],
    ['queue', c.alerts.queue_warn, c.alerts.queue_critical, true],
    ['datastore', c.alerts.datastore_warn_ms, c.alerts.datastore_critical_ms, true],
    ['availability', c.alerts.availability_warn_pct, c.alerts.availability_critical_pct, false],
  ] as Array<[string, number, number, boolean]>) {
    if (upward ? warn > crit : warn < crit)
      throw new ConfigError(
        `phishx.ini [alerts] ${name} warn (${warn}) must be ${upward ? 'at most' : 'at least'} its critical threshold (${crit})`,
        `alerts.${name}`,
      );
  }
  if (c['alerts.email'].smtp) {
    if (!parseHostPort(c['alerts.email'].smtp)) throw new ConfigError(`${where('alerts.email', 'smtp')}: expected host:port`, 'alerts.email.smtp');
    if (!c['alerts.email'].to.length)
      throw new ConfigError(`${where('alerts.email', 'to')}: give at least one recipient (or leave smtp empty)`, 'alerts.email.to');
  }
  for (const [section, key, value] of [
    ['alerts.slack', 'url', c['alerts.slack'].url],
    ['alerts.pagerduty', 'url', c['alerts.pagerduty'].url],
    ['alerts', 'links_base_url', c.alerts.links_base_url],
    ['alerts', 'grafana_url', c.alerts.grafana_url],
  ] as Array<[string, string, string]>) {
    if (value && !/^https?:\/\/[^\s]+$/.test(value)) throw new ConfigError(`${where(section, key)}: expected an http(s) URL`, `${section}.${key}`);
  }
  if (c.thresholds.quarantine > c.thresholds.reject) {
    throw new ConfigError(`phishx.ini [thresholds] quarantine = ${c.thresholds.quarantine} is above reject = ${c.thresholds.reject}`, 'thresholds.quarantine');
  }
  if (opts.pluginTimeoutSeconds !== undefined && c.main.scan_budget_ms + HOOK_WATCHDOG_SLACK_MS >= opts.pluginTimeoutSeconds * 1000) {
    throw new ConfigError(
      `phishx.ini [main] scan_budget_ms = ${c.main.scan_budget_ms} plus the hook watchdog's ${HOOK_WATCHDOG_SLACK_MS} ms must stay below Haraka's plugin timeout for phishx (${opts.pluginTimeoutSeconds} s, config/phishx.timeout): at most ${opts.pluginTimeoutSeconds * 1000 - HOOK_WATCHDOG_SLACK_MS - 1}`,
      'main.scan_budget_ms',
    );
  }

  const brandsRaw = raw.brands && Object.keys(raw.brands).length ? raw.brands : DEFAULT_BRANDS;
  const brands: Record<string, string[]> = {};
  for (const [name, v] of Object.entries(brandsRaw)) {
    const domains = scalarText(v)
      .split(/[,\s]+/)
      .map((d) => d.trim().toLowerCase())
      .filter(Boolean);
    if (!domains.length) throw new ConfigError(`${where('brands', name)}: lists no domains`, `brands.${name}`);
    brands[name.trim().toLowerCase()] = domains;
  }

  const weights: Record<string, number> = {};
  for (const [code, v] of Object.entries(raw.weights ?? {})) {
    if (!(code in REASONS))
      throw new ConfigError(`${where('weights', code)}: unknown reason code (see docs/detection.md "Reason codes" or npx phishx reasons)`, `weights.${code}`);
    weights[code] = coerce('weights', code, { type: 'int', min: -100, max: 100, default: 0, doc: '' }, v) as number;
  }

  const defaultPolicy: TenantPolicy = { mode: c.main.mode, quarantine: c.thresholds.quarantine, reject: c.thresholds.reject };
  const tenants: Record<string, TenantPolicy> = {};
  for (const section of Object.keys(raw).filter((s) => s.startsWith('tenant.'))) {
    const domain = section.slice('tenant.'.length).toLowerCase();
    if (!/^[a-z0-9.-]+$/.test(domain)) throw new ConfigError(`${inSection(section)}: not a domain`, section);
    const t = readSection(section, TENANT_SCHEMA, raw[section] ?? {}, env, false) as Partial<TenantPolicy>;
    const policy: TenantPolicy = { ...defaultPolicy, ...t };
    if (policy.quarantine > policy.reject)
      throw new ConfigError(`${inSection(section)} quarantine = ${policy.quarantine} is above reject = ${policy.reject}`, `${section}.quarantine`);
    tenants[domain] = policy;
  }

  const webhookEndpoints = readWebhookEndpoints(raw, env);

  const resolve = (p: string): string => (path.isAbsolute(p) ? p : path.join(baseDir, p));
  return deepFreeze({
    ...c,
    quarantine: { ...c.quarantine, spool_dir: resolve(c.quarantine.spool_dir) },
    local_delivery: { dir: resolve(c.local_delivery.dir) },
    reputation: { ...c.reputation, feed_dir: resolve(c.reputation.feed_dir) },
    brands,
    weights,
    tenants,
    webhookEndpoints,
  });
}

/** `[webhook.<name>]` sections, then `PHISHX_WEBHOOK_URL` (+ `PHISHX_WEBHOOK_SECRET`) as endpoint `env`. */
function readWebhookEndpoints(raw: RawIni, env: NodeJS.ProcessEnv): WebhookEndpoint[] {
  const out: WebhookEndpoint[] = [];
  const add = (section: string, name: string, v: { url: string; events: string[]; tenants: string[]; secret_env: string }): void => {
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(name)) throw new ConfigError(`${inSection(section)}: an endpoint name is letters, digits, _ and - (at most 40)`, section);
    let url: URL;
    try {
      url = new URL(v.url);
    } catch {
      throw new ConfigError(`${where(section, 'url')} = ${JSON.stringify(v.url.slice(0, 100))}: expected an http:// or https:// URL`, `${section}.url`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new ConfigError(`${where(section, 'url')}: expected an http:// or https:// URL, got ${url.protocol}`, `${section}.url`);
    const unknown = v.events.filter((e) => e !== '*' && !(EVENT_TYPES as readonly string[]).includes(e));
    if (unknown.length)
      throw new ConfigError(
        `${where(section, 'events')}: unknown event type ${unknown
          .slice(0, 3)
          .map((e) => shownInError(e, 40, true))
          .join(', ')}${unknown.length > 3 ? ` and ${unknown.length - 3} more` : ''} (known: ${EVENT_TYPES.join(', ')}, *)`,
        `${section}.events`,
      );
    const events = v.events.includes('*') ? [...EVENT_TYPES] : v.events.length ? v.events : EVENT_TYPES.filter((e) => e !== 'message.allowed');
    if (v.secret_env) {
      const secrets = String(env[v.secret_env] ?? '')
        .split(/\s+/)
        .filter(Boolean);
      if (!secrets.length)
        throw new ConfigError(
          `${where(section, 'secret_env')}: environment variable ${shownInError(v.secret_env, 60, true)} is not set`,
          `${section}.secret_env`,
        );
      for (const sec of secrets) {
        try {
          secretBytes(sec);
        } catch (e) {
          throw new ConfigError(`${where(section, 'secret_env')}: ${shownInError(v.secret_env, 60, true)}: ${(e as Error).message}`, `${section}.secret_env`);
        }
      }
    }
    if (out.some((e) => e.name === name)) throw new ConfigError(`${inSection(section)}: endpoint ${name} is defined twice`, section);
    out.push({ name, url: url.toString(), events, tenants: v.tenants, secretEnv: v.secret_env });
  };
  for (const section of Object.keys(raw).filter((x) => x.startsWith('webhook.'))) {
    const v = readSection(section, WEBHOOK_SCHEMA, raw[section] ?? {}, {}, true) as { url: string; events: string[]; tenants: string[]; secret_env: string };
    if (!v.url) throw new ConfigError(`${where(section, 'url')}: required`, `${section}.url`);
    add(section, section.slice('webhook.'.length), v);
  }
  if (env.PHISHX_WEBHOOK_URL)
    add('environment PHISHX_WEBHOOK_URL', 'env', {
      url: env.PHISHX_WEBHOOK_URL,
      events: [],
      tenants: [],
      secret_env: env.PHISHX_WEBHOOK_SECRET ? 'PHISHX_WEBHOOK_SECRET' : '',
    });
  return out;
}

/** haraka-config answers a missing file with `{main: {}}`: drop that empty section. */
export function normalizeRawIni(raw: RawIni): RawIni {
  if (raw.main && Object.keys(raw.main).length === 0) delete raw.main;
  return raw;
}

/** Read `<dir>/config/phishx.ini` with Haraka's own ini reader (same parser as the plugin). */
export function readIniFile(harakaDir: string, name = 'phishx.ini'): RawIni {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const hc = require('haraka-config') as { module_config(defaults: string, overrides?: string): { get(name: string, type?: string): RawIni } };
  // As Haraka does for a plugin package: the site's config/ first, else the package's own.
  return normalizeRawIni(hc.module_config(PACKAGE_ROOT, harakaDir).get(name, 'ini'));
}

/** Read Haraka's plugin timeout for phishx (config/phishx.timeout, else plugin_timeout, else 30). */
export function readPluginTimeout(harakaDir: string): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const hc = require('haraka-config') as { module_config(root: string): { get(name: string, type?: string): unknown } };
  const cfg = hc.module_config(harakaDir);
  for (const name of ['phishx.timeout', 'plugin_timeout']) {
    const v = parseFloat(scalarText(cfg.get(name, 'value')));
    if (!Number.isNaN(v)) return v;
  }
  return 30;
}

export function loadConfigFromDir(harakaDir: string, env: NodeJS.ProcessEnv = process.env): PhishXConfig {
  checkIniAtStart(harakaDir);
  return buildConfig(readIniFile(harakaDir), { env, baseDir: harakaDir, pluginTimeoutSeconds: readPluginTimeout(harakaDir) });
}
