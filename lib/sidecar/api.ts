/**
 * The SOC API on the sidecar router (`/api/v1`): list, preview, fetch, release, delete and
 * report held mail, bulk actions by filter, and the audit log. Scopes: `read` lists and
 * previews, `act` changes one message and fetches its raw bytes, `admin` audits and acts
 * in bulk. A tenant-bound token sees only its tenant's messages (others answer 404, as if
 * they did not exist). Handlers are thin: the work is in lib/review and the store.
 */
import type { PhishXConfig } from '../config/types.js';
import { errorMessage, StoreError } from '../errors.js';
import { processMetrics } from '../metrics/catalog.js';
import { actOnMany, deleteOne, rawOf, releaseOne, reportOne, type ActionResult, type ReviewContext } from '../review/actions.js';
import { headerList } from '../review/preview.js';
import { previewWithin } from '../review/preview-pool.js';
import { releaseKey } from '../review/release-marker.js';
import { releaseTarget } from '../review/target.js';
import { sendRaw } from '../smtp-send.js';
import { inTenant, statusOf } from '../store/query.js';
import { QUARANTINE_STATUSES, type QuarantineEntry, type QuarantineFilter, type Store } from '../store/types.js';
import { ALERT_ACTIONS, alertAction, type AlertAction } from '../soc/actions.js';
import { alertInTenant } from '../soc/alerts.js';
import { ALERT_STATUSES, DELIVERY_STATUSES, type DeliveryRecord, type SocAlert } from '../store/types.js';
import type { Principal } from './auth.js';
import { OPENAPI } from './openapi.js';
import { randomBytes } from 'node:crypto';
import { parseMatcher, silenced as silencedBy, type AlertRecord, type Silence } from '../alerts/engine.js';
import { SILENCE_DOC, STATE_DOC } from '../alerts/service.js';
import { HttpError, type Reply, type RequestContext, type Router } from './router.js';

const DAY_MS = 86_400_000;
/** A release claim outlives the delivery's deadline by this much. */
const LEASE_SLACK_MS = 60_000;
/** Bulk actions touch at most this many messages per request. */
export const BULK_MAX = 10_000;

export interface ApiSources {
  config(): PhishXConfig | null;
  store(): Store;
  /** The Haraka directory (for the default release target). */
  harakaDir?: string;
}

/** A record as the API shows it. */
export function itemOf(e: QuarantineEntry, now = Date.now()): Record<string, unknown> {
  const s = e.state;
  return {
    id: e.id,
    created_at: new Date(e.createdAt).toISOString(),
    expires_at: new Date(e.expiresAt).toISOString(),
    tenant: e.verdict.tenant,
    envelope: { mail_from: e.envelope.mailFrom, rcpt_to: e.envelope.rcptTo, ...(e.envelope.remoteIp ? { remote_ip: e.envelope.remoteIp } : {}) },
    from: e.from,
    subject: e.subject,
    score: e.verdict.score,
    action: e.verdict.action,
    reasons: e.verdict.reasons.map((r) => ({ code: r.code, weight: r.weight, detail: r.detail })),
    size: e.size,
    status: statusOf(e, now),
    ...(s?.release ? { release: { by: s.release.by, at: new Date(s.release.at).toISOString(), recipients: s.release.recipients } } : {}),
    ...(s?.released ? { released: { ...s.released, at: new Date(s.released.at).toISOString() } } : {}),
    ...(s?.deleted ? { deleted: { ...s.deleted, at: new Date(s.deleted.at).toISOString() } } : {}),
    ...(s?.reports?.length ? { reports: s.reports.map((r) => ({ ...r, at: new Date(r.at).toISOString() })) } : {}),
  };
}

const bad = (msg: string): HttpError => new HttpError(400, msg);

function timeParam(name: string, v: string): number {
  const n = /^\d{1,15}$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) throw bad(`${name} must be an ISO 8601 time or ms since the epoch, got ${JSON.stringify(v.slice(0, 40))}`);
  return n;
}

function scoreParam(name: string, v: string): number {
  if (!/^\d{1,3}$/.test(v) || Number(v) > 100) throw bad(`${name} must be an integer 0..100`);
  return Number(v);
}

const FILTER_KEYS = ['tenant', 'recipient', 'sender', 'reason', 'action', 'score_min', 'score_max', 'since', 'until', 'status', 'q'] as const;

