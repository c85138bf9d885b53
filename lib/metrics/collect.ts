import { collectDefaultMetrics } from 'prom-client';
import { verdictEvents, type VerdictEvent } from '../events.js';
import { breakerEvents, breakerSnapshot, type BreakerStateEvent, type ServiceCallEvent } from '../resilience/breaker.js';
import { redisEvents, type RedisOpEvent } from '../store/redis.js';
import { M, processRegistry } from './catalog.js';
import { degradedService, errorKind, reasonLabel, serviceLabel, tenantLabel } from './labels.js';

const BREAKER_STATES = ['closed', 'open', 'half_open'] as const;

/** Record one verdict event. Exported for tests; normally called through the event bus. */
export function recordVerdict(ev: VerdictEvent, configuredTenants: ReadonlySet<string>): void {
  const { result } = ev;
  const v = result.verdict;
  M.verdictAnswers.inc({ code: String(ev.smtpCode) });
  if (ev.quarantineId) {
    M.held.inc({ where: ev.heldIn ?? 'store' });
    M.heldBytes.inc(result.summary.bytes);
  } else if (v.action === 'quarantine' && ev.smtpCode >= 400) {
    M.holdFailures.inc();
  }
  if (result.skipped) {
    M.skipped.inc({ reason: result.skipped });
    return;
  }
  M.scanned.inc({ action: v.action, tenant: tenantLabel(v.tenant, configuredTenants) });
  if (v.mode === 'monitor') M.monitored.inc({ would_action: v.wouldAction });
  M.scanDuration.observe({ action: v.action }, result.durationMs / 1000);
  M.score.observe(v.score);
  M.size.observe(result.summary.bytes);
  M.urls.observe(result.summary.urls);
  M.attachments.observe(result.summary.attachments);
  M.parts.observe(result.summary.parts);
  for (const [phase, ms] of Object.entries(result.phases)) M.analyzerDuration.observe({ analyzer: phase }, ms / 1000);
  for (const r of v.reasons) {
    M.reasons.inc({ code: reasonLabel(r.code) });
    const svc = degradedService(r.code);
    if (svc) M.degraded.inc({ service: svc });
  }
}

export function recordServiceCall(e: ServiceCallEvent): void {
  const service = serviceLabel(e.service);
  M.serviceCalls.inc({ service, outcome: e.outcome });
  if (e.outcome !== 'rejected') M.serviceDuration.observe({ service }, e.seconds);
  if (e.outcome !== 'success') M.serviceErrors.inc({ service, kind: errorKind(e.error) });
  M.serviceUp.set({ service }, e.outcome === 'success' ? 1 : 0);
}

let installed = false;

/**
 * Start counting in this process (every Haraka process: the cluster master and each worker).
 * Idempotent. `configuredTenants` is read on every event, so a config reload applies at once.
 */
export function installProcessMetrics(configuredTenants: () => ReadonlySet<string>): void {
  if (installed) return;
  installed = true;
  collectDefaultMetrics({ register: processRegistry });
  verdictEvents.onVerdict((ev) => recordVerdict(ev, configuredTenants()));
  verdictEvents.on('listener_error', () => M.listenerErrors.inc());
  breakerEvents.on('call', recordServiceCall);
  breakerEvents.on('state', (e: BreakerStateEvent) => M.breakerTransitions.inc({ service: serviceLabel(e.service), to: e.state }));
  redisEvents.on('op', (e: RedisOpEvent) => {
    M.redisDuration.observe({ command: e.command }, e.seconds);
    if (!e.ok) M.redisErrors.inc({ command: e.command });
  });
  redisEvents.on('status', (s: string) => {
    if (s === 'ready') M.redisConnected.set(1);
    else M.redisConnected.set(0);
    if (s === 'reconnecting') M.redisReconnects.inc();
  });
}

/** Set the breaker-state gauge from the live breakers (called before each local collection). */
export function refreshBreakerGauge(): void {
  M.breakerState.reset();
  for (const b of breakerSnapshot()) {
    for (const s of BREAKER_STATES) M.breakerState.set({ service: serviceLabel(b.service), state: s }, b.state === s ? 1 : 0);
  }
}

/** This process's metrics as JSON (what a worker sends the master). */
export async function localMetricsJson(): Promise<unknown[]> {
  refreshBreakerGauge();
  return processRegistry.getMetricsAsJSON();
}
