/**
 * SOC alerts as pure functions: which security event a verdict is, the campaign keys that
 * group events into one alert (the sender's registered domain, the first link host, the
 * subject's skeleton), and how an alert changes with an event or an analyst's action.
 */
import { randomBytes } from 'node:crypto';
import type { VerdictEvent } from '../events.js';
import { addressDomain as domainOf, registrableOf } from '../message/domain.js';
import type { SecurityEvent, SocAlert } from '../store/types.js';

/**
 * The security event of a verdict: a rejected or held message, and with `allowed` (a webhook
 * endpoint subscribes to `message.allowed`) a delivered one; null for anything else.
 */
export function securityEventOf(ev: VerdictEvent, allowed = false): SecurityEvent | null {
  const v = ev.result.verdict;
  const held = v.action === 'quarantine' && ev.smtpCode === 250 && ev.quarantineId !== undefined;
  const rejected = v.action === 'reject' && ev.smtpCode === 550;
  const passed = allowed && v.action === 'allow' && ev.smtpCode === 250 && !ev.result.skipped;
  if (!held && !rejected && !passed) return null;
  return {
    id: ev.result.id,
    at: ev.at.getTime(),
    action: held ? 'quarantine' : rejected ? 'reject' : 'allow',
    smtpCode: ev.smtpCode,
    score: v.score,
    tenant: v.tenant,
    mailFrom: ev.envelope.mailFrom,
    from: ev.result.summary.from,
    subject: ev.result.summary.subject,
    urlHosts: ev.result.summary.urlHosts ?? [],
    reasons: v.reasons.filter((r) => r.weight > 0).map((r) => r.code),
    recipients: [...ev.envelope.rcptTo],
    ...(held ? { quarantineId: ev.quarantineId } : {}),
  };
}

