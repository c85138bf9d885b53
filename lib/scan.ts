import { randomBytes } from 'node:crypto';
import { parseAddress } from './ip-address.js';
import type { PhishXConfig } from './config/types.js';
import { splitHost, describeUrl } from './message/domain.js';
import type { Envelope, ExtractedUrl, ScanInput } from './message/types.js';
import { analyzeCheap, compile, shortLinks, type Compiled } from './analyzers/local.js';
import { embeddedModel, isShippedModel, type TextClassifier, type TextVerdict } from './nlp/model.js';
import { httpClassifierFor } from './nlp/http-client.js';
import { errorMessage } from './errors.js';
import { TimeoutError, withTimeout } from './timeout.js';
import { classifierTexts, classifyTexts, moreSuspicious, type TextBasis } from './nlp/text.js';
import { REASONS, reasonSpec } from './reasons.js';
import type { ReputationSource } from './reputation/sources.js';
import type { UrlExpander } from './reputation/expand.js';
import type { ClamdClient } from './clamav/client.js';
import { stricter } from './verdict/policy.js';
import type { Action } from './verdict/types.js';
import { aggregate } from './verdict/aggregate.js';
import { decide } from './verdict/policy.js';
import type { ScanPhase, ScanResult, Signal } from './verdict/types.js';
import { scanLocally, type LocalOptions, type LocalScan } from './scan-local.js';

export type { ScanPhase, ScanResult } from './verdict/types.js';
export { analyze, archiveInspection } from './analyzers/local.js';

/** Random bytes for scan ids, drawn 4 KiB at a time (one randomBytes call per 512 ids, not per message). */
let idEntropy = Buffer.alloc(0);
let idAt = 0;

/** A scan id: 16 hex digits (64 random bits). */
export function newScanId(): string {
  if (idAt + 8 > idEntropy.length) {
    idEntropy = randomBytes(4096);
    idAt = 0;
  }
  idAt += 8;
  return idEntropy.toString('hex', idAt - 8, idAt);
}

function ipAllowed(ip: string | undefined, ranges: Compiled['allowRanges']): boolean {
  const addr = ip && ranges.length ? parseAddress(ip) : null;
  if (!addr) return false;
  return ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
}

/** Why a message is not scanned at all, or null. Pure. */
export function skipReason(envelope: Envelope, config: PhishXConfig): ScanResult['skipped'] {
  if (envelope.relaying && config.main.skip_relaying) return 'relaying';
  const c = compile(config);
  if (ipAllowed(envelope.remoteIp, c.allowRanges)) return 'allowlist';
  const at = envelope.mailFrom.lastIndexOf('@');
  if (at >= 0 && c.allowDomains.size) {
    const domain = envelope.mailFrom
      .slice(at + 1)
      .toLowerCase()
      .replace(/>$/, '');
    if (c.allowDomains.has(domain) || c.allowDomains.has(splitHost(domain).registrable ?? '')) return 'allowlist';
  }
  return null;
}

function recipientDomains(envelope: Envelope): string[] {
  return envelope.rcptTo
    .map((r) =>
      r
        .slice(r.lastIndexOf('@') + 1)
        .replace(/>$/, '')
        .toLowerCase(),
    )
    .filter(Boolean);
}

export interface ScanDeps {
  /** Text classifier; undefined = the embedded model when `[nlp] enabled`, null = none. */
  classifier?: TextClassifier | null;
  /** URL reputation sources (feeds in the store, Safe Browsing); none when absent. */
  reputation?: readonly ReputationSource[];
  /** Short-link expander, used when `[urls] expand_shorteners` is on. */
  expander?: UrlExpander;
  /** clamd client, when `[clamav] hosts` is set. */
  clamav?: ClamdClient;
  /**
   * Where the CPU-bound part runs: a worker-thread pool (lib/scan-pool.ts) in Haraka; in-line
   * when absent. It may reject (a worker that died or was stopped at the budget): the message
   * is then SCAN_INCOMPLETE, never passed unjudged.
   */
  local?: LocalScanner;
  /**
   * The caller gives `raw` up (it read the message into a buffer of its own and needs it no
   * more): `local` may move its bytes to a thread instead of copying them, leaving `raw`
   * empty here. Ignored while ClamAV reads the same bytes.
   */
  handOver?: boolean;
  /**
   * The time this scan may take, when less than `[main] scan_budget_ms` is left (the caller
   * already waited part of it, e.g. for a scan thread to be free).
   */
  budgetMs?: number;
}

