/**
 * The SOC API as an OpenAPI 3.1 document, served at `/api/v1/openapi.json`. Its schemas are
 * checked against real answers of a running sidecar in test/e2e/openapi.test.ts, so the
 * document cannot drift from the code.
 */
const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const time = { type: 'string', format: 'date-time' } as const;
const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown): unknown => ({ 'application/json': { schema } });
const answer = (description: string, schema: unknown): unknown => ({ description, content: json(schema) });
const errors = (...codes: number[]): Record<string, unknown> =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      answer(
        (
          {
            400: 'Bad request: the error says which parameter or field',
            401: 'No or unknown bearer token',
            403: "The token's scope (or tenant) does not allow this",
            404: 'No such record (or not visible to this tenant-bound token)',
            409: 'Conflict: the state does not allow it (already released, deleted, in progress …)',
            410: 'The message bytes are no longer kept',
            502: 'The delivery path refused the release; the message is held again',
            503: 'The store does not answer (Retry-After)',
          } as Record<number, string>
        )[c] ?? 'Error',
        ref('Error'),
      ),
    ]),
  );

const FILTER_PARAMS = [
  ['status', 'Comma-separated statuses: held, releasing, released, deleted, expired.'],
  ['sender', 'Envelope sender or From: an address (exact), or a domain with its subdomains.'],
  ['recipient', 'An envelope recipient address.'],
  ['tenant', 'Tenant name (a [tenant.<domain>] section, or default).'],
  ['reason', 'A reason code the verdict carries.'],
  ['action', 'allow, quarantine, reject or tempfail.'],
  ['score_min', 'Lowest score, 0..100.'],
  ['score_max', 'Highest score, 0..100.'],
  ['since', 'Received at or after: ISO 8601 or ms since the epoch.'],
  ['until', 'Received before: ISO 8601 or ms since the epoch.'],
  ['q', 'Case-insensitive text in the subject.'],
].map(([name, description]) => ({ name, in: 'query', required: false, description, schema: str }));

const PAGING = [
  { name: 'limit', in: 'query', required: false, description: 'Page size, 1..500 (default 50).', schema: { type: 'integer', minimum: 1, maximum: 500 } },
  { name: 'cursor', in: 'query', required: false, description: "The previous answer's next_cursor.", schema: str },
];

const ID = { name: 'id', in: 'path', required: true, schema: str };

