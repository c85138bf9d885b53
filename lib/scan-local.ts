/**
 * The CPU-bound part of a scan: MIME parse, the cheap local analyzers, the embedded text
 * model, archive listing and the attachment analyzers. No I/O, so it can run in a worker
 * thread (lib/scan-pool.ts) or in-line; lib/scan.ts does the rest (short links, reputation,
 * ClamAV, a remote classifier) and the verdict. The same code either way: the verdicts do
 * not depend on where it ran.
 */
import type { PhishXConfig } from './config/types.js';
import { extractScanInput, inspectArchives } from './message/extract.js';
import type { Envelope, ScanInput } from './message/types.js';
import { analyzeCheap, archiveInspection, shortLinks } from './analyzers/local.js';
import { analyzeAttachments, withContents } from './attachments/inspect.js';
import { embeddedModel, type TextVerdict } from './nlp/model.js';
import { classifierTexts, classifyTexts, type TextBasis } from './nlp/text.js';
import { errorMessage } from './errors.js';
import type { ScanResult, Signal } from './verdict/types.js';

export interface LocalOptions {
  /** Score the text with the embedded model (the configured classifier is the embedded one). */
  classify: boolean;
  /** Short links will be expanded: leave the cheap analyzers to the caller when the message has any. */
  expandShortLinks: boolean;
  /** The caller needs the message text (a remote classifier): else it is left out of the result once analysed. */
  keepText: boolean;
  /** Milliseconds of the scan budget left when the work starts. */
  budgetMs: number;
}

/** What the local part of a scan found. Plain data: it crosses a thread boundary. */
export interface LocalScan {
  input: ScanInput;
  /** The cheap analyzers' signals; null when left to the caller (short links to expand first). */
  cheap: Signal[] | null;
  /** The embedded model's verdict on the text, when asked and within budget; `basis`: it is on the second text classifierTexts gives. */
  text: (TextVerdict & { basis?: TextBasis }) | null;
  /** Attachment signals, archives as far as their listing got within budget. */
  attachments: Signal[];
  /** SCAN_ERROR for an analyzer that failed (a bug): the rest still counts. */
  errors: Signal[];
  phases: ScanResult['phases'];
}

/** Run the local part of a scan. Never throws for bad input; an analyzer fault becomes SCAN_ERROR. */
export async function scanLocally(raw: Buffer, envelope: Envelope, config: PhishXConfig, opts: LocalOptions): Promise<LocalScan> {
  const t0 = performance.now();
  const left = (): number => opts.budgetMs - (performance.now() - t0);
  const phases: ScanResult['phases'] = {};
  const input = await extractScanInput(raw, envelope, config.limits);
  phases.parse = performance.now() - t0;
  const out: LocalScan = { input, cheap: null, text: null, attachments: [], errors: [], phases };
  const guarded = (what: string, work: () => void): void => {
    try {
      work();
    } catch (err) {
      out.errors.push({ code: 'SCAN_ERROR', detail: `${what}: ${errorMessage(err)}`.slice(0, 200) });
    }
  };
  if (!(opts.expandShortLinks && shortLinks(input, config).length)) {
    const a0 = performance.now();
    guarded('analyzers', () => (out.cheap = analyzeCheap(input, config)));
    phases.analyze = performance.now() - a0;
  }
  if (opts.classify && left() > 0) {
    const n0 = performance.now();
    guarded('embedded model', () => {
      const model = embeddedModel();
      out.text = classifyTexts(classifierTexts(input), (t) => model.classify(t));
    });
    phases.nlp = performance.now() - n0;
  }
  if (input.attachments.flatMap(withContents).some((a) => a.listed) && left() > 0) {
    const z0 = performance.now();
    await inspectArchives(input, archiveInspection(config, AbortSignal.timeout(Math.max(1, Math.ceil(left())))));
    phases.archives = performance.now() - z0;
  }
  guarded('attachments', () => (out.attachments = analyzeAttachments(input.attachments, { maxRatio: config.attachments.max_compression_ratio })));
  // Analysed: what the caller does not read need not cross back to it (the copy costs the event loop).
  if (out.cheap && !opts.keepText) out.input = { ...input, text: '', html: '', htmlText: '', htmlVisibleText: '', headers: [] };
  return out;
}
