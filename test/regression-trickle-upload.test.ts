// Uploads sending a byte now and then held their slots until uWebSockets.js's own inactivity
// rule dropped the socket (~10-12 s, no answer at all); MAX_CONCURRENT_UPLOADS of them locked
// everyone else out. The rule is now the service's own (REQUEST_MIN_RECEIVE_RATE over
// REQUEST_RECEIVE_WINDOW_MS, beside REQUEST_IDLE_TIMEOUT_MS) and it answers: 408 with a JSON
// body, or an in-band error once results have started. The library's timer is kept from firing
// while the service reads a body, so a client within the service's rule is not dropped by it.
import t from 'tap';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { FEATURE_HEADER, VALID_ROW, inbandError, send, settled, sleep, unchunk } from './helpers/hostile.js';
import { BUNDLED_MODEL, startTestServer, type TestServer } from './helpers/server.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';
const ROWS = `${FEATURE_HEADER}\n${VALID_ROW}\n`;

interface Trickle {
  text: string;
  closed: boolean;
  /** ms from the start to the first response byte (NaN if none). */
  answeredAt: number;
  stop(): void;
}

/** Sends `head`, then `burst`, then `body` a byte every `everyMs`, until the server answers or closes. */
function trickle(port: number, head: string, body: string, everyMs: number, burst = ''): Trickle {
  const t0 = performance.now();
  const r: Trickle = { text: '', closed: false, answeredAt: Number.NaN, stop: () => undefined };
  const s = net.connect(port, '127.0.0.1');
  let i = 0;
  const timer = setInterval(() => {
    if (i < body.length && !s.destroyed) s.write(body[i++]!);
  }, everyMs);
  r.stop = () => {
    clearInterval(timer);
    s.destroy();
  };
  s.on('data', (c: Buffer) => {
    if (Number.isNaN(r.answeredAt)) r.answeredAt = performance.now() - t0;
    r.text += c.toString('latin1');
  });
  s.on('error', () => undefined);
  s.on('close', () => {
    r.closed = true;
    clearInterval(timer);
  });
  s.write(head + burst);
  return r;
}

