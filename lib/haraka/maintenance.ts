import type { PhishXConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { processMetrics } from '../metrics/catalog.js';
import { collectSpool, replayEvents, replayPending } from '../quarantine.js';
import type { Store } from '../store/index.js';

export interface MaintenanceLog {
  notice(message: string): void;
  debug(message: string): void;
}

export interface Maintenance {
  /** Clear every timer (Haraka shutdown or plugin reload): nothing keeps running after it. */
  stop(): void;
}

/**
 * The periodic upkeep of a Haraka process's store: replay messages and events held while
 * the store was down (pending spool), sweep expired held messages (Redis keeps the record
 * until its purge time; the embedded stores sweep themselves) and remove spooled files whose
 * entry is gone. Runs once now, then on timers; `stop()` clears them all.
 */
export function startMaintenance(store: Store, config: () => PhishXConfig, log: MaintenanceLog): Maintenance {
  const spool = (): string => config().quarantine.spool_dir;
  // One round at a time: a round still putting messages (a slow store just back) is not
  // joined by the next tick (replayPending's claims would keep that safe, at a cost).
  let replaying = false;
  const replay = (): void => {
    if (replaying) return;
    replaying = true;
    void replayPending(store, spool())
      .then(async (n) => {
        if (n) {
          processMetrics.replayed.inc(n);
          log.notice(`replayed ${n} held message(s) into the ${store.kind} store`);
        }
        const events = await replayEvents(store, spool());
        if (events) log.notice(`replayed ${events} security event(s) into the event log`);
      })
      .catch((err: unknown) => log.debug(`pending quarantine not replayed yet: ${errorMessage(err)}`))
      .finally(() => (replaying = false));
  };
  const collect = (): void =>
    void collectSpool(store, spool())
      .then((n) => {
        if (n) log.notice(`removed ${n} spooled message file(s) whose quarantine entry expired or was deleted`);
      })
      .catch((err: unknown) => log.debug(`spool not collected yet: ${errorMessage(err)}`));
  const sweep = (): void => void store.sweepQuarantine().catch((err: unknown) => log.debug(`quarantine sweep failed: ${errorMessage(err)}`));
  replay();
  const timers = [setInterval(replay, config().quarantine.replay_interval_s * 1000), setInterval(collect, 3_600_000)];
  if (store.kind === 'redis') timers.push(setInterval(sweep, 60_000));
  for (const t of timers) t.unref();
  return {
    stop() {
      for (const t of timers) clearInterval(t);
      timers.length = 0;
    },
  };
}
