import type { PhishXConfig, TenantPolicy } from '../config/types.js';
import type { Action, Reason, Verdict } from './types.js';

const RANK: Record<Action, number> = { allow: 0, quarantine: 1, reject: 2, tempfail: 3 };

/** The stricter of two actions (tempfail > reject > quarantine > allow). */
export function stricter(a: Action, b: Action): Action {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Tenant policy for a recipient domain: exact section, else the nearest parent domain's, else the default. */
export function tenantFor(domain: string, config: Pick<PhishXConfig, 'tenants' | 'main' | 'thresholds'>): { name: string; policy: TenantPolicy } {
  let d = domain.toLowerCase();
  while (d) {
    const p = config.tenants[d];
    if (p) return { name: d, policy: p };
    const dot = d.indexOf('.');
    if (dot < 0) break;
    d = d.slice(dot + 1);
  }
  return { name: 'default', policy: { mode: config.main.mode, quarantine: config.thresholds.quarantine, reject: config.thresholds.reject } };
}

export function actionForScore(score: number, p: TenantPolicy): Action {
  if (score >= p.reject) return 'reject';
  if (score >= p.quarantine) return 'quarantine';
  return 'allow';
}

/**
 * Score + recipients ─► Verdict. One SMTP answer covers every recipient, so when they
 * belong to different tenants the strictest *enforced* action wins; a monitor-mode tenant
 * never tightens the answer, but `wouldAction` records the strictest action any tenant
 * would have taken. `forced` is the least action any tenant takes (a virus finding, a
 * deferral when a required scanner is down); monitor-mode tenants still only record it. Pure.
 */
export function decide(
  score: number,
  reasons: Reason[],
  recipientDomains: readonly string[],
  config: Pick<PhishXConfig, 'tenants' | 'main' | 'thresholds'>,
  forced: Action = 'allow',
): Verdict {
  const domains = recipientDomains.length ? [...new Set(recipientDomains.map((d) => d.toLowerCase()))] : [''];
  let action: Action = 'allow';
  let would: Action = 'allow';
  let winner = tenantFor(domains[0], config);
  let wouldWinner = winner;
  for (const d of domains) {
    const t = tenantFor(d, config);
    // `forced`: an action a signal imposes whatever the score (a virus, a deferral).
    const a = stricter(actionForScore(score, t.policy), forced);
    if (RANK[a] > RANK[would]) {
      would = a;
      wouldWinner = t;
    }
    const enforced = t.policy.mode === 'enforce' ? a : 'allow';
    if (RANK[enforced] > RANK[action]) {
      action = enforced;
      winner = t;
    }
  }
  const decider = action === 'allow' ? wouldWinner : winner;
  return {
    action,
    wouldAction: would,
    score,
    reasons,
    mode: action === would ? decider.policy.mode : 'monitor',
    tenant: decider.name,
  };
}
