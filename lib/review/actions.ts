/**
 * What a reviewer can do to a held message — release, delete, report — on any store: read
 * the record, decide with the pure lifecycle (lifecycle.ts), write the new state with the
 * store's compare-and-set (retrying on a concurrent change), deliver, audit. Every action
 * is written to the audit log and counted in `phishx_quarantine_actions_total`.
 */
import { readFile } from 'node:fs/promises';
import { errorMessage } from '../errors.js';
import { rewritePhishXHeaders } from '../haraka/strip-headers.js';
import { processMetrics } from '../metrics/catalog.js';
import type { SmtpAnswer } from '../smtp-send.js';
import { keepsRaw, stateOf, statusOf } from '../store/query.js';
import type { AuditRecord, QuarantineEntry, QuarantineState, Store } from '../store/types.js';
import { addReport, claimRelease, confirmRelease, markDeleted, releaseRecipients, revertRelease, type Decision } from './lifecycle.js';
import { newClaim, RELEASE_HEADER, safeActor, signMarker } from './release-marker.js';
import { logActivity, quarantineActivity } from '../webhooks/events.js';

export interface ReviewContext {
  store: Store;
  /** Who acts: a token id (`token:1a2b3c4d`), `cli`, … */
  actor: string;
  now?: () => number;
  /** How long released / deleted records stay listed. */
  historyMs: number;
  /** How long a release claim holds (the delivery's deadline, with margin). */
  leaseMs: number;
  /** Send a released message to the delivery path. */
  deliver?: (raw: Buffer, envelope: { from: string; to: string[] }) => Promise<SmtpAnswer>;
  releaseKey?: () => Promise<Buffer>;
}

export interface ActionResult {
  status: number;
  body: Record<string, unknown>;
}

type Changed = { ok: true; entry: QuarantineEntry; raw: Buffer | null } | { ok: false; status: number; error: string };

/** Read, decide, compare-and-set; a concurrent change makes it read and decide again (a few times). */
export async function changeState(store: Store, id: string, decide: (entry: QuarantineEntry) => Decision): Promise<Changed> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const held = await store.getQuarantine(id);
    if (!held) return { ok: false, status: 404, error: `no quarantined message ${id}` };
    const d = decide(held.entry);
    if (!d.ok) return d;
    if (await store.updateQuarantineState(id, d.state)) return { ok: true, entry: { ...held.entry, state: d.state }, raw: held.raw };
  }
  return { ok: false, status: 409, error: `${id} was changed concurrently; try again` };
}

async function audit(ctx: ReviewContext, rec: Omit<AuditRecord, 'id' | 'at' | 'actor'>): Promise<string | null> {
  processMetrics.quarantineActions.inc({ action: rec.action, result: rec.result });
  try {
    await ctx.store.appendAudit({ at: (ctx.now ?? Date.now)(), actor: ctx.actor, ...rec });
    return null;
  } catch (err) {
    return errorMessage(err);
  }
}

function resultOf(status: number): string {
  return status < 300 ? 'ok' : status === 404 ? 'not_found' : status === 409 ? 'conflict' : status === 400 ? 'bad_request' : 'failed';
}

async function finish(ctx: ReviewContext, action: string, id: string, note: string | undefined, r: ActionResult, detail?: string): Promise<ActionResult> {
  const auditError = await audit(ctx, {
    action,
    target: id,
    ...(note ? { note } : {}),
    result: resultOf(r.status),
    ...(detail ? { detail: detail.slice(0, 500) } : {}),
  });
  return auditError ? { ...r, body: { ...r.body, audit_error: auditError } } : r;
}

const fail = (c: { status: number; error: string }): ActionResult => ({ status: c.status, body: { error: c.error } });

/** The raw bytes of a record: from the store, else its spool file while the message is kept; null when not kept. */
export async function rawOf(entry: QuarantineEntry, raw: Buffer | null): Promise<Buffer | null> {
  if (raw) return raw;
  if (entry.spooled && entry.spoolPath && keepsRaw(statusOf(entry))) return readFile(entry.spoolPath).catch(() => null);
  return null;
}

/**
 * Release: claim (held ─► releasing), hand the message with a signed single-use marker and
 * an `X-PhishX-Released` header to the delivery path, then released on a 2xx answer or
 * back to held on any other (nothing is lost: the message stays held and can be released
 * again). A second release of a released message answers 409.
 */
