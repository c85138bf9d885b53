import { reasonSpec } from '../reasons.js';
import type { Action, ScanResult } from './types.js';

export const PHISHX_HEADER_PREFIX = 'x-phishx-';

/** The X-PhishX-* headers for a scanned message, in order. Pure. */
export function formatHeaders(result: ScanResult, maxReasons: number): Array<[string, string]> {
  const v = result.verdict;
  // Weighted reasons, plus the zero-weight ones an administrator must see (the table's `show`:
  // skips, limits, scanner findings and outages, what capped the text score).
  const reasons = v.reasons.filter((r) => r.weight !== 0 || reasonSpec(r.code).show === true);
  const shown = reasons.slice(0, maxReasons).map((r) => `${r.code}(${r.weight})`);
  if (reasons.length > maxReasons) shown.push(`+${reasons.length - maxReasons}`);
  const h: Array<[string, string]> = [
    ['X-PhishX-Verdict', v.action],
    ['X-PhishX-Score', String(v.score)],
    ['X-PhishX-Reasons', shown.length ? shown.join(', ') : 'none'],
    ['X-PhishX-Id', result.id],
  ];
  if (v.mode === 'monitor' || v.action !== v.wouldAction) {
    h.push(['X-PhishX-Mode', 'monitor']);
    h.push(['X-PhishX-Would-Action', v.wouldAction]);
  }
  return h;
}

/** SMTP reply text for an action; the scan id is always included so an admin can find it. */
export function smtpReply(action: Action, id: string): { code: number; text: string } {
  switch (action) {
    case 'reject':
      return { code: 550, text: `Message rejected as phishing (PhishX id ${id})` };
    case 'quarantine':
      return { code: 250, text: `Message accepted and held for review (PhishX id ${id})` };
    case 'tempfail':
      return { code: 451, text: `Message could not be scanned, try again later (PhishX id ${id})` };
    default:
      return { code: 250, text: `Message accepted (PhishX id ${id})` };
  }
}
