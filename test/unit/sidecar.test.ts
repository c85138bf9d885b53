import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startSidecar, type HealthProbe } from '../../lib/sidecar/server.js';
import { PhishXError } from '../../lib/errors.js';
import { guarded } from '../../lib/resilience/breaker.js';

function probe(over: Partial<HealthProbe> = {}): HealthProbe {
  return { configValid: () => true, smtpListening: () => true, storePing: async () => 0.5, storeKind: () => 'memory', ...over };
}

describe('sidecar', () => {
  it('answers /alive 200, /ready 200 and /health HEALTHY when everything is up', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, probe());
    try {
      const base = `http://127.0.0.1:${s.address.port}`;
      assert.equal((await fetch(`${base}/alive`)).status, 200);
      const ready = await fetch(`${base}/ready`);
      assert.equal(ready.status, 200);
      assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { config: true, smtp: true, store: true });
      const health = (await (await fetch(`${base}/health`)).json()) as { status: string };
      assert.equal(health.status, 'HEALTHY');
    } finally {
      await s.close();
    }
  });

  it('answers /ready 503 with the failing check when the store is down or SMTP not listening', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, probe({ storePing: async () => { throw new Error('redis ping failed: ECONNREFUSED'); }, smtpListening: () => false }));
    try {
      const r = await fetch(`http://127.0.0.1:${s.address.port}/ready`);
      assert.equal(r.status, 503);
      const body = (await r.json()) as { checks: Record<string, boolean>; store_error: string };
      assert.equal(body.checks.store, false);
      assert.equal(body.checks.smtp, false);
      assert.match(body.store_error, /ECONNREFUSED/);
      assert.equal((await fetch(`http://127.0.0.1:${s.address.port}/health`)).status, 503);
    } finally {
      await s.close();
    }
  });

  it('answers unknown routes 404 and non-GET 405', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, probe());
    try {
      assert.equal((await fetch(`http://127.0.0.1:${s.address.port}/nope`)).status, 404);
      assert.equal((await fetch(`http://127.0.0.1:${s.address.port}/alive`, { method: 'POST' })).status, 405);
    } finally {
      await s.close();
    }
  });

  it('fails with a clear PHISHX_SIDECAR_LISTEN error when the port is taken', async () => {
    const a = await startSidecar({ host: '127.0.0.1', port: 0 }, probe());
    try {
      await assert.rejects(startSidecar({ host: '127.0.0.1', port: a.address.port }, probe()), (err: unknown) => {
        assert.ok(err instanceof PhishXError);
        assert.equal(err.code, 'PHISHX_SIDECAR_LISTEN');
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${a.address.port}: address already in use`));
        return true;
      });
    } finally {
      await a.close();
    }
  });

  it('reports breakers in /health and turns DEGRADED (200) while one is open', async () => {
    const s = await startSidecar({ host: '127.0.0.1', port: 0 }, probe());
    try {
      const settings = { volume_threshold: 2, error_threshold_percentage: 50, reset_timeout_ms: 60_000, rolling_window_ms: 10_000 };
      for (let i = 0; i < 3; i++) await guarded('sidecar-test', settings, () => Promise.reject(new Error('down'))).catch(() => undefined);
      const r = await fetch(`http://127.0.0.1:${s.address.port}/health`);
      assert.equal(r.status, 200);
      const body = (await r.json()) as { status: string; breakers: Array<{ service: string; state: string }> };
      assert.equal(body.status, 'DEGRADED');
      assert.equal(body.breakers.find((b) => b.service === 'sidecar-test')?.state, 'open');
    } finally {
      await s.close();
    }
  });
});

