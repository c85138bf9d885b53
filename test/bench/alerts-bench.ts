/**
 * Alert notification latency: from the evaluation in which an alert fires (its `for` over)
 * to the notification request arriving at a local Slack-format receiver, and the same for a
 * PagerDuty-format one. Printed by `npm run bench`; the goal is under 1 s.
 */
import { buildConfig } from '../../lib/config/load.js';
import { Alerting } from '../../lib/alerts/service.js';
import { MemoryStore } from '../../lib/store/memory.js';
import { startHttpServer } from '../helpers/http-server.js';

async function main(): Promise<void> {
  const arrivals: Array<{ path: string; at: number }> = [];
  const rx = await startHttpServer((req, _body, res) => {
    arrivals.push({ path: req.url ?? '', at: performance.now() });
    res.writeHead(req.url === '/slack' ? 200 : 202);
    res.end(req.url === '/slack' ? 'ok' : '{"status":"success"}');
  });
  const config = buildConfig(
    {
      alerts: { for_s: '0', rate_limit_per_min: '10000' },
      'alerts.slack': { url: `${rx.url}slack` },
      'alerts.pagerduty': { routing_key: 'BENCH', url: `${rx.url}pd` },
    },
    { env: {} },
  );
  const rounds = 30;
  const slack: number[] = [];
  const pd: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const store = new MemoryStore();
    let down = false;
    const a = new Alerting({
      store: () => store,
      config: () => config,
      metrics: async () => [],
      health: async () => ({ probes: { clamav: !down }, storeMs: 1 }),
      breakers: async () => [],
      node: 'bench',
      log: () => undefined,
    });
    await a.tick();
    down = true;
    arrivals.length = 0;
    const t0 = performance.now();
    await a.tick(); // fires here (for_s = 0): the notification leaves from this evaluation
    while (arrivals.length < 2) await new Promise((r) => setTimeout(r, 1));
    slack.push(arrivals.find((x) => x.path === '/slack')!.at - t0);
    pd.push(arrivals.find((x) => x.path === '/pd')!.at - t0);
    a.stop();
    await store.close();
  }
  const q = (xs: number[], p: number): string => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(p * xs.length))].toFixed(1);
  console.log(`alert notification latency over ${rounds} firings (evaluation that fires ─► request received), ms:`);
  console.log(`  slack      p50 ${q(slack, 0.5)}  p99 ${q(slack, 0.99)}  max ${Math.max(...slack).toFixed(1)}`);
  console.log(`  pagerduty  p50 ${q(pd, 0.5)}  p99 ${q(pd, 0.99)}  max ${Math.max(...pd).toFixed(1)}`);
  await rx.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
