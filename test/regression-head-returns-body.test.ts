// HEAD returned a body (404/405 with JSON bytes) and HEAD /health was a 404. HEAD on every GET
// route now answers as GET does (status, headers, the length GET would send) with no body,
// checked on the wire: a second request in the same write is answered right after the head.
import t from 'tap';
import { existsSync } from 'node:fs';
import { rawExchange } from './helpers/hostile.js';
import { BUNDLED_MODEL, startTestServer, type TestServer } from './helpers/server.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';
const FOLLOW = 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n';
const HEALTH = /^HTTP\/1\.1 200 OK\r\n[^]*?\r\n\r\n\{"status":"ok"\}$/;

let srv: TestServer;
t.before(async () => {
  if (skip === false) srv = await startTestServer();
});
t.teardown(() => srv?.close());

/** The first response's head, and everything after it up to the follow-up's status line. */
async function headThenFollow(
  path: string,
): Promise<{ head: string; between: string; follow: string; status: number; headers: Map<string, string> }> {
  const r = await rawExchange(srv.port, `HEAD ${path} HTTP/1.1\r\nHost: x\r\n\r\n${FOLLOW}`, {
    waitMs: 5000,
    until: (s) => s.endsWith('{"status":"ok"}'),
  });
  const end = r.text.indexOf('\r\n\r\n');
  const head = r.text.slice(0, end);
  const rest = r.text.slice(end + 4);
  const next = rest.indexOf('HTTP/1.1 ');
  const headers = new Map(
    head
      .split('\r\n')
      .slice(1)
      .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]),
  );
  return {
    head,
    between: next === -1 ? rest : rest.slice(0, next),
    follow: next === -1 ? '' : rest.slice(next),
    status: Number(head.slice(9, 12)),
    headers,
  };
}

t.test('HEAD on every GET route answers as GET, without a byte of body', { skip }, async (t) => {
  for (const path of [
    '/health',
    '/ready',
    '/',
    '/index.html',
    '/openapi.json',
    '/api/model',
    '/api/drift',
    '/dashboard/data',
    '/metrics',
    '/api/alerts',
    '/report.html',
    '/api/predictions?format=csv',
  ]) {
    const get = await fetch(`${srv.url}${path}`);
    const getBody = Buffer.from(await get.arrayBuffer());
    const h = await headThenFollow(path);
    t.equal(h.status, get.status, `HEAD ${path}: the status GET gets (${get.status})`);
    t.equal(h.headers.get('content-type'), get.headers.get('content-type') ?? undefined, `HEAD ${path}: GET's content-type`);
    t.equal(h.between, '', `HEAD ${path}: no body bytes before the next response`);
    t.match(h.follow, HEALTH, `HEAD ${path}: the request after it is answered whole`);
    const length = h.headers.get('content-length');
    // The dashboard's data, metrics and drift change between the two requests; their size may too.
    if (length !== undefined && ['/health', '/ready', '/', '/index.html', '/openapi.json', '/api/model'].includes(path)) {
      t.equal(Number(length), getBody.length, `HEAD ${path}: the Content-Length GET sends`);
    }
  }
});

t.test('HEAD on an unknown path or a POST-only route: the error status, no body', { skip }, async (t) => {
  for (const [path, status] of [
    ['/nope', 404],
    ['/predict', 405],
    ['/api/feedback', 405],
  ] as const) {
    const h = await headThenFollow(path);
    t.equal(h.status, status, `HEAD ${path}: ${status}`);
    t.equal(h.between, '', `HEAD ${path}: no JSON bytes after the head`);
    t.match(h.follow, HEALTH, `HEAD ${path}: the next request is answered whole`);
    if (status === 405) t.equal(h.headers.get('allow'), 'POST');
  }
});