/**
 * Runs `scanLocally`, here or elsewhere; `signal` aborts it when the scan gives up waiting.
 * With `handOver` the caller no longer needs `raw`: its memory may be transferred elsewhere.
 */
export type LocalScanner = (
  raw: Buffer,
  envelope: Envelope,
  config: PhishXConfig,
  opts: LocalOptions,
  signal: AbortSignal,
  handOver?: boolean,
) => Promise<LocalScan>;

/** The embedded model's name (TextModel.name). */
const EMBEDDED = 'embedded';

const inLine: LocalScanner = (raw, envelope, config, opts) => scanLocally(raw, envelope, config, opts);

/** Virus scan of the raw message. Never throws: faults become CLAMAV_* signals. */
async function scanForViruses(raw: Buffer, clamav: ClamdClient, config: PhishXConfig, remainingMs: number): Promise<Signal[]> {
  if (raw.length > config.clamav.max_size)
    return [{ code: 'CLAMAV_SKIPPED_SIZE', detail: `${raw.length} bytes > [clamav] max_size ${config.clamav.max_size}` }];
  try {
    const r = await clamav.scan(raw, remainingMs);
    if (r.status === 'virus') return [{ code: 'CLAMAV_VIRUS', detail: `${r.signature} (clamd ${r.host})` }];
    if (r.status === 'size_limit') return [{ code: 'CLAMAV_SIZE_LIMIT', detail: `clamd ${r.host}: INSTREAM size limit exceeded (${raw.length} bytes)` }];
    return [];
  } catch (err) {
    return [{ code: 'CLAMAV_UNAVAILABLE', detail: errorMessage(err).slice(0, 200) }];
  }
}

/**
 * The action some signals impose whatever the score (the reason table's flags: malware ─►
 * `[clamav] action`; an unparseable message ─► `[limits] unparseable_action`; a failed
 * service with `[defer] <service>` ─► tempfail; a message not even parsed within the
 * budget ─► tempfail). Pure.
 */
export function forcedAction(signals: readonly Signal[], config: PhishXConfig): Action {
  let a: Action = 'allow';
  for (const s of signals) {
    const spec = reasonSpec(s.code);
    if (spec.malware) a = stricter(a, config.clamav.action);
    if (spec.unreadable) a = stricter(a, config.limits.unparseable_action);
    if (spec.alwaysDefers || (spec.defersWhenRequired && config.defer[spec.defersWhenRequired])) a = stricter(a, 'tempfail');
  }
  return a;
}

const MAX_EXPANSIONS = 5;
/** How long a scan past its budget still waits for the local part (parse, analyzers) to finish (the plugin's watchdog allows 1 s). */
const PARSE_GRACE_MS = 500;

/** Follow short links to their targets and add the targets to the message's URLs. */
async function expandShortLinks(input: ScanInput, expander: UrlExpander, config: PhishXConfig): Promise<Signal[]> {
  const short = shortLinks(input, config).slice(0, MAX_EXPANSIONS);
  const results = await Promise.allSettled(short.map((u) => expander.expand(u.raw)));
  const out: Signal[] = [];
  results.forEach((r, i) => {
    if (r.status === 'rejected') {
      out.push({ code: 'REPUTATION_UNAVAILABLE', detail: `expanding ${short[i].raw}: ${errorMessage(r.reason)}`.slice(0, 200) });
      return;
    }
    const chain = r.value;
    if (chain.length < 2) return;
    out.push({ code: 'URL_SHORTENER_EXPANDED', detail: chain.join(' ─► ').slice(0, 300) });
    const target = describeUrl(chain[chain.length - 1], short[i].source);
    if (target && input.urls.length < config.limits.max_urls) input.urls.push(target);
  });
  return out;
}

/** Ask every reputation source in parallel; a failing one is recorded, never fatal. */
async function checkReputation(
  urls: readonly ExtractedUrl[],
  senders: readonly string[],
  sources: readonly ReputationSource[],
  remainingMs: number,
): Promise<Signal[]> {
  const results = await Promise.allSettled(
    sources.map((s) =>
      withTimeout(s.check(urls, remainingMs, senders), {
        milliseconds: Math.max(1, remainingMs),
        message: `${s.name}: no answer within ${Math.round(remainingMs)} ms`,
      }),
    ),
  );
  return results.flatMap((r, i) =>
    r.status === 'fulfilled' ? r.value : [{ code: 'REPUTATION_UNAVAILABLE' as const, detail: `${sources[i].name}: ${errorMessage(r.reason)}`.slice(0, 200) }],
  );
}