const reason = { type: 'object', required: ['code', 'weight', 'detail'], properties: { code: str, weight: int, detail: str } };
const who = (fields: Record<string, unknown> = {}): unknown => ({
  type: 'object',
  required: ['by', 'at'],
  properties: { by: str, at: time, note: str, ...fields },
});

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'PhishX SOC API',
    version: '1',
    description:
      'Review held mail and SOC alerts of a PhishX instance. Bearer tokens with scopes: read (lists, ' +
      'details), act (raw, release, delete, report, alert actions), admin (audit, bulk). See docs/api.md.',
  },
  servers: [{ url: 'http://127.0.0.1:9464' }],
  security: [{ bearer: [] }],
  paths: {
    '/api/v1/quarantine': {
      get: {
        summary: 'List held mail, newest first',
        'x-scope': 'read',
        parameters: [...PAGING, ...FILTER_PARAMS],
        responses: { 200: answer('A page', ref('QuarantinePage')), ...errors(400, 401, 403, 503) },
      },
    },
    '/api/v1/quarantine/{id}': {
      get: {
        summary: 'One record with its headers and a safe preview',
        'x-scope': 'read',
        parameters: [ID],
        responses: { 200: answer('The record', ref('QuarantineDetail')), ...errors(401, 403, 404, 503) },
      },
      delete: {
        summary: 'Delete (the bytes go, the record stays as deleted)',
        'x-scope': 'act',
        parameters: [ID],
        requestBody: { required: false, content: json({ type: 'object', additionalProperties: false, properties: { note: str } }) },
        responses: { 200: answer('Deleted', ref('DeleteResult')), ...errors(400, 401, 403, 404, 409, 503) },
      },
    },
    '/api/v1/quarantine/{id}/raw': {
      get: {
        summary: 'The message as received',
        'x-scope': 'act',
        parameters: [ID],
        responses: { 200: { description: 'The message', content: { 'message/rfc822': { schema: str } } }, ...errors(401, 403, 404, 410, 503) },
      },
    },
    '/api/v1/quarantine/{id}/release': {
      post: {
        summary: 'Deliver it, exactly once, through the normal delivery path',
        'x-scope': 'act',
        parameters: [ID],
        requestBody: {
          required: false,
          content: json({ type: 'object', additionalProperties: false, properties: { recipients: { type: 'array', items: str }, note: str } }),
        },
        responses: { 200: answer('Released', ref('ReleaseResult')), ...errors(400, 401, 403, 404, 409, 502, 503) },
      },
    },
    '/api/v1/quarantine/{id}/report': {
      post: {
        summary: 'Record an analyst verdict (kept for training)',
        'x-scope': 'act',
        parameters: [ID],
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            additionalProperties: false,
            required: ['verdict'],
            properties: { verdict: { enum: ['phish', 'not_phish'] }, note: str },
          }),
        },
        responses: { 200: answer('Reported', ref('ReportResult')), ...errors(400, 401, 403, 404, 503) },
      },
    },
    '/api/v1/quarantine/bulk': {
      post: {
        summary: 'Release or delete every message a filter matches (dry run: count only)',
        'x-scope': 'admin',
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            additionalProperties: false,
            required: ['action', 'filter'],
            properties: {
              action: { enum: ['release', 'delete'] },
              filter: { type: 'object', description: 'The list filters (sender, reason, q, …); not empty.' },
              dry_run: { type: 'boolean' },
              note: str,
            },
          }),
        },
        responses: { 200: answer('Counted or done', { oneOf: [ref('BulkDryRun'), ref('BulkResult')] }), ...errors(400, 401, 403, 503) },
      },
    },
    '/api/v1/soc/alerts': {
      get: {
        summary: 'SOC alerts (one per campaign), newest activity first',
        'x-scope': 'read',
        parameters: [
          ...PAGING,
          ...['status', 'tenant', 'sender', 'reason', 'q', 'since', 'until'].map((name) => ({ name, in: 'query', required: false, schema: str })),
        ],
        responses: { 200: answer('A page', ref('AlertPage')), ...errors(400, 401, 403, 503) },
      },
    },
    '/api/v1/soc/alerts/{id}': {
      get: { summary: 'One alert', 'x-scope': 'read', parameters: [ID], responses: { 200: answer('The alert', ref('Alert')), ...errors(401, 403, 404, 503) } },
    },
    '/api/v1/soc/alerts/{id}/actions': {
      post: {
        summary: 'acknowledge, resolve, release_all, delete_all or block_sender',
        'x-scope': 'act',
        parameters: [ID],
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            additionalProperties: false,
            required: ['action'],
            properties: {
              action: { enum: ['acknowledge', 'resolve', 'release_all', 'delete_all', 'block_sender'] },
              note: str,
              targets: { type: 'array', items: str },
            },
          }),
        },
        responses: { 200: answer('Done', ref('AlertActionResult')), ...errors(400, 401, 403, 404, 409, 503) },
      },
    },
    '/api/v1/alerts': {
      get: {
        summary: 'Operational alerts: firing, pending, resolved (last 24 h), and the active silences',
        'x-scope': 'read',
        responses: { 200: answer('Alerts', ref('Alerts')), ...errors(400, 401, 403, 503) },
      },
    },
    '/api/v1/alerts/silences': {
      post: {
        summary: 'Silence alerts matching `alert` or `alert{label=value}` for `for_s` seconds (default 2 h)',
        'x-scope': 'act',
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            additionalProperties: false,
            required: ['matcher'],
            properties: { matcher: str, for_s: { type: 'integer', minimum: 60, maximum: 2592000 }, note: str },
          }),
        },
        responses: { 201: answer('The silence', ref('Silence')), ...errors(400, 401, 403, 409, 503) },
      },
    },
    '/api/v1/alerts/silences/{id}': {
      delete: {
        summary: 'End a silence',
        'x-scope': 'act',
        parameters: [ID],
        responses: {
          200: answer('Ended', { type: 'object', required: ['id', 'status'], properties: { id: str, status: { const: 'deleted' } } }),
          ...errors(401, 403, 404, 409, 503),
        },
      },
    },
    '/api/v1/webhooks/deliveries': {
      get: {
        summary: 'Webhook deliveries (one per event and endpoint), most recently updated first; `status=dead` lists the dead letters',
        'x-scope': 'admin',
        parameters: [
          ...PAGING,
          { name: 'status', in: 'query', required: false, description: 'pending, retrying, delivered, dead (comma-separated).', schema: str },
          { name: 'endpoint', in: 'query', required: false, description: 'An endpoint name (`[webhook.<name>]`).', schema: str },
        ],
        responses: { 200: answer('A page', ref('DeliveryPage')), ...errors(400, 401, 403, 503) },
      },
    },
    '/api/v1/webhooks/deliveries/{id}/retry': {
      post: {
        summary: 'Deliver a dead delivery again (its event, to its endpoint, with a fresh max_age_h)',
        'x-scope': 'admin',
        parameters: [ID],
        responses: {
          202: answer('Queued', { type: 'object', required: ['id', 'status'], properties: { id: str, status: { const: 'pending' } } }),
          ...errors(400, 401, 403, 404, 409, 503),
        },
      },
    },
    '/api/v1/audit': {
      get: {
        summary: 'The audit log, newest first',
        'x-scope': 'admin',
        parameters: [
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 500 } },
          { name: 'before', in: 'query', required: false, description: 'An audit id, to page back.', schema: str },
        ],
        responses: { 200: answer('A page', ref('AuditPage')), ...errors(400, 401, 403, 503) },
      },
    },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token made by `npx phishx token new --scope read|act|admin`.' } },
    schemas: {
      Error: { type: 'object', required: ['error'], properties: { error: str } },
      QuarantineItem: {
        type: 'object',
        required: ['id', 'created_at', 'expires_at', 'tenant', 'envelope', 'from', 'subject', 'score', 'action', 'reasons', 'size', 'status'],
        properties: {
          id: str,
          created_at: time,
          expires_at: time,
          tenant: str,
          envelope: {
            type: 'object',
            required: ['mail_from', 'rcpt_to'],
            properties: { mail_from: str, rcpt_to: { type: 'array', items: str }, remote_ip: str },
          },
          from: str,
          subject: str,
          score: { type: 'integer', minimum: 0, maximum: 100 },
          action: { enum: ['allow', 'quarantine', 'reject', 'tempfail'] },
          reasons: { type: 'array', items: reason },
          size: int,
          status: { enum: ['held', 'releasing', 'released', 'deleted', 'expired'] },
          release: { type: 'object', required: ['by', 'at', 'recipients'], properties: { by: str, at: time, recipients: { type: 'array', items: str } } },
          released: who({ recipients: { type: 'array', items: str } }),
          deleted: who(),
          reports: { type: 'array', items: who({ verdict: { enum: ['phish', 'not_phish'] } }) },
        },
      },
      QuarantinePage: {
        type: 'object',
        required: ['items', 'next_cursor'],
        properties: { items: { type: 'array', items: ref('QuarantineItem') }, next_cursor: { type: ['string', 'null'] } },
      },
      QuarantineDetail: {
        allOf: [
          ref('QuarantineItem'),
          {
            type: 'object',
            required: ['headers', 'preview'],
            properties: {
              headers: { type: 'array', items: { type: 'array', prefixItems: [str, str], minItems: 2, maxItems: 2 } },
              preview: {
                oneOf: [
                  { type: 'null' },
                  {
                    type: 'object',
                    required: ['text', 'truncated', 'links', 'attachments'],
                    properties: {
                      text: { type: 'string', description: 'Visible text, links defanged, at most 8,000 characters.' },
                      truncated: { type: 'boolean' },
                      links: { type: 'array', items: { type: 'object', required: ['url'], properties: { url: str, text: str } } },
                      attachments: {
                        type: 'array',
                        items: {
                          type: 'object',
                          required: ['filename', 'type', 'size'],
                          properties: { filename: { type: ['string', 'null'] }, type: str, size: int },
                        },
                      },
                    },
                  },
                ],
              },
            },
          },
        ],
      },
      ReleaseResult: {
        type: 'object',
        required: ['id', 'status', 'recipients', 'smtp', 'released'],
        properties: {
          id: str,
          status: { const: 'released' },
          recipients: { type: 'array', items: str },
          smtp: str,
          released: { type: ['object', 'null'] },
          audit_error: str,
        },
      },
      DeleteResult: {
        type: 'object',
        required: ['id', 'status'],
        properties: { id: str, status: { const: 'deleted' }, deleted: { type: 'object' }, audit_error: str },
      },
      ReportResult: {
        type: 'object',
        required: ['id', 'reports', 'training_copy'],
        properties: { id: str, reports: { type: 'array' }, training_copy: { type: 'boolean' }, audit_error: str },
      },
      BulkDryRun: {
        type: 'object',
        required: ['action', 'dry_run', 'matched', 'capped', 'ids'],
        properties: { action: str, dry_run: { const: true }, matched: int, capped: { type: 'boolean' }, ids: { type: 'array', items: str } },
      },
      BulkResult: {
        type: 'object',
        required: ['action', 'matched', 'results', 'failures'],
        properties: { action: str, matched: int, results: { type: 'object', additionalProperties: int }, failures: { type: 'array' } },
      },
      Alert: {
        type: 'object',
        required: [
          'id',
          'status',
          'first_seen',
          'last_seen',
          'count',
          'actions',
          'max_score',
          'tenants',
          'recipient_domains',
          'sender_domains',
          'url_hosts',
          'subjects',
          'reasons',
          'quarantine_ids',
          'campaign_keys',
          'history',
        ],
        properties: {
          id: str,
          status: { enum: ['open', 'acknowledged', 'resolved'] },
          first_seen: time,
          last_seen: time,
          count: int,
          actions: { type: 'object', required: ['reject', 'quarantine'], properties: { reject: int, quarantine: int } },
          max_score: int,
          tenants: { type: 'array', items: str },
          recipient_domains: { type: 'array', items: str },
          sender_domains: { type: 'array', items: str },
          url_hosts: { type: 'array', items: str },
          subjects: { type: 'array', items: str },
          reasons: { type: 'array', items: { type: 'object', required: ['code', 'messages'], properties: { code: str, messages: int } } },
          quarantine_ids: { type: 'array', items: str },
          campaign_keys: { type: 'array', items: str },
          history: { type: 'array', items: who({ action: str, result: str }) },
        },
      },
      AlertPage: {
        type: 'object',
        required: ['items', 'next_cursor'],
        properties: { items: { type: 'array', items: ref('Alert') }, next_cursor: { type: ['string', 'null'] } },
      },
      AlertActionResult: {
        type: 'object',
        required: ['id'],
        properties: {
          id: str,
          status: str,
          action: str,
          messages: int,
          results: { type: 'object' },
          failures: { type: 'array' },
          blocked: { type: 'array', items: str },
          feed: str,
        },
      },
      Silence: {
        type: 'object',
        required: ['id', 'matcher', 'until', 'by', 'created_at'],
        properties: { id: str, matcher: str, until: time, by: str, created_at: time },
        additionalProperties: false,
      },
      OpsAlert: {
        type: 'object',
        required: ['fingerprint', 'alert', 'labels', 'state', 'severity', 'value', 'threshold', 'summary', 'since', 'silenced'],
        properties: {
          fingerprint: str,
          alert: str,
          labels: { type: 'object', additionalProperties: str },
          state: { enum: ['pending', 'firing', 'resolved'] },
          severity: { enum: ['warn', 'critical'] },
          value: { type: 'number' },
          threshold: { type: 'number' },
          summary: str,
          since: time,
          firing_since: time,
          resolved_at: time,
          last_notified_at: time,
          samples: { type: 'array', items: str },
          silenced: { type: 'boolean' },
        },
      },
      Alerts: {
        type: 'object',
        required: ['firing', 'pending', 'resolved', 'silences'],
        properties: {
          firing: { type: 'array', items: ref('OpsAlert') },
          pending: { type: 'array', items: ref('OpsAlert') },
          resolved: { type: 'array', items: ref('OpsAlert') },
          silences: { type: 'array', items: ref('Silence') },
        },
      },
      DeliveryPage: {
        type: 'object',
        required: ['items', 'next_cursor'],
        properties: {
          items: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'endpoint', 'status', 'attempts', 'created_at', 'updated_at', 'event'],
              properties: {
                id: str,
                endpoint: str,
                status: { enum: ['pending', 'retrying', 'delivered', 'dead'] },
                attempts: int,
                created_at: time,
                updated_at: time,
                next_attempt_at: time,
                delivered_at: time,
                last_status: int,
                last_error: str,
                event: { type: 'object', required: ['id', 'type', 'created_at', 'tenant'], properties: { id: str, type: str, created_at: time, tenant: str } },
              },
            },
          },
          next_cursor: { type: ['string', 'null'] },
        },
      },
      AuditPage: {
        type: 'object',
        required: ['items', 'next_before'],
        properties: {
          items: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'at', 'actor', 'action', 'target', 'result'],
              properties: { id: str, at: time, actor: str, action: str, target: str, note: str, result: str, detail: str },
            },
          },
          next_before: { type: ['string', 'null'] },
        },
      },
    },
  },
} as const;
