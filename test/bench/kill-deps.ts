import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { RedisStore } from '../../lib/store/redis.js';
import { startPrivateClamd } from '../helpers/clamd.js';
import { pendingSpoolFiles, REPO, startHaraka } from '../helpers/haraka.js';
import { freePort, waitForPort } from '../helpers/ports.js';
import { drive } from '../helpers/load.js';

/**
 * `npm run bench -- --kill-deps`: Haraka + PhishX with a real NLP service (phishx
 * nlp-serve), a private clamd and a private Redis; under load the NLP service is killed at
 * 25 % of the messages, clamd at 50 %, Redis at 75 %. Prints answers, latency and the
 * accounting: every accepted message must be delivered, held in Redis or waiting in the
 * pending spool.
 */
export async function killDeps(messages: Buffer[], total: number, concurrency: number, budgetMs = 5000): Promise<void> {
  const clamd = await startPrivateClamd();
  if ('skip' in clamd) throw new Error(clamd.skip);
  const nlpPort = await freePort();
  const redisPort = await freePort();
  const nlp = spawn(process.execPath, [path.join(REPO, 'lib', 'cli', 'phishx.cjs'), 'nlp-serve', '--listen', `127.0.0.1:${nlpPort}`], { stdio: 'ignore' });
  const redis: ChildProcess = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await Promise.all([waitForPort(nlpPort, 10_000), waitForPort(redisPort, 10_000)]);
  const h = await startHaraka({
    nlp: true,
    env: {
      PHISHX_NLP_URL: `http://127.0.0.1:${nlpPort}/`,
      PHISHX_CLAMAV_HOSTS: clamd.host,
      PHISHX_REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
      PHISHX_SCAN_BUDGET_MS: String(budgetMs),
    },
    files: { 'log.ini': '[main]\nlevel=notice\n' },
  });
  const env = { from: 'bench@sender.example', to: ['user@example.org'] };
  const killed: string[] = [];
  let next = 0;
  const kills: Array<[number, string, () => Promise<void>]> = [
    [0.25, 'NLP service', async () => void nlp.kill('SIGKILL')],
    [0.5, 'clamd', () => clamd.stop()],
    [0.75, 'Redis', async () => void redis.kill('SIGKILL')],
  ];
  const killer = (async () => {
    for (const [at, name, kill] of kills) {
      while (next < total * at) await new Promise((r) => setTimeout(r, 5));
      await kill();
      killed.push(`${name} at message ${next}`);
    }
  })();
  const t0 = performance.now();
  const answers = await drive(h.port, messages, total, concurrency, env, { onSent: (i) => (next = i + 1) });
  await killer;
  const seconds = (performance.now() - t0) / 1000;
  const codes: Record<string, number> = {};
  for (const a of answers) codes[a.code] = (codes[a.code] ?? 0) + 1;
  const held = answers.filter((a) => a.code === 250 && /held for review/.test(a.response)).length;
  const deliveredReplies = answers.filter((a) => a.code === 250 && /delivered to local folder/.test(a.response)).length;
  const files = (await readdir(h.mailDir).catch(() => [] as string[])).filter((f) => f.endsWith('.eml')).length;
  const pending = (await pendingSpoolFiles(h.spoolDir)).length;
  const lat = answers.map((a) => a.ms).sort((a, b) => a - b);
  const alive = h.proc.exitCode === null && h.proc.signalCode === null;
  process.stdout.write(
    [
      `kill-deps: ${total} messages, ${concurrency} sessions, scan budget ${budgetMs} ms; killed ${killed.join(', ')}`,
      `answers ${JSON.stringify(codes)} in ${seconds.toFixed(1)} s; sessions without an answer: ${codes['0'] ?? 0}`,
      `latency p50 ${lat[Math.floor(lat.length / 2)].toFixed(1)} ms, p99 ${lat[Math.floor(lat.length * 0.99)].toFixed(1)} ms, max ${lat[lat.length - 1].toFixed(1)} ms (budget + 1 s = ${budgetMs + 1000} ms)`,
      `accepted ${held + deliveredReplies} = delivered ${files} (replies ${deliveredReplies}) + held ${held} (of which ${pending} waiting in the pending spool for Redis)`,
      `Haraka ${alive ? 'still running' : 'DIED'}; messages lost: ${deliveredReplies - files}`,
      '',
    ].join('\n'),
  );
  const store = new RedisStore({ url: `redis://127.0.0.1:${redisPort}/0`, keyPrefix: 'phishx:' });
  await store.close();
  await h.stop();
  redis.kill('SIGKILL');
  nlp.kill('SIGKILL');
}