/**
 * The text ramp (docs/detection.md "Text classifier"): NLP_PHISH scores nothing up to p = 0.5,
 * rises to `NLP_KNEE_SHARE` of its weight at p = `NLP_P_KNEE`, and reaches its full weight (the
 * quarantine threshold) only at p = `NLP_P_FULL`.
 */
export const NLP_P_FLOOR = 0.5;
export const NLP_P_KNEE = 0.62;
export const NLP_KNEE_SHARE = 0.86;
export const NLP_P_FULL = 0.86;

/**
 * Score points for a phishing probability. The text alone holds a message only when the model
 * is confident (p ≥ 0.843, 50 rounded); a suspicious text short of that (p 0.62–0.84: 43–49 of 50) needs one
 * more signal of its own — a link, the sender, an attachment — to hold it. On mail from
 * sources the model never saw, texts at p 0.75–0.86 and nothing else were mostly legitimate
 * bulk mail (docs/detection.md). `max` is the NLP_PHISH weight (50 = the quarantine
 * threshold): text alone can hold a message for review, never reject it. Pure.
 */
export function nlpPoints(p: number, max: number): number {
  const knee = max * NLP_KNEE_SHARE;
  if (!(p > NLP_P_FLOOR)) return 0;
  if (p < NLP_P_KNEE) return Math.round((knee * (p - NLP_P_FLOOR)) / (NLP_P_KNEE - NLP_P_FLOOR));
  if (p < NLP_P_FULL) return Math.round(knee + ((max - knee) * (p - NLP_P_KNEE)) / (NLP_P_FULL - NLP_P_KNEE));
  return max;
}

/** The first of the signals that caps the text score (capsText), if any. Pure. */
function textCapper(signals: readonly Signal[]): Signal['code'] | undefined {
  return signals.find((s) => reasonSpec(s.code).capsText)?.code;
}

/**
 * The most NLP_PHISH may weigh beside the other signals: half its weight when every link
 * stays on one brand's own domains (LINKS_BRAND_ONLY), the message is a mail system's
 * delivery report with nothing to act on (DELIVERY_REPORT) or gives its reader nothing to do
 * (NOTHING_TO_ACT_ON) — with nothing that leads to a phisher, the text alone must not hold
 * the message. Pure.
 */
export function textWeightCap(signals: readonly Signal[], max: number): number {
  return textCapper(signals) ? Math.floor(max / 2) : max;
}

/** The classifier `[nlp]` asks for: the service at `url`, else the embedded model; null when off. */
export function defaultClassifier(config: PhishXConfig): TextClassifier | null {
  if (!config.nlp.enabled) return null;
  return config.nlp.url ? httpClassifierFor(config.nlp, config['breaker.nlp']) : embeddedModel();
}

/** NLP_PHISH for a text verdict, weighed against the other signals (`textWeightCap`). Pure. */
function textSignal(v: TextVerdict & { basis?: TextBasis }, name: string, config: PhishXConfig, others: readonly Signal[]): Signal[] {
  const max = config.weights.NLP_PHISH ?? REASONS.NLP_PHISH.weight;
  const cap = textWeightCap(others, max);
  const points = nlpPoints(v.p, max);
  const weight = Math.min(points, cap);
  if (weight <= 0) return [];
  const capping = points > cap ? textCapper(others) : undefined;
  const top = v.top.map((t) => t.feature.replace(/^[wbs]:/, '')).join(', ');
  return [
    {
      code: 'NLP_PHISH',
      weight,
      detail: `p=${v.p.toFixed(3)} (${name}${v.basis ? `, ${v.basis}` : ''})${top ? `: ${top}` : ''}${capping ? `; capped at ${cap} by ${capping}` : ''}`,
    },
  ];
}

/**
 * Text signal from a classifier other than the in-scan embedded model. A failing service
 * never fails the scan: `NLP_UNAVAILABLE` is recorded and, with `[nlp] fallback = embedded`,
 * the embedded model scores the text instead.
 */
