/**
 * Turns the event log into SOC alerts: each sidecar reads the events of the group
 * `soc-alerts` (with Redis, each event goes to one sidecar of the cluster), finds the alert
 * its campaign keys point at or opens one, adds the event with a compare-and-set, points
 * the keys at the alert, and acknowledges the events. Runs off the SMTP path, every second.
 */
import { hostname } from 'node:os';
import type { PhishXConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { isScanEvent, type SecurityEvent, type Store } from '../store/types.js';
import { alertActivity, logActivity } from '../webhooks/events.js';
import { addEvent, campaignKeys, newAlertId, openAlert, type AlertWindows, type KeyLists } from './alerts.js';

export const ALERT_GROUP = 'soc-alerts';
const DAY_MS = 86_400_000;

export function keyListsOf(config: PhishXConfig): KeyLists {
  return {
    freemail: new Set(config.sender.freemail),
    commonHosts: new Set([...config.urls.shorteners, ...config.urls.redirectors, ...config.urls.footer_hosts, ...config.urls.free_hosting]),
  };
}

export function windowsOf(config: PhishXConfig): AlertWindows {
  return { windowMs: config.soc.alert_window_s * 1000, historyMs: config.quarantine.history_days * DAY_MS };
}

/**
 * What a batch of folds leaves to its end: the activity lines being appended (their error
 * messages), and alert writes deferred to `flushAlerts`.
 */
export interface FoldBatch {
  activities: Array<Promise<string | null>>;
}

/**
 * Add one event to its campaign's alert (or a new one). Returns the alert id. Logs
 * `soc_alert.opened` or `soc_alert.updated` for the webhooks. With `batch`, the alert's
 * disk write waits for the batch's `flushAlerts` and the activity line is not awaited here
 * (both before the batch's events are acknowledged, see foldPending).
 */
export async function foldEvent(
  store: Store,
  e: SecurityEvent,
  lists: KeyLists,
  w: AlertWindows,
  onError?: (m: string) => void,
  batch?: FoldBatch,
): Promise<string> {
  const keys = campaignKeys(e, lists);
  for (let attempt = 0; attempt < 8; attempt++) {
    let id: string | null = null;
    for (const k of keys) {
      id = await store.alertForKey(k);
      if (id) break;
    }
    let alert = id ? await store.getAlert(id) : null;
    if (alert?.status === 'resolved') {
      await store.unlinkAlertKeys(alert.keys, alert.id);
      alert = null;
    }
    const next = alert ? addEvent(alert, e, keys, w) : openAlert(newAlertId(e.at), e, keys, w);
    if (!alert && keys.length) {
      // Two sidecars opening one campaign at once: the first to point the key wins, the other joins it.
      const winner = await store.linkAlertKey(keys[0], next.id, next.keyUntil);
      if (winner !== next.id) continue;
    }
    if (!(await store.putAlert(next, { deferDurable: batch !== undefined }))) continue;
    for (const k of keys) await store.linkAlertKey(k, next.id, next.keyUntil);
    const logged = logActivity(store, alertActivity(alert ? 'soc_alert.updated' : 'soc_alert.opened', next, e.at, alert ? 'message_added' : 'opened'));
    if (batch) batch.activities.push(logged);
    else {
      const m = await logged;
      if (m) onError?.(m);
    }
    return next.id;
  }
  throw new Error(`event ${e.id}: alert changed concurrently too often`);
}

/** Fold what the log holds (at most `max` entries); returns how many scan events were folded. */
export async function foldPending(store: Store, config: PhishXConfig, consumer: string, max = 200, onError?: (m: string) => void): Promise<number> {
  const events = await store.readEvents(ALERT_GROUP, consumer, max);
  if (!events.length) return 0;
  const lists = keyListsOf(config);
  const w = windowsOf(config);
  const done: string[] = [];
  const batch: FoldBatch = { activities: [] };
  let folded = 0;
  try {
    for (const s of events) {
      // Activity, redeliveries and allowed messages are for the webhooks, not for alerts.
      if (isScanEvent(s.event) && s.event.action !== 'allow') {
        await foldEvent(store, s.event, lists, w, onError, batch);
        folded++;
      }
      done.push(s.id);
    }
  } finally {
    // Group commit: the batch's activity lines go out in a few appends, each alert it changed
    // is written once — all durable before its events are acknowledged. A failed alert write
    // is retried at the next flush (the alerts are current in memory), so the events are
    // acknowledged anyway: folding them again would count them twice.
    for (const m of await Promise.all(batch.activities)) if (m) onError?.(m);
    try {
      await store.flushAlerts();
    } finally {
      await store.ackEvents(ALERT_GROUP, done);
    }
  }
  return folded;
}

/** Fold every second until stopped; errors (a store down) are reported and retried on the next tick. */
export function startAlertFolder(
  store: () => Store,
  config: () => PhishXConfig | null,
  onError: (message: string) => void,
  intervalMs = 1000,
): { stop(): void; tick(): Promise<number> } {
  const consumer = `${hostname()}-${process.pid}`;
  let running: Promise<number> | null = null;
  let lastError = '';
  const tick = (): Promise<number> => {
    const c = config();
    if (!c) return Promise.resolve(0);
    running ??= foldPending(store(), c, consumer, 200, onError)
      .then((n) => {
        lastError = '';
        return n;
      })
      .catch((err: unknown) => {
        const m = errorMessage(err);
        if (m !== lastError) onError(`SOC alerts: ${m}`);
        lastError = m;
        return 0;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), tick };
}
