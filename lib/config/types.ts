import type { ApiToken } from './values.js';
import type { BreakerValues, SchemaValues } from './schema.js';

export type Mode = SchemaValues['main']['mode'];

export type BreakerConfig = BreakerValues;

/** One `[webhook.<name>]` section (or `PHISHX_WEBHOOK_URL`, named `env`), validated. */
export interface WebhookEndpoint {
  name: string;
  url: string;
  /** Event types sent. */
  events: string[];
  /** Only these tenants (empty: all). */
  tenants: string[];
  /** Environment variable with the endpoint's secret(s); empty: the managed keys. Read when signing, never kept in the config. */
  secretEnv: string;
}

export interface TenantPolicy {
  mode: Mode;
  quarantine: number;
  reject: number;
}

/**
 * Validated, frozen configuration. Built only by `buildConfig`. Its sections are inferred
 * from the schema table (schema.ts), plus what the loader derives: the API tokens with
 * their scopes, brands, weight overrides and tenant policies.
 */
export type PhishXConfig = Omit<SchemaValues, 'sidecar'> & {
  sidecar: SchemaValues['sidecar'] & {
    /** The accepted API tokens (config and PHISHX_API_TOKENS*, hashed) with their scope and tenant. */
    tokens: ApiToken[];
  };
  'breaker.nlp': BreakerConfig;
  'breaker.clamav': BreakerConfig;
  'breaker.reputation': BreakerConfig;
  'breaker.redis': BreakerConfig;
  'breaker.webhook': BreakerConfig;
  /** Brand name (lower-case) ─► domains that legitimately carry it. */
  brands: Record<string, string[]>;
  /** Reason-code weight overrides. */
  weights: Record<string, number>;
  /** Recipient domain (lower-case) ─► policy; `default` is the [main]/[thresholds] one. */
  tenants: Record<string, TenantPolicy>;
  /** Webhook endpoints, in the order of their sections (`env` last). */
  webhookEndpoints: WebhookEndpoint[];
};
