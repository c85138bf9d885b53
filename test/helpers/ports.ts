import { readFileSync } from 'node:fs';
import net from 'node:net';

/**
 * A TCP port free on 127.0.0.1 right now, for a server a test starts itself.
 *
 * Taken below the kernel's ephemeral range (`ip_local_port_range`), at random: a port the OS
 * picks with `listen(0)` comes from that range, and between the pick and the server's bind
 * any outgoing connection of the many the tests open may take it as its source port (a
 * clean-clone run once lost Haraka's bind to that). Below the range only another listener
 * can take it. Where the range leaves no room below it, the OS picks as before.
 */
export async function freePort(): Promise<number> {
  const [lo] = ephemeralRange();
  const top = Math.min(lo, 65536) - 1;
  if (top - FIRST_PORT >= 1000) {
    for (let i = 0; i < 50; i++) {
      const port = FIRST_PORT + Math.floor(Math.random() * (top - FIRST_PORT + 1));
      if (given.has(port)) continue;
      if (await bindable(port)) {
        given.add(port);
        return port;
      }
    }
  }
  return osPort();
}

/** Lowest port freePort hands out (above the usual fixed service ports: Redis 6379, clamd 3310, Prometheus 9090, Haraka 2525, the sidecar 9464). */
const FIRST_PORT = 20000;
/** Ports this process has handed out (a test may not have bound one yet when it asks again). */
const given = new Set<number>();

/** The kernel's ephemeral port range (Linux); Linux's default elsewhere. */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi) && lo > 0 && hi >= lo) return [lo, hi];
  } catch {
    /* not Linux */
  }
  return [32768, 60999];
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function osPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Whether something accepts a TCP connection on host:port now. */
export function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const c = net.connect(port, host);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Resolve once something accepts TCP connections on host:port, or reject after timeoutMs. */
export async function waitForPort(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await accepts(port, host)) return;
    if (Date.now() > until) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
