// Uploads the client abandons mid-body, many at once and at random points, leave nothing in
// flight, and the server still scores the next upload.
import t from 'tap';
import http from 'node:http';
import { corpusServer, skip } from './helpers/corpus-server.js';
import { CSV_TWO_ROWS, FEATURE_HEADER, VALID_ROW, send, settled } from './helpers/hostile.js';

const server = corpusServer();

t.test('many concurrent uploads aborted at random points: nothing left in flight', { skip }, async (t) => {
  const srv = server();
  const big = `${FEATURE_HEADER}\n${`${VALID_ROW}\n`.repeat(20_000)}`;
  let rnd = 42;
  const random = (): number => {
    rnd = (rnd * 1103515245 + 12345) % 2147483648;
    return rnd / 2147483648;
  };
  const aborted = await Promise.all(
    Array.from({ length: 100 }, () => {
      const cut = Math.floor(random() * big.length);
      const after = Math.floor(random() * 60);
      const accept = ['application/json', 'application/x-ndjson', 'text/csv'][Math.floor(random() * 3)]!;
      return new Promise<number>((resolve) => {
        const req = http.request(`${srv.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/csv', accept }, agent: false });
        req.on('error', () => resolve(0));
        req.on('response', (res) => {
          res.resume();
          res.on('error', () => undefined);
        });
        req.on('close', () => resolve(1));
        req.write(big.slice(0, cut));
        setTimeout(() => req.destroy(), after);
      });
    }),
  );
  t.equal(aborted.length, 100);
  await settled(t, srv, '100 aborted uploads');
  const r = await send(srv, { headers: { 'content-type': 'text/csv' }, body: CSV_TWO_ROWS });
  t.equal(r.status, 200, 'a normal upload still works');
  t.match(JSON.parse(r.body.toString()), { n_rows: 2 });
});