/** Filter from query parameters or a bulk body's `filter` (same names); unknown names are refused. */
export function filterOf(get: (k: string) => string | undefined): QuarantineFilter {
  const f: QuarantineFilter = {};
  const str = (k: string): string | undefined => {
    const v = get(k);
    if (v === undefined) return undefined;
    if (v.length > 500) throw bad(`${k} is longer than 500 characters`);
    return v;
  };
  const v = {
    tenant: str('tenant'),
    recipient: str('recipient'),
    sender: str('sender'),
    reason: str('reason'),
    action: str('action'),
    scoreMin: str('score_min'),
    scoreMax: str('score_max'),
    since: str('since'),
    until: str('until'),
    status: str('status'),
    text: str('q'),
  };
  if (v.tenant !== undefined) f.tenant = v.tenant.toLowerCase();
  if (v.recipient !== undefined) f.recipient = v.recipient;
  if (v.sender !== undefined) f.sender = v.sender;
  if (v.reason !== undefined) f.reason = v.reason.toUpperCase();
  if (v.action !== undefined) {
    if (!['allow', 'quarantine', 'reject', 'tempfail'].includes(v.action)) throw bad('action must be allow, quarantine, reject or tempfail');
    f.action = v.action;
  }
  if (v.scoreMin !== undefined) f.scoreMin = scoreParam('score_min', v.scoreMin);
  if (v.scoreMax !== undefined) f.scoreMax = scoreParam('score_max', v.scoreMax);
  if (v.since !== undefined) f.since = timeParam('since', v.since);
  if (v.until !== undefined) f.until = timeParam('until', v.until);
  if (v.status !== undefined) f.status = statusList(v.status, QUARANTINE_STATUSES);
  if (v.text !== undefined) f.text = v.text;
  return f;
}

/** A `status` parameter: comma-separated values, each one of `allowed`. */
function statusList<T extends string>(text: string, allowed: readonly T[]): T[] {
  const list = text
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const s of list)
    if (!(allowed as readonly string[]).includes(s))
      throw bad(`status must be one or more of ${allowed.join(', ')} (comma-separated), got ${JSON.stringify(s.slice(0, 40))}`);
  return list as T[];
}

/** A tenant-bound token lists its own tenant only; asking for another is refused. */
function scoped(f: QuarantineFilter, p: Principal | null): QuarantineFilter {
  if (!p?.tenant) return f;
  if (f.tenant !== undefined && f.tenant !== p.tenant) throw new HttpError(403, `this token sees tenant ${p.tenant} only`);
  return { ...f, tenant: p.tenant };
}

/** A silence as the API shows it. */
function silenceView(x: Silence): Record<string, unknown> {
  return { id: x.id, matcher: x.matcher, until: new Date(x.until).toISOString(), by: x.by, created_at: new Date(x.createdAt).toISOString() };
}

/** A delivery record as the API shows it (times in RFC 3339). */
function deliveryItemOf(d: DeliveryRecord): Record<string, unknown> {
  const t = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
  return {
    id: d.id,
    endpoint: d.endpoint,
    status: d.status,
    attempts: d.attempts,
    created_at: t(d.createdAt),
    updated_at: t(d.updatedAt),
    ...(d.nextAttemptAt !== undefined ? { next_attempt_at: t(d.nextAttemptAt) } : {}),
    ...(d.deliveredAt !== undefined ? { delivered_at: t(d.deliveredAt) } : {}),
    ...(d.lastStatus !== undefined ? { last_status: d.lastStatus } : {}),
    ...(d.lastError !== undefined ? { last_error: d.lastError } : {}),
    event: { id: d.event.id, type: d.event.type, created_at: d.event.created_at, tenant: d.event.tenant },
  };
}

/** Refuse a query parameter a route does not know (a typo must not silently widen a listing). */
function onlyParams(query: URLSearchParams, known: readonly string[]): void {
  for (const k of query.keys()) if (!known.includes(k)) throw bad(`unknown parameter ${JSON.stringify(k.slice(0, 40))} (known: ${known.join(', ')})`);
}

/** The page size of a listing: `limit` 1..500, else `dflt`. */
function limitParam(query: URLSearchParams, dflt: number): number {
  const text = query.get('limit');
  if (text === null) return dflt;
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > 500) throw bad('limit must be an integer 1..500');
  return Number(text);
}

