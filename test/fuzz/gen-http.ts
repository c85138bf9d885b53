/**
 * Raw HTTP requests for the sidecar fuzzer: valid ones, broken ones and mutations of both
 * (request lines, methods, targets, versions, headers, framing, bodies), each written in
 * one go or dribbled in small pieces (slow writers), sometimes several on one connection.
 */
import fc from 'fast-check';

const ROUTES = ['/alive', '/ready', '/health', '/health/full', '/metrics', '/metrics/summary', '/api/v1/quarantine', '/'];

const method = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT') },
  { weight: 1, arbitrary: fc.constantFrom('get', 'G ET', '', 'GET GET', 'X'.repeat(5000), 'PRI', '\0GET') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((s) => s.replace(/[\r\n ]/g, '')) },
);

const target = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ROUTES) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '//x:99999/',
      '//x:99999/alive',
      '//[::1',
      '///',
      '/%',
      '/%zz',
      '/alive?%ff&a=%',
      '*',
      'http://x:99999/alive',
      'x',
      '/../../etc/passwd',
      '/\\x',
      '/alive#frag',
      '/\u0000',
      '/\u00ff\u00fe',
      '/metrics?' + 'a=1&'.repeat(5000),
    ),
  },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...ROUTES), fc.string({ maxLength: 60 })).map(([r, s]) => `${r}${s.replace(/[\r\n ]/g, '')}`) },
  { weight: 1, arbitrary: fc.integer({ min: 8000, max: 70_000 }).map((n) => `/${'a'.repeat(n)}`) },
);

const version = fc.oneof(
  { weight: 6, arbitrary: fc.constant('HTTP/1.1') },
  { weight: 1, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.1 extra', 'HTTP/9.9', 'FTP/1.1', '', 'HTTP/1.1\0') },
);

const headerLine = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'Host: x',
      'Connection: close',
      'Connection: keep-alive',
      'Accept: */*',
      'Authorization: Bearer x',
      'Authorization: Bearer ' + 'a'.repeat(10_000),
      'Authorization: Basic ???',
      'Content-Type: application/json',
      'Content-Type: text/plain',
      'Expect: 100-continue',
      'Upgrade: websocket',
      'Transfer-Encoding: chunked',
      'Transfer-Encoding: gzip, chunked',
      'Content-Length: 5',
      'Content-Length: -1',
      'Content-Length: 99999999999999999999',
      'Content-Length: 1, 2',
      'X-Forwarded-For: 10.0.0.1',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(' folded: continuation', 'NoColon', ': empty name', 'Bad Name: x', 'X: \u0000', 'X-Long: ' + 'v'.repeat(20_000)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 80 }))
      .map(([n, v]) => `${n.replace(/[\r\n:]/g, '') || 'x'}: ${v.replace(/[\r\n]/g, '')}`),
  },
);

const body = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    '{}',
    '{"a":',
    '[]',
    'null',
    '{"verdict":"phish"}',
    '0\r\n\r\n',
    '5\r\nhello\r\n0\r\n\r\n',
    'zz\r\n',
    '{"a":"' + 'b'.repeat(2_000_000) + '"}',
  ),
  fc.string({ maxLength: 500 }),
  fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b).toString('latin1')),
);

const validHeader = fc.constantFrom(
  'Host: x',
  'Connection: close',
  'Connection: keep-alive',
  'Accept: */*',
  'Authorization: Bearer x',
  'Content-Type: application/json',
  'Content-Type: text/plain',
  'X-Forwarded-For: 10.0.0.1',
  'Accept-Encoding: gzip',
  'Connection: Upgrade\r\nUpgrade: websocket',
  'Expect: 100-continue',
);

/**
 * A request that is valid HTTP/1.1 to the byte (standard method, origin-form or odd but
 * legal target, CRLF, framed body): the server owes it an HTTP answer, never a bare close.
 */
export const validHttpRequest: fc.Arbitrary<Buffer> = fc
  .record({
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
    target: fc.oneof(
      fc.constantFrom(...ROUTES, '//x:99999/', '//x:99999/alive', '///', '/%', '/%zz', '/alive?%ff&a=%', '/../../etc/passwd', '/alive#frag'),
      fc.tuple(fc.constantFrom(...ROUTES), fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@/?%-]{0,40}$/)).map(([r, x]) => r + x),
    ),
    headers: fc.array(validHeader, { maxLength: 6 }),
    body: fc.oneof(fc.constant(''), fc.constantFrom('{}', '{"a":', 'null', 'x'.repeat(3000))),
  })
  .map(({ method: m, target: t, headers, body: b }) =>
    Buffer.from(
      `${m} ${t} HTTP/1.1\r\nHost: x\r\n${headers
        .filter((x) => !x.startsWith('Host'))
        .map((x) => `${x}\r\n`)
        .join('')}${b ? `Content-Length: ${b.length}\r\n` : ''}\r\n${b}`,
      'latin1',
    ),
  );

/** One request's bytes. */
export const rawHttpRequest: fc.Arbitrary<Buffer> = fc
  .record({
    method,
    target,
    version,
    headers: fc.array(headerLine, { maxLength: 12 }),
    body,
    withLength: fc.boolean(),
    lineEnd: fc.constantFrom('\r\n', '\r\n', '\n', '\r'),
  })
  .map(({ method: m, target: t, version: v, headers, body: b, withLength, lineEnd }) => {
    const h = [...headers, ...(withLength && b ? [`Content-Length: ${Buffer.byteLength(b, 'latin1')}`] : [])];
    return Buffer.from(`${m} ${t} ${v}${lineEnd}${h.map((x) => `${x}${lineEnd}`).join('')}${lineEnd}${b}`, 'latin1');
  });

/** Byte-level damage to a request: flips, cuts, inserts of CR / LF / NUL. */
export const mutatedHttpRequest: fc.Arbitrary<Buffer> = fc
  .tuple(
    rawHttpRequest,
    fc.array(fc.tuple(fc.nat(), fc.constantFrom('\r', '\n', '\0', ' ', ':', '\r\n\r\n', '\xff', '')), { maxLength: 6 }),
    fc.option(fc.nat()),
  )
  .map(([req, edits, cut]) => {
    let b = req;
    for (const [at, s] of edits) {
      const i = at % (b.length + 1);
      b = Buffer.concat([b.subarray(0, i), Buffer.from(s, 'latin1'), b.subarray(i + (s ? 0 : 1))]);
    }
    return cut === null ? b : b.subarray(0, cut % (b.length + 1));
  });

export interface Exchange {
  /** Requests sent on one connection, one after the other (pipelined). */
  requests: Buffer[];
  /** The first request is valid HTTP/1.1: an HTTP response is owed, a bare close is a failure. */
  owed: boolean;
  /** Write in pieces of this many bytes with a pause between them (a slow writer), or all at once. */
  chunk: number | null;
}

export const exchange: fc.Arbitrary<Exchange> = fc.oneof(
  fc.record({
    requests: fc.array(fc.oneof(rawHttpRequest, mutatedHttpRequest), { minLength: 1, maxLength: 3 }),
    owed: fc.constant(false),
    chunk: fc.option(fc.integer({ min: 1, max: 64 }), { freq: 5 }),
  }),
  fc.record({
    requests: fc
      .tuple(validHttpRequest, fc.array(fc.oneof(validHttpRequest, rawHttpRequest, mutatedHttpRequest), { maxLength: 2 }))
      .map(([first, rest]) => [first, ...rest]),
    owed: fc.constant(true),
    chunk: fc.option(fc.integer({ min: 1, max: 64 }), { freq: 5 }),
  }),
);
