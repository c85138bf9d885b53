/**
 * Polls a sidecar's /health from its own process (so the load generator's event loop does
 * not colour the figures): started with fork(), told the port in argv, sends its latencies
 * (ms) to the parent when it receives 'stop'.
 */
const port = Number(process.argv[2]);
const everyMs = Number(process.argv[3] ?? 20);
const lat: number[] = [];
let non200 = 0;
let running = true;

process.on('message', (m) => {
  if (m === 'stop') running = false;
});
// The bench went away without saying stop (killed, crashed): nobody will read the figures.
process.on('disconnect', () => process.exit(0));

void (async () => {
  while (running) {
    const t = performance.now();
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      await r.arrayBuffer();
      if (r.status !== 200) non200++;
    } catch {
      non200++;
    }
    lat.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  process.send?.({ lat, non200 }, () => process.exit(0));
})();
