import { EventEmitter } from 'node:events';
import type { Envelope } from './message/types.js';
import type { ScanResult } from './verdict/types.js';

/**
 * Verdict events: one per scanned message, emitted by the plugin after it answered.
 * Metrics, history, alert evaluators and the webhook outbox subscribe here, so the SMTP
 * path never waits on them. Listener errors are caught and reported on `listener_error`.
 */
export interface VerdictEvent {
  result: ScanResult;
  envelope: Envelope;
  /** What the sender was told: `250`, `550`, `451` … */
  smtpCode: number;
  /** Quarantine entry id when the message was held. */
  quarantineId?: string;
  /** Where a held message's raw bytes went: the store, the spool (large) or pending (store down). */
  heldIn?: 'store' | 'spool' | 'pending';
  at: Date;
}

class VerdictBus extends EventEmitter {
  publish(ev: VerdictEvent): void {
    for (const l of this.listeners('verdict')) {
      try {
        (l as (e: VerdictEvent) => void)(ev);
      } catch (err) {
        this.emit('listener_error', err);
      }
    }
  }
  onVerdict(listener: (e: VerdictEvent) => void): () => void {
    this.on('verdict', listener);
    return () => this.off('verdict', listener);
  }
}

export const verdictEvents = new VerdictBus();
