/**
 * The webhook event catalogue as pure functions: the public JSON of a scan event, of an
 * analyst's action on a held message, of a SOC alert; never a message body.
 */
import { randomBytes } from 'node:crypto';
import { errorMessage } from '../errors.js';
import type { ActivityEvent, EventType, PublicEvent, QuarantineEntry, SecurityEvent, SocAlert, Store } from '../store/types.js';

export function newEventId(): string {
  return `evt_${Date.now().toString(36)}${randomBytes(10).toString('hex')}`;
}

const TYPE_OF_ACTION: Record<SecurityEvent['action'], EventType> = {
  reject: 'message.rejected',
  quarantine: 'message.quarantined',
  allow: 'message.allowed',
};

/** The public event of a scan event: its id is the scan id's, so a re-read log entry keeps it. */
export function publicScanEvent(e: SecurityEvent): PublicEvent {
  return {
    id: `evt_${e.id}`,
    type: TYPE_OF_ACTION[e.action],
    created_at: new Date(e.at).toISOString(),
    tenant: e.tenant,
    data: {
      scan_id: e.id,
      action: e.action,
      smtp_code: e.smtpCode,
      envelope: { mail_from: e.mailFrom, rcpt_to: e.recipients },
      from: e.from,
      subject: e.subject,
      score: e.score,
      reasons: e.reasons,
      url_hosts: e.urlHosts,
      quarantine_id: e.quarantineId ?? null,
    },
  };
}

function activity(type: EventType, tenant: string, data: Record<string, unknown>, at: number): ActivityEvent {
  return { kind: 'activity', event: { id: newEventId(), type, created_at: new Date(at).toISOString(), tenant, data } };
}

/** `quarantine.released` / `deleted` / `reported` for a held message. */
export function quarantineActivity(
  type: 'quarantine.released' | 'quarantine.deleted' | 'quarantine.reported',
  entry: QuarantineEntry,
  by: string,
  at: number,
  extra: Record<string, unknown> = {},
): ActivityEvent {
  return activity(
    type,
    entry.verdict.tenant,
    {
      quarantine_id: entry.id,
      by,
      envelope: { mail_from: entry.envelope.mailFrom, rcpt_to: entry.envelope.rcptTo },
      from: entry.from,
      subject: entry.subject,
      score: entry.verdict.score,
      reasons: entry.verdict.reasons.filter((r) => r.weight > 0).map((r) => r.code),
      ...extra,
    },
    at,
  );
}

/** `soc_alert.opened` / `soc_alert.updated`. */
export function alertActivity(type: 'soc_alert.opened' | 'soc_alert.updated', a: SocAlert, at: number, change?: string): ActivityEvent {
  return activity(
    type,
    a.tenants[0] ?? 'default',
    {
      alert_id: a.id,
      status: a.status,
      count: a.count,
      actions: a.actions,
      max_score: a.maxScore,
      tenants: a.tenants,
      sender_domains: a.senderDomains,
      url_hosts: a.urlHosts,
      subjects: a.subjects.slice(0, 5),
      reasons: a.reasons,
      first_seen: new Date(a.firstSeen).toISOString(),
      last_seen: new Date(a.lastSeen).toISOString(),
      quarantine_ids: a.quarantineIds.slice(-20),
      ...(change ? { change } : {}),
    },
    at,
  );
}

/**
 * Log an activity event for the webhooks. The action it reports has happened already, so a
 * store that cannot take the event (Redis down) does not undo it: the error is returned for
 * the caller to log, not thrown.
 */
export async function logActivity(store: Store, event: ActivityEvent): Promise<string | null> {
  try {
    await store.appendEvent(event);
    return null;
  } catch (err) {
    return `webhook event ${event.event.type} ${event.event.id} not logged: ${errorMessage(err)}`;
  }
}
