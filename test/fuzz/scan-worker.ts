/**
 * The fuzzers' scan runner: `scanMessage` in a worker thread, so a message that makes the
 * scan spin (a regex backtracking for minutes, a parser loop) is caught by a timeout in the
 * test thread, kept as a fixture and reported, instead of hanging the fuzz run with it.
 */
import { parentPort } from 'node:worker_threads';
import { buildConfig } from '../../lib/config/load.js';
import { scanMessage } from '../../lib/scan.js';

const config = buildConfig({}, { env: {} });
const env = { mailFrom: 'sender@example.com', rcptTo: ['bob@example.org'], remoteIp: '192.0.2.1' };

parentPort!.on('message', (m: { id: number; raw: Uint8Array }) => {
  const t0 = performance.now();
  scanMessage(Buffer.from(m.raw), env, config).then(
    (r) =>
      parentPort!.postMessage({
        id: m.id,
        ok: true,
        ms: performance.now() - t0,
        action: r.verdict.action,
        score: r.verdict.score,
        reasons: r.verdict.reasons.map((x) => x.code),
        budgetMs: config.main.scan_budget_ms,
      }),
    (err: unknown) => parentPort!.postMessage({ id: m.id, ok: false, error: String(err) }),
  );
});
