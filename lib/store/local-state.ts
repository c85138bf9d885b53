import type { AlertTable } from './local-alerts.js';
import type { FeedbackShelf } from './feedback.js';
import { LocalFeeds } from './feed-sets.js';
import type { DeliveryTable, DocTable, KeyRingFile } from './local-webhooks.js';
import { MemoryNonceCache } from '../webhooks/signing.js';
import type { AlertQuery, DeliveryQuery, DeliveryRecord, FeedbackRecord, GroupStart, KeyRing, LogEvent, SocAlert, StoredEvent } from './types.js';

/** The event log of an embedded store (a file journal, or memory). */
export interface Journal {
  append(event: LogEvent): Promise<void>;
  read(group: string, max: number, start: GroupStart): Promise<StoredEvent[]>;
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
  protected abstract readonly deliveries: DeliveryTable;
  protected abstract readonly keyRing: KeyRingFile;

  getKeyRing(): Promise<KeyRing> {
    return this.keyRing.get();
  }

  putKeyRing(ring: KeyRing): Promise<boolean> {
    return this.keyRing.put(ring);
  }

  private readonly nonces = new MemoryNonceCache();
  protected abstract readonly docs: DocTable;

  /** One sidecar per embedded store: it holds every lease. */
  async acquireLease(): Promise<boolean> {
    return true;
  }

  getDoc<T>(name: string): Promise<{ version: number; value: T | null }> {
    return this.docs.get<T>(name);
  }

  putDoc<T>(name: string, version: number, value: T): Promise<boolean> {
    return this.docs.put(name, version, value);
  }

  /** One sidecar per embedded store: the nonces live in its memory. */
  async claimNonce(nonce: string, expiresAtS: number): Promise<boolean> {
    return this.nonces.add(nonce, expiresAtS, Date.now() / 1000);
  }

  putDelivery(record: DeliveryRecord): Promise<void> {
    return this.deliveries.put(record);
  }

  getDelivery(id: string): Promise<DeliveryRecord | null> {
    return this.deliveries.get(id);
  }

  listDeliveries(query?: DeliveryQuery): Promise<{ items: DeliveryRecord[]; nextCursor: string | null }> {
    return this.deliveries.list(query);
  }

  putFeedback(record: FeedbackRecord, raw: Buffer): Promise<void> {
    return this.feedback.put(record, raw);
  }

  listFeedback(): Promise<FeedbackRecord[]> {
    return this.feedback.list();
  }

  getFeedbackRaw(id: string): Promise<Buffer | null> {
    return this.feedback.raw(id);
  }

  appendEvent(event: LogEvent): Promise<void> {
    return this.journal.append(event);
  }

  /** One reader per group and directory (the sidecar): no claims between consumers. */
  readEvents(group: string, _consumer: string, max: number, start: GroupStart = 'oldest'): Promise<StoredEvent[]> {
    return this.journal.read(group, max, start);
  }

  async keepEvents(): Promise<void> {
    /* one consumer per group: nothing can take its events over */
  }

  ackEvents(group: string, ids: string[]): Promise<void> {
    return this.journal.ack(group, ids);
  }

  getAlert(id: string): Promise<SocAlert | null> {
    return this.alerts.get(id);
  }

  putAlert(alert: SocAlert, opts?: { deferDurable?: boolean }): Promise<boolean> {
    return this.alerts.put(alert, opts?.deferDurable === true);
  }

  flushAlerts(): Promise<void> {
    return this.alerts.flush();
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
