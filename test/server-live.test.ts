import t from 'tap';
import { existsSync } from 'node:fs';
import WebSocket from 'ws';
import { sampleCsv } from './helpers/fixtures.js';
import { BUNDLED_MODEL, TWO_ROWS, startTestServer, type TestServer } from './helpers/server.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';
let srv: TestServer;
t.before(async () => {
  if (skip === false) srv = await startTestServer({ DRIFT_PUSH_MS: '50' });
});
t.teardown(async () => srv?.close());

interface Msg {
  type: string;
  v: number;
  data: Record<string, unknown>;
}

function connect(query = ''): Promise<{ ws: WebSocket; messages: Msg[]; next: (type: string, ms?: number) => Promise<Msg> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/ws${query}`);
    const messages: Msg[] = [];
    const waiters: { type: string; resolve: (m: Msg) => void }[] = [];
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as Msg;
      messages.push(m);
      for (const w of waiters.filter((w) => w.type === m.type)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    });
    const next = (type: string, ms = 3000): Promise<Msg> =>
      new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no ${type} message within ${ms} ms`)), ms);
        waiters.push({
          type,
          resolve: (m) => {
            clearTimeout(timer);
            res(m);
          },
        });
      });
    ws.once('open', () => resolve({ ws, messages, next }));
    ws.once('error', reject);
  });
}

t.test('hello on connect, then a drift message after an upload', { skip }, async (t) => {
  const c = await connect();
  t.teardown(() => c.ws.close());
  const hello = c.messages.find((m) => m.type === 'hello') ?? (await c.next('hello'));
  t.equal(hello.v, 1);
  t.match(hello.data, { model: { name: 'credit-default' }, topics: ['drift', 'predictions', 'alerts', 'stats'] });
  t.ok((hello.data as { snapshot: { features: object } }).snapshot.features, 'hello carries the current snapshot');
  const drift = c.next('drift');
  const preds = c.next('predictions');
  const r = await fetch(`${srv.url}/predict`, { method: 'POST', body: TWO_ROWS, headers: { 'content-type': 'text/csv' } });
  t.equal(r.status, 200);
  await r.text();
  let d = await drift;
  while ((d.data as { window_rows: number }).window_rows < 2) d = await c.next('drift');
  t.ok((d.data as { window_rows: number }).window_rows >= 2);
  t.equal(Object.keys((d.data as { features: object }).features).length, 8);
  const p = await preds;
  const rows = (p.data as { rows: { row: number; probability: number; features: number[] }[] }).rows;
  t.ok(rows.length >= 2);
  t.equal(rows.at(-1)!.features.length, 8);
  const stats = await c.next('stats', 2500);
  t.ok('rows_per_s' in stats.data && 'latency_ms' in stats.data);
});

t.test('the predictions feed delivers the last 100 rows of an upload, however fast it was scored', { skip }, async (t) => {
  const c = await connect('?topics=predictions');
  t.teardown(() => c.ws.close());
  const r = await fetch(`${srv.url}/predict`, {
    method: 'POST',
    body: sampleCsv(700),
    headers: { 'content-type': 'text/csv', accept: 'application/x-ndjson' },
  });
  const requestId = r.headers.get('x-request-id');
  await r.text();
  const got = new Set<number>();
  for (;;) {
    const m = await c.next('predictions');
    for (const row of (m.data as { rows: { request_id: string; row: number }[] }).rows) if (row.request_id === requestId) got.add(row.row);
    if (got.has(699)) break;
  }
  const last100 = Array.from({ length: 100 }, (_, i) => 600 + i);
  t.same(
    last100.filter((i) => !got.has(i)),
    [],
    'rows 600-699 all arrived (the dashboard shows the last 100)',
  );
});

t.test('topics from the query, and later subscribe/unsubscribe messages', { skip }, async (t) => {
  const c = await connect('?topics=stats');
  t.teardown(() => c.ws.close());
  const hello = c.messages[0] ?? (await c.next('hello'));
  t.same((hello.data as { topics: string[] }).topics, ['stats']);
  c.ws.send(JSON.stringify({ type: 'subscribe', topics: ['drift'] }));
  const sub = await c.next('subscribed');
  t.same((sub.data as { topics: string[] }).topics.sort(), ['drift', 'stats']);
  c.ws.send('nonsense');
  const err = await c.next('error');
  t.match((err.data as { detail: string }).detail, /subscribe/);
  const bad = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/ws?topics=bogus`);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => undefined);
  });
  t.equal(bad, 400, 'an unknown topic is refused at upgrade');
});
