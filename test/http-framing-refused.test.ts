// Request framing the HTTP parser refuses (request smuggling shapes, bad or oversized
// Content-Length, bad chunk sizes, oversized heads): the connection is dropped before anything
// reaches a route.
import t from 'tap';
import { corpusServer, skip } from './helpers/corpus-server.js';
import { CSV_TWO_ROWS, rawExchange, rawPostHead, settled, statusOf } from './helpers/hostile.js';

const server = corpusServer();

t.test('framing the HTTP parser refuses: the connection is dropped, nothing is scored', { skip }, async (t) => {
  const srv = server();
  const cases: [string, string][] = [
    // Both headers is the request-smuggling shape; uWS drops it rather than pick one.
    [
      'Content-Length and Transfer-Encoding',
      `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n${CSV_TWO_ROWS.length.toString(16)}\r\n${CSV_TWO_ROWS}\r\n0\r\n\r\n`,
    ],
    ['a negative Content-Length', rawPostHead(-5) + CSV_TWO_ROWS],
    ['a Content-Length that is not a number', rawPostHead('12abc') + CSV_TWO_ROWS],
    // uWS takes at most 9 digits; larger bodies come chunked and are counted as they stream.
    ['a 10-digit Content-Length', rawPostHead(1_000_000_000) + CSV_TWO_ROWS],
    [
      'malformed chunk sizes',
      `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${CSV_TWO_ROWS}\r\n0\r\n\r\n`,
    ],
    // uWS takes 64 KiB of headers, not 256 KiB: it bounds what a request head can cost.
    [
      '256 KiB of request headers',
      `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nX-Big: ${'a'.repeat(256 * 1024)}\r\nContent-Length: ${CSV_TWO_ROWS.length}\r\n\r\n${CSV_TWO_ROWS}`,
    ],
  ];
  for (const [name, data] of cases) {
    const r = await rawExchange(srv.port, data, { waitMs: 3000 });
    const status = statusOf(r.text);
    t.ok(r.closed, `${name}: the connection is closed (${Math.round(r.ms)} ms)`);
    t.notOk(r.text.includes('"n_rows"'), `${name}: nothing was scored`);
    t.ok(status === 0 || (status >= 400 && status < 500), `${name}: no answer, or a 4xx (${status})`);
    await settled(t, srv, name);
  }
});
