// An answer given before the request body was read could be lost. During start-up (after
// /health is 200, before /ready) no route was registered yet, and uWS closed the connection of
// a POST /predict unanswered (fetch: EPIPE); and an early refusal followed by a pipelined
// request got no answer at all. Every early answer now goes out through one path: when the rest
// of the body is already there it is read and the connection stays open (a pipelined request
// is answered too); otherwise the answer goes at once with `Connection: close` and the body is
// drained for a bounded time before the connection is closed.
import t from 'tap';
import { existsSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startService } from '../src/server/index.js';
import { FEATURE_HEADER, VALID_ROW, rawExchange, send, sleep } from './helpers/hostile.js';
import { BUNDLED_MODEL, startTestServer, type TestServer } from './helpers/server.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';
const ROWS = `${FEATURE_HEADER}\n${VALID_ROW}\n`;
const HEALTH = 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n';
const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
const post = (p: string, headers: string, body: string): string =>
  `POST ${p} HTTP/1.1\r\nHost: x\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/** A port nothing listens on now (the service must be reachable before startService resolves). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A body that keeps coming: 64 KiB chunks, 16 MiB in all unless the server stops it. */
async function* endless(): AsyncIterable<Buffer> {
  yield Buffer.from(`${FEATURE_HEADER}\n`);
  const piece = Buffer.from(`${VALID_ROW}\n`.repeat(2048));
  for (let i = 0; i < 256; i++) yield piece;
}

t.test('during start-up, POST /predict gets its 503 (not a reset), and a pipelined request its answer', { skip }, async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dl-early-'));
  const port = await freePort();
  const config = parseConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    REPORTS_DIR: path.join(dataDir, 'reports'),
    MODEL_DIR: BUNDLED_MODEL,
    LOG_LEVEL: 'silent',
  });
  const starting = startService(config, createLogger('silent', 2));
  t.teardown(async () => (await starting).shutdown());
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    const up = await fetch(`${url}/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (up === 200) break;
    await sleep(2);
  }
  const [fetched, pipelined, streamed] = await Promise.all([
    fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: ROWS }).then(
      async (r) => ({ status: r.status, body: await r.text() }),
      (err: Error) => ({ status: 0, body: String((err.cause as Error | undefined)?.message ?? err) }),
    ),
    rawExchange(port, post('/predict', 'Content-Type: text/csv\r\n', ROWS) + HEALTH, {
      waitMs: 5000,
      until: (s) => s.endsWith('{"status":"ok"}'),
    }),
    send({ url }, { headers: { 'content-type': 'text/csv' }, body: endless, timeoutMs: 10_000 }),
  ]);
  const ready = (await fetch(`${url}/ready`)).status;
  t.comment(
    `/ready was ${ready} right after; the first answers: ${fetched.status}, ${statuses(pipelined.text).join('+')}, ${streamed.status}`,
  );
  // On a fast machine the model may finish loading first: then these are scored (200), which is
  // fine; what must never happen is no answer.
  t.ok([503, 200].includes(fetched.status), `fetch gets an answer (${fetched.status}: ${fetched.body.slice(0, 80)})`);
  if (fetched.status === 503) t.match(JSON.parse(fetched.body), { code: 'DL_ERR_NOT_READY' });
  const [first, second] = statuses(pipelined.text);
  t.ok(first === 503 || first === 200, `pipelined: the POST is answered (${first})`);
  if (first === 503) t.equal(second, 200, 'pipelined: and the GET /health after it');
  t.ok([503, 200].includes(streamed.status), `a body still streaming gets the answer (${streamed.status})`);
  t.ok(streamed.complete, 'whole, not cut by a reset');
  if (streamed.status === 503) t.equal(streamed.headers.connection, 'close', 'with Connection: close, since its body was not read');
});

let srv: TestServer;
t.before(async () => {
  if (skip === false) srv = await startTestServer({ API_KEY: 'k'.repeat(32) });
});
t.teardown(() => srv?.close());

t.test('early refusals of a whole body: answered, and a request pipelined behind them too', { skip }, async (t) => {
  const auth = `Authorization: Bearer ${'k'.repeat(32)}\r\n`;
  const cases: [string, string, number][] = [
    ['404 on an unknown POST route', post('/nope', auth, ROWS), 404],
    ['404 on a GET-only route', post('/api/model', auth, ROWS), 404],
    ['405 on GET /predict with a body', `GET /predict HTTP/1.1\r\nHost: x\r\nContent-Length: ${ROWS.length}\r\n\r\n${ROWS}`, 405],
    ['401 without the key', post('/predict', 'Content-Type: text/csv\r\n', ROWS), 401],
    ['415 for an unknown content type', post('/predict', `${auth}Content-Type: application/xml\r\n`, ROWS), 415],
    ['406 for an Accept it cannot give', post('/predict', `${auth}Content-Type: text/csv\r\nAccept: image/png\r\n`, ROWS), 406],
  ];
  for (const [name, data, status] of cases) {
    const r = await rawExchange(srv.port, data + HEALTH, { waitMs: 5000, until: (s) => s.endsWith('{"status":"ok"}') });
    t.same(statuses(r.text), [status, 200], `${name}: ${status}, then the pipelined GET /health`);
    t.notOk(r.closed, `${name}: the connection stays open`);
  }
});

t.test(
  'an early refusal while the body is still arriving: the answer, Connection: close, then the connection is closed',
  { skip },
  async (t) => {
    const r = await send(srv, {
      headers: { 'content-type': 'application/xml', authorization: `Bearer ${'k'.repeat(32)}` },
      body: endless,
      timeoutMs: 10_000,
    });
    t.equal(r.status, 415, 'the refusal arrives while the client is still sending');
    t.ok(r.complete, 'whole, not cut by a reset');
    t.equal(r.headers.connection, 'close');
    t.match(JSON.parse(r.body.toString()), { code: 'DL_ERR_UNSUPPORTED_MEDIA_TYPE' });
    const unauthorized = await send(srv, { headers: { 'content-type': 'text/csv' }, body: endless, timeoutMs: 10_000 });
    t.equal(unauthorized.status, 401);
    t.ok(unauthorized.complete, '401: whole');
  },
);
