import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { PhishXError } from '../../lib/errors.js';
import { hashToken } from '../../lib/sidecar/auth.js';
import { startSidecarThread } from '../../lib/sidecar/thread-host.js';
import { FileStore } from '../../lib/store/file.js';
import { MemoryStore } from '../../lib/store/memory.js';
import { eventually } from '../helpers/eventually.js';

const TOKEN = 'thread-test-token-0123456789';
// The thread reads the embedded quarantine from disk itself: a directory of this test's own,
// never the checkout's var/quarantine (which holds what a user's `npm start` held).
const spoolDir = mkdtempSync(path.join(os.tmpdir(), 'phishx-sidecar-thread-'));
after(() => rmSync(spoolDir, { recursive: true, force: true }));
const config = buildConfig({ sidecar: { token_hashes: hashToken(TOKEN), health_cache_ms: '500' }, quarantine: { spool_dir: spoolDir } }, { env: {} });

function host(store = new MemoryStore()) {
  const logs: string[] = [];
  return {
    logs,
    opts: { config: () => config, smtpListening: () => true, store: () => store, log: (level: string, m: string) => void logs.push(`${level}: ${m}`) },
  };
}

/** Fetch `url` from another process at wall-clock time `atMs`; resolves with its status, body and the wall-clock time the answer arrived. */
function fetchFromChild(url: string, atMs: number): Promise<{ status: number; at: number; body: { status?: string } }> {
  const code = `setTimeout(async()=>{const r=await fetch(${JSON.stringify(url)});const b=await r.json();console.log(JSON.stringify({status:r.status,at:Date.now(),body:b}))},Math.max(0,${atMs}-Date.now()))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => void (out += d.toString()));
  return new Promise((resolve, reject) => child.once('exit', (c) => (c === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child exited ${c}`)))));
}

describe('sidecar thread (single-process mode)', () => {
  it('answers probes at once while the main thread is blocked, and reports it busy after 2 s', async () => {
    const h = host();
    const s = await startSidecarThread({ host: '127.0.0.1', port: 0 }, h.opts);
    try {
      const base = `http://127.0.0.1:${s.address.port}`;
      assert.equal((await fetch(`${base}/health`)).status, 200);
      // Two probes from other processes, timed on the wall clock, while this thread spins for
      // 6 s from `start` (as a long scan would): one early, one after the 2 s busy mark. The
      // promise is that they are answered while this thread is blocked, so each answer must
      // arrive before the spin ends (the margin holds on a busy machine).
      const start = Date.now() + 2000; // time for the children to start
      const early = fetchFromChild(`${base}/health`, start + 300);
      const late = fetchFromChild(`${base}/health`, start + 3000);
      await new Promise((r) => setTimeout(r, start - Date.now()));
      const end = start + 6000;
      while (Date.now() < end) {
        /* busy: no event loop */
      }
      const [a, b] = await Promise.all([early, late]);
      assert.ok(a.at < end && b.at < end, `answered ${a.at - end} / ${b.at - end} ms after the main thread was free again`);
      assert.equal(a.status, 200);
      assert.equal(a.body.status, 'HEALTHY');
      assert.equal(b.status, 200);
      assert.equal(b.body.status, 'DEGRADED', JSON.stringify(b.body));
      // Free again: heartbeats and numbers arrive. (The keep-alive socket of the first fetch
      // may have been closed by the server while this thread could not notice: a request on
      // it fails once, as it would for any client; the next one opens a new connection.)
      const t0 = Date.now();
      let last = '';
      while (Date.now() - t0 < 5000) {
        last = await fetch(`${base}/health/full`)
          .then(async (r) => ((await r.json()) as { status: string }).status)
          .catch((err: unknown) => `fetch error: ${String(err)}`);
        if (last === 'HEALTHY') break;
        await new Promise((res) => setTimeout(res, 100));
      }
      assert.equal(last, 'HEALTHY');
    } finally {
      await s.close();
    }
  });

  it("serves /metrics with the main thread's families, its own HTTP counts and the held count, and applies reloaded tokens", async () => {
    const files = new FileStore(spoolDir, { maxEntries: 10, maxBytes: 1e6 });
    const now = Date.now();
    await files.putQuarantine(
      {
        id: 'a1b2c3d4e5f60718',
        createdAt: now,
        expiresAt: now + 3_600_000,
        envelope: { mailFrom: 'a@example.com', rcptTo: ['b@example.org'] },
        verdict: { action: 'quarantine', wouldAction: 'quarantine', score: 60, mode: 'enforce', tenant: 'default', reasons: [] },
        subject: 'held',
        from: 'a@example.com',
        size: 1,
        spooled: false,
      },
      Buffer.from('x'),
    );
    await files.close();
    const h = host();
    const s = await startSidecarThread({ host: '127.0.0.1', port: 0 }, h.opts);
    try {
      const base = `http://127.0.0.1:${s.address.port}`;
      assert.equal((await fetch(`${base}/metrics/summary`)).status, 401);
      const text = await (await fetch(`${base}/metrics`)).text();
      assert.match(text, /^phishx_http_auth_failures_total\{route="\/metrics\/summary",reason="missing"\} 1$/m);
      assert.match(text, /^# TYPE phishx_messages_scanned_total counter$/m);
      // The thread counts the held messages on disk itself (the one held above).
      assert.match(text, /^phishx_quarantine_entries 1$/m);
      const other = 'another-token-after-reload-123';
      s.reconfigure(buildConfig({ sidecar: { token_hashes: hashToken(other) } }, { env: {} }));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await fetch(`${base}/metrics/summary`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 401);
      assert.equal((await fetch(`${base}/metrics/summary`, { headers: { authorization: `Bearer ${other}` } })).status, 200);
    } finally {
      await s.close();
    }
  });

  it('starts the thread again when it ends unexpectedly, on the same address, waiting longer while it keeps dying', async () => {
    const h = host();
    const s = await startSidecarThread({ host: '127.0.0.1', port: 0 }, h.opts);
    try {
      const url = `http://127.0.0.1:${s.address.port}/alive`;
      assert.equal((await fetch(url)).status, 200);
      for (const [round, wait] of [
        [1, '1'],
        [2, '2'],
      ] as const) {
        const before = s.thread;
        await before.terminate(); // as an uncaught error in the thread would
        await eventually(async () => {
          assert.notEqual(s.thread, before);
          assert.equal(
            await fetch(url).then(
              (r) => r.status,
              () => 0,
            ),
            200,
          );
        });
        assert.equal(s.restarts, round);
        // A thread that dies within a minute of its start does not reset the backoff.
        assert.ok(
          h.logs.some((l) => new RegExp(`sidecar thread exited .*restarting it in ${wait} s`).test(l)),
          h.logs.join('\n'),
        );
      }
      assert.ok(
        h.logs.some((l) => /sidecar thread restarted, listening on/.test(l)),
        h.logs.join('\n'),
      );
    } finally {
      await s.close();
    }
  });

  it('rejects with PHISHX_SIDECAR_LISTEN when the port is taken', async () => {
    const a = await startSidecarThread({ host: '127.0.0.1', port: 0 }, host().opts);
    try {
      await assert.rejects(
        startSidecarThread({ host: '127.0.0.1', port: a.address.port }, host().opts),
        (err: unknown) => err instanceof PhishXError && err.code === 'PHISHX_SIDECAR_LISTEN' && /address already in use/.test(err.message),
      );
    } finally {
      await a.close();
    }
  });
});