async function classifyRemotely(
  input: ScanInput,
  classifier: TextClassifier,
  config: PhishXConfig,
  remainingMs: number,
  others: readonly Signal[],
): Promise<Signal[]> {
  const texts = classifierTexts(input);
  try {
    const [full, alt] = await Promise.all([classifier.classify(texts.full, remainingMs), texts.alt && classifier.classify(texts.alt.text, remainingMs)]);
    return textSignal(moreSuspicious(full, alt, texts.alt?.basis), classifier.name, config, others);
  } catch (err) {
    const out: Signal[] = [{ code: 'NLP_UNAVAILABLE', detail: `${classifier.name}: ${errorMessage(err)}`.slice(0, 200) }];
    if (config.nlp.fallback !== 'embedded') return out;
    const model = embeddedModel();
    return [
      ...out,
      ...textSignal(
        classifyTexts(texts, (t) => model.classify(t)),
        'embedded fallback',
        config,
        others,
      ),
    ];
  }
}

/**
 * The one scan path, used by the Haraka plugin, the CLI and the benchmarks:
 * raw message + envelope ─► ScanResult. Never throws for bad input; an internal fault
 * becomes the reason SCAN_ERROR and the verdict uses whatever signals exist.
 *
 * Order: ClamAV starts at once (it needs only the raw bytes); the local part (parse, cheap
 * analyzers, embedded model, archives, attachments — `deps.local`, a worker thread in
 * Haraka) runs beside it; then short links, reputation and a remote classifier, in
 * parallel. The budget bounds the waiting; a local part not back within the budget plus a
 * short grace is stopped, and the message is SCAN_INCOMPLETE (deferred, never passed
 * unjudged).
 */
