import cluster from 'node:cluster';
import type { PhishXConfig } from '../config/types.js';

/** What Haraka's master process knows of itself at init_master. */
export interface HarakaServer {
  ready?: number;
  cluster?: unknown;
}

export interface SidecarPlacement {
  /** Single process: its own thread, so it answers while scans keep the main thread busy. */
  inThread: boolean;
  /** Is SMTP accepting connections (for /ready)? Clustered: some worker listens. */
  smtpListening(): boolean;
  /** Stop tracking workers (shutdown). */
  stop(): void;
}

/**
 * Where the sidecar runs and how it knows SMTP is up. With `nodes = N` Haraka's workers
 * listen for SMTP and the master, which does not scan, hosts the sidecar and learns from
 * cluster events which workers listen; in a single process the sidecar gets a thread of its
 * own (`[sidecar] thread`) and SMTP is up once Haraka says it is ready.
 */
export function sidecarPlacement(server: HarakaServer, config: Pick<PhishXConfig, 'sidecar'>): SidecarPlacement {
  const clustered = Boolean(server.cluster) && cluster.isPrimary;
  if (!clustered) return { inThread: config.sidecar.thread, smtpListening: () => server.ready === 1, stop: () => undefined };
  const listening = new Set<number>();
  const up = (w: { id: number }): void => void listening.add(w.id);
  const gone = (w: { id: number }): void => void listening.delete(w.id);
  cluster.on('listening', up);
  cluster.on('exit', gone);
  return {
    inThread: false,
    smtpListening: () => listening.size > 0,
    stop() {
      cluster.off('listening', up);
      cluster.off('exit', gone);
    },
  };
}
