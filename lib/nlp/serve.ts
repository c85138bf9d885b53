import http from 'node:http';
import type { TextClassifier } from './model.js';

const MAX_BODY = 1024 * 1024;

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

/**
 * Reference text-classification server in the Hugging Face inference format, serving a
 * TextClassifier (the embedded model for `phishx nlp-serve`):
 *   POST /  {"inputs": "text"}          ─► [[{"label":"phishing","score":p},{"label":"legitimate","score":1-p}]]
 *   POST /  {"inputs": ["a", "b"]}      ─► one such list per input
 *   GET  /health                        ─► {"status":"ok","model":…}
 * Bodies above 1 MiB get 413, malformed JSON 400, other routes 404.
 */
export function createNlpServer(classifier: TextClassifier): http.Server {
  return http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && url === '/health') return send(res, 200, { status: 'ok', model: classifier.name });
    if (req.method !== 'POST') return send(res, url === '/' ? 405 : 404, { error: url === '/' ? 'use POST' : 'not found' });
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (tooBig) return send(res, 413, { error: `body above ${MAX_BODY} bytes` });
      let inputs: unknown;
      try {
        inputs = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { inputs?: unknown }).inputs;
      } catch {
        return send(res, 400, { error: 'body must be JSON {"inputs": string | string[]}' });
      }
      const texts = typeof inputs === 'string' ? [inputs] : Array.isArray(inputs) && inputs.every((x) => typeof x === 'string') ? inputs : null;
      if (!texts) return send(res, 400, { error: '"inputs" must be a string or an array of strings' });
      Promise.all(texts.map(async (t) => (await classifier.classify(t)).p))
        .then((ps) =>
          send(
            res,
            200,
            ps.map((p) =>
              [
                { label: 'phishing', score: p },
                { label: 'legitimate', score: 1 - p },
              ].sort((a, b) => b.score - a.score),
            ),
          ),
        )
        .catch((err: unknown) => send(res, 500, { error: String(err) }));
    });
  });
}