export async function releaseOne(ctx: ReviewContext, id: string, ask: { recipients?: string[]; note?: string } = {}): Promise<ActionResult> {
  const now = ctx.now ?? Date.now;
  if (!ctx.deliver || !ctx.releaseKey)
    return finish(ctx, 'release', id, ask.note, { status: 503, body: { error: 'release is not available here (no delivery path)' } });
  const claim = newClaim();
  let recipients: string[] = [];
  const claimed = await changeState(ctx.store, id, (entry) => {
    const r = releaseRecipients(entry, ask.recipients);
    if (!r) return { ok: false, status: 400, error: `recipients must be envelope recipients of ${id}: ${entry.envelope.rcptTo.join(', ')}` };
    recipients = r;
    return claimRelease(entry, { by: ctx.actor, claim, recipients: r, ...(ask.note ? { note: ask.note } : {}), now: now(), leaseMs: ctx.leaseMs });
  });
  if (!claimed.ok) return finish(ctx, 'release', id, ask.note, fail(claimed));
  const revert = async (why: string, status: number): Promise<ActionResult> => {
    const back = await changeState(ctx.store, id, (e) => revertRelease(e, claim, now()));
    const still = back.ok ? 'the message is held again' : `the message could not be put back to held (${back.error})`;
    return finish(ctx, 'release', id, ask.note, { status, body: { error: `${why}; ${still}` } }, why);
  };
  const raw = await rawOf(claimed.entry, claimed.raw);
  if (!raw) return revert(`the raw message of ${id} is missing from the store`, 500);
  const at = now();
  const marker = signMarker(await ctx.releaseKey(), { id, claim, exp: Math.floor((at + ctx.leaseMs) / 1000), by: safeActor(ctx.actor) });
  const released = `${new Date(at).toISOString()} by ${safeActor(ctx.actor)} (PhishX id ${id})`;
  const message = rewritePhishXHeaders(raw, [
    [RELEASE_HEADER, marker],
    ['X-PhishX-Released', released],
    ['X-PhishX-Id', id],
  ]);
  let answer: SmtpAnswer;
  try {
    answer = await ctx.deliver(message, { from: claimed.entry.envelope.mailFrom, to: recipients });
  } catch (err) {
    return revert(`delivery failed: ${errorMessage(err)}`, 502);
  }
  if (answer.code < 200 || answer.code >= 300) return revert(`delivery refused: ${answer.code || 'no answer'} ${answer.response}`.trim(), 502);
  // The plugin may have marked it released already (queue_ok); either way it is released once.
  const done = await changeState(ctx.store, id, (e) =>
    stateOf(e).status === 'released' ? { ok: false, status: 409, error: 'already confirmed' } : confirmRelease(e, claim, now(), ctx.historyMs),
  );
  const state: QuarantineState | undefined = done.ok ? done.entry.state : (await ctx.store.getQuarantine(id))?.entry.state;
  await logActivity(
    ctx.store,
    quarantineActivity('quarantine.released', claimed.entry, ctx.actor, now(), { recipients, ...(ask.note ? { note: ask.note } : {}) }),
  );
  return finish(
    ctx,
    'release',
    id,
    ask.note,
    { status: 200, body: { id, status: 'released', recipients, smtp: answer.response, released: state?.released ?? null } },
    answer.response,
  );
}

export async function deleteOne(ctx: ReviewContext, id: string, note?: string): Promise<ActionResult> {
  const now = ctx.now ?? Date.now;
  const r = await changeState(ctx.store, id, (e) => markDeleted(e, ctx.actor, now(), ctx.historyMs, note));
  if (r.ok) await logActivity(ctx.store, quarantineActivity('quarantine.deleted', r.entry, ctx.actor, now(), note ? { note } : {}));
  return finish(ctx, 'delete', id, note, r.ok ? { status: 200, body: { id, status: 'deleted', deleted: r.entry.state?.deleted } } : fail(r));
}

/**
 * Report: the verdict goes with the record, and with a copy of the message into the
 * feedback kept for training (`phishx feedback export`), which outlives the quarantine.
 */
export async function reportOne(ctx: ReviewContext, id: string, verdict: 'phish' | 'not_phish', note?: string): Promise<ActionResult> {
  const now = ctx.now ?? Date.now;
  const at = now();
  const r = await changeState(ctx.store, id, (e) => addReport(e, { verdict, by: ctx.actor, at, ...(note ? { note } : {}) }, at));
  if (!r.ok) return finish(ctx, `report_${verdict}`, id, note, fail(r));
  const raw = await rawOf(r.entry, r.raw);
  let kept = false;
  if (raw) {
    const e = r.entry;
    await ctx.store.putFeedback(
      {
        id,
        verdict,
        by: ctx.actor,
        at,
        ...(note ? { note } : {}),
        subject: e.subject,
        from: e.from,
        tenant: e.verdict.tenant,
        score: e.verdict.score,
        reasons: e.verdict.reasons.map((x) => x.code),
      },
      raw,
    );
    kept = true;
  }
  await logActivity(ctx.store, quarantineActivity('quarantine.reported', r.entry, ctx.actor, at, { verdict, ...(note ? { note } : {}) }));
  return finish(ctx, `report_${verdict}`, id, note, { status: 200, body: { id, reports: r.entry.state?.reports ?? [], training_copy: kept } });
}

/**
 * Release or delete many messages, a few at a time (releases are SMTP sessions): results
 * counted as ok / conflict / failed, and up to 100 failures listed (with the conflicts too
 * when `listConflicts`).
 */
export async function actOnMany(
  ctx: ReviewContext,
  ids: readonly string[],
  action: 'release' | 'delete',
  note: string | undefined,
  opts: { listConflicts: boolean },
): Promise<{ results: Record<string, number>; failures: Array<{ id: string; status: number; error: unknown }> }> {
  const results: Record<string, number> = {};
  const failures: Array<{ id: string; status: number; error: unknown }> = [];
  for (let i = 0; i < ids.length; i += 4) {
    const chunk = ids.slice(i, i + 4);
    const done = await Promise.all(
      chunk.map((id) =>
        (action === 'release' ? releaseOne(ctx, id, note ? { note } : {}) : deleteOne(ctx, id, note)).catch((err: unknown) => ({
          status: 503,
          body: { error: errorMessage(err) },
        })),
      ),
    );
    done.forEach((r, j) => {
      const k = r.status < 300 ? 'ok' : r.status === 409 ? 'conflict' : 'failed';
      results[k] = (results[k] ?? 0) + 1;
      if (r.status >= 300 && (opts.listConflicts || r.status !== 409) && failures.length < 100)
        failures.push({ id: chunk[j], status: r.status, error: r.body.error });
    });
  }
  return { results, failures };
}
