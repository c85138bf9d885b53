import { sendRaw, type SmtpAnswer } from './smtp.js';

/**
 * Send `total` messages (cycling through `messages`) with `concurrency` parallel SMTP
 * sessions, one message per session. `onSent(i)` runs before message i is sent (a driver
 * can inject faults at a point of the run). Answers come back in completion order.
 */
export async function drive(
  port: number,
  messages: ReadonlyArray<Buffer | string>,
  total: number,
  concurrency: number,
  env: { from: string; to: string[] },
  onSent?: (i: number) => void,
): Promise<SmtpAnswer[]> {
  const answers: SmtpAnswer[] = [];
  await inParallel(total, concurrency, async (i) => {
    onSent?.(i);
    answers.push(await sendRaw(port, messages[i % messages.length], env, { timeoutMs: 60_000 }));
  });
  return answers;
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
