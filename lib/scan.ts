import { randomBytes } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { parseAddress } from './ip-address.js';
import pTimeout, { TimeoutError } from 'p-timeout';
import type { PhishXConfig } from './config/types.js';
import { extractScanInput, inspectArchives, type ArchiveInspection } from './message/extract.js';
import { registrableOf, splitHost } from './message/domain.js';
import type { Envelope, ExtractedUrl, ScanInput } from './message/types.js';
import { buildBrandIndex, type BrandIndex } from './analyzers/brands.js';
import { analyzeUrls, unwrapRedirect, urlAnalyzerContext, type UrlAnalyzerContext } from './analyzers/urls.js';
import { analyzeSender, type SenderLists } from './analyzers/sender.js';
import { analyzeTextDisguise } from './analyzers/text-disguise.js';
import { embeddedLetterModel } from './analyzers/letter-model.js';
import { analyzeBrandAlignment } from './analyzers/brand-alignment.js';
import { analyzeAttachments } from './attachments/inspect.js';
import { embeddedModel, type TextClassifier, type TextVerdict } from './nlp/model.js';
import { httpClassifierFor } from './nlp/http-client.js';
import { errorMessage } from './errors.js';
import { classifierText } from './nlp/text.js';
import { REASONS, reasonSpec } from './reasons.js';
import type { ReputationSource } from './reputation/sources.js';
import type { UrlExpander } from './reputation/expand.js';
import { hostInList } from './analyzers/urls.js';
import { describeUrl } from './message/domain.js';
import type { ClamdClient } from './clamav/client.js';
import { stricter } from './verdict/policy.js';
import type { Action } from './verdict/types.js';
import { aggregate } from './verdict/aggregate.js';
import { decide } from './verdict/policy.js';
import type { ScanPhase, ScanResult, Signal } from './verdict/types.js';

export type { ScanPhase, ScanResult } from './verdict/types.js';

interface Compiled {
  brands: BrandIndex;
  urls: UrlAnalyzerContext;
  allowDomains: ReadonlySet<string>;
  /** The sender analyzer's lists (its spelling model is loaded lazily, inside the scan's fault handling). */
  sender: Omit<SenderLists, 'letters'>;
  /** `[sender] platforms`: registered domains that mail for their customers under the customer's name. */
  platforms: ReadonlySet<string>;
  allowRanges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
}

const compiled = new WeakMap<PhishXConfig, Compiled>();

/** Per-config lookup tables, built once per (frozen) config object. */
function compile(config: PhishXConfig): Compiled {
  let c = compiled.get(config);
  if (!c) {
    const brands = buildBrandIndex(config.brands);
    const urls = urlAnalyzerContext(config, brands);
    c = {
      brands,
      urls,
      allowDomains: new Set(config.allowlist.domains),
      sender: { suspiciousTlds: urls.suspiciousTlds, freemail: new Set(config.sender.freemail) },
      platforms: new Set(config.sender.platforms),
      allowRanges: config.allowlist.ips.map((s) =>
        s.includes('/') ? ipaddr.parseCIDR(s) : ([ipaddr.parse(s), ipaddr.parse(s).kind() === 'ipv4' ? 32 : 128] as [ipaddr.IPv4 | ipaddr.IPv6, number]),
      ),
    };
    compiled.set(config, c);
  }
  return c;
}

