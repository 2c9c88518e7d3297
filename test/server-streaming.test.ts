import t from 'tap';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { uploadObserver } from '../src/server/routes/predict.js';
import { BUNDLED_MODEL, TWO_ROWS, startTestServer, type TestServer } from './helpers/server.js';
import { sampleCsv } from './helpers/fixtures.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';
let srv: TestServer;
t.before(async () => {
  if (skip === false) srv = await startTestServer();
});
t.teardown(async () => srv?.close());

const ROW = '20000,24,2,2,3913,3102,0,689\n';
const HEAD = 'credit_limit,age,pay_delay_sep,pay_delay_aug,bill_amt_sep,bill_amt_aug,pay_amt_sep,pay_amt_aug\n';

t.test('a 100,000-row upload streams its first NDJSON line back before the upload has finished', { skip }, async (t) => {
  const rows = 100_000;
  const chunkRows = 1000;
  let sentRows = 0;
  let firstLineAfterRows = -1;
  let lines = 0;
  await new Promise<void>((resolve, reject) => {
    const req = http.request(`${srv.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/csv', accept: 'application/x-ndjson' } }, (res) => {
      t.equal(res.statusCode, 200);
      let carry = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (firstLineAfterRows === -1 && c.includes('\n')) firstLineAfterRows = sentRows;
        const parts = (carry + c).split('\n');
        carry = parts.pop()!;
        lines += parts.length;
      });
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.on('error', reject);
    req.write(HEAD);
    const pump = (): void => {
      // Paced like a real client on a network: the server must answer while this still sends.
      if (sentRows >= rows) return void req.end();
      req.write(ROW.repeat(chunkRows));
      sentRows += chunkRows;
      setTimeout(pump, 2);
    };
    pump();
  });
  t.ok(firstLineAfterRows > 0 && firstLineAfterRows < rows, `first result line arrived after ${firstLineAfterRows} of ${rows} rows were sent`);
  t.equal(lines, rows + 1, 'one line per row plus the summary');
});

t.test('concurrent uploads each get exactly their own rows, in order', { skip }, async (t) => {
  const bodies = Array.from({ length: 12 }, (_, k) => sampleCsv(50 + k * 30, { seed: k + 1, extra: true }));
  const results = await Promise.all(bodies.map((b) => fetch(`${srv.url}/predict`, { method: 'POST', body: b, headers: { 'content-type': 'text/csv', accept: 'text/csv' } }).then((r) => r.text())));
  const single = await Promise.all(bodies.slice(0, 3).map((b) => fetch(`${srv.url}/predict`, { method: 'POST', body: b, headers: { 'content-type': 'text/csv', accept: 'text/csv' } }).then((r) => r.text())));
  results.forEach((out, k) => {
    const lines = out.trim().split('\n');
    t.equal(lines.length, 51 + k * 30, `upload ${k}: all rows back`);
    const ids = lines.slice(1).map((l) => Number(l.split(',')[8]));
    t.same(ids, Array.from({ length: 50 + k * 30 }, (_, i) => i + 1), `upload ${k}: its own rows, in order`);
  });
  t.same(results.slice(0, 3), single, 'the same probabilities whether batched with others or alone');
});

t.test('API key: POST needs a bearer token (constant-time compared); reads stay open', { skip }, async (t) => {
  const k = await startTestServer({ API_KEY: 's3cret-key' });
  t.teardown(() => k.close());
  const send = (auth?: string) => fetch(`${k.url}/predict`, { method: 'POST', body: TWO_ROWS, headers: { 'content-type': 'text/csv', ...(auth === undefined ? {} : { authorization: auth }) } });
  const none = await send();
  t.equal(none.status, 401);
  t.equal(none.headers.get('www-authenticate'), 'Bearer');
  t.notMatch(await none.text(), 's3cret');
  t.equal((await send('Bearer wrong')).status, 401);
  t.equal((await send('Bearer s3cret-key-longer')).status, 401);
  const ok = await send('Bearer s3cret-key');
  t.equal(ok.status, 200);
  await ok.text();
  t.equal((await fetch(`${k.url}/api/drift`)).status, 200);
  t.equal((await fetch(`${k.url}/health`)).status, 200);
});

t.test('clients that abort midway: the server stays healthy and nothing leaks', { skip }, async (t) => {
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
  const aborts = Array.from({ length: 20 }, (_, i) => new Promise<void>((resolve) => {
    const req = http.request(`${srv.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/csv' } });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.write(HEAD + ROW.repeat(500 + i * 50));
    setTimeout(() => req.destroy(), 20 + i * 3);
  }));
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

t.test('graceful shutdown: an upload in flight finishes; new connections are refused', { skip }, async (t) => {
  const g = await startTestServer();
  let status = 0;
  let body = '';
  const done = new Promise<void>((resolve, reject) => {
    const req = http.request(`${g.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/csv' } }, (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.write(HEAD + ROW.repeat(100));
    setTimeout(() => {
      req.write(ROW.repeat(100));
      req.end();
    }, 300);
  });
  await new Promise((r) => setTimeout(r, 100));
  const stopping = g.service.shutdown();
  await new Promise((r) => setTimeout(r, 50));
  await t.rejects(fetch(`${g.url}/health`), 'the listen socket is closed');
  await done;
  await stopping;
  t.equal(status, 200);
  t.equal((JSON.parse(body) as { n_rows: number }).n_rows, 200, 'the in-flight upload got all its rows');
});
