/**
 * The Grafana dashboards, as data: each panel names its type, unit, description and PromQL.
 * `npx phishx dashboards --out deploy/grafana/dashboards` writes them (committed; a test
 * fails when they are stale) and a test parses every expression and checks its metric and
 * label names against the metric catalog. Plain JSON of Grafana's dashboard model (schema
 * 39): the typed Foundation SDK is a 0.0.x pre-release, and what matters — that every query
 * names metrics PhishX exports — is checked here, not by a type.
 */

export type PanelType = 'stat' | 'timeseries' | 'gauge' | 'barchart' | 'piechart' | 'table' | 'state-timeline' | 'bargauge';

export interface PanelSpec {
  title: string;
  type: PanelType;
  description: string;
  /** Grafana unit id: `reqps`, `s`, `percentunit`, `short`, `bytes`, `ops`, `ms`. */
  unit: string;
  /** PromQL, with `$node`, `$tenant`, `$service` template variables and `$__rate_interval`. */
  queries: Array<{ expr: string; legend?: string; instant?: boolean }>;
  /** Grid width (of 24), default 8. */
  w?: number;
  h?: number;
  thresholds?: Array<{ value: number | null; color: string }>;
  mappings?: Array<{ value: string; text: string; color: string }>;
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  /** Template variables this dashboard uses besides `node`. */
  variables: Array<'tenant' | 'service'>;
  panels: PanelSpec[];
}

const N = 'node=~"$node"';
const rate = (metric: string, extra = ''): string => `rate(${metric}{${N}${extra ? `,${extra}` : ''}}[$__rate_interval])`;
const q = (expr: string, legend?: string): { expr: string; legend?: string } => ({ expr, ...(legend ? { legend } : {}) });
const quantile = (p: number, metric: string, by = '', extra = ''): string =>
  `histogram_quantile(${p}, sum by (le${by ? `, ${by}` : ''}) (${rate(`${metric}_bucket`, extra)}))`;
const BREAKER_MAP = [
  { value: '0', text: 'closed', color: 'green' },
  { value: '1', text: 'half open', color: 'orange' },
  { value: '2', text: 'open', color: 'red' },
];
const GOOD_LOW = [
  { value: null, color: 'green' },
  { value: 1, color: 'orange' },
  { value: 5, color: 'red' },
];

