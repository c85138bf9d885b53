/**
 * Typed errors with stable `code` strings (in the manner of undici's lib/core/errors.js).
 * Callers branch on `code`, never on message text.
 */
export type PhishXErrorCode =
  | 'PHISHX_CONFIG_INVALID'
  | 'PHISHX_MESSAGE_UNPARSEABLE'
  | 'PHISHX_STORE_UNAVAILABLE'
  | 'PHISHX_STORE_NOT_FOUND'
  | 'PHISHX_STORE_FULL'
  | 'PHISHX_STORE_BAD_CURSOR'
  | 'PHISHX_RELEASE_FAILED'
  | 'PHISHX_SIDECAR_LISTEN'
  | 'PHISHX_CLI_USAGE'
  | 'PHISHX_BUDGET_EXCEEDED'
  | 'PHISHX_NLP_HTTP_STATUS'
  | 'PHISHX_NLP_BAD_RESPONSE'
  | 'PHISHX_NLP_TIMEOUT'
  | 'PHISHX_NLP_UNREACHABLE'
  | 'PHISHX_REPUTATION_HTTP_STATUS'
  | 'PHISHX_REPUTATION_BAD_RESPONSE'
  | 'PHISHX_REPUTATION_TIMEOUT'
  | 'PHISHX_REPUTATION_UNREACHABLE'
  | 'PHISHX_FEED_TOO_LARGE'
  | 'PHISHX_CLAMD_UNAVAILABLE'
  | 'PHISHX_CLAMD_BAD_REPLY'
  | 'PHISHX_BREAKER_OPEN'
  | 'PHISHX_TRAINING_DATA_MISSING'
  | 'PHISHX_WEBHOOK_HTTP_STATUS'
  | 'PHISHX_WEBHOOK_TIMEOUT'
  | 'PHISHX_WEBHOOK_UNREACHABLE'
  | 'PHISHX_WEBHOOK_NO_KEY';

export class PhishXError extends Error {
  readonly code: PhishXErrorCode;
  constructor(code: PhishXErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PhishXError';
    this.code = code;
  }
}

export class ConfigError extends PhishXError {
  /** `section.key` that failed validation, when one key is to blame. */
  readonly key: string | undefined;
  constructor(message: string, key?: string) {
    super('PHISHX_CONFIG_INVALID', message);
    this.name = 'ConfigError';
    this.key = key;
  }
}

export class StoreError extends PhishXError {
  constructor(
    code: 'PHISHX_STORE_UNAVAILABLE' | 'PHISHX_STORE_NOT_FOUND' | 'PHISHX_STORE_FULL' | 'PHISHX_STORE_BAD_CURSOR',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'StoreError';
  }
}

/** A text-classification service call failed; `code` says how. */
export class NlpServiceError extends PhishXError {
  constructor(
    code: 'PHISHX_NLP_HTTP_STATUS' | 'PHISHX_NLP_BAD_RESPONSE' | 'PHISHX_NLP_TIMEOUT' | 'PHISHX_NLP_UNREACHABLE',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'NlpServiceError';
  }
}

/** Text the training recipe needs is not installed (see `lib/nlp/language-ham.ts`). */
export class TrainingDataError extends PhishXError {
  constructor(message: string) {
    super('PHISHX_TRAINING_DATA_MISSING', message);
    this.name = 'TrainingDataError';
  }
}

export class UsageError extends PhishXError {
  constructor(message: string) {
    super('PHISHX_CLI_USAGE', message);
    this.name = 'UsageError';
  }
}

/** Message of any thrown value, for logs. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** An error's message as one line of at most `max` characters (a library's may span lines: undici's internal assertions do). */
export function oneLineMessage(err: unknown, max = 200): string {
  const m = errorMessage(err).replace(/\s+/g, ' ').trim();
  return m.length > max ? `${m.slice(0, max)}…` : m;
}

/** One webhook delivery attempt failed; `code` says how, `status` is the HTTP answer (0: none). */
export class WebhookDeliveryError extends PhishXError {
  constructor(
    code: 'PHISHX_WEBHOOK_HTTP_STATUS' | 'PHISHX_WEBHOOK_TIMEOUT' | 'PHISHX_WEBHOOK_UNREACHABLE' | 'PHISHX_WEBHOOK_NO_KEY',
    message: string,
    readonly status = 0,
    /** The endpoint's Retry-After, when it sent one (ms). */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'WebhookDeliveryError';
  }
}