export function newScanId(): string {
  return randomBytes(8).toString('hex');
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

/**
 * The cheap local analyzers (limits, URLs, sender, disguised text, brand alignment): what
 * runs first in every scan, so a scan cut short by its budget still has them. Pure.
 */
export function analyzeCheap(input: ScanInput, config: PhishXConfig): Signal[] {
  const c = compile(config);
  const signals: Signal[] = input.limits.map((l) => ({ code: l.code, detail: l.detail }));
  const links = input.urls.map((u) => unwrapRedirect(u, c.urls));
  signals.push(...analyzeUrls(input, links, c.urls));
  signals.push(...analyzeSender(input, c.brands, registrableOf, { ...c.sender, letters: embeddedLetterModel() }));
  signals.push(...analyzeTextDisguise(input));
  signals.push(...analyzeBrandAlignment(input, links, c.brands, c.urls, c.platforms));
  return signals;
}

/** All local analyzers over one ScanInput, attachments included (archives as far as `inspectArchives` got). Pure. */
export function analyze(input: ScanInput, config: PhishXConfig): Signal[] {
  return [...analyzeCheap(input, config), ...analyzeAttachments(input.attachments, { maxRatio: config.attachments.max_compression_ratio })];
}

/** `[attachments]` as the archive inspection takes it. */
export function archiveInspection(config: PhishXConfig, signal?: AbortSignal): ArchiveInspection {
  const a = config.attachments;
  return { maxEntries: a.max_archive_entries, maxDepth: a.max_archive_depth, maxInflatedBytes: a.max_inflated_bytes, ...(signal ? { signal } : {}) };
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
}

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
 * `[clamav] action`; a failed service with `[defer] <service>` ─► tempfail; a message not
 * even parsed within the budget ─► tempfail). Pure.
 */
export function forcedAction(signals: readonly Signal[], config: PhishXConfig): Action {
  let a: Action = 'allow';
  for (const s of signals) {
    const spec = reasonSpec(s.code);
    if (spec.malware) a = stricter(a, config.clamav.action);
    if (spec.alwaysDefers || (spec.defersWhenRequired && config.defer[spec.defersWhenRequired])) a = stricter(a, 'tempfail');
  }
  return a;
}

const MAX_EXPANSIONS = 5;
/** How long a scan past its budget still waits for the MIME parse to finish (the plugin's watchdog allows 1 s). */
const PARSE_GRACE_MS = 500;

/** Follow short links to their targets and add the targets to the message's URLs. */
async function expandShortLinks(input: ScanInput, expander: UrlExpander, config: PhishXConfig): Promise<Signal[]> {
  const { shorteners } = compile(config).urls;
  const short = [...new Map(input.urls.filter((u) => u.host && hostInList(u.host, shorteners)).map((u) => [u.raw, u])).values()].slice(0, MAX_EXPANSIONS);
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
      pTimeout(s.check(urls, remainingMs, senders), {
        milliseconds: Math.max(1, remainingMs),
        message: `${s.name}: no answer within ${Math.round(remainingMs)} ms`,
      }),
    ),
  );
  return results.flatMap((r, i) =>
    r.status === 'fulfilled' ? r.value : [{ code: 'REPUTATION_UNAVAILABLE' as const, detail: `${sources[i].name}: ${errorMessage(r.reason)}`.slice(0, 200) }],
  );
}

/** Text probability at which NLP_PHISH starts to score, and at which it reaches its full weight. */
export const NLP_P_FLOOR = 0.5;
export const NLP_P_FULL = 0.75;

/**
 * Score points for a phishing probability: 0 at p = 0.5, linear to `max` at p = 0.75
 * (chosen from the cross-validated sweep, docs/detection.md). `max` is the
 * NLP_PHISH weight (50 = the quarantine threshold): text alone can hold a message for
 * review, never reject it. Pure.
 */
export function nlpPoints(p: number, max: number): number {
  return Math.round(max * Math.min(1, Math.max(0, (p - NLP_P_FLOOR) / (NLP_P_FULL - NLP_P_FLOOR))));
}

/**
 * The most NLP_PHISH may weigh beside the other signals: half its weight when every link
 * stays on one brand's own domains (LINKS_BRAND_ONLY) or the message is a mail system's
 * delivery report with nothing to act on (DELIVERY_REPORT) — with nothing that leads to a
 * phisher, the text alone must not hold the message. Pure.
 */
export function textWeightCap(signals: readonly Signal[], max: number): number {
  return signals.some((s) => reasonSpec(s.code).capsText) ? Math.floor(max / 2) : max;
}