export const DASHBOARDS: DashboardSpec[] = [
  {
    uid: 'phishx-overview',
    title: 'PhishX — System overview',
    description: 'Scans, verdicts, latency, SMTP answers, workers, breakers and service availability.',
    variables: ['tenant'],
    panels: [
      {
        title: 'Scans per second by action',
        type: 'timeseries',
        unit: 'reqps',
        description: 'Messages scanned per second, by the action taken (allow, quarantine, reject, tempfail).',
        queries: [q(`sum by (action) (${rate('phishx_messages_scanned_total', 'tenant=~"$tenant"')})`, '{{action}}')],
        w: 12,
      },
      {
        title: 'Scan latency p50 / p95 / p99',
        type: 'timeseries',
        unit: 's',
        description: 'Wall time of one scan, parse to verdict (histogram quantiles over the rate interval). Alert: p95 ≥ 1 s warn, ≥ 5 s critical.',
        queries: [
          q(quantile(0.5, 'phishx_scan_duration_seconds'), 'p50'),
          q(quantile(0.95, 'phishx_scan_duration_seconds'), 'p95'),
          q(quantile(0.99, 'phishx_scan_duration_seconds'), 'p99'),
        ],
        w: 12,
      },
      {
        title: 'Decisions (last 24 h)',
        type: 'piechart',
        unit: 'short',
        description: 'Share of actions over the last day.',
        queries: [q(`sum by (action) (increase(phishx_messages_scanned_total{${N},tenant=~"$tenant"}[24h]))`, '{{action}}')],
      },
      {
        title: 'SMTP answers per second',
        type: 'timeseries',
        unit: 'reqps',
        description: 'What PhishX answered for scanned messages: 250 (delivered or held), 451, 550.',
        queries: [q(`sum by (code) (${rate('phishx_verdict_answers_total')})`, '{{code}}')],
      },
      {
        title: 'SMTP sessions open',
        type: 'stat',
        unit: 'short',
        description: 'SMTP connections open now, all workers.',
        queries: [q(`sum(phishx_smtp_sessions_active{${N}})`)],
      },
      {
        title: 'Haraka workers',
        type: 'stat',
        unit: 'short',
        description: 'Cluster workers by state (answering, silent) at the last scrape; 0 in single-process mode.',
        queries: [q(`sum by (state) (phishx_cluster_workers{${N}})`, '{{state}}')],
      },
      {
        title: 'Breaker states',
        type: 'state-timeline',
        unit: 'short',
        description: 'Circuit breaker of each external service over time: closed, half open, open (worst process).',
        queries: [
          q(
            `max by (service) (phishx_breaker_state{${N},state="open"} * 2 or phishx_breaker_state{${N},state="half_open"} * 1 or phishx_breaker_state{${N},state="closed"} * 0)`,
            '{{service}}',
          ),
        ],
        mappings: BREAKER_MAP,
        w: 16,
      },
      {
        title: 'Service availability',
        type: 'bargauge',
        unit: 'percentunit',
        description: 'Share of successful calls per external service over the rate interval. Alert: below 95 % warn, 80 % critical.',
        queries: [
          q(
            `sum by (service) (${rate('phishx_service_calls_total', 'outcome="success"')}) / sum by (service) (${rate('phishx_service_calls_total', 'outcome!="rejected"')})`,
            '{{service}}',
          ),
        ],
        thresholds: [
          { value: null, color: 'red' },
          { value: 0.8, color: 'orange' },
          { value: 0.95, color: 'green' },
        ],
      },
      {
        title: 'Health',
        type: 'stat',
        unit: 'short',
        description: 'Overall health: 0 HEALTHY, 1 DEGRADED, 2 UNHEALTHY (the rules of /health/full).',
        queries: [q(`max(phishx_health_state{${N}})`)],
        mappings: [
          { value: '0', text: 'HEALTHY', color: 'green' },
          { value: '1', text: 'DEGRADED', color: 'orange' },
          { value: '2', text: 'UNHEALTHY', color: 'red' },
        ],
      },
      {
        title: 'Version',
        type: 'table',
        unit: 'short',
        description: 'PhishX and Node.js versions per node.',
        queries: [{ expr: `phishx_build_info{${N}}`, instant: true }],
      },
    ],
  },
  {
    uid: 'phishx-security',
    title: 'PhishX — Security',
    description: 'Sidecar abuse (rate limits, authentication failures), top reasons, SOC alerts, forged headers, review actions.',
    variables: ['tenant'],
    panels: [
      {
        title: 'Rate-limited requests (429)',
        type: 'timeseries',
        unit: 'reqps',
        description: 'Sidecar requests refused by the per-client rate limit, by route. Alert: 100 / h warn, 1,000 / h critical.',
        queries: [q(`sum by (route) (${rate('phishx_http_rate_limited_total')})`, '{{route}}')],
        w: 12,
      },
      {
        title: 'Authentication failures',
        type: 'timeseries',
        unit: 'reqps',
        description: 'Sidecar requests refused with 401, by route and reason (missing, invalid, signed_*). Alert: 10 / h warn, 50 / h critical.',
        queries: [q(`sum by (route, reason) (${rate('phishx_http_auth_failures_total')})`, '{{route}} {{reason}}')],
        w: 12,
      },
      {
        title: 'Top reasons (1 h)',
        type: 'barchart',
        unit: 'short',
        description: 'Reason codes that fired most in the last hour: the suspicious patterns of the mail stream.',
        queries: [{ expr: `topk(10, sum by (code) (increase(phishx_reasons_total{${N}}[1h])))`, legend: '{{code}}', instant: true }],
        w: 12,
      },
      {
        title: 'SOC alerts open',
        type: 'stat',
        unit: 'short',
        description: 'SOC alerts (one per campaign) not yet acknowledged or resolved, by tenant.',
        queries: [q(`sum by (tenant) (phishx_soc_alerts_open{${N},tenant=~"$tenant"})`, '{{tenant}}')],
        thresholds: GOOD_LOW,
      },
      {
        title: 'Forged X-PhishX headers removed',
        type: 'stat',
        unit: 'short',
        description: 'Incoming X-PhishX-* headers stripped before the verdict headers were added, last 24 h (someone tries to spoof a verdict).',
        queries: [q(`sum(increase(phishx_forged_headers_removed_total{${N}}[24h]))`)],
        thresholds: GOOD_LOW,
      },
      {
        title: 'Review actions',
        type: 'timeseries',
        unit: 'ops',
        description: 'Release, delete, report and alert actions through the SOC API and CLI, by action and result.',
        queries: [q(`sum by (action, result) (${rate('phishx_quarantine_actions_total')})`, '{{action}} {{result}}')],
        w: 12,
      },
      {
        title: 'Operational alerts firing',
        type: 'table',
        unit: 'short',
        description: 'Alerts firing now by rule and severity (docs/alerts.md).',
        queries: [{ expr: `sum by (alert, severity) (phishx_alerts_firing{${N}}) > 0`, instant: true }],
        w: 12,
      },
    ],
  },
  {
    uid: 'phishx-queues',
    title: 'PhishX — Queue performance',
    description: 'Quarantine depth and hold / release rates, pending spool, webhook outbox and alert notifications, per-worker load.',
    variables: [],
    panels: [
      {
        title: 'Quarantine depth',
        type: 'timeseries',
        unit: 'short',
        description: 'Messages held in the quarantine store now (not yet expired).',
        queries: [q(`max(phishx_quarantine_entries{${N}})`, 'held')],
        w: 12,
      },
      {
        title: 'Holds and replays per second',
        type: 'timeseries',
        unit: 'ops',
        description: 'Messages held for review, held while the store was down and replayed later, and holds that failed (answered 451).',
        queries: [
          q(`sum(${rate('phishx_quarantine_held_total')})`, 'held'),
          q(`sum(${rate('phishx_quarantine_replayed_total')})`, 'replayed'),
          q(`sum(${rate('phishx_quarantine_failures_total')})`, 'failed'),
        ],
        w: 12,
      },
      {
        title: 'Webhook backlog',
        type: 'timeseries',
        unit: 'short',
        description: 'Webhook events taken from the event log and not yet delivered, per endpoint. Alert: 1,000 warn, 5,000 critical.',
        queries: [q(`sum by (endpoint) (phishx_webhook_backlog{${N}})`, '{{endpoint}}')],
      },
      {
        title: 'Webhook delivery latency p95',
        type: 'timeseries',
        unit: 's',
        description: 'Time from an event to its successful delivery (retries included), p95 per endpoint.',
        queries: [q(quantile(0.95, 'phishx_webhook_delivery_latency_seconds', 'endpoint'), '{{endpoint}}')],
      },
      {
        title: 'Webhook deliveries',
        type: 'timeseries',
        unit: 'ops',
        description: 'Events delivered and given up (dead letters) per endpoint.',
        queries: [q(`sum by (endpoint, outcome) (${rate('phishx_webhook_deliveries_total')})`, '{{endpoint}} {{outcome}}')],
      },
      {
        title: 'Alert notifications',
        type: 'timeseries',
        unit: 'ops',
        description: 'Alert notifications per channel: sent, and failed attempts (retried).',
        queries: [q(`sum by (channel, result) (${rate('phishx_alert_notifications_total')})`, '{{channel}} {{result}}')],
        w: 12,
      },
      {
        title: 'Scans per worker (1 h)',
        type: 'barchart',
        unit: 'short',
        description: 'Messages scanned by each Haraka process in the last hour (cluster mode spreads them over the workers).',
        queries: [{ expr: `sum by (worker) (increase(phishx_worker_scans_total{${N}}[1h]))`, legend: '{{worker}}', instant: true }],
        w: 12,
      },
      {
        title: 'Active scans per worker',
        type: 'timeseries',
        unit: 'short',
        description: 'Scans running now in each Haraka process.',
        queries: [q(`sum by (worker) (phishx_worker_scans_in_flight{${N}})`, '{{worker}}')],
        w: 12,
      },
      {
        title: 'Cache hit rate',
        type: 'timeseries',
        unit: 'percentunit',
        description: 'Share of lookups answered from each cache (Safe Browsing answers, health-check results); above 80 % is healthy.',
        queries: [
          q(`sum by (cache) (${rate('phishx_cache_lookups_total', 'result="hit"')}) / sum by (cache) (${rate('phishx_cache_lookups_total')})`, '{{cache}}'),
        ],
        thresholds: [
          { value: null, color: 'red' },
          { value: 0.8, color: 'green' },
        ],
        w: 12,
      },
    ],
  },
  {
    uid: 'phishx-services',
    title: 'PhishX — External services',
    description: 'NLP service, reputation, ClamAV hosts, Redis, webhook endpoints: availability, call rate, latency, timeouts, breakers.',
    variables: ['service'],
    panels: [
      {
        title: 'Availability by service',
        type: 'timeseries',
        unit: 'percentunit',
        description: 'Share of successful calls (breaker refusals excluded).',
        queries: [
          q(
            `sum by (service) (${rate('phishx_service_calls_total', 'service=~"$service",outcome="success"')}) / sum by (service) (${rate('phishx_service_calls_total', 'service=~"$service",outcome!="rejected"')})`,
            '{{service}}',
          ),
        ],
        w: 12,
      },
      {
        title: 'Calls per second',
        type: 'timeseries',
        unit: 'reqps',
        description: 'Calls per service and outcome (success, failure, rejected by an open breaker).',
        queries: [q(`sum by (service, outcome) (${rate('phishx_service_calls_total', 'service=~"$service"')})`, '{{service}} {{outcome}}')],
        w: 12,
      },
      {
        title: 'Latency p99',
        type: 'timeseries',
        unit: 's',
        description: 'p99 latency of calls per service, successful and failed.',
        queries: [q(quantile(0.99, 'phishx_service_duration_seconds', 'service', 'service=~"$service"'), '{{service}}')],
      },
      {
        title: 'Errors by kind',
        type: 'timeseries',
        unit: 'ops',
        description: 'Failed calls per service by kind (timeout, unreachable, http_status, bad_response, breaker_open).',
        queries: [q(`sum by (service, kind) (${rate('phishx_service_errors_total', 'service=~"$service"')})`, '{{service}} {{kind}}')],
      },
      {
        title: 'Breaker timeline',
        type: 'state-timeline',
        unit: 'short',
        description: 'Breaker state per service over time (worst process).',
        queries: [
          q(
            `max by (service) (phishx_breaker_state{${N},service=~"$service",state="open"} * 2 or phishx_breaker_state{${N},service=~"$service",state="half_open"} * 1 or phishx_breaker_state{${N},service=~"$service",state="closed"} * 0)`,
            '{{service}}',
          ),
        ],
        mappings: BREAKER_MAP,
      },
      {
        title: 'Health checks',
        type: 'stat',
        unit: 'short',
        description: 'Whether each component answered its last health check (store, clamav, nlp, smtp, config).',
        queries: [q(`min by (component) (phishx_component_up{${N}})`, '{{component}}')],
        mappings: [
          { value: '0', text: 'down', color: 'red' },
          { value: '1', text: 'up', color: 'green' },
        ],
        w: 12,
      },
      {
        title: 'Scans without a service',
        type: 'timeseries',
        unit: 'ops',
        description: "Scans that ran without one service's answer (its *_UNAVAILABLE reason fired), by service.",
        queries: [q(`sum by (service) (${rate('phishx_scans_degraded_total')})`, '{{service}}')],
        w: 12,
      },
    ],
  },
  {
    uid: 'phishx-datastore',
    title: 'PhishX — Datastore',
    description: 'Redis command latency, errors, memory, connection; health-check round trips.',
    variables: [],
    panels: [
      {
        title: 'Redis command latency p95 / p99',
        type: 'timeseries',
        unit: 's',
        description: 'Latency of store operations against Redis. Alert: store round trip ≥ 5 s warn, 10 s critical.',
        queries: [q(quantile(0.95, 'phishx_redis_command_duration_seconds'), 'p95'), q(quantile(0.99, 'phishx_redis_command_duration_seconds'), 'p99')],
        w: 12,
      },
      {
        title: 'Redis commands per second',
        type: 'timeseries',
        unit: 'ops',
        description: 'Store operations per second, by operation.',
        queries: [q(`sum by (command) (rate(phishx_redis_command_duration_seconds_count{${N}}[$__rate_interval]))`, '{{command}}')],
        w: 12,
      },
      {
        title: 'Redis errors',
        type: 'timeseries',
        unit: 'ops',
        description: 'Failed store operations against Redis, by operation.',
        queries: [q(`sum by (command) (${rate('phishx_redis_command_errors_total')})`, '{{command}}')],
      },
      {
        title: 'Redis memory',
        type: 'gauge',
        unit: 'bytes',
        description: 'Redis used_memory at the last health check.',
        queries: [q(`max(phishx_redis_used_memory_bytes{${N}})`)],
      },
      {
        title: 'Redis connected',
        type: 'stat',
        unit: 'short',
        description: 'Processes whose Redis connection is ready, and reconnect attempts in the last hour.',
        queries: [q(`sum(phishx_redis_connected{${N}})`, 'connected'), q(`sum(increase(phishx_redis_reconnects_total{${N}}[1h]))`, 'reconnects (1 h)')],
      },
      {
        title: 'Health-check round trips',
        type: 'timeseries',
        unit: 's',
        description: 'Latency of the last health check per component (the embedded store: its write check; Redis: PING).',
        queries: [
          q(`max by (component) (phishx_health_check_duration_seconds{${N}})`, '{{component}}'),
          q(`max(phishx_redis_ping_seconds{${N}})`, 'redis ping'),
        ],
        w: 24,
      },
    ],
  },
  {
    uid: 'phishx-analysis',
    title: 'PhishX — Email analysis',
    description: 'Messages processed, decisions and reasons, scores, processing time, URLs and attachments, per-tenant volume.',
    variables: ['tenant'],
    panels: [
      {
        title: 'Messages processed',
        type: 'stat',
        unit: 'short',
        description: 'Messages scanned in the last 24 hours.',
        queries: [q(`sum(increase(phishx_messages_scanned_total{${N},tenant=~"$tenant"}[24h]))`)],
      },
      {
        title: 'Volume per tenant',
        type: 'timeseries',
        unit: 'reqps',
        description: 'Messages scanned per second by tenant (configured tenants, default, other).',
        queries: [q(`sum by (tenant) (${rate('phishx_messages_scanned_total', 'tenant=~"$tenant"')})`, '{{tenant}}')],
        w: 16,
      },
      {
        title: 'Reasons per second',
        type: 'timeseries',
        unit: 'ops',
        description: 'Reasons fired, by reason code (docs/detection.md "Reason codes").',
        queries: [q(`sum by (code) (${rate('phishx_reasons_total')})`, '{{code}}')],
        w: 12,
      },
      {
        title: 'Score distribution',
        type: 'barchart',
        unit: 'short',
        description: 'Verdict scores of scanned messages in the last hour, by bucket (quarantine from 50, reject from 70 by default).',
        queries: [{ expr: `sum by (le) (increase(phishx_scan_score_bucket{${N}}[1h]))`, legend: '{{le}}', instant: true }],
        w: 12,
      },
      {
        title: 'Processing time by action',
        type: 'timeseries',
        unit: 's',
        description: 'p95 scan time per action.',
        queries: [q(quantile(0.95, 'phishx_scan_duration_seconds', 'action'), '{{action}}')],
      },
      {
        title: 'URLs per message p95',
        type: 'timeseries',
        unit: 'short',
        description: 'URLs found per scanned message, p95.',
        queries: [q(quantile(0.95, 'phishx_message_urls'), 'p95')],
      },
      {
        title: 'Attachments per message p95',
        type: 'timeseries',
        unit: 'short',
        description: 'Attachments per scanned message (archive members included), p95.',
        queries: [q(quantile(0.95, 'phishx_message_attachments'), 'p95')],
      },
      {
        title: 'Message size p50 / p95',
        type: 'timeseries',
        unit: 'bytes',
        description: 'Raw size of scanned messages.',
        queries: [q(quantile(0.5, 'phishx_message_size_bytes'), 'p50'), q(quantile(0.95, 'phishx_message_size_bytes'), 'p95')],
        w: 12,
      },
      {
        title: 'Monitor mode: would have done',
        type: 'timeseries',
        unit: 'ops',
        description: 'Messages scanned in monitor mode, by the action enforce mode would have taken.',
        queries: [q(`sum by (would_action) (${rate('phishx_messages_monitored_total')})`, '{{would_action}}')],
        w: 12,
      },
    ],
  },
];

