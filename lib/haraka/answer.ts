import constants from 'haraka-constants';
import DSN from 'haraka-dsn';
import { smtpReply } from '../verdict/actions.js';
import type { Action } from '../verdict/types.js';

/** What a hook passes to Haraka's `next`: a return code and its message (a DSN or text). */
export interface HarakaAnswer {
  code: number;
  msg: unknown;
}

/**
 * The data_post answer for a verdict: reject ─► `550 5.7.1`, tempfail ─► `451 4.7.1`;
 * allow and quarantine ─► null: accept (a held message is kept by the queue hook, which
 * answers with `heldAnswer`). Every SMTP answer PhishX gives is made here. Pure.
 */
export function verdictAnswer(action: Action, id: string): HarakaAnswer | null {
  const reply = smtpReply(action, id);
  if (action === 'reject') return { code: constants.deny, msg: DSN.sec_unauthorized(reply.text) };
  if (action === 'tempfail') return { code: constants.denysoft, msg: DSN.create(451, reply.text, 7, 1) };
  return null;
}

/** The queue hook's answer once a message is held: `250 … held for review (PhishX id …)`. */
export function heldAnswer(id: string): HarakaAnswer {
  return { code: constants.ok, msg: smtpReply('quarantine', id).text };
}

/** Not held ─► not accepted: `451 4.7.1`, the sender keeps the message and retries. */
export function holdFailedAnswer(id: string): HarakaAnswer {
  return { code: constants.denysoft, msg: DSN.create(451, `Message could not be held for review, try again later (id ${id})`, 7, 1) };
}

/** The scan outlasted budget + watchdog slack: `451 4.7.1`, never passed unjudged. */
export function overrunAnswer(id: string): HarakaAnswer {
  return { code: constants.denysoft, msg: DSN.create(451, `Message could not be scanned in time, try again later (PhishX id ${id})`, 7, 1) };
}
