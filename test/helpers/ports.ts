import { mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A TCP port free on 127.0.0.1 right now, for a server a test starts itself.
 *
 * Taken below the kernel's ephemeral range (`ip_local_port_range`), at random: a port the OS
 * picks with `listen(0)` comes from that range, and between the pick and the server's bind
 * any outgoing connection of the many the tests open may take it as its source port (a
 * clean-clone run once lost Haraka's bind to that). Below the range only another listener
 * can take it. Where the range leaves no room below it, the OS picks as before.
 *
 * Test files run in parallel processes, and a port is bound a while after it is picked (a
 * Haraka takes seconds to start): each port handed out is reserved for the life of this
 * process by a file in a directory every test process shares (see `reservePort`), so
 * another test process never picks it meanwhile.
 */
export async function freePort(): Promise<number> {
  const [lo] = ephemeralRange();
  const top = Math.min(lo, 65536) - 1;
  if (top - FIRST_PORT >= 1000) {
    for (let i = 0; i < 50; i++) {
      const port = FIRST_PORT + Math.floor(Math.random() * (top - FIRST_PORT + 1));
      if (given.has(port) || !reservePort(port)) continue;
      given.add(port);
      if (await bindable(port)) return port;
    }
  }
  return osPort();
}

/** Where test processes reserve the ports they hand out: one file per port, holding the owner's pid. */
export const RESERVED_PORTS_DIR = path.join(os.tmpdir(), 'phishx-test-ports');
/** A reservation file that cannot be read as a pid is left alone this long (its owner may be writing it). */
const UNREADABLE_RESERVATION_MS = 60_000;
/** Reservation files of this process, removed when it exits. */
const reserved: string[] = [];

/**
 * Reserve `port` against every other test process: create `<dir>/<port>` exclusively, with
 * this process's pid in it. A reservation whose process has ended (killed before its exit
 * handler ran) is taken over. False when another live process holds the port. Where the
 * directory cannot be written, every port counts as reserved (the bind check still runs).
 */
export function reservePort(port: number, dir = RESERVED_PORTS_DIR): boolean {
  const file = path.join(dir, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      if (!reserved.length) process.once('exit', releaseReservedPorts);
      reserved.push(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return true;
      if (!reservationEnded(file)) return false;
      try {
        unlinkSync(file);
      } catch {
        /* another process took it over first: its wx create decides */
      }
    }
  }
  return false;
}

/** Whether the process that reserved `file` has ended (a pid that no longer runs). */
function reservationEnded(file: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return true; // gone meanwhile
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) {
    try {
      return Date.now() - statSync(file).mtimeMs > UNREADABLE_RESERVATION_MS;
    } catch {
      return true;
    }
  }
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function releaseReservedPorts(): void {
  for (const file of reserved.splice(0)) {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
    } catch {
      /* already gone */
    }
  }
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