/** The subject with numbers, ids and punctuation folded away: "Invoice #4471 due 12/01" ─► "invoice # due #/#". */
export function subjectSkeleton(subject: string): string {
  return subject
    .normalize('NFKC')
    .toLowerCase()
    .replace(/^((re|fw|fwd|aw|wg|sv|tr)\s*:\s*)+/i, '')
    .replace(/[0-9a-f]{8,}/g, '#')
    .replace(/\d+/g, '#')
    .replace(/#+/g, '#')
    .replace(/[^\p{L}\p{N}#/ ]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 120);
}

export interface KeyLists {
  /** Registered domains shared by unrelated senders (freemail): never a campaign key. */
  freemail: ReadonlySet<string>;
  /** Hosts shared by unrelated links (shorteners, redirectors, footers): never a campaign key. */
  commonHosts: ReadonlySet<string>;
}

/** Campaign keys of an event: `d:<sender domain>`, `u:<first link host>`, `s:<subject skeleton>` (each when meaningful). */
export function campaignKeys(e: SecurityEvent, lists: KeyLists): string[] {
  const keys: string[] = [];
  const sender = domainOf(e.from) || domainOf(e.mailFrom);
  const reg = sender ? registrableOf(sender) : '';
  if (reg && !lists.freemail.has(reg)) keys.push(`d:${reg}`);
  const host = e.urlHosts.find((h) => !lists.commonHosts.has(h) && !lists.commonHosts.has(registrableOf(h)));
  if (host) keys.push(`u:${host}`);
  const skeleton = subjectSkeleton(e.subject);
  if (skeleton.replace(/[#/ ]/g, '').length >= 8) keys.push(`s:${skeleton}`);
  return keys;
}

/** Whether an alert concerns a tenant: the tenant decided one of its messages, or one went to that domain (or a subdomain). */
export function alertInTenant(a: SocAlert, tenant: string): boolean {
  return a.tenants.includes(tenant) || (a.recipientDomains ?? []).some((d) => d === tenant || d.endsWith(`.${tenant}`));
}

/** The blocklist entries an alert offers: its sender domains and link hosts, minus shared ones. */
export function blockTargets(a: SocAlert, lists: KeyLists): string[] {
  const out = new Set<string>();
  for (const d of a.senderDomains) if (!lists.freemail.has(d) && !lists.commonHosts.has(d)) out.add(d);
  for (const h of a.urlHosts) if (!lists.commonHosts.has(h) && !lists.commonHosts.has(registrableOf(h))) out.add(h);
  return [...out];
}

export function newAlertId(at: number): string {
  return `${at.toString(36)}${randomBytes(5).toString('hex')}`;
}

const push = <T>(list: T[], v: T, max: number): T[] => (list.includes(v) ? list : [...list, v].slice(-max));

export interface AlertWindows {
  /** A campaign key keeps pointing at its alert this long after the alert's last event. */
  windowMs: number;
  /** How long an alert is kept after its last change. */
  historyMs: number;
}

/** A new alert for the first event of a campaign (version 1). */
export function openAlert(id: string, e: SecurityEvent, keys: string[], w: AlertWindows): SocAlert {
  const base: SocAlert = {
    id,
    version: 0,
    status: 'open',
    firstSeen: e.at,
    lastSeen: e.at,
    keys: [],
    keyUntil: 0,
    count: 0,
    actions: { reject: 0, quarantine: 0 },
    maxScore: 0,
    tenants: [],
    senderDomains: [],
    urlHosts: [],
    subjects: [],
    reasons: {},
    quarantineIds: [],
    history: [],
    updatedAt: e.at,
    purgeAt: 0,
  };
  return addEvent(base, e, keys, w);
}

/** Which of an alert's counters a (rejected or held) event adds to. */
function alertAction(e: SecurityEvent): 'reject' | 'quarantine' {
  return e.action === 'reject' ? 'reject' : 'quarantine';
}

/** The alert with one more event (next version). Pure. */
export function addEvent(a: SocAlert, e: SecurityEvent, keys: string[], w: AlertWindows): SocAlert {
  const sender = domainOf(e.from) || domainOf(e.mailFrom);
  const reasons = { ...a.reasons };
  for (const r of e.reasons) reasons[r] = (reasons[r] ?? 0) + 1;
  const lastSeen = Math.max(a.lastSeen, e.at);
  let hosts = a.urlHosts;
  for (const h of e.urlHosts.slice(0, 3)) hosts = push(hosts, h, 10);
  return {
    ...a,
    version: a.version + 1,
    lastSeen,
    keys: keys.reduce((acc, k) => push(acc, k, 20), a.keys),
    keyUntil: lastSeen + w.windowMs,
    count: a.count + 1,
    actions: { ...a.actions, [alertAction(e)]: a.actions[alertAction(e)] + 1 },
    maxScore: Math.max(a.maxScore, e.score),
    tenants: push(a.tenants, e.tenant, 20),
    recipientDomains: e.recipients
      .map(domainOf)
      .filter(Boolean)
      .reduce((acc, d) => push(acc, d, 20), a.recipientDomains ?? []),
    senderDomains: sender ? push(a.senderDomains, registrableOf(sender), 10) : a.senderDomains,
    urlHosts: hosts,
    subjects: e.subject ? push(a.subjects, e.subject.slice(0, 200), 5) : a.subjects,
    reasons,
    quarantineIds: e.quarantineId ? push(a.quarantineIds, e.quarantineId, 1000) : a.quarantineIds,
    updatedAt: e.at,
    purgeAt: Math.max(a.purgeAt, lastSeen + w.windowMs + w.historyMs),
  };
}

export type AlertDecision = { ok: true; alert: SocAlert } | { ok: false; status: 409; error: string };

/** acknowledge / resolve: the next version, or why not. Pure. */
export function setAlertStatus(a: SocAlert, to: 'acknowledged' | 'resolved', by: string, now: number, historyMs: number, note?: string): AlertDecision {
  if (a.status === 'resolved') return { ok: false, status: 409, error: `alert ${a.id} is already resolved` };
  if (a.status === to) return { ok: false, status: 409, error: `alert ${a.id} is already ${to}` };
  return {
    ok: true,
    alert: noteAction(
      { ...a, status: to, ...(to === 'resolved' ? { purgeAt: Math.max(now + historyMs, a.purgeAt) } : {}) },
      by,
      to === 'acknowledged' ? 'acknowledge' : 'resolve',
      now,
      note,
    ),
  };
}

/** The alert with an action in its history (next version). Pure. */
export function noteAction(a: SocAlert, by: string, action: string, now: number, note?: string, result?: string): SocAlert {
  return {
    ...a,
    version: a.version + 1,
    updatedAt: now,
    history: [...a.history, { at: now, by, action, ...(note ? { note } : {}), ...(result ? { result } : {}) }].slice(-50),
  };
}
