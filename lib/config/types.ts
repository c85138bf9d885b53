import type { ApiToken } from '../sidecar/auth.js';

export type Mode = 'enforce' | 'monitor';

export interface BreakerConfig {
  volume_threshold: number;
  error_threshold_percentage: number;
  reset_timeout_ms: number;
  rolling_window_ms: number;
}

export interface TenantPolicy {
  mode: Mode;
  quarantine: number;
  reject: number;
}

export interface Cidr {
  /** ipaddr.js range: [address, prefix length]. */
  text: string;
}

/** Validated, frozen configuration. Built only by `buildConfig`. */
export interface PhishXConfig {
  main: { mode: Mode; scan_budget_ms: number; skip_relaying: boolean; header_reasons_max: number };
  thresholds: { quarantine: number; reject: number };
  limits: { max_parts: number; max_urls: number; max_decoded_bytes: number; max_nesting_depth: number };
  urls: { suspicious_tlds: string[]; shorteners: string[]; max_subdomain_depth: number; redirectors: string[]; footer_hosts: string[]; free_hosting: string[]; user_content: string[]; expand_shorteners: boolean; expand_max_hops: number; expand_timeout_ms: number };
  sender: { freemail: string[]; platforms: string[] };
  nlp: { enabled: boolean; url: string; timeout_ms: number; max_chars: number; phish_labels: string[]; auth_header: string; fallback: 'embedded' | 'none' };
  reputation: { feed_dir: string; safe_browsing_url: string; timeout_ms: number; cache_ttl_s: number; max_urls: number };
  attachments: { max_archive_entries: number; max_archive_depth: number; max_inflated_bytes: number; max_compression_ratio: number };
  clamav: { hosts: string[]; timeout_ms: number; max_size: number; action: 'reject' | 'quarantine' };
  'breaker.nlp': BreakerConfig;
  'breaker.clamav': BreakerConfig;
  'breaker.reputation': BreakerConfig;
  'breaker.redis': BreakerConfig;
  /** Fail modes: true = answer 451 when that service is unavailable. */
  defer: { clamav: boolean; redis: boolean; nlp: boolean; reputation: boolean };
  allowlist: { domains: string[]; ips: string[] };
  quarantine: { ttl_days: number; history_days: number; max_inline_bytes: number; memory_max_bytes: number; max_entries: number; max_disk_bytes: number; replay_interval_s: number; spool_dir: string };
  redis: { url: string; key_prefix: string };
  sidecar: {
    listen: { host: string; port: number } | null;
    thread: boolean;
    /** `sha256:<hex>` of every accepted API token (config and PHISHX_API_TOKENS*, hashed). */
    token_hashes: string[];
    /** The same tokens with their scope and tenant. */
    tokens: ApiToken[];
    metrics_auth: boolean;
    rate_limit_per_s: number;
    rate_limit_burst: number;
    max_body_bytes: number;
    max_connections_per_ip: number;
    health_cache_ms: number;
    worker_timeout_ms: number;
  };
  release: { smtp: string; timeout_ms: number };
  soc: { alert_window_s: number; blocklist_feed: string };
  local_delivery: { dir: string };
  /** Brand name (lower-case) ─► domains that legitimately carry it. */
  brands: Record<string, string[]>;
  /** Reason-code weight overrides. */
  weights: Record<string, number>;
  /** Recipient domain (lower-case) ─► policy; `default` is the [main]/[thresholds] one. */
  tenants: Record<string, TenantPolicy>;
}
