// A Content-Length that does not match the body sent after it: shorter, and only the declared
// bytes are an upload; longer or beyond MAX_UPLOAD_BYTES, and the client gets a complete answer
// and a closed connection instead of a socket held open for bytes that never come.
import t from 'tap';
import { corpusServer, skip } from './helpers/corpus-server.js';
import { CSV_ONE_ROW, CSV_TWO_ROWS, FEATURE_HEADER, bodyOf, rawExchange, rawPostHead, settled, statusOf } from './helpers/hostile.js';

const server = corpusServer();

t.test('Content-Length shorter than the body: only the declared bytes are scored', { skip }, async (t) => {
  const srv = server();
  const r = await rawExchange(srv.port, rawPostHead(CSV_ONE_ROW.length) + CSV_TWO_ROWS, {
    waitMs: 5000,
    until: (s) => s.includes('"n_rows"'),
  });
  t.equal(statusOf(r.text), 200);
  const j = JSON.parse(bodyOf(r.text)) as { n_rows: number; n_rejected: number };
  t.same([j.n_rows, j.n_rejected], [1, 0], 'the row past Content-Length is not part of the upload');
  await settled(t, srv, 'short Content-Length');
});

// The server answers these as soon as it can, but the client still owes body bytes it will never
// send: uWS keeps such a connection until its own 10 s idle timeout. The three run at once to
// wait for that only once.
t.test('Content-Length lies and oversized declarations: a complete answer, then the connection is closed', { skip }, async (t) => {
  const srv = server();
  const wait = { waitMs: 15_000 };
  const [idle, partial, oversized] = await Promise.all([
    rawExchange(srv.port, rawPostHead(500) + FEATURE_HEADER, wait),
    rawExchange(srv.port, rawPostHead(CSV_TWO_ROWS.length + 100) + CSV_TWO_ROWS, wait),
    rawExchange(srv.port, rawPostHead(5 * 1024 * 1024) + CSV_TWO_ROWS, wait),
  ]);
  const complete = (text: string): boolean => text.endsWith('\r\n0\r\n\r\n');

  t.equal(statusOf(idle.text), 408, 'longer than the body, nothing scorable yet: 408');
  t.match(JSON.parse(bodyOf(idle.text)), { code: 'DL_ERR_TIMEOUT', detail: /REQUEST_IDLE_TIMEOUT_MS/ });
  t.ok(complete(idle.text), 'a well-formed chunked answer');

  // A small declared body is read whole before scoring (the buffered path): its rows are not
  // scored before the body is complete, so the answer is the 408. A streamed upload answers
  // with its rows' results, then the timeout in-band.
  if (statusOf(partial.text) === 408) {
    t.match(JSON.parse(bodyOf(partial.text)), { code: 'DL_ERR_TIMEOUT' }, 'longer than a small body: 408, nothing half-scored');
  } else {
    t.equal(statusOf(partial.text), 200, 'longer than the body, rows sent: their results…');
    const j = JSON.parse(bodyOf(partial.text)) as { results: unknown[]; error: { code: string } };
    t.equal(j.results.length, 2, 'both rows scored');
    t.equal(j.error.code, 'DL_ERR_TIMEOUT', '…then the error that ended the upload, in-band');
  }
  t.ok(complete(partial.text), 'a well-formed chunked answer (no stray header in the body)');

  t.equal(statusOf(oversized.text), 413, 'declared beyond MAX_UPLOAD_BYTES: 413');
  t.match(JSON.parse(bodyOf(oversized.text)), { code: 'DL_ERR_PAYLOAD_TOO_LARGE', detail: /MAX_UPLOAD_BYTES/ });
  t.ok(complete(oversized.text), 'a well-formed chunked answer');

  for (const [name, r] of [
    ['idle', idle],
    ['oversized', oversized],
  ] as const) {
    t.match(r.text, /\r\nconnection: close\r\n/i, `${name}: the answer says the connection will close`);
  }
  for (const [name, r] of [
    ['idle', idle],
    ['partial', partial],
    ['oversized', oversized],
  ] as const) {
    t.ok(r.closed && r.ms < 13_000, `${name}: the server closed the connection (${Math.round(r.ms)} ms)`);
  }
  await settled(t, srv, 'Content-Length lies');
});