/** The classifier `[nlp]` asks for: the service at `url`, else the embedded model; null when off. */
export function defaultClassifier(config: PhishXConfig): TextClassifier | null {
  if (!config.nlp.enabled) return null;
  return config.nlp.url ? httpClassifierFor(config.nlp, config['breaker.nlp']) : embeddedModel();
}

/**
 * Text signal. A failing service never fails the scan: `NLP_UNAVAILABLE` is recorded and,
 * with `[nlp] fallback = embedded`, the embedded model scores the text instead.
 */
async function classify(input: ScanInput, classifier: TextClassifier, config: PhishXConfig, remainingMs: number, others: readonly Signal[]): Promise<Signal[]> {
  const text = classifierText(input);
  const out: Signal[] = [];
  let v: TextVerdict;
  let name = classifier.name;
  try {
    v = await classifier.classify(text, remainingMs);
  } catch (err) {
    out.push({ code: 'NLP_UNAVAILABLE', detail: `${classifier.name}: ${errorMessage(err)}`.slice(0, 200) });
    const embedded = embeddedModel();
    if (config.nlp.fallback !== 'embedded' || classifier === embedded) return out;
    v = embedded.classify(text);
    name = 'embedded fallback';
  }
  const max = config.weights.NLP_PHISH ?? REASONS.NLP_PHISH.weight;
  const cap = textWeightCap(others, max);
  const points = nlpPoints(v.p, max);
  const weight = Math.min(points, cap);
  if (weight <= 0) return out;
  const top = v.top.map((t) => t.feature.replace(/^[wbs]:/, '')).join(', ');
  out.push({
    code: 'NLP_PHISH',
    weight,
    detail: `p=${v.p.toFixed(3)} (${name})${top ? `: ${top}` : ''}${points > cap ? `; capped at ${cap}: nothing to act on off a brand's domains` : ''}`,
  });
  return out;
}

/**
 * The one scan path, used by the Haraka plugin, the CLI and the benchmarks:
 * raw message + envelope ─► ScanResult. Never throws for bad input; an internal fault
 * becomes the reason SCAN_ERROR and the verdict uses whatever signals exist.
 */