/** Grafana dashboard JSON (schema 39) of one spec: panels laid out left to right in rows of 24. */
export function dashboardJson(d: DashboardSpec): Record<string, unknown> {
  let x = 0;
  let y = 0;
  let rowH = 0;
  const ds = { type: 'prometheus', uid: '${datasource}' };
  const panels = d.panels.map((p, i) => {
    const w = p.w ?? 8;
    const h = p.h ?? 8;
    if (x + w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    const gridPos = { x, y, w, h };
    x += w;
    rowH = Math.max(rowH, h);
    return {
      id: i + 1,
      type: p.type,
      title: p.title,
      description: p.description,
      datasource: ds,
      gridPos,
      fieldConfig: {
        defaults: {
          unit: p.unit,
          ...(p.thresholds ? { thresholds: { mode: 'absolute', steps: p.thresholds } } : {}),
          ...(p.mappings
            ? { mappings: [{ type: 'value', options: Object.fromEntries(p.mappings.map((m, j) => [m.value, { text: m.text, color: m.color, index: j }])) }] }
            : {}),
        },
        overrides: [],
      },
      options: p.type === 'timeseries' ? { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } } : {},
      targets: p.queries.map((t, j) => ({
        refId: String.fromCharCode(65 + j),
        datasource: ds,
        expr: t.expr,
        ...(t.legend ? { legendFormat: t.legend } : {}),
        ...(t.instant ? { instant: true, range: false, format: 'table' } : { range: true }),
      })),
    };
  });
  const variable = (name: string, label: string, query: string): Record<string, unknown> => ({
    name,
    label,
    type: 'query',
    datasource: ds,
    query: { query, refId: name },
    definition: query,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { text: 'All', value: '$__all' },
    refresh: 2,
    sort: 1,
  });
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['phishx'],
    timezone: 'browser',
    schemaVersion: 39,
    editable: true,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0 },
        variable('node', 'Node', 'label_values(phishx_build_info, node)'),
        ...(d.variables.includes('tenant') ? [variable('tenant', 'Tenant', 'label_values(phishx_messages_scanned_total, tenant)')] : []),
        ...(d.variables.includes('service') ? [variable('service', 'Service', 'label_values(phishx_service_calls_total, service)')] : []),
      ],
    },
    panels,
  };
}
