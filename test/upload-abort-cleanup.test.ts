// Uploads the client abandons mid-body, many at once and at random points, leave nothing in
// flight and nothing reachable (a leak check in the style of undici's test/gc.js), and the
// server still scores the next upload.
import t from 'tap';
import http from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { uploadObserver } from '../src/server/routes/predict.js';
import { corpusServer, skip } from './helpers/corpus-server.js';
import { CSV_TWO_ROWS, FEATURE_HEADER, VALID_ROW, send, settled } from './helpers/hostile.js';
import { TWO_ROWS, startTestServer } from './helpers/server.js';

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

t.test('clients that abort midway: the server stays healthy and nothing leaks', { skip }, async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let created = 0;
  let collected = 0;
  const registry = new FinalizationRegistry(() => collected++);
  uploadObserver.created = (objs) => {
    for (const o of objs) {
      created++;
      registry.register(o, null);
    }
  };
  t.teardown(() => {
    uploadObserver.created = undefined;
  });
  const aborts = Array.from(
    { length: 20 },
    (_, i) =>
      new Promise<void>((resolve) => {
        const req = http.request(`${srv.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/csv' } });
        req.on('error', () => resolve());
        req.on('close', () => resolve());
        req.write(`${FEATURE_HEADER}\n${`${VALID_ROW}\n`.repeat(500 + i * 50)}`);
        setTimeout(() => req.destroy(), 20 + i * 3);
      }),
  );
  await Promise.all(aborts);
  for (let i = 0; i < 50 && (srv.service.state.uploads.size > 0 || collected < created); i++) {
    await new Promise((r) => setTimeout(r, 50));
    gc();
  }
  t.equal(srv.service.state.uploads.size, 0, 'no upload is left in flight');
  t.equal(collected, created, `all ${created} per-upload objects were garbage-collected`);
  const r = await fetch(`${srv.url}/predict`, { method: 'POST', body: TWO_ROWS, headers: { 'content-type': 'text/csv' } });
  t.equal(r.status, 200, 'still serving');
  await r.text();
});