function storeFailure(err: unknown): HttpError {
  if (err instanceof StoreError && err.code === 'PHISHX_STORE_BAD_CURSOR') return bad(err.message);
  if (err instanceof HttpError) return err;
  return new HttpError(503, `quarantine store unavailable: ${errorMessage(err).slice(0, 200)}`, { 'retry-after': '5' });
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw storeFailure(err);
  }
}

function objectBody(ctx: RequestContext): Record<string, unknown> {
  if (ctx.body === undefined) return {};
  if (typeof ctx.body !== 'object' || ctx.body === null || Array.isArray(ctx.body)) throw bad('request body must be a JSON object');
  return ctx.body as Record<string, unknown>;
}

function noteOf(body: Record<string, unknown>): string | undefined {
  const n = body.note;
  if (n === undefined || n === null) return undefined;
  if (typeof n !== 'string' || n.length > 1000) throw bad('note must be a string of at most 1000 characters');
  return n;
}

function onlyKeys(body: Record<string, unknown>, keys: string[]): void {
  for (const k of Object.keys(body)) if (!keys.includes(k)) throw bad(`unknown field ${JSON.stringify(k.slice(0, 40))} (known: ${keys.join(', ')})`);
}

/** An alert as the API shows it. */
export function alertItemOf(a: SocAlert): Record<string, unknown> {
  const iso = (t: number): string => new Date(t).toISOString();
  return {
    id: a.id,
    status: a.status,
    first_seen: iso(a.firstSeen),
    last_seen: iso(a.lastSeen),
    count: a.count,
    actions: a.actions,
    max_score: a.maxScore,
    tenants: a.tenants,
    recipient_domains: a.recipientDomains ?? [],
    sender_domains: a.senderDomains,
    url_hosts: a.urlHosts,
    subjects: a.subjects,
    reasons: Object.entries(a.reasons)
      .sort((x, y) => y[1] - x[1])
      .map(([code, n]) => ({ code, messages: n })),
    quarantine_ids: a.quarantineIds,
    campaign_keys: a.keys,
    history: a.history.map((h) => ({ ...h, at: iso(h.at) })),
  };
}

