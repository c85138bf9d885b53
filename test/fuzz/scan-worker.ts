/**
 * The fuzzers' scan runner: `scanMessage` in a worker thread, so a message that makes the
 * scan spin (a regex backtracking for minutes, a parser loop) is caught by a timeout in the
 * test thread, kept as a fixture and reported, instead of hanging the fuzz run with it. Each
 * message is then previewed as the SOC API would show it held (`previewOf`): the sidecar
 * reads the same hostile bytes.
 */
import { parentPort } from 'node:worker_threads';
import { buildConfig } from '../../lib/config/load.js';
import { previewOf } from '../../lib/review/preview.js';
import { scanMessage } from '../../lib/scan.js';

const config = buildConfig({}, { env: {} });
const env = { mailFrom: 'sender@example.com', rcptTo: ['bob@example.org'], remoteIp: '192.0.2.1' };

/** The preview of a held message: how long it took and what it shows, or what it threw. */
async function preview(raw: Buffer): Promise<{ ms: number; links: number; chars: number } | { error: string }> {
  const t0 = performance.now();
  try {
    const p = await previewOf(raw);
    return { ms: performance.now() - t0, links: p.links.length, chars: p.text.length };
  } catch (err) {
    return { error: String(err) };
  }
}

parentPort!.on('message', (m: { id: number; raw: Uint8Array }) => {
  const t0 = performance.now();
  const raw = Buffer.from(m.raw);
  scanMessage(raw, env, config).then(
    async (r) => {
      const ms = performance.now() - t0;
      parentPort!.postMessage({
        id: m.id,
        ok: true,
        ms,
        action: r.verdict.action,
        score: r.verdict.score,
        reasons: r.verdict.reasons.map((x) => x.code),
        budgetMs: config.main.scan_budget_ms,
        preview: await preview(raw),
      });
    },
    (err: unknown) => parentPort!.postMessage({ id: m.id, ok: false, error: String(err) }),
  );
});