export async function scanMessage(raw: Buffer, envelope: Envelope, config: PhishXConfig, id: string = newScanId(), deps: ScanDeps = {}): Promise<ScanResult> {
  const t0 = performance.now();
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
      summary: { bytes: raw.length, parts: 0, urls: 0, attachments: 0, subject: '', from: envelope.mailFrom },
    };
  }

  let input: ScanInput | null = null;
  const signals: Signal[] = [];
  const budget = config.main.scan_budget_ms;
  const overBudget = (): boolean => performance.now() - t0 > budget;
  const phases: ScanResult['phases'] = {};
  const timed = async <T>(phase: ScanPhase, work: () => Promise<T>): Promise<T> => {
    const p0 = performance.now();
    try {
      return await work();
    } finally {
      phases[phase] = performance.now() - p0;
    }
  };
  // Ends the heavy work (archive decompression) when the scan ends, however it ends: no
  // work outlives its message.
  const stop = new AbortController();
  let parsing: Promise<ScanInput> | null = null;
  let cheapDone = false;
  const runCheap = (inp: ScanInput): void => {
    if (cheapDone) return;
    cheapDone = true;
    const a0 = performance.now();
    signals.push(...analyzeCheap(inp, config));
    phases.analyze = performance.now() - a0;
  };
  try {
    // p-timeout bounds waiting (I/O, decompression in zlib's threads, remote analyzers);
    // CPU-bound phases cannot be interrupted, so the budget is also checked between phases.
    // Order: parse ─► cheap analyzers (always, they are bounded) ─► the slow and heavy ones
    // in parallel, so a budget overrun still has the text, URL, sender and brand signals.
    await pTimeout(
      (async () => {
        parsing = timed('parse', () => extractScanInput(raw, envelope, config.limits));
        input = await parsing;
        const inp = input;
        if (deps.expander && config.urls.expand_shorteners && !overBudget())
          signals.push(...(await timed('expand', () => expandShortLinks(inp, deps.expander!, config))));
        runCheap(inp);
        if (overBudget()) return;
        const classifier = deps.classifier !== undefined ? deps.classifier : defaultClassifier(config);
        const left = (): number => budget - (performance.now() - t0);
        const senders = [...new Set([inp.from?.domain ?? '', inp.envelopeFrom?.domain ?? ''].filter((d) => d.includes('.')))];
        const [text, reputation, viruses] = await Promise.all([
          classifier && !overBudget() ? timed('nlp', () => classify(inp, classifier, config, left(), signals)) : Promise.resolve([]),
          deps.reputation?.length && (inp.urls.length || senders.length) && !overBudget()
            ? timed('reputation', () => checkReputation([...inp.urls, ...inp.moreUrls], senders, deps.reputation!, left()))
            : Promise.resolve([]),
          deps.clamav && !overBudget() ? timed('clamav', () => scanForViruses(raw, deps.clamav!, config, left())) : Promise.resolve([]),
          inp.attachments.some((a) => a.zip) ? timed('archives', () => inspectArchives(inp, archiveInspection(config, stop.signal))) : Promise.resolve(),
        ]);
        signals.push(...text, ...reputation, ...viruses);
      })(),
      { milliseconds: budget },
    );
    if (overBudget()) signals.push({ code: 'BUDGET_EXCEEDED', detail: `scan took ${Math.round(performance.now() - t0)} ms, budget ${budget} ms` });
  } catch (err) {
    if (err instanceof TimeoutError) signals.push({ code: 'BUDGET_EXCEEDED', detail: `scan exceeded ${budget} ms` });
    else signals.push({ code: 'SCAN_ERROR', detail: errorMessage(err).slice(0, 200) });
  } finally {
    stop.abort();
  }
  // Cut short: the cheap analyzers still judge the message. A parse still running gets a
  // short grace (inside the plugin's watchdog slack); a message not even parsed by then is
  // SCAN_INCOMPLETE: deferred, never passed unjudged.
  const started = parsing as Promise<ScanInput> | null;
  const parsed = (input as ScanInput | null) ?? (started ? await pTimeout(started, { milliseconds: PARSE_GRACE_MS }).catch(() => null) : null);
  if (parsed) {
    runCheap(parsed);
    // Attachments last, from what the archive inspection reached: an archive it did not
    // finish is ATTACHMENT_UNINSPECTABLE, never a silent pass.
    signals.push(...analyzeAttachments(parsed.attachments, { maxRatio: config.attachments.max_compression_ratio }));
  } else if (signals.some((x) => x.code === 'BUDGET_EXCEEDED')) {
    signals.push({ code: 'SCAN_INCOMPLETE', detail: `the message was not parsed within the ${budget} ms scan budget` });
  }
  // A configured virus scan that never ran counts as clamd unavailable, so `[defer] clamav`
  // applies (a budget overrun must not let mail skip the virus scan silently).
  if (deps.clamav && !signals.some((s) => s.code.startsWith('CLAMAV_'))) {
    signals.push({ code: 'CLAMAV_UNAVAILABLE', detail: 'scan budget exhausted before the virus scan' });
  }
  const { score, reasons } = aggregate(signals, config.weights);
  const verdict = decide(score, reasons, domains, config, forcedAction(signals, config));
  const i = parsed;
  return {
    id,
    verdict,
    skipped: null,
    durationMs: performance.now() - t0,
    phases,
    summary: {
      bytes: raw.length,
      parts: i?.parts ?? 0,
      urls: i?.urls.length ?? 0,
      attachments: i?.attachments.length ?? 0,
      subject: (i?.subject ?? '').slice(0, 200),
      from: i?.from?.address ?? envelope.mailFrom,
      urlHosts: linkHosts(i?.urls ?? []),
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
