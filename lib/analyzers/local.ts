/**
 * The local analyzers over one parsed message (limits, URLs, sender, disguised text, brand
 * alignment, attachments) and the per-config lookup tables they share. Pure, no I/O: they
 * run wherever the scan's CPU-bound part runs (lib/scan-local.ts).
 */
import ipaddr from 'ipaddr.js';
import type { PhishXConfig } from '../config/types.js';
import type { ArchiveInspection } from '../message/extract.js';
import type { ExtractedUrl, ScanInput } from '../message/types.js';
import { registrableOf } from '../message/domain.js';
import { buildBrandIndex, type BrandIndex } from './brands.js';
import { analyzeUrls, hostInList, unwrapRedirect, urlAnalyzerContext, type UrlAnalyzerContext } from './urls.js';
import { analyzeSender, type SenderLists } from './sender.js';
import { analyzeTextDisguise } from './text-disguise.js';
import { embeddedLetterModel } from './letter-model.js';
import { analyzeBrandAlignment } from './brand-alignment.js';
import { analyzeNothingToActOn } from './nothing-to-act-on.js';
import { analyzeAttachments } from '../attachments/inspect.js';
import type { Signal } from '../verdict/types.js';

export interface Compiled {
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
export function compile(config: PhishXConfig): Compiled {
  let c = compiled.get(config);
  if (!c) {
    const brands = buildBrandIndex(config.brands);
    const urls = urlAnalyzerContext(config, brands);
    c = {
      brands,
      urls,
      allowDomains: new Set(config.allowlist.domains),
      sender: { suspiciousTlds: urls.suspiciousTlds, freemail: new Set(config.sender.freemail), freeHosting: urls.freeHosting },
      platforms: new Set(config.sender.platforms),
      allowRanges: config.allowlist.ips.map((s) =>
        s.includes('/') ? ipaddr.parseCIDR(s) : ([ipaddr.parse(s), ipaddr.parse(s).kind() === 'ipv4' ? 32 : 128] as [ipaddr.IPv4 | ipaddr.IPv6, number]),
      ),
    };
    compiled.set(config, c);
  }
  return c;
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
  signals.push(...analyzeNothingToActOn(input, c.sender.freemail));
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

/** The message's links on a URL shortener's host, one per distinct link: what `[urls] expand_shorteners` follows. Pure. */
export function shortLinks(input: ScanInput, config: PhishXConfig): ExtractedUrl[] {
  const { shorteners } = compile(config).urls;
  return [...new Map(input.urls.filter((u) => u.host && hostInList(u.host, shorteners)).map((u) => [u.raw, u])).values()];
}