export async function scanMessage(raw: Buffer, envelope: Envelope, config: PhishXConfig, id: string = newScanId(), deps: ScanDeps = {}): Promise<ScanResult> {
  const t0 = performance.now();
  const bytes = raw.length; // `raw` may be handed to a scan thread below
  const domains = recipientDomains(envelope);
  const skipped = skipReason(envelope, config);
  if (skipped) {
    const code = skipped === 'relaying' ? 'SKIP_RELAYING' : 'SKIP_ALLOWLIST';
    const verdict = decide(0, [{ code, weight: 0, detail: '' }], domains, config);
    return {
      id,
      verdict,
      skipped,
      durationMs: performance.now() - t0,
      phases: {},
      summary: { bytes, parts: 0, urls: 0, attachments: 0, subject: '', from: envelope.mailFrom },
    };
  }

  const signals: Signal[] = [];
  const budget = Math.max(1, Math.min(config.main.scan_budget_ms, deps.budgetMs ?? Infinity));
  const elapsed = (): number => performance.now() - t0;
  const left = (): number => budget - elapsed();
  const phases: ScanResult['phases'] = {};
  const timed = async <T>(phase: ScanPhase, work: () => Promise<T>): Promise<T> => {
    const p0 = performance.now();
    try {
      return await work();
    } finally {
      phases[phase] = performance.now() - p0;
    }
  };
  const clamav = deps.clamav;
  const viruses = clamav ? timed('clamav', () => scanForViruses(raw, clamav, config, budget)) : Promise.resolve([]);
  // The shipped model runs in the local part (where a pool's threads hold it); any other
  // classifier — a remote one, or a model trained in this process (eval --cv) — is called from here.
  const embedded = deps.classifier === undefined ? config.nlp.enabled && !config.nlp.url : isShippedModel(deps.classifier);
  const classifier = embedded ? null : deps.classifier !== undefined ? deps.classifier : defaultClassifier(config);
  const expander = config.urls.expand_shorteners ? deps.expander : undefined;

  // The local part, stopped if it is not back within the budget and a short grace.
  const stop = new AbortController();
  let local: LocalScan | null = null;
  try {
    local = await withTimeout(
      (deps.local ?? inLine)(
        raw,
        envelope,
        config,
        { classify: embedded, expandShortLinks: !!expander, keepText: !!classifier, budgetMs: budget },
        stop.signal,
        deps.handOver === true && !clamav,
      ),
      {
        milliseconds: budget + PARSE_GRACE_MS,
      },
    );
  } catch (err) {
    stop.abort();
    signals.push(
      err instanceof TimeoutError
        ? { code: 'BUDGET_EXCEEDED', detail: `scan exceeded ${budget} ms` }
        : { code: 'SCAN_ERROR', detail: `local scan: ${errorMessage(err)}`.slice(0, 200) },
      { code: 'SCAN_INCOMPLETE', detail: `the message was not parsed and analysed within the ${budget} ms scan budget` },
    );
  }
  for (const [phase, ms] of Object.entries(local?.phases ?? {})) phases[phase as ScanPhase] = ms;
  const input = local?.input ?? null;
  if (local && input) {
    signals.push(...local.errors);
    let cutShort = false;
    try {
      await withTimeout(
        (async () => {
          if (!local.cheap) {
            if (expander && left() > 0) {
              const expanded = await timed('expand', () => expandShortLinks(input, expander, config));
              if (cutShort) return;
              signals.push(...expanded);
            }
            const a0 = performance.now();
            local.cheap = analyzeCheap(input, config);
            phases.analyze = performance.now() - a0;
          }
          signals.push(...local.cheap);
          if (local.text) signals.push(...textSignal(local.text, EMBEDDED, config, signals));
          const senders = [...new Set([input.from?.domain ?? '', input.envelopeFrom?.domain ?? ''].filter((d) => d.includes('.')))];
          const sources = deps.reputation?.filter((s) => !s.idle()) ?? [];
          const [text, reputation] = await Promise.all([
            classifier && left() > 0 ? timed('nlp', () => classifyRemotely(input, classifier, config, left(), signals)) : Promise.resolve([]),
            sources.length && (input.urls.length || senders.length) && left() > 0
              ? timed('reputation', () => checkReputation([...input.urls, ...input.moreUrls], senders, sources, left()))
              : Promise.resolve([]),
          ]);
          if (!cutShort) signals.push(...text, ...reputation);
        })(),
        { milliseconds: Math.max(1, left()) },
      );
      if (elapsed() > budget) signals.push({ code: 'BUDGET_EXCEEDED', detail: `scan took ${Math.round(elapsed())} ms, budget ${budget} ms` });
    } catch (err) {
      if (err instanceof TimeoutError) signals.push({ code: 'BUDGET_EXCEEDED', detail: `scan exceeded ${budget} ms` });
      else signals.push({ code: 'SCAN_ERROR', detail: errorMessage(err).slice(0, 200) });
    }
    cutShort = true;
    // The cheap analyzers judge the message even when the network part was cut short.
    if (!local.cheap) signals.push(...analyzeCheap(input, config));
    // Attachments last, from what the archive inspection reached: an archive it did not
    // finish is ATTACHMENT_UNINSPECTABLE, never a silent pass.
    signals.push(...local.attachments);
  }
  // The virus scan, bounded by what is left of the budget. A configured virus scan that never
  // answered counts as clamd unavailable, so `[defer] clamav` applies (a budget overrun must not
  // let mail skip the virus scan silently).
  if (clamav) {
    signals.push(...(await withTimeout(viruses, { milliseconds: Math.max(1, left()) }).catch(() => [])));
    if (!signals.some((s) => s.code.startsWith('CLAMAV_'))) signals.push({ code: 'CLAMAV_UNAVAILABLE', detail: 'scan budget exhausted before the virus scan' });
  }
  const { score, reasons } = aggregate(signals, config.weights);
  const verdict = decide(score, reasons, domains, config, forcedAction(signals, config));
  return {
    id,
    verdict,
    skipped: null,
    durationMs: elapsed(),
    phases,
    summary: {
      bytes,
      parts: input?.parts ?? 0,
      urls: input?.urls.length ?? 0,
      attachments: input?.attachments.length ?? 0,
      subject: (input?.subject ?? '').slice(0, 200),
      from: input?.from?.address ?? envelope.mailFrom,
      urlHosts: linkHosts(input?.urls ?? []),
    },
  };
}

/** Hosts of the links a reader would follow (not images), distinct, in priority order, at most 5: what groups a campaign. */
function linkHosts(urls: ReadonlyArray<{ host: string; source: string }>): string[] {
  const out: string[] = [];
  for (const u of urls) {
    if (u.source === 'img' || !u.host || out.includes(u.host)) continue;
    out.push(u.host);
    if (out.length === 5) break;
  }
  return out;
}
