import type { ReasonCode } from '../reasons.js';

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

/** Phases of a scan, timed separately. */
export type ScanPhase = 'parse' | 'expand' | 'analyze' | 'nlp' | 'reputation' | 'clamav' | 'archives';

export interface ScanResult {
  /** Scan id: appears in headers, SMTP replies, quarantine and logs. */
  id: string;
  verdict: Verdict;
  /** Set when the scan did not run (relaying, allowlist). */
  skipped: 'relaying' | 'allowlist' | null;
  durationMs: number;
  /** Milliseconds per scan phase that ran: parse, expand, analyze, nlp, reputation, clamav, archives. */
  phases: Partial<Record<ScanPhase, number>>;
  /** Facts about the message for logs and events (no bodies). */
  summary: { bytes: number; parts: number; urls: number; attachments: number; subject: string; from: string; urlHosts?: string[] };
}
