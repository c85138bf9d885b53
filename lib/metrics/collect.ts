import { collectDefaultMetrics } from 'prom-client';
import { verdictEvents, type VerdictEvent } from '../events.js';
import { breakerEvents, breakerSnapshot, type BreakerStateEvent, type ServiceCallEvent } from '../resilience/breaker.js';
import { redisEvents, type RedisOpEvent } from '../store/redis.js';
import { processMetrics, processRegistry } from './catalog.js';
import { degradedService, errorKind, reasonLabel, serviceLabel, tenantLabel } from './labels.js';

const BREAKER_STATES = ['closed', 'open', 'half_open'] as const;

/** Record one verdict event. Exported for tests; normally called through the event bus. */
export function recordVerdict(ev: VerdictEvent, configuredTenants: ReadonlySet<string>): void {
  const { result } = ev;
  const v = result.verdict;
  processMetrics.verdictAnswers.inc({ code: String(ev.smtpCode) });
  if (ev.quarantineId) {
    processMetrics.held.inc({ where: ev.heldIn ?? 'store' });
    processMetrics.heldBytes.inc(result.summary.bytes);
  } else if (v.action === 'quarantine' && ev.smtpCode >= 400) {
    processMetrics.holdFailures.inc();
  }
  if (result.skipped) {
    processMetrics.skipped.inc({ reason: result.skipped });
    return;
  }
  processMetrics.scanned.inc({ action: v.action, tenant: tenantLabel(v.tenant, configuredTenants) });
  if (v.mode === 'monitor') processMetrics.monitored.inc({ would_action: v.wouldAction });
  processMetrics.scanDuration.observe({ action: v.action }, result.durationMs / 1000);
  processMetrics.score.observe(v.score);
  processMetrics.size.observe(result.summary.bytes);
  processMetrics.urls.observe(result.summary.urls);
  processMetrics.attachments.observe(result.summary.attachments);
  processMetrics.parts.observe(result.summary.parts);
  for (const [phase, ms] of Object.entries(result.phases)) processMetrics.analyzerDuration.observe({ analyzer: phase }, ms / 1000);
  for (const r of v.reasons) {
    processMetrics.reasons.inc({ code: reasonLabel(r.code) });
    const svc = degradedService(r.code);
    if (svc) processMetrics.degraded.inc({ service: svc });
  }
}

export function recordServiceCall(e: ServiceCallEvent): void {
  const service = serviceLabel(e.service);
  processMetrics.serviceCalls.inc({ service, outcome: e.outcome });
  if (e.outcome !== 'rejected') processMetrics.serviceDuration.observe({ service }, e.seconds);
  if (e.outcome !== 'success') processMetrics.serviceErrors.inc({ service, kind: errorKind(e.error) });
  processMetrics.serviceUp.set({ service }, e.outcome === 'success' ? 1 : 0);
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
  verdictEvents.on('listener_error', () => processMetrics.listenerErrors.inc());
  breakerEvents.on('call', recordServiceCall);
  breakerEvents.on('state', (e: BreakerStateEvent) => processMetrics.breakerTransitions.inc({ service: serviceLabel(e.service), to: e.state }));
  redisEvents.on('op', (e: RedisOpEvent) => {
    processMetrics.redisDuration.observe({ command: e.command }, e.seconds);
    if (!e.ok) processMetrics.redisErrors.inc({ command: e.command });
  });
  redisEvents.on('status', (s: string) => {
    if (s === 'ready') processMetrics.redisConnected.set(1);
    else processMetrics.redisConnected.set(0);
    if (s === 'reconnecting') processMetrics.redisReconnects.inc();
  });
}

/** Set the breaker-state gauge from the live breakers (called before each local collection). */
export function refreshBreakerGauge(): void {
  processMetrics.breakerState.reset();
  for (const b of breakerSnapshot()) {
    for (const s of BREAKER_STATES) processMetrics.breakerState.set({ service: serviceLabel(b.service), state: s }, b.state === s ? 1 : 0);
  }
}

/** This process's metrics as JSON (what a worker sends the master). */
export async function localMetricsJson(): Promise<unknown[]> {
  refreshBreakerGauge();
  return processRegistry.getMetricsAsJSON();
}
