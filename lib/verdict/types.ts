import type { ReasonCode } from './reasons.js';

/** One finding of an analyzer, before weighting. */
export interface Signal {
  code: ReasonCode;
  /** Short human detail, e.g. the offending URL. */
  detail: string;
  /** Weight override from the analyzer (e.g. a classifier's graded output); else the reason's weight. */
  weight?: number;
}

export interface Reason {
  code: ReasonCode;
  weight: number;
  detail: string;
}

export type Action = 'allow' | 'quarantine' | 'reject' | 'tempfail';

export interface Verdict {
  /** What PhishX does (in monitor mode always `allow`). */
  action: Action;
  /** What enforce mode would have done (equals `action` in enforce mode). */
  wouldAction: Action;
  score: number;
  reasons: Reason[];
  /** Mode that decided (`monitor` when every deciding tenant is in monitor mode). */
  mode: 'enforce' | 'monitor';
  /** Tenant whose policy produced the action (`default` when none matched). */
  tenant: string;
}
