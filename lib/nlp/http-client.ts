import { Pool } from 'undici';
import type { BreakerConfig, PhishXConfig } from '../config/types.js';
import { guarded } from '../resilience/breaker.js';
import { NlpServiceError, oneLineMessage } from '../errors.js';
import { BodyTooLargeError, readJsonBounded } from '../http-body.js';
import type { TextClassifier, TextVerdict } from './model.js';

type NlpConfig = PhishXConfig['nlp'];

/** Longest classifier reply read (a reply is a few labels with their scores). */
const MAX_REPLY_BYTES = 1024 * 1024;

/**
 * Interpret a Hugging Face text-classification reply: `[{label, score}, …]` or the nested
 * `[[{label, score}, …]]`. p = the highest score among phishing labels; failing that,
 * 1 - the highest other score. Throws PHISHX_NLP_BAD_RESPONSE on anything else. Pure.
 */
export function phishProbability(body: unknown, phishLabels: readonly string[]): number {
  const list = Array.isArray(body) && body.length === 1 && Array.isArray(body[0]) ? body[0] : body;
  if (!Array.isArray(list) || list.length === 0)
    throw new NlpServiceError('PHISHX_NLP_BAD_RESPONSE', `expected [{"label","score"}], got ${JSON.stringify(body)?.slice(0, 120)}`);
  let phish = -1;
  let other = -1;
  for (const item of list) {
    const label = (item as { label?: unknown })?.label;
    const score = (item as { score?: unknown })?.score;
    if (typeof label !== 'string' || typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 1) {
      throw new NlpServiceError('PHISHX_NLP_BAD_RESPONSE', `bad item ${JSON.stringify(item)?.slice(0, 120)}`);
    }
    if (phishLabels.includes(label.toLowerCase())) phish = Math.max(phish, score);
    else other = Math.max(other, score);
  }
  return phish >= 0 ? phish : 1 - other;
}

/**
 * Client for a text-classification service over HTTP (undici Pool: keep-alive connections,
 * every request aborted at its deadline so timed-out calls never pile up sockets).
 * 5xx and malformed replies throw, so callers (and, later, a circuit breaker) count them.
 */
export class HttpTextClassifier implements TextClassifier {
  readonly name: string;
  private readonly pool: Pool;
  private readonly path: string;

  constructor(
    private readonly cfg: NlpConfig,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly breaker?: BreakerConfig,
  ) {
    const u = new URL(cfg.url);
    this.name = `http ${u.host}`;
    this.path = `${u.pathname}${u.search}`;
    this.pool = new Pool(u.origin, {
      connections: 16,
      keepAliveTimeout: 10_000,
      headersTimeout: cfg.timeout_ms,
      bodyTimeout: cfg.timeout_ms,
      connect: { timeout: cfg.timeout_ms },
    });
  }

  /** Classify through the `nlp` circuit breaker (when one is configured). */
  async classify(text: string, deadlineMs?: number): Promise<TextVerdict> {
    return this.breaker ? guarded('nlp', this.breaker, () => this.request(text, deadlineMs)) : this.request(text, deadlineMs);
  }

  /** Health probe: one short classification, bypassing the breaker (reachability, not load). */
  async probe(deadlineMs: number): Promise<number> {
    const t0 = performance.now();
    await this.request('health check', deadlineMs);
    return performance.now() - t0;
  }

  private async request(text: string, deadlineMs?: number): Promise<TextVerdict> {
    const ms = Math.max(1, Math.min(this.cfg.timeout_ms, deadlineMs ?? Infinity));
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    const auth = this.env.PHISHX_NLP_AUTH;
    if (auth) headers[this.cfg.auth_header] = auth;
    let res;
    try {
      res = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers,
        body: JSON.stringify({ inputs: text.slice(0, this.cfg.max_chars) }),
        signal: AbortSignal.timeout(ms),
      });
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'TimeoutError' || name === 'AbortError' || (err as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT') {
        throw new NlpServiceError('PHISHX_NLP_TIMEOUT', `no answer from ${this.name} within ${ms} ms`, { cause: err });
      }
      throw new NlpServiceError('PHISHX_NLP_UNREACHABLE', `${this.name}: ${oneLineMessage(err)}`, { cause: err });
    }
    if (res.statusCode < 200 || res.statusCode > 299) {
      await res.body.dump().catch(() => undefined);
      throw new NlpServiceError('PHISHX_NLP_HTTP_STATUS', `${this.name} answered HTTP ${res.statusCode}`);
    }
    let body: unknown;
    try {
      body = await readJsonBounded(res, MAX_REPLY_BYTES);
    } catch (err) {
      if ((err as { name?: string }).name === 'TimeoutError' || (err as { name?: string }).name === 'AbortError')
        throw new NlpServiceError('PHISHX_NLP_TIMEOUT', `${this.name}: reply not complete within ${ms} ms`, { cause: err });
      if (err instanceof BodyTooLargeError) throw new NlpServiceError('PHISHX_NLP_BAD_RESPONSE', `${this.name}: ${err.message}`, { cause: err });
      if (err instanceof SyntaxError) throw new NlpServiceError('PHISHX_NLP_BAD_RESPONSE', `${this.name}: reply is not JSON`, { cause: err });
      throw new NlpServiceError('PHISHX_NLP_UNREACHABLE', `${this.name}: reply cut short: ${oneLineMessage(err)}`, { cause: err });
    }
    return { p: phishProbability(body, this.cfg.phish_labels), top: [] };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

const clients = new Map<string, HttpTextClassifier>();

/** One client (one connection pool) per service configuration per process. */
export function httpClassifierFor(cfg: NlpConfig, breaker?: BreakerConfig): HttpTextClassifier {
  const key = JSON.stringify([cfg.url, cfg.timeout_ms, cfg.max_chars, cfg.phish_labels, cfg.auth_header, breaker]);
  let c = clients.get(key);
  if (!c) {
    c = new HttpTextClassifier(cfg, process.env, breaker);
    clients.set(key, c);
  }
  return c;
}

/** Health probe of the configured NLP service (ms per answer), or null when the embedded model or none is used. */
export function nlpProbeFor(config: PhishXConfig | null): ((deadlineMs: number) => Promise<number>) | null {
  if (!config?.nlp.enabled || !config.nlp.url) return null;
  const client = httpClassifierFor(config.nlp, config['breaker.nlp']);
  return (ms) => client.probe(ms);
}
