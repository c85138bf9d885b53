import type { AlertTable } from './local-alerts.js';
import type { FeedbackShelf } from './feedback.js';
import { LocalFeeds } from './feed-sets.js';
import type { AlertQuery, FeedbackRecord, SecurityEvent, SocAlert, StoredEvent } from './types.js';

/** The event log of an embedded store (a file journal, or memory). */
export interface Journal {
  append(event: SecurityEvent): Promise<void>;
  read(group: string, max: number): Promise<StoredEvent[]>;
  ack(group: string, ids: string[]): Promise<void>;
}

/**
 * The event-log and SOC-alert half of the Store interface for the embedded stores (memory,
 * file), over a Journal and an AlertTable the store provides; feeds from LocalFeeds.
 */
export abstract class LocalState extends LocalFeeds {
  protected abstract readonly journal: Journal;
  protected abstract readonly alerts: AlertTable;
  protected abstract readonly feedback: FeedbackShelf;

  putFeedback(record: FeedbackRecord, raw: Buffer): Promise<void> {
    return this.feedback.put(record, raw);
  }

  listFeedback(): Promise<FeedbackRecord[]> {
    return this.feedback.list();
  }

  getFeedbackRaw(id: string): Promise<Buffer | null> {
    return this.feedback.raw(id);
  }

  appendEvent(event: SecurityEvent): Promise<void> {
    return this.journal.append(event);
  }

  readEvents(group: string, _consumer: string, max: number): Promise<StoredEvent[]> {
    return this.journal.read(group, max);
  }

  ackEvents(group: string, ids: string[]): Promise<void> {
    return this.journal.ack(group, ids);
  }

  getAlert(id: string): Promise<SocAlert | null> {
    return this.alerts.get(id);
  }

  putAlert(alert: SocAlert): Promise<boolean> {
    return this.alerts.put(alert);
  }

  listAlerts(query?: AlertQuery): Promise<{ items: SocAlert[]; nextCursor: string | null }> {
    return this.alerts.list(query);
  }

  alertForKey(key: string): Promise<string | null> {
    return this.alerts.forKey(key);
  }

  linkAlertKey(key: string, id: string, until: number): Promise<string> {
    return this.alerts.link(key, id, until);
  }

  unlinkAlertKeys(keys: string[], id: string): Promise<void> {
    return this.alerts.unlink(keys, id);
  }
}
