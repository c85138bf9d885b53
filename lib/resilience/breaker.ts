import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import { PhishXError } from '../errors.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerSettings {
  volume_threshold: number;
  error_threshold_percentage: number;
  reset_timeout_ms: number;
  rolling_window_ms: number;
}

export interface BreakerStateEvent {
  service: string;
  state: BreakerState;
  at: Date;
}

/**
 * State changes of every breaker in this process: the plugin logs each once with the
 * service name; metrics and health subscribe here.
 */
export const breakerEvents = new EventEmitter();

const breakers = new Map<string, { breaker: CircuitBreaker; settings: string }>();

/** Error thrown (fast, without calling the service) while a breaker is open. */
export class BreakerOpenError extends PhishXError {
  constructor(service: string) {
    super('PHISHX_BREAKER_OPEN', `${service}: circuit open, not called`);
    this.name = 'BreakerOpenError';
  }
}

/**
 * The breaker of one external service in this process, created once (a breaker per request
 * would never reach half-open). Calls carry their own deadlines (p-timeout / AbortSignal),
 * so opossum's own timeout is off; every rejection counts as a failure.
 */
export function breakerFor(service: string, settings: BreakerSettings): CircuitBreaker {
  const key = JSON.stringify(settings);
  const existing = breakers.get(service);
  if (existing && existing.settings === key) return existing.breaker;
  existing?.breaker.shutdown();
  const breaker = new CircuitBreaker((fn: () => Promise<unknown>) => fn(), {
    name: service,
    timeout: false,
    volumeThreshold: settings.volume_threshold,
    errorThresholdPercentage: settings.error_threshold_percentage,
    resetTimeout: settings.reset_timeout_ms,
    rollingCountTimeout: settings.rolling_window_ms,
    rollingCountBuckets: 10,
  });
  const emit = (state: BreakerState): void => void breakerEvents.emit('state', { service, state, at: new Date() } satisfies BreakerStateEvent);
  breaker.on('open', () => emit('open'));
  breaker.on('halfOpen', () => emit('half_open'));
  breaker.on('close', () => emit('closed'));
  breakers.set(service, { breaker, settings: key });
  return breaker;
}

/** One call through a breaker, as published on `breakerEvents` 'call' (for metrics). */
export interface ServiceCallEvent {
  service: string;
  outcome: 'success' | 'failure' | 'rejected';
  seconds: number;
  error?: unknown;
}

/** Run `fn` through the service's breaker; an open breaker fails at once with BreakerOpenError. */
export async function guarded<T>(service: string, settings: BreakerSettings, fn: () => Promise<T>): Promise<T> {
  const b = breakerFor(service, settings);
  const t0 = performance.now();
  const report = (outcome: ServiceCallEvent['outcome'], error?: unknown): void => {
    if (breakerEvents.listenerCount('call'))
      breakerEvents.emit('call', { service, outcome, seconds: (performance.now() - t0) / 1000, error } satisfies ServiceCallEvent);
  };
  try {
    const out = (await b.fire(fn)) as T;
    report('success');
    return out;
  } catch (err) {
    if ((err as { code?: string }).code === 'EOPENBREAKER') {
      const open = new BreakerOpenError(service);
      report('rejected', open);
      throw open;
    }
    report('failure', err);
    throw err;
  }
}

export function breakerState(service: string): BreakerState | null {
  const b = breakers.get(service)?.breaker;
  if (!b) return null;
  return b.opened ? 'open' : b.halfOpen ? 'half_open' : 'closed';
}

/** Every breaker with its state and rolling counts (for health and metrics). */
export function breakerSnapshot(): Array<{ service: string; state: BreakerState; successes: number; failures: number; rejects: number }> {
  return [...breakers.entries()].map(([service, { breaker }]) => {
    const s = breaker.stats;
    return {
      service,
      state: breaker.opened ? 'open' : breaker.halfOpen ? 'half_open' : 'closed',
      successes: s.successes,
      failures: s.failures,
      rejects: s.rejects,
    };
  });
}
