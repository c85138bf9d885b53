import http from 'node:http';
import net from 'node:net';

export type Fault = 'ok' | 'refuse' | 'hang' | 'slow' | 'error' | 'garbage' | 'flap';

/**
 * A local stand-in for a remote service whose behaviour can be switched at run time:
 * ok, refuse (nothing listening), hang (reads, never answers), slow (answers after
 * `slowMs`), error (5xx for HTTP), garbage (a reply that is not the protocol), flap
 * (alternates ok / error every `flapMs`).
 */
export interface FaultServer {
  port: number;
  url: string;
  mode: Fault;
  setMode(m: Fault): Promise<void>;
  close(): Promise<void>;
}

const slowMs = 150;
const flapMs = 200;

function effective(mode: Fault): Exclude<Fault, 'flap' | 'refuse'> {
  if (mode === 'flap') return Math.floor(Date.now() / flapMs) % 2 === 0 ? 'ok' : 'error';
  return mode === 'refuse' ? 'ok' : mode;
}

async function listenable(server: net.Server, port: number): Promise<number> {
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return (server.address() as net.AddressInfo).port;
}

function faultServer(make: () => net.Server, scheme: string): Promise<FaultServer> {
  return (async () => {
    const sockets = new Set<net.Socket>();
    let server = make();
    const track = (s: net.Server): void => void s.on('connection', (c: net.Socket) => (sockets.add(c), c.on('close', () => sockets.delete(c))));
    track(server);
    const port = await listenable(server, 0);
    let listening = true;
    const stop = async (): Promise<void> => {
      if (!listening) return;
      listening = false;
      for (const c of sockets) c.destroy();
      await new Promise((r) => server.close(r));
    };
    const fs: FaultServer = {
      port,
      url: `${scheme}127.0.0.1:${port}/`,
      mode: 'ok',
      async setMode(m) {
        fs.mode = m;
        if (m === 'refuse') await stop();
        else if (!listening) {
          server = make();
          track(server);
          await listenable(server, port);
          listening = true;
        }
      },
      close: stop,
    };
    return fs;
  })();
}

/** Hugging Face text-classification stand-in. */
export function nlpFaultServer(): Promise<FaultServer> {
  let self: FaultServer;
  const make = (): net.Server =>
    http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const m = effective(self.mode);
        const answer = (): void => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify([
              [
                { label: 'phishing', score: 0.1 },
                { label: 'legitimate', score: 0.9 },
              ],
            ]),
          );
        };
        if (m === 'ok') return answer();
        if (m === 'slow') return void setTimeout(answer, slowMs);
        if (m === 'error') return void res.writeHead(503).end('{"error":"overloaded"}');
        if (m === 'garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('<html>not json');
        // hang: never answer
      });
    });
  return faultServer(make, 'http://').then((s) => (self = s));
}

/** clamd INSTREAM stand-in. */
export function clamdFaultServer(): Promise<FaultServer> {
  let self: FaultServer;
  const make = (): net.Server =>
    net.createServer((sock) => {
      sock.on('error', () => undefined);
      let buf = Buffer.alloc(0);
      let answered = false;
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        // The health check's PING and VERSION (as clamd answers them, in the command's framing).
        const cmd = buf.toString('latin1');
        if (!answered && /^[zn](PING|VERSION)[\0\n]$/.test(cmd)) {
          answered = true;
          const reply = cmd.includes('PING') ? 'PONG' : 'ClamAV 1.0.0/27000/fault-server';
          if (effective(self.mode) !== 'hang') sock.end(`${reply}${cmd[0] === 'z' ? '\0' : '\n'}`);
          return;
        }
        if (answered || buf.length < 4 || buf.subarray(-4).readUInt32BE(0) !== 0) return; // wait for the zero-length end chunk
        answered = true;
        const m = effective(self.mode);
        if (m === 'ok') sock.end('stream: OK\0');
        else if (m === 'slow') setTimeout(() => sock.end('stream: OK\0'), slowMs);
        else if (m === 'error') sock.end('INSTREAM: internal error. ERROR\0');
        else if (m === 'garbage') sock.end('\x07\x07 what?\0');
        // hang: never answer
      });
    });
  return faultServer(make, '').then((s) => (self = s));
}