const statusOf = (text: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
const bodyOf = (text: string): string => {
  const b = text.slice(text.indexOf('\r\n\r\n') + 4);
  return /\r\ntransfer-encoding: chunked\r\n/i.test(text) ? unchunk(b) : b;
};

let srv: TestServer;
t.before(async () => {
  if (skip === false)
    srv = await startTestServer({ MAX_CONCURRENT_UPLOADS: '4', REQUEST_MIN_RECEIVE_RATE: '300', REQUEST_RECEIVE_WINDOW_MS: '1000' });
});
t.teardown(() => srv?.close());

t.test(
  'trickling uploads get 408 with a JSON body from the service, long before the library would drop them, and free their slots',
  { skip },
  async (t) => {
    const big = `${ROWS}${`${VALID_ROW}\n`.repeat(5000)}`;
    const small = `${ROWS}${`${VALID_ROW}\n`.repeat(100)}`;
    const tricklers = [
      // the streamed path (a large declared body), the small-body path, a chunked body, and feedback
      // (an upload too: the four fill MAX_CONCURRENT_UPLOADS)
      trickle(srv.port, `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${big.length}\r\n\r\n`, big, 20),
      trickle(
        srv.port,
        `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${small.length}\r\n\r\n`,
        small,
        20,
      ),
      trickle(
        srv.port,
        `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n`,
        `${big.length.toString(16)}\r\n${big}`,
        20,
      ),
      trickle(
        srv.port,
        `POST /api/feedback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n`,
        `[${'{"id":"1","target":1},'.repeat(9)}`,
        20,
      ),
    ];
    t.teardown(() => tricklers.forEach((x) => x.stop()));
    const t0 = performance.now();
    // A byte every 20 ms: each is told 408 and `Connection: close`, goes on sending regardless,
    // and is cut off when lingering is over (1 s; or, if it looked quiet for a moment, when uWS's
    // keep-alive timer fires).
    while (tricklers.some((x) => !x.closed) && performance.now() - t0 < 15_000) await sleep(50);
    for (const [i, x] of tricklers.entries()) {
      const name = ['streamed', 'small', 'chunked', 'feedback'][i]!;
      t.equal(statusOf(x.text), 408, `${name}: 408 (${JSON.stringify(x.text.slice(0, 20))})`);
      t.ok(x.answeredAt < 6000, `${name}: answered after ${Math.round(x.answeredAt)} ms, before uWS's own timer (8-12 s)`);
      if (statusOf(x.text) === 408) {
        t.match(
          JSON.parse(bodyOf(x.text)),
          { code: 'DL_ERR_TIMEOUT', detail: /REQUEST_MIN_RECEIVE_RATE \(300 bytes\/s\)/ },
          `${name}: a JSON body that names the rule`,
        );
        t.match(x.text, /\r\nconnection: close\r\n/i, `${name}: the connection is closed after it`);
      }
      t.ok(x.closed, `${name}: closed`);
    }
    await settled(t, srv, 'after the tricklers');
    const r = await send(srv, { headers: { 'content-type': 'text/csv' }, body: ROWS });
    t.equal(r.status, 200, 'their slots are free again');
  },
);

t.test('once results have streamed, a trickle ends the 200 with the timeout in-band', { skip }, async (t) => {
  const burst = `${FEATURE_HEADER}\n${`${VALID_ROW}\n`.repeat(3000)}`;
  const total = burst.length + 100_000;
  const x = trickle(
    srv.port,
    `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nAccept: application/x-ndjson\r\nContent-Length: ${total}\r\n\r\n`,
    `${VALID_ROW}\n`.repeat(100),
    100,
    burst,
  );
  t.teardown(() => x.stop());
  const t0 = performance.now();
  while (!x.text.includes('\r\n0\r\n\r\n') && !x.closed && performance.now() - t0 < 7000) await sleep(50);
  t.equal(statusOf(x.text), 200, 'the results had started');
  t.match(inbandError(bodyOf(x.text)), { code: 'DL_ERR_TIMEOUT' }, 'the last line is the timeout');
  t.ok(x.text.endsWith('\r\n0\r\n\r\n'), 'the chunked response is ended properly');
});

t.test("a client slower than the library's 16 KiB/s but within the service's rule is served, not dropped at ~10 s", { skip }, async (t) => {
  // 20 rows a second (~600 B/s) for 13 s: twice REQUEST_MIN_RECEIVE_RATE here, far below uWS's
  // rule (16 KiB/s over 10 s), which used to drop it unanswered.
  const rows = 260;
  const body = `${FEATURE_HEADER}\n${`${VALID_ROW}\n`.repeat(rows)}`;
  const s = net.connect(srv.port, '127.0.0.1');
  let text = '';
  let closed = false;
  s.on('data', (c: Buffer) => (text += c.toString('latin1')));
  s.on('error', () => undefined);
  s.on('close', () => (closed = true));
  s.write(`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${body.length}\r\n\r\n${FEATURE_HEADER}\n`);
  const t0 = performance.now();
  for (let i = 0; i < rows && !closed; i++) {
    s.write(`${VALID_ROW}\n`);
    await sleep(50);
  }
  while (!text.includes('n_rows') && !closed && performance.now() - t0 < 19_000) await sleep(50);
  s.destroy();
  t.ok(performance.now() - t0 > 12_000, `the upload lasted past the library's timer (${Math.round(performance.now() - t0)} ms)`);
  t.equal(statusOf(text), 200, `answered 200, not dropped (${closed ? 'closed' : 'open'}, ${JSON.stringify(text.slice(0, 20))})`);
  if (statusOf(text) === 200) t.equal((JSON.parse(bodyOf(text)) as { n_rows: number }).n_rows, rows, 'every row scored');
});
