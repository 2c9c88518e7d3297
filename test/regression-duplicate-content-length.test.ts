// Two Content-Length headers were accepted: uWebSockets.js took the first and parsed the rest
// of the body as a second request (request smuggling behind a proxy that takes the last). Any
// framing that two parsers could read differently is now a 400 and a closed connection, and
// nothing after it on that connection is taken for a request.
import t from 'tap';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { FEATURE_HEADER, VALID_ROW, rawExchange, sleep } from './helpers/hostile.js';
import { BUNDLED_MODEL, startTestServer, type TestServer } from './helpers/server.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';
const ROWS = `${FEATURE_HEADER}\n${VALID_ROW}\n`;
const SMUGGLED = 'GET /api/model HTTP/1.1\r\nHost: x\r\n\r\n';
const statusOf = (text: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
const responses = (text: string): number => text.match(/HTTP\/1\.1 \d{3}/g)?.length ?? 0;

let srv: TestServer;
t.before(async () => {
  if (skip === false) srv = await startTestServer();
});
t.teardown(() => srv?.close());

const head = (headers: string): string => `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n${headers}\r\n`;

t.test('two Content-Length headers: 400 DL_ERR_BAD_FRAMING, then the connection is closed', { skip }, async (t) => {
  for (const [name, lengths] of [
    ['different', [ROWS.length, ROWS.length + 40]],
    ['equal', [ROWS.length, ROWS.length]],
  ] as const) {
    const r = await rawExchange(srv.port, head(`Content-Length: ${lengths[0]}\r\nContent-Length: ${lengths[1]}\r\n`) + ROWS, {
      waitMs: 3000,
    });
    t.equal(statusOf(r.text), 400, `${name}: 400 (${JSON.stringify(r.text.slice(0, 30))})`);
    t.match(r.text, /\r\nconnection: close\r\n/i, `${name}: says it closes`);
    t.match(r.text, /"code":"DL_ERR_BAD_FRAMING"/, `${name}: a JSON error with its code`);
    t.notMatch(r.text, /n_rows/, `${name}: nothing was scored`);
    t.ok(r.closed && r.ms < 2000, `${name}: the server closed the connection (${Math.round(r.ms)} ms)`);
  }
});

t.test('the bytes past the first Content-Length are never routed as a request', { skip }, async (t) => {
  // In the same write (uWS sees the smuggled request while the first is unanswered and closes the
  // connection itself), and in a later one (the 400 has gone out and closed the connection).
  const sameWrite = await rawExchange(
    srv.port,
    head(`Content-Length: ${ROWS.length}\r\nContent-Length: ${ROWS.length + SMUGGLED.length}\r\n`) + ROWS + SMUGGLED,
    { waitMs: 3000 },
  );
  t.notMatch(sameWrite.text, /HTTP\/1\.1 200/, 'same write: the smuggled request got no answer');
  t.notMatch(sameWrite.text, /"model_version"|"features"/, 'same write: nothing of the smuggled route came back');
  t.ok(responses(sameWrite.text) <= 1 && sameWrite.closed, 'same write: at most the 400, and the connection is closed');

  const s = net.connect(srv.port, '127.0.0.1');
  let text = '';
  let closed = false;
  s.on('data', (c: Buffer) => (text += c.toString('latin1')));
  s.on('error', () => undefined);
  s.on('close', () => (closed = true));
  s.write(head(`Content-Length: ${ROWS.length}\r\nContent-Length: ${ROWS.length + SMUGGLED.length}\r\n`) + ROWS);
  await sleep(300);
  if (!s.destroyed) s.write(SMUGGLED);
  await sleep(700);
  s.destroy();
  t.equal(statusOf(text), 400, 'later write: the 400 came first');
  t.equal(responses(text), 1, 'later write: and nothing else');
  t.ok(closed, 'later write: the connection is closed');
});

t.test('Transfer-Encoding other than one `chunked`: 400 and close; with Content-Length uWS drops it', { skip }, async (t) => {
  const gzip = await rawExchange(srv.port, head('Transfer-Encoding: gzip\r\n'), { waitMs: 3000 });
  t.equal(statusOf(gzip.text), 400, 'Transfer-Encoding: gzip is a 400 (uWS would wait for a body it cannot frame)');
  t.match(gzip.text, /"code":"DL_ERR_BAD_FRAMING"/);
  t.ok(gzip.closed, 'and the connection is closed');
  // uWS reads no body for it: bytes in the same write are taken for a request, and dropped.
  const gzipBody = await rawExchange(srv.port, head('Transfer-Encoding: gzip\r\n') + ROWS, { waitMs: 3000 });
  t.ok(gzipBody.closed && [0, 400].includes(statusOf(gzipBody.text)), 'with bytes after it: closed, with the 400 or no answer');
  t.notMatch(gzipBody.text, /n_rows/, 'nothing was scored');
  const twice = await rawExchange(
    srv.port,
    `${head('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n')}${ROWS.length.toString(16)}\r\n${ROWS}\r\n0\r\n\r\n`,
    { waitMs: 3000 },
  );
  t.equal(statusOf(twice.text), 400, 'two Transfer-Encoding headers: 400');
  t.ok(twice.closed);
  const both = await rawExchange(
    srv.port,
    `${head(`Content-Length: 5\r\nTransfer-Encoding: chunked\r\n`)}${ROWS.length.toString(16)}\r\n${ROWS}\r\n0\r\n\r\n`,
    { waitMs: 3000 },
  );
  t.ok(both.closed, 'Content-Length with Transfer-Encoding: the connection is closed');
  t.ok(statusOf(both.text) === 0 || statusOf(both.text) === 400, 'with no answer (uWS refuses it first) or a 400');
  t.notMatch(both.text, /n_rows/, 'nothing was scored');
});

t.test('a well-framed request on the same server is unaffected', { skip }, async (t) => {
  const r = await rawExchange(srv.port, `${head(`Content-Length: ${ROWS.length}\r\n`)}${ROWS}`, {
    waitMs: 5000,
    until: (s) => s.includes('n_rows'),
  });
  t.equal(statusOf(r.text), 200);
});
