import { Counter, Gauge, Histogram, Registry, type Aggregator } from 'prom-client';

/**
 * Every PhishX metric family, defined once. The metric table in docs/operations.md
 * (`npx phishx metrics --markdown`) and the tests that check the exposition are derived
 * from this list, so documentation and /metrics cannot drift.
 *
 * Two registries:
 *  - `processRegistry`: what each process counts (every cluster worker and the master);
 *    summed across processes at scrape time unless the family says otherwise.
 *  - `sidecarRegistry`: shared state the sidecar reads when scraped (quarantine depth,
 *    Redis memory, health, workers) — reported once, never multiplied by the worker count.
 *
 * Labels are bounded: tenants not configured become `other`, reason codes come from the
 * reason table, services from the breaker table, routes from the route table.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram';
export type MetricScope = 'process' | 'sidecar';

export interface FamilyDoc {
  name: string;
  type: MetricType;
  labels: readonly string[];
  help: string;
  scope: MetricScope;
}

export const FAMILY_DOCS: FamilyDoc[] = [];
export const processRegistry = new Registry();
export const sidecarRegistry = new Registry();

const reg = (scope: MetricScope): Registry => (scope === 'process' ? processRegistry : sidecarRegistry);

function counter<L extends string>(scope: MetricScope, name: string, help: string, labels: readonly L[] = []): Counter<L> {
  FAMILY_DOCS.push({ name, type: 'counter', labels, help, scope });
  return new Counter<L>({ name, help, labelNames: labels, registers: [reg(scope)] });
}

function gauge<L extends string>(scope: MetricScope, name: string, help: string, labels: readonly L[] = [], aggregator: Aggregator = 'sum'): Gauge<L> {
  FAMILY_DOCS.push({ name, type: 'gauge', labels, help, scope });
  return new Gauge<L>({ name, help, labelNames: labels, registers: [reg(scope)], aggregator });
}

function histogram<L extends string>(scope: MetricScope, name: string, help: string, buckets: number[], labels: readonly L[] = []): Histogram<L> {
  FAMILY_DOCS.push({ name, type: 'histogram', labels, help, scope });
  return new Histogram<L>({ name, help, labelNames: labels, buckets, registers: [reg(scope)] });
}

const SECONDS_FAST = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const SECONDS_SCAN = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BYTES = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

/** Per-process families (counted where the work happens). */
export const processMetrics = {
  // ── scanning ──────────────────────────────────────────────────────────────────────────
  scanned: counter(
    'process',
    'phishx_messages_scanned_total',
    'Messages scanned, by the action taken (allow, quarantine, reject, tempfail) and tenant (configured tenants, `default`, else `other`).',
    ['action', 'tenant'],
  ),
  monitored: counter('process', 'phishx_messages_monitored_total', 'Messages scanned in monitor mode, by the action enforce mode would have taken.', [
    'would_action',
  ]),
  skipped: counter('process', 'phishx_messages_skipped_total', 'Messages not scanned on purpose: `relaying` (outbound/authenticated) or `allowlist`.', [
    'reason',
  ]),
  unscanned: counter(
    'process',
    'phishx_messages_unscanned_total',
    'Messages without a verdict: accepted after an internal fault (`SCAN_ERROR`, they carry ' +
      '`X-PhishX-Verdict: unscanned`), or deferred with 451 4.7.1 when the hook watchdog ended a scan that ' +
      'outlasted its budget or no scan thread had room for it within the budget (`BUDGET_EXCEEDED`).',
    ['code'],
  ),
  scanDuration: histogram('process', 'phishx_scan_duration_seconds', 'Wall time of one scan, parse to verdict, by action.', SECONDS_SCAN, ['action']),
  score: histogram('process', 'phishx_scan_score', 'Verdict score (0–100) of scanned messages.', [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]),
  size: histogram('process', 'phishx_message_size_bytes', 'Raw size of scanned messages.', BYTES),
  urls: histogram('process', 'phishx_message_urls', 'URLs found per scanned message.', [0, 1, 2, 5, 10, 20, 50, 100, 500]),
  attachments: histogram('process', 'phishx_message_attachments', 'Attachments per scanned message (archive members included).', [0, 1, 2, 3, 5, 10, 50]),
  parts: histogram('process', 'phishx_message_mime_parts', 'MIME parts per scanned message.', [1, 2, 3, 5, 10, 50, 200, 1000]),
  reasons: counter('process', 'phishx_reasons_total', 'Reasons fired, by reason code (see docs/detection.md "Reason codes").', ['code']),
  forged: counter('process', 'phishx_forged_headers_removed_total', 'Incoming `X-PhishX-*` headers removed before the verdict headers were added.'),
  analyzerDuration: histogram(
    'process',
    'phishx_analyzer_duration_seconds',
    'Time spent per scan phase: `parse`, `expand`, `analyze` (local heuristics), `nlp`, `reputation` (none while no feed holds an ' +
      'entry and Safe Browsing is off), `clamav`.',
    SECONDS_FAST,
    ['analyzer'],
  ),
  degraded: counter('process', 'phishx_scans_degraded_total', "Scans that ran without one service's answer (its `*_UNAVAILABLE` reason fired), by service.", [
    'service',
  ]),
  // ── external services and breakers ────────────────────────────────────────────────────
  serviceCalls: counter(
    'process',
    'phishx_service_calls_total',
    'Calls to external services through their breaker, by outcome: `success`, `failure`, `rejected` (breaker open, not called).',
    ['service', 'outcome'],
  ),
  serviceErrors: counter(
    'process',
    'phishx_service_errors_total',
    'Failed service calls by kind: `timeout`, `unreachable`, `http_status`, `bad_response`, `breaker_open`, `other`.',
    ['service', 'kind'],
  ),
  serviceDuration: histogram('process', 'phishx_service_duration_seconds', 'Latency of external service calls (successful and failed).', SECONDS_FAST, [
    'service',
  ]),
  serviceUp: gauge('process', 'phishx_service_available', 'Processes whose last call to the service succeeded (1 per process; 0 after a failure).', [
    'service',
  ]),
  breakerState: gauge('process', 'phishx_breaker_state', 'Processes whose breaker for the service is in this state (`closed`, `open`, `half_open`).', [
    'service',
    'state',
  ]),
  breakerTransitions: counter('process', 'phishx_breaker_transitions_total', 'Breaker state changes, by service and new state.', ['service', 'to']),
  // ── Redis ─────────────────────────────────────────────────────────────────────────────
  redisDuration: histogram('process', 'phishx_redis_command_duration_seconds', 'Latency of store operations against Redis, by operation.', SECONDS_FAST, [
    'command',
  ]),
  redisErrors: counter('process', 'phishx_redis_command_errors_total', 'Failed store operations against Redis, by operation.', ['command']),
  redisConnected: gauge('process', 'phishx_redis_connected', 'Processes whose Redis connection is ready.'),
  redisReconnects: counter('process', 'phishx_redis_reconnects_total', 'Redis reconnect attempts.'),
  // ── quarantine ────────────────────────────────────────────────────────────────────────
  held: counter(
    'process',
    'phishx_quarantine_held_total',
    'Messages held for review, by where the raw message went: `store`, `spool` (large), `pending` (store down; replayed later).',
    ['where'],
  ),
  heldBytes: counter('process', 'phishx_quarantine_held_bytes_total', 'Raw bytes of messages held for review.'),
  holdFailures: counter('process', 'phishx_quarantine_failures_total', 'Messages that could not be held and were answered 451 (the sender retries).'),
  replayed: counter('process', 'phishx_quarantine_replayed_total', 'Messages held while the store was down, replayed into it later.'),
  // ── SMTP ──────────────────────────────────────────────────────────────────────────────
  sessions: counter('process', 'phishx_smtp_sessions_total', 'SMTP connections accepted by Haraka.'),
  sessionsActive: gauge('process', 'phishx_smtp_sessions_active', 'SMTP connections open now.'),
  answers: counter(
    'process',
    'phishx_smtp_answers_total',
    'SMTP answers that end a step: `2xx` when a message is queued, `4xx`/`5xx` denials by any plugin, by hook.',
    ['class', 'hook'],
  ),
  verdictAnswers: counter('process', 'phishx_verdict_answers_total', 'What PhishX answered for scanned messages: `250` (delivered or held), `451`, `550`.', [
    'code',
  ]),
  // ── internals ─────────────────────────────────────────────────────────────────────────
  configReloads: counter(
    'process',
    'phishx_config_reloads_total',
    'Reloads of phishx.ini: `applied`, or `rejected` (invalid edit, deleted or emptied file, a line that is not `key = value`; the previous config stays).',
    ['result'],
  ),
  listenerErrors: counter(
    'process',
    'phishx_event_listener_errors_total',
    'Errors thrown by verdict-event subscribers (metrics, history, alerts); never reach SMTP.',
  ),
  // ── sidecar HTTP ──────────────────────────────────────────────────────────────────────
  httpRequests: counter('process', 'phishx_http_requests_total', 'Sidecar HTTP requests, by route (`unmatched` for unknown paths), method and status.', [
    'route',
    'method',
    'status',
  ]),
  httpDuration: histogram('process', 'phishx_http_request_duration_seconds', 'Sidecar HTTP request latency, by route.', SECONDS_FAST, ['route']),
  httpRequestSize: histogram('process', 'phishx_http_request_size_bytes', 'Sidecar HTTP request body sizes, by route.', BYTES, ['route']),
  httpResponseSize: histogram('process', 'phishx_http_response_size_bytes', 'Sidecar HTTP response body sizes, by route.', BYTES, ['route']),
  httpAuthFailures: counter(
    'process',
    'phishx_http_auth_failures_total',
    'Requests refused with 401, by route and reason (`missing`, `invalid`, `no_tokens_configured`; signed requests: `signed_headers`, ' +
      '`signed_timestamp`, `signed_body_hash`, `signed_signature`, `signed_nonce`).',
    ['route', 'reason'],
  ),
  httpRateLimited: counter('process', 'phishx_http_rate_limited_total', 'Requests refused with 429 by the per-client rate limit, by route.', ['route']),
  httpConnectionsRefused: counter(
    'process',
    'phishx_http_connections_refused_total',
    'Sidecar connections closed at once because their client address already held `[sidecar] max_connections_per_ip` open ones.',
  ),
  quarantineActions: counter(
    'process',
    'phishx_quarantine_actions_total',
    'Review actions through the SOC API and CLI (`raw`, `release`, `delete`, `report_phish`, ' +
      '`report_not_phish`, `bulk_release`, `bulk_delete`, and on alerts `alert_acknowledge`, ' +
      '`alert_resolve`, `alert_release_all`, `alert_delete_all`, `alert_block_sender`), by result (`ok`, ' +
      '`conflict`, `not_found`, `bad_request`, `failed`). Each is also in the audit log (`/api/v1/audit`).',
    ['action', 'result'],
  ),
  httpInFlight: gauge('process', 'phishx_http_requests_in_flight', 'Sidecar HTTP requests being served now.'),
  // ── workers and caches ────────────────────────────────────────────────────────────────
  workerScansInFlight: gauge(
    'process',
    'phishx_worker_scans_in_flight',
    'Scans running now in each Haraka process (`worker`: `main` in single-process mode, else the cluster worker id): the per-worker active tasks.',
    ['worker'],
  ),
  dataWaits: counter(
    'process',
    'phishx_data_waits_total',
    'DATA commands that waited for room in the scan queue (`[main] max_queued_messages`) before the 354, by how the wait ended (`room`, `timeout`).',
    ['result'],
  ),
  workerScans: counter('process', 'phishx_worker_scans_total', 'Scans each Haraka process ran (`worker` as above): how cluster mode spreads the load.', [
    'worker',
  ]),
  cacheLookups: counter(
    'process',
    'phishx_cache_lookups_total',
    'Lookups in each cache (`safe_browsing`: Safe Browsing answers per URL; `health`: health-check results of the sidecar) by result (`hit`, `miss`).',
    ['cache', 'result'],
  ),
  cacheEntries: gauge('process', 'phishx_cache_entries', 'Entries held in each cache now.', ['cache']),
  // ── alerts ────────────────────────────────────────────────────────────────────────────
  alertsFiring: gauge(
    'process',
    'phishx_alerts_firing',
    'Operational alerts firing now, by rule (`scan_latency`, `rate_limit_abuse`, `auth_failures`, `service_availability`, `queue_depth`, ' +
      '`datastore_latency`, `campaign_surge`) and severity (`warn`, `critical`); set by the node that evaluates them.',
    ['alert', 'severity'],
  ),
  alertNotifications: counter(
    'process',
    'phishx_alert_notifications_total',
    'Alert notifications per channel (`slack`, `pagerduty`, `email`, `webhook`) and result (`sent`, `failed`: an attempt that will be retried).',
    ['channel', 'result'],
  ),
  // ── webhooks ──────────────────────────────────────────────────────────────────────────
  webhookDeliveries: counter(
    'process',
    'phishx_webhook_deliveries_total',
    'Webhook events finished per endpoint (the `[webhook.<name>]` names): `delivered`, or `dead` (gave up after `[webhooks] max_age_h`).',
    ['endpoint', 'outcome'],
  ),
  webhookAttempts: counter(
    'process',
    'phishx_webhook_attempts_total',
    'Webhook delivery attempts per endpoint, by result (`success`, `http_status`, `timeout`, `unreachable`, `no_key`, `breaker_open`).',
    ['endpoint', 'result'],
  ),
  webhookLatency: histogram(
    'process',
    'phishx_webhook_delivery_latency_seconds',
    'Time from an event to its successful delivery, per endpoint (retries included).',
    [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    ['endpoint'],
  ),
  webhookBacklog: gauge(
    'process',
    'phishx_webhook_backlog',
    'Webhook events taken from the event log and not yet delivered (in flight or waiting to retry), per endpoint.',
    ['endpoint'],
  ),
} as const;

/** Shared-state families, set by the sidecar when scraped. */
export const sharedStateMetrics = {
  quarantineEntries: gauge('sidecar', 'phishx_quarantine_entries', 'Messages held in the quarantine store now (not yet expired).'),
  healthState: gauge('sidecar', 'phishx_health_state', 'Overall health: 0 HEALTHY, 1 DEGRADED, 2 UNHEALTHY (same rules as `/health/full`).'),
  componentUp: gauge('sidecar', 'phishx_component_up', 'Whether each component answered its last health check: `store`, `clamav`, `nlp`, `smtp`, `config`.', [
    'component',
  ]),
  checkDuration: gauge('sidecar', 'phishx_health_check_duration_seconds', 'Latency of the last health check of each component.', ['component']),
  redisMemory: gauge('sidecar', 'phishx_redis_used_memory_bytes', 'Redis `used_memory` (INFO memory) at the last health check.'),
  redisPing: gauge('sidecar', 'phishx_redis_ping_seconds', 'Redis PING round trip at the last health check.'),
  workers: gauge(
    'sidecar',
    'phishx_cluster_workers',
    'Cluster workers by state at this scrape: `responding`, `silent` (left out after `[sidecar] worker_timeout_ms`). 0 workers in single-process mode.',
    ['state'],
  ),
  scrapeDuration: gauge('sidecar', 'phishx_scrape_duration_seconds', 'Time taken to gather this scrape across processes.'),
  feedEntries: gauge('sidecar', 'phishx_reputation_feed_entries', 'Entries in each imported reputation feed, by feed and kind (`url`, `domain`).', [
    'feed',
    'kind',
  ]),
  feedUpdated: gauge(
    'sidecar',
    'phishx_reputation_feed_updated_timestamp_seconds',
    "When each imported reputation feed was last imported (Unix time; without Redis the feed file's modification time): " +
      '`time() - phishx_reputation_feed_updated_timestamp_seconds > 86400` finds a feed no longer refreshed.',
    ['feed'],
  ),
  buildInfo: gauge('sidecar', 'phishx_build_info', 'Always 1; labels carry the PhishX and Node.js versions.', ['version', 'node_version']),
  configValid: gauge('sidecar', 'phishx_config_valid', '1 when phishx.ini loaded and validated.'),
  socAlertsOpen: gauge(
    'sidecar',
    'phishx_soc_alerts_open',
    'SOC alerts not yet acknowledged or resolved, by tenant (configured tenants, `default`, else `other`); counted at each scrape.',
    ['tenant'],
  ),
} as const;
