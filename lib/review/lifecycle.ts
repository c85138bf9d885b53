/**
 * The quarantine lifecycle as pure functions: given a record as read and what is asked,
 * the next state, or why not (HTTP-like status and a sentence). The stores write the
 * result with a compare-and-set, so a decision made on a stale read never lands.
 *
 *   held ──release──► releasing ──delivered──► released
 *     ▲                   │
 *     └──delivery failed──┘
 *   held / released / expired ──delete──► deleted       (raw bytes dropped)
 *   held past expiresAt reads as expired                 (raw bytes dropped)
 */
import { stateOf, statusOf } from '../store/query.js';
import type { QuarantineEntry, QuarantineState, ReportRecord } from '../store/types.js';

export type Decision = { ok: true; state: QuarantineState } | { ok: false; status: 400 | 404 | 409; error: string };

const refuse = (status: 400 | 404 | 409, error: string): Decision => ({ ok: false, status, error });

/** The next version of a state, with `changes` applied. */
function next(entry: QuarantineEntry, now: number, changes: Partial<QuarantineState>): QuarantineState {
  const s = stateOf(entry);
  return { ...s, ...changes, version: s.version + 1, updatedAt: now };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Why a record in this status cannot be released (409), or null when it can. */
function notReleasable(entry: QuarantineEntry, now: number): string | null {
  const s = stateOf(entry);
  switch (statusOf(entry, now)) {
    case 'held':
      return null;
    case 'releasing':
      return s.release && s.release.leaseUntil <= now && !s.release.used
        ? null
        : `a release of ${entry.id} is in progress (since ${iso(s.release?.at ?? s.updatedAt)}, by ${s.release?.by ?? 'unknown'})`;
    case 'released':
      return `${entry.id} was already released at ${iso(s.released?.at ?? s.updatedAt)} by ${s.released?.by ?? 'unknown'}`;
    case 'deleted':
      return `${entry.id} was deleted at ${iso(s.deleted?.at ?? s.updatedAt)} by ${s.deleted?.by ?? 'unknown'}`;
    case 'expired':
      return `${entry.id} expired at ${iso(entry.expiresAt)}; its message is no longer kept`;
  }
}

/**
 * Recipients of a release: all of the envelope's by default, else the given subset (each
 * must be an envelope recipient, compared case-insensitively). Null when one is not.
 */
export function releaseRecipients(entry: QuarantineEntry, asked: readonly string[] | undefined): string[] | null {
  if (!asked || !asked.length) return [...entry.envelope.rcptTo];
  const byLower = new Map(entry.envelope.rcptTo.map((r) => [r.toLowerCase(), r]));
  const out: string[] = [];
  for (const a of asked) {
    const r = byLower.get(a.trim().toLowerCase());
    if (!r) return null;
    if (!out.includes(r)) out.push(r);
  }
  return out;
}

export interface ReleaseAsk {
  by: string;
  claim: string;
  recipients: string[];
  note?: string;
  now: number;
  /** How long the claim holds before another release may take over (a delivery that never answered). */
  leaseMs: number;
}

export function claimRelease(entry: QuarantineEntry, ask: ReleaseAsk): Decision {
  const why = notReleasable(entry, ask.now);
  if (why) return refuse(409, why);
  return {
    ok: true,
    state: next(entry, ask.now, {
      status: 'releasing',
      release: {
        claim: ask.claim,
        by: ask.by,
        at: ask.now,
        leaseUntil: ask.now + ask.leaseMs,
        recipients: ask.recipients,
        ...(ask.note ? { note: ask.note } : {}),
      },
    }),
  };
}

/** The delivery path accepted a message carrying this claim: it may be delivered once, never again. */
export function useClaim(entry: QuarantineEntry, claim: string, now: number): Decision {
  const s = stateOf(entry);
  if (statusOf(entry, now) !== 'releasing' || s.release?.claim !== claim) return refuse(409, `no release of ${entry.id} with this claim is in progress`);
  if (s.release.used) return refuse(409, `the release claim of ${entry.id} was already used`);
  if (s.release.leaseUntil <= now) return refuse(409, `the release claim of ${entry.id} ran out at ${iso(s.release.leaseUntil)}`);
  return { ok: true, state: next(entry, now, { release: { ...s.release, used: true } }) };
}

/** Delivery confirmed: released. The raw bytes are kept until `historyMs` from now. */
export function confirmRelease(entry: QuarantineEntry, claim: string, now: number, historyMs: number): Decision {
  const s = stateOf(entry);
  if (s.status === 'released' && s.released) return refuse(409, `${entry.id} is already released`);
  if (s.status !== 'releasing' || s.release?.claim !== claim) return refuse(409, `no release of ${entry.id} with this claim is in progress`);
  const { release, ...rest } = s;
  return {
    ok: true,
    state: {
      ...rest,
      status: 'released',
      version: s.version + 1,
      updatedAt: now,
      purgeAt: Math.max(s.purgeAt, now + historyMs),
      released: { by: release.by, at: now, recipients: release.recipients, ...(release.note ? { note: release.note } : {}) },
    },
  };
}

/** Delivery refused or failed: back to held, the claim void. */
export function revertRelease(entry: QuarantineEntry, claim: string, now: number): Decision {
  const s = stateOf(entry);
  if (s.status !== 'releasing' || s.release?.claim !== claim) return refuse(409, `no release of ${entry.id} with this claim is in progress`);
  const { release: _void, ...rest } = s;
  return { ok: true, state: { ...rest, status: 'held', version: s.version + 1, updatedAt: now } };
}

export function markDeleted(entry: QuarantineEntry, by: string, now: number, historyMs: number, note?: string): Decision {
  const status = statusOf(entry, now);
  const s = stateOf(entry);
  if (status === 'deleted') return refuse(409, `${entry.id} was already deleted at ${iso(s.deleted?.at ?? s.updatedAt)}`);
  if (status === 'releasing') return refuse(409, `a release of ${entry.id} is in progress; delete it after`);
  return {
    ok: true,
    state: next(entry, now, { status: 'deleted', purgeAt: Math.min(s.purgeAt, now + historyMs), deleted: { by, at: now, ...(note ? { note } : {}) } }),
  };
}

/** Reports kept per record at most (the newest). */
export const MAX_REPORTS = 20;

export function addReport(entry: QuarantineEntry, report: ReportRecord, now: number): Decision {
  const reports = [...(stateOf(entry).reports ?? []), report].slice(-MAX_REPORTS);
  return { ok: true, state: next(entry, now, { reports }) };
}
