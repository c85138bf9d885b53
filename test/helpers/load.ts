import assert from 'node:assert/strict';
import type { Store } from '../../lib/store/types.js';
import { cleanMessage, quarantineMessage } from './messages.js';
import { idFrom, sendRaw, type SmtpAnswer } from './smtp.js';

/** Sends one message over SMTP and resolves with the final answer (never rejects): sendRaw, or the bench's sendLean. */
export type Sender = (port: number, raw: Buffer | string, env: { from: string; to: string[] }, opts: { timeoutMs?: number }) => Promise<SmtpAnswer>;

/**
 * Send `total` messages (cycling through `messages`) with `concurrency` parallel SMTP
 * sessions, one message per session, each with `send` (nodemailer's client by default).
 * `onSent(i)` runs before message i is sent (a driver can inject faults at a point of the
 * run). Answers come back in completion order.
 */
export async function drive(
  port: number,
  messages: ReadonlyArray<Buffer | string>,
  total: number,
  concurrency: number,
  env: { from: string; to: string[] },
  opts: { onSent?: (i: number) => void; send?: Sender } = {},
): Promise<SmtpAnswer[]> {
  const answers: SmtpAnswer[] = [];
  const send = opts.send ?? sendRaw;
  await inParallel(total, concurrency, async (i) => {
    opts.onSent?.(i);
    answers.push(await send(port, messages[i % messages.length], env, { timeoutMs: 60_000 }));
  });
  return answers;
}

/**
 * Open-loop load: message i starts at t0 + i / `perSecond` seconds whether or not earlier ones
 * have been answered, as mail arrives at an MX. Each answer's `ms` counts from the moment its
 * message was due (a late start counts as latency, so a stalled server cannot hide its queue).
 */
export async function drivePaced(
  port: number,
  messages: ReadonlyArray<Buffer | string>,
  total: number,
  perSecond: number,
  env: { from: string; to: string[] },
  send: Sender = sendRaw,
): Promise<SmtpAnswer[]> {
  const t0 = performance.now();
  const sessions: Array<Promise<SmtpAnswer>> = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sessions.push(send(port, messages[i % messages.length], env, { timeoutMs: 60_000 }).then((a) => ({ ...a, ms: performance.now() - due })));
  }
  return Promise.all(sessions);
}

/** Run `work(0 … total-1)` with at most `concurrency` at a time; rejects with the first failure. */
export async function inParallel(total: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        await work(i);
      }
    }),
  );
}

/** Envelopes of the messages PhishX holds (quarantineMessage) and delivers (cleanMessage). */
export const HOLD_ENV = { from: 'alerts@account-notice.example.net', to: ['carol@example.org'] };
export const ALLOW_ENV = { from: 'alice@example.com', to: ['bob@example.org'] };

/**
 * Mail sent one session at a time while the store fails over: message i is one PhishX holds
 * when `holds(i)`, else one it delivers. Each answer must be 250 (held — in Redis or the
 * pending spool — or delivered) or 451 (try again): never lost, never hung. Answers slower
 * than `budgetMs` + 1 s are listed in `slow`.
 */
export class FailoverLoad {
  readonly held: string[] = [];
  delivered = 0;
  later = 0;
  slowest = 0;
  readonly slow: string[] = [];

  constructor(
    private readonly budgetMs: number,
    private readonly holds: (i: number) => boolean,
  ) {}

  async send(port: number, i: number): Promise<void> {
    const hold = this.holds(i);
    const t0 = Date.now();
    const a = hold
      ? await sendRaw(port, quarantineMessage().replace('Unusual sign-in activity', `Unusual sign-in activity ${i}`), HOLD_ENV)
      : await sendRaw(port, cleanMessage({ subject: `Lunch ${i}` }).replace('<clean-1@example.com>', `<clean-${i}@example.com>`), ALLOW_ENV);
    const ms = Date.now() - t0;
    this.slowest = Math.max(this.slowest, ms);
    if (ms > this.budgetMs + 1000) this.slow.push(`${i}: ${ms} ms`);
    assert.ok(a.code === 250 || a.code === 451, a.response);
    if (a.code !== 250) this.later++;
    else if (hold) this.held.push(idFrom(a.response));
    else this.delivered++;
  }

  /** Held ids `store` does not have. */
  async missingIn(store: Store): Promise<string[]> {
    const missing: string[] = [];
    for (const id of this.held) if (!(await store.getQuarantine(id))) missing.push(id);
    return missing;
  }

  /** Held ids whose message.quarantined event is not among the `received` webhook bodies. */
  withoutEvent(received: ReadonlyArray<{ body: string }>): string[] {
    const ids = new Set(received.map((r) => (JSON.parse(r.body) as { id: string }).id));
    return this.held.filter((id) => !ids.has(`evt_${id}`));
  }
}