export function addApiRoutes(router: Router, src: ApiSources): Router {
  const cfg = (): PhishXConfig => {
    const c = src.config();
    if (!c) throw new HttpError(503, 'configuration not loaded');
    return c;
  };
  const review = (p: Principal | null): ReviewContext => {
    const c = cfg();
    return {
      store: src.store(),
      actor: p?.id ?? 'unknown',
      historyMs: c.quarantine.history_days * DAY_MS,
      leaseMs: c.release.timeout_ms + LEASE_SLACK_MS,
      releaseKey: () => releaseKey(c.quarantine.spool_dir),
      deliver: (raw, env) => {
        const t = releaseTarget(c.release.smtp, src.harakaDir ?? process.cwd());
        return sendRaw(t.port, raw, env, { host: t.host, timeoutMs: c.release.timeout_ms });
      },
    };
  };
  /** The record of `id` as this principal may see it, else 404. */
  const visible = async (ctx: RequestContext): Promise<{ entry: QuarantineEntry; raw: Buffer | null }> => {
    const id = ctx.params.id;
    const held = await guarded(() => src.store().getQuarantine(id));
    if (!held || (ctx.principal?.tenant && !inTenant(held.entry, ctx.principal.tenant))) throw new HttpError(404, `no quarantined message ${id}`);
    return held;
  };
  /** The alert of `id` as this principal may see it (a tenant token: alerts of its tenant), else 404. */
  const visibleAlert = async (ctx: RequestContext): Promise<SocAlert> => {
    const a = await guarded(() => src.store().getAlert(ctx.params.id));
    if (!a || (ctx.principal?.tenant && !alertInTenant(a, ctx.principal.tenant))) throw new HttpError(404, `no SOC alert ${ctx.params.id}`);
    return a;
  };
  const reply = (r: ActionResult): Reply => ({ status: r.status, body: r.body });
  const acting = async (ctx: RequestContext, fn: () => Promise<ActionResult>): Promise<Reply> => {
    await visible(ctx);
    return reply(await guarded(fn));
  };

  router
    .add({ method: 'GET', path: '/api/v1/openapi.json', auth: 'none', limited: true, handler: () => ({ status: 200, body: OPENAPI }) })
    .add({
      method: 'GET',
      path: '/api/v1/quarantine',
      auth: 'token',
      scope: 'read',
      limited: true,
      handler: async (ctx) => {
        onlyParams(ctx.query, [...FILTER_KEYS, 'limit', 'cursor']);
        const limit = limitParam(ctx.query, 50);
        const filter = scoped(
          filterOf((k) => ctx.query.get(k) ?? undefined),
          ctx.principal,
        );
        const page = await guarded(() => src.store().listQuarantine({ limit, cursor: ctx.query.get('cursor'), filter }));
        const now = Date.now();
        return { status: 200, body: { items: page.items.map((e) => itemOf(e, now)), next_cursor: page.nextCursor } };
      },
    })
    .add({
      method: 'GET',
      path: '/api/v1/quarantine/{id}',
      auth: 'token',
      scope: 'read',
      limited: true,
      handler: async (ctx) => {
        const { entry, raw } = await visible(ctx);
        const bytes = await rawOf(entry, raw);
        return { status: 200, body: { ...itemOf(entry), headers: bytes ? headerList(bytes) : [], preview: bytes ? await previewWithin(bytes) : null } };
      },
    })
    .add({
      method: 'GET',
      path: '/api/v1/quarantine/{id}/raw',
      auth: 'token',
      scope: 'act',
      limited: true,
      handler: async (ctx) => {
        const { entry, raw } = await visible(ctx);
        const bytes = await rawOf(entry, raw);
        if (!bytes) throw new HttpError(410, `the message bytes of ${entry.id} are no longer kept (${statusOf(entry)})`);
        processMetrics.quarantineActions.inc({ action: 'raw', result: 'ok' });
        await src
          .store()
          .appendAudit({ at: Date.now(), actor: ctx.principal?.id ?? 'unknown', action: 'raw', target: entry.id, result: 'ok' })
          .catch(() => undefined);
        return { status: 200, body: bytes, contentType: 'message/rfc822', headers: { 'content-disposition': `attachment; filename="${entry.id}.eml"` } };
      },
    })
    .add({
      method: 'POST',
      path: '/api/v1/quarantine/{id}/release',
      auth: 'token',
      scope: 'act',
      limited: true,
      handler: async (ctx) => {
        const body = objectBody(ctx);
        onlyKeys(body, ['recipients', 'note']);
        const recipients = body.recipients;
        if (
          recipients !== undefined &&
          (!Array.isArray(recipients) || recipients.length > 1000 || !recipients.every((r) => typeof r === 'string' && r.length <= 320))
        )
          throw bad('recipients must be an array of addresses');
        return acting(ctx, () =>
          releaseOne(review(ctx.principal), ctx.params.id, {
            ...(recipients ? { recipients: recipients as string[] } : {}),
            ...(noteOf(body) ? { note: noteOf(body) } : {}),
          }),
        );
      },
    })
    .add({
      method: 'DELETE',
      path: '/api/v1/quarantine/{id}',
      auth: 'token',
      scope: 'act',
      limited: true,
      handler: async (ctx) => {
        const body = objectBody(ctx);
        onlyKeys(body, ['note']);
        return acting(ctx, () => deleteOne(review(ctx.principal), ctx.params.id, noteOf(body)));
      },
    })
    .add({
      method: 'POST',
      path: '/api/v1/quarantine/{id}/report',
      auth: 'token',
      scope: 'act',
      limited: true,
      handler: async (ctx) => {
        const body = objectBody(ctx);
        onlyKeys(body, ['verdict', 'note']);
        if (body.verdict !== 'phish' && body.verdict !== 'not_phish') throw bad('verdict must be "phish" or "not_phish"');
        const verdict = body.verdict;
        return acting(ctx, () => reportOne(review(ctx.principal), ctx.params.id, verdict, noteOf(body)));
      },
    })
    .add({
      method: 'POST',
      path: '/api/v1/quarantine/bulk',
      auth: 'token',
      scope: 'admin',
      limited: true,
      handler: async (ctx) => {
        const body = objectBody(ctx);
        onlyKeys(body, ['action', 'filter', 'dry_run', 'note']);
        if (body.action !== 'release' && body.action !== 'delete') throw bad('action must be "release" or "delete"');
        const raw = body.filter ?? {};
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
          throw bad('filter must be an object with the list parameters (sender, reason, q, …)');
        const rawFilter = raw as Record<string, unknown>;
        for (const k of Object.keys(rawFilter))
          if (!(FILTER_KEYS as readonly string[]).includes(k)) throw bad(`unknown filter ${JSON.stringify(k.slice(0, 40))} (known: ${FILTER_KEYS.join(', ')})`);
        if (!Object.keys(rawFilter).length) throw bad('a bulk action needs a filter (an empty one would match every message)');
        const filter = scoped(
          filterOf((k) => {
            const v = rawFilter[k];
            if (v === undefined) return undefined;
            if (typeof v !== 'string' && typeof v !== 'number') throw bad(`filter ${k} must be a string or a number`);
            return String(v);
          }),
          ctx.principal,
        );
        // Only messages that can take the action: held ones (release), held or released (delete).
        filter.status = body.action === 'release' ? ['held'] : (filter.status ?? ['held', 'released']);
        const ids: string[] = [];
        let cursor: string | null = null;
        await guarded(async () => {
          do {
            const page = await src.store().listQuarantine({ limit: 500, cursor, filter });
            ids.push(...page.items.map((e) => e.id));
            cursor = page.nextCursor;
          } while (cursor && ids.length < BULK_MAX);
        });
        const matched = ids.slice(0, BULK_MAX);
        if (body.dry_run === true)
          return {
            status: 200,
            body: { action: body.action, dry_run: true, matched: matched.length, capped: ids.length >= BULK_MAX, ids: matched.slice(0, 100) },
          };
        const note = noteOf(body);
        const { results, failures } = await actOnMany(review(ctx.principal), matched, body.action, note, { listConflicts: true });
        processMetrics.quarantineActions.inc({ action: `bulk_${body.action}`, result: failures.length ? 'failed' : 'ok' });
        await src
          .store()
          .appendAudit({
            at: Date.now(),
            actor: ctx.principal?.id ?? 'unknown',
            action: `bulk_${body.action}`,
            target: JSON.stringify(rawFilter).slice(0, 500),
            ...(note ? { note } : {}),
            result: failures.length ? 'partial' : 'ok',
            detail: JSON.stringify(results),
          })
          .catch(() => undefined);
        return { status: 200, body: { action: body.action, matched: matched.length, results, failures } };
      },
    })
    .add({
      method: 'GET',
      path: '/api/v1/soc/alerts',
      auth: 'token',
      scope: 'read',
      limited: true,
      handler: async (ctx) => {
        onlyParams(ctx.query, ['status', 'tenant', 'sender', 'reason', 'q', 'since', 'until', 'limit', 'cursor']);
        const limit = limitParam(ctx.query, 50);
        const statusText = ctx.query.get('status');
        const status = statusText === null ? undefined : statusList(statusText, ALERT_STATUSES);
        // The quarantine filters' parsing and bounds, for the ones alerts share.
        const f = scoped(
          filterOf((k) => (['sender', 'reason', 'q', 'since', 'until', 'tenant'].includes(k) ? (ctx.query.get(k) ?? undefined) : undefined)),
          ctx.principal,
        );
        const page = await guarded(() =>
          src.store().listAlerts({
            ...(status ? { status } : {}),
            ...(f.tenant !== undefined ? { tenant: f.tenant } : {}),
            ...(f.sender !== undefined ? { sender: f.sender } : {}),
            ...(f.reason !== undefined ? { reason: f.reason } : {}),
            ...(f.text !== undefined ? { text: f.text } : {}),
            ...(f.since !== undefined ? { since: f.since } : {}),
            ...(f.until !== undefined ? { until: f.until } : {}),
            limit,
            cursor: ctx.query.get('cursor'),
          }),
        );
        return { status: 200, body: { items: page.items.map(alertItemOf), next_cursor: page.nextCursor } };
      },
    })
    .add({
      method: 'GET',
      path: '/api/v1/soc/alerts/{id}',
      auth: 'token',
      scope: 'read',
      limited: true,
      handler: async (ctx) => ({ status: 200, body: alertItemOf(await visibleAlert(ctx)) }),
    })
    .add({
      method: 'POST',
      path: '/api/v1/soc/alerts/{id}/actions',
      auth: 'token',
      scope: 'act',
      limited: true,
      handler: async (ctx) => {
        const body = objectBody(ctx);
        onlyKeys(body, ['action', 'note', 'targets']);
        if (!ALERT_ACTIONS.includes(body.action as AlertAction)) throw bad(`action must be one of ${ALERT_ACTIONS.join(', ')}`);
        const targets = body.targets;
        if (targets !== undefined && (!Array.isArray(targets) || targets.length > 100 || !targets.every((t) => typeof t === 'string' && t.length <= 253)))
          throw bad('targets must be an array of domains');
        await visibleAlert(ctx);
        const c = cfg();
        const r = await guarded(() =>
          alertAction(
            { store: src.store(), actor: ctx.principal?.id ?? 'unknown', config: c, tenant: ctx.principal?.tenant ?? null, review: review(ctx.principal) },
            ctx.params.id,
            body.action as AlertAction,
            {
              ...(noteOf(body) ? { note: noteOf(body) } : {}),
              ...(targets ? { targets: targets as string[] } : {}),
            },
          ),
        );
        return reply(r);
      },
    })
    .add({
      method: 'GET',
      path: '/api/v1/webhooks/deliveries',
      auth: 'token',
      scope: 'admin',
      limited: true,
      handler: async (ctx) => {
        onlyParams(ctx.query, ['status', 'endpoint', 'limit', 'cursor']);
        const limit = limitParam(ctx.query, 50);
        const statusText = ctx.query.get('status');
        const status = statusText === null ? undefined : statusList(statusText, DELIVERY_STATUSES);
        const endpoint = ctx.query.get('endpoint');
        if (endpoint !== null && !/^[A-Za-z0-9_-]{1,40}$/.test(endpoint)) throw bad('endpoint must be an endpoint name');
        const page = await guarded(() =>
          src.store().listDeliveries({
            ...(status ? { status } : {}),
            ...(endpoint !== null ? { endpoint } : {}),
            limit,
            cursor: ctx.query.get('cursor'),
          }),
        );
        return { status: 200, body: { items: page.items.map(deliveryItemOf), next_cursor: page.nextCursor } };
      },
    })
    .add({
      method: 'POST',
      path: '/api/v1/webhooks/deliveries/{id}/retry',
      auth: 'token',
      scope: 'admin',
      limited: true,
      handler: async (ctx) => {
        onlyKeys(objectBody(ctx), []);
        const id = ctx.params.id;
        const d = /^[A-Za-z0-9_.-]{1,200}$/.test(id) ? await guarded(() => src.store().getDelivery(id)) : null;
        if (!d) throw new HttpError(404, `no webhook delivery ${id.slice(0, 80)}`);
        if (d.status !== 'dead') throw new HttpError(409, `delivery ${d.id} is ${d.status}; only dead deliveries are retried by hand`);
        if (!src.config()?.webhookEndpoints.some((e) => e.name === d.endpoint)) throw new HttpError(409, `endpoint ${d.endpoint} is no longer configured`);
        // Marked pending first, then back into the durable log for that endpoint only (its worker
        // delivers it like any event). The other order lost a race: the worker could deliver it
        // and record "delivered" before this "pending" overwrote the record, for good.
        await guarded(() => src.store().putDelivery({ ...d, status: 'pending', updatedAt: Date.now() }));
        try {
          await guarded(() => src.store().appendEvent({ kind: 'redeliver', endpoint: d.endpoint, event: d.event }));
        } catch (err) {
          await src
            .store()
            .putDelivery(d)
            .catch(() => undefined); // not queued: still dead, so it can be retried
          throw err;
        }
        await src
          .store()
          .appendAudit({ at: Date.now(), actor: ctx.principal?.id ?? 'unknown', action: 'webhook_retry', target: d.id, result: 'ok' })
          .catch(() => undefined);
        return { status: 202, body: { id: d.id, status: 'pending' } };
      },
    })
    .add({
      method: 'GET',
      path: '/api/v1/alerts',
      auth: 'token',
      scope: 'read',
      limited: true,
      handler: async (ctx) => {
        onlyParams(ctx.query, []);
        const [state, silences] = await guarded(() => Promise.all([src.store().getDoc<AlertRecord[]>(STATE_DOC), src.store().getDoc<Silence[]>(SILENCE_DOC)]));
        const now = Date.now();
        const t = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
        const view = (r: AlertRecord): Record<string, unknown> => ({
          fingerprint: r.fingerprint,
          alert: r.alert,
          labels: r.labels,
          state: r.state,
          severity: r.severity,
          value: r.value,
          threshold: r.threshold,
          summary: r.summary,
          since: t(r.since),
          ...(r.firingSince !== undefined ? { firing_since: t(r.firingSince) } : {}),
          ...(r.resolvedAt !== undefined ? { resolved_at: t(r.resolvedAt) } : {}),
          ...(r.lastNotifiedAt !== undefined ? { last_notified_at: t(r.lastNotifiedAt) } : {}),
          ...(r.samples ? { samples: r.samples } : {}),
          silenced: silencedBy(r, silences.value ?? [], now),
        });
        const records = state.value ?? [];
        const of = (st: AlertRecord['state']): Array<Record<string, unknown>> => records.filter((r) => r.state === st).map(view);
        return {
          status: 200,
          body: {
            firing: of('firing'),
            pending: of('pending'),
            resolved: of('resolved'),
            silences: (silences.value ?? []).filter((x) => x.until > now).map(silenceView),
          },
        };
      },
    })
    .add({
      method: 'POST',
      path: '/api/v1/alerts/silences',
      auth: 'token',
      scope: 'act',
      limited: true,
      handler: async (ctx) => {
        const body = objectBody(ctx);
        onlyKeys(body, ['matcher', 'for_s', 'note']);
        if (typeof body.matcher !== 'string')
          throw bad('matcher is required: an alert name, or alert{label=value} (e.g. service_availability{service=clamav})');
        try {
          parseMatcher(body.matcher);
        } catch (err) {
          throw bad(errorMessage(err));
        }
        const forS = body.for_s ?? 7200;
        if (typeof forS !== 'number' || !Number.isInteger(forS) || forS < 60 || forS > 30 * 86400) throw bad('for_s must be an integer 60..2592000 (seconds)');
        const now = Date.now();
        const silence: Silence = {
          id: `sil_${randomBytes(6).toString('hex')}`,
          matcher: body.matcher.trim(),
          until: now + forS * 1000,
          by: ctx.principal?.id ?? 'unknown',
          createdAt: now,
        };
        for (let attempt = 0; ; attempt++) {
          const cur = await guarded(() => src.store().getDoc<Silence[]>(SILENCE_DOC));
          const list = [...(cur.value ?? []).filter((x) => x.until > now), silence];
          if (await guarded(() => src.store().putDoc(SILENCE_DOC, cur.version + 1, list))) break;
          if (attempt >= 5) throw new HttpError(409, 'silences changed concurrently; try again');
        }
        await src
          .store()
          .appendAudit({
            at: now,
            actor: silence.by,
            action: 'alert_silence',
            target: silence.matcher,
            result: 'ok',
            ...(typeof body.note === 'string' ? { note: body.note.slice(0, 500) } : {}),
          })
          .catch(() => undefined);
        return { status: 201, body: silenceView(silence) };
      },
    })
    .add({
      method: 'DELETE',
      path: '/api/v1/alerts/silences/{id}',
      auth: 'token',
      scope: 'act',
      limited: true,
      handler: async (ctx) => {
        for (let attempt = 0; ; attempt++) {
          const cur = await guarded(() => src.store().getDoc<Silence[]>(SILENCE_DOC));
          const list = cur.value ?? [];
          if (!list.some((x) => x.id === ctx.params.id)) throw new HttpError(404, `no silence ${ctx.params.id.slice(0, 40)}`);
          if (
            await guarded(() =>
              src.store().putDoc(
                SILENCE_DOC,
                cur.version + 1,
                list.filter((x) => x.id !== ctx.params.id),
              ),
            )
          )
            break;
          if (attempt >= 5) throw new HttpError(409, 'silences changed concurrently; try again');
        }
        return { status: 200, body: { id: ctx.params.id, status: 'deleted' } };
      },
    })
    .add({
      method: 'GET',
      path: '/api/v1/audit',
      auth: 'token',
      scope: 'admin',
      limited: true,
      handler: async (ctx) => {
        const limit = limitParam(ctx.query, 100);
        const before = ctx.query.get('before');
        if (before !== null && !/^[0-9A-Za-z-]{1,64}$/.test(before)) throw bad('before must be an audit id');
        const items = await guarded(() => src.store().listAudit({ limit, before }));
        return {
          status: 200,
          body: { items: items.map((r) => ({ ...r, at: new Date(r.at).toISOString() })), next_before: items.length ? items[items.length - 1].id : null },
        };
      },
    });
  return router;
}
