import { REASONS, type ReasonCode } from '../reasons.js';
import type { Reason, Signal } from './types.js';

const MAX_DETAILS = 3;

/**
 * Signals ─► reasons + score. Each reason code counts once (its largest weight), so fifty
 * IP-literal links weigh what one does; details of up to three occurrences are kept.
 * Score = min(100, sum of weights). Pure.
 */
export function aggregate(signals: readonly Signal[], weightOverrides: Readonly<Record<string, number>> = {}): { score: number; reasons: Reason[] } {
  const byCode = new Map<ReasonCode, { weight: number; details: string[] }>();
  for (const s of signals) {
    // A signal graded by its analyzer (NLP_PHISH: points for p, from the `[weights]` value
    // as its maximum) keeps its grade; the others weigh what `[weights]` or the table says.
    const weight = s.weight ?? weightOverrides[s.code] ?? REASONS[s.code].weight;
    const cur = byCode.get(s.code);
    if (!cur) {
      byCode.set(s.code, { weight, details: s.detail ? [s.detail] : [] });
    } else {
      cur.weight = Math.max(cur.weight, weight);
      if (s.detail && cur.details.length < MAX_DETAILS && !cur.details.includes(s.detail)) cur.details.push(s.detail);
    }
  }
  const reasons: Reason[] = [...byCode.entries()]
    .map(([code, v]) => ({ code, weight: v.weight, detail: v.details.join('; ') }))
    .sort((a, b) => b.weight - a.weight || a.code.localeCompare(b.code));
  const sum = reasons.reduce((acc, r) => acc + r.weight, 0);
  return { score: Math.max(0, Math.min(100, Math.round(sum))), reasons };
}
