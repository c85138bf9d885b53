/**
 * What an analyst can do with a SOC alert: acknowledge, resolve, release or delete all its
 * held messages, block its sender domains and link hosts. Each action is a
 * compare-and-set on the alert (noted in its history) and an audit record.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PhishXConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { writeFileDurable } from '../fs-durable.js';
import { processMetrics } from '../metrics/catalog.js';
import { parseFeed } from '../reputation/feed-dir.js';
import { actOnMany, type ActionResult, type ReviewContext } from '../review/actions.js';
import { inTenant } from '../store/query.js';
import type { SocAlert, Store } from '../store/types.js';
import { blockTargets, noteAction, setAlertStatus, type AlertDecision } from './alerts.js';
import { keyListsOf } from './fold.js';
import { alertActivity, logActivity } from '../webhooks/events.js';

export const ALERT_ACTIONS = ['acknowledge', 'resolve', 'release_all', 'delete_all', 'block_sender'] as const;
export type AlertAction = (typeof ALERT_ACTIONS)[number];

export interface SocContext {
  store: Store;
  actor: string;
  config: PhishXConfig;
  /** Messages of this tenant only (a tenant-bound token). */
  tenant: string | null;
  review: ReviewContext;
  now?: () => number;
}

const DAY_MS = 86_400_000;

/** Read, decide, compare-and-set an alert; retried on a concurrent change. */
async function changeAlert(
  store: Store,
  id: string,
  decide: (a: SocAlert) => AlertDecision,
): Promise<AlertDecision | { ok: false; status: 404; error: string }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const a = await store.getAlert(id);
    if (!a) return { ok: false, status: 404, error: `no SOC alert ${id}` };
    const d = decide(a);
    if (!d.ok) return d;
    if (await store.putAlert(d.alert)) return d;
  }
  return { ok: false, status: 409, error: `alert ${id} was changed concurrently; try again` };
}

async function audit(ctx: SocContext, action: string, id: string, result: string, note?: string, detail?: string): Promise<void> {
  processMetrics.quarantineActions.inc({ action: `alert_${action}`, result });
  await ctx.store
    .appendAudit({
      at: (ctx.now ?? Date.now)(),
      actor: ctx.actor,
      action: `alert_${action}`,
      target: id,
      ...(note ? { note } : {}),
      result,
      ...(detail ? { detail: detail.slice(0, 500) } : {}),
    })
    .catch(() => undefined);
}

/** Add entries to the blocklist feed: the store (Redis: every node at once) and, for the embedded stores, `feed_dir/<name>.txt`. */
async function addToBlocklist(ctx: SocContext, domains: string[]): Promise<void> {
  const feed = ctx.config.soc.blocklist_feed;
  if (ctx.store.kind !== 'redis') {
    const file = path.join(ctx.config.reputation.feed_dir, `${feed}.txt`);
    const have = parseFeed(await readFile(file, 'utf8').catch(() => '')).domains;
    const all = [...new Set([...have, ...domains])].sort();
    await writeFileDurable(file, `# PhishX SOC blocklist: sender domains and link hosts blocked from SOC alerts (block_sender)\n${all.join('\n')}\n`);
  }
  await ctx.store.addFeedEntries(feed, { urls: [], domains });
}

export async function alertAction(ctx: SocContext, id: string, action: AlertAction, opts: { note?: string; targets?: string[] } = {}): Promise<ActionResult> {
  const now = ctx.now ?? Date.now;
  const historyMs = ctx.config.quarantine.history_days * DAY_MS;
  const done = async (status: number, body: Record<string, unknown>, detail?: string): Promise<ActionResult> => {
    await audit(
      ctx,
      action,
      id,
      status < 300 ? 'ok' : status === 404 ? 'not_found' : status === 409 ? 'conflict' : status === 400 ? 'bad_request' : 'failed',
      opts.note,
      detail,
    );
    if (status < 300) {
      const a = await ctx.store.getAlert(id).catch(() => null);
      if (a) await logActivity(ctx.store, alertActivity('soc_alert.updated', a, now(), action));
    }
    return { status, body };
  };
  if (action === 'acknowledge' || action === 'resolve') {
    const r = await changeAlert(ctx.store, id, (a) =>
      setAlertStatus(a, action === 'acknowledge' ? 'acknowledged' : 'resolved', ctx.actor, now(), historyMs, opts.note),
    );
    if (!r.ok) return done(r.status, { error: r.error });
    if (action === 'resolve') await ctx.store.unlinkAlertKeys(r.alert.keys, r.alert.id);
    return done(200, { id, status: r.alert.status });
  }
  const alert = await ctx.store.getAlert(id);
  if (!alert) return done(404, { error: `no SOC alert ${id}` });
  let summary: Record<string, unknown>;
  if (action === 'block_sender') {
    const offered = blockTargets(alert, keyListsOf(ctx.config));
    const asked = opts.targets?.map((t) => t.trim().toLowerCase());
    const bad = asked?.filter((t) => !offered.includes(t)) ?? [];
    if (bad.length)
      return done(400, { error: `targets must be among this alert's sender domains and link hosts (${offered.join(', ') || 'none'}); not: ${bad.join(', ')}` });
    const targets = asked ?? offered;
    if (!targets.length)
      return done(409, {
        error: `alert ${id} has no sender domain or link host that can be blocked (shared hosts such as freemail and shorteners are never blocked)`,
      });
    try {
      await addToBlocklist(ctx, targets);
    } catch (err) {
      return done(503, { error: `blocklist not updated: ${errorMessage(err)}` });
    }
    summary = { blocked: targets, feed: ctx.config.soc.blocklist_feed };
  } else {
    const ids: string[] = [];
    for (const qid of alert.quarantineIds) {
      if (!ctx.tenant) ids.push(qid);
      else {
        const held = await ctx.store.getQuarantine(qid);
        if (held && inTenant(held.entry, ctx.tenant)) ids.push(qid);
      }
    }
    const { results, failures } = await actOnMany(ctx.review, ids, action === 'release_all' ? 'release' : 'delete', opts.note, { listConflicts: false });
    summary = { messages: ids.length, results, failures };
  }
  const noted = await changeAlert(ctx.store, id, (a) => ({
    ok: true,
    alert: noteAction(a, ctx.actor, action, now(), opts.note, JSON.stringify(summary).slice(0, 300)),
  }));
  return done(200, { id, action, ...summary, ...(noted.ok ? {} : { history_error: noted.error }) }, JSON.stringify(summary));
}
