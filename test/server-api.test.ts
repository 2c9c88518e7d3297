// The original service's own API tests, rewritten in tap, plus each content type and Accept.
import t from 'tap';
import { existsSync } from 'node:fs';
import { BUNDLED_MODEL, TWO_ROWS, multipart, startTestServer, type TestServer } from './helpers/server.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';
let srv: TestServer;
t.before(async () => {
  if (skip === false) srv = await startTestServer();
});
t.teardown(async () => srv?.close());

const post = (body: RequestInit['body'], headers: Record<string, string>) => fetch(`${srv.url}/predict`, { method: 'POST', body, headers });

t.test('health', { skip }, async (t) => {
  const r = await fetch(`${srv.url}/health`);
  t.equal(r.status, 200);
  t.same(await r.json(), { status: 'ok' });
  t.equal((await fetch(`${srv.url}/ready`)).status, 200);
});

t.test('valid two-row CSV (multipart, as the original) → 200 with n_rows 2 and four fields per result', { skip }, async (t) => {
  const m = multipart([{ name: 'file', filename: 'data.csv', body: TWO_ROWS }]);
  const r = await post(m.body, { 'content-type': m.contentType });
  t.equal(r.status, 200);
  t.match(r.headers.get('content-type'), /application\/json/);
  const j = (await r.json()) as {
    n_rows: number;
    results: Record<string, unknown>[];
    model_version: string;
    request_id: string;
    errors: unknown[];
    n_rejected: number;
  };
  t.equal(j.n_rows, 2);
  t.equal(j.results.length, 2);
  for (const [i, res] of j.results.entries()) {
    t.same(Object.keys(res).sort(), ['prediction', 'probability', 'risk_level', 'row']);
    t.equal(res.row, i);
    t.ok(typeof res.probability === 'number' && res.probability >= 0 && res.probability <= 1);
    t.equal(Number((res.probability as number).toFixed(4)), res.probability, '4 decimals');
    t.ok(['Default', 'No Default'].includes(res.prediction as string));
    t.ok(['Low', 'Medium', 'High'].includes(res.risk_level as string));
  }
  t.same(j.errors, []);
  t.equal(j.n_rejected, 0);
  t.equal(r.headers.get('x-request-id'), j.request_id);
});

t.test('missing columns → 400 with "Invalid schema", and nothing is predicted', { skip }, async (t) => {
  const m = multipart([{ name: 'file', filename: 'bad.csv', body: 'credit_limit,age\n1000,30\n' }]);
  const r = await post(m.body, { 'content-type': m.contentType });
  t.equal(r.status, 400);
  const j = (await r.json()) as { detail: string; code: string };
  t.match(j.detail, /^Invalid schema\. Missing required columns: \[/);
  t.equal(j.code, 'DL_ERR_SCHEMA_MISSING_COLUMNS');
});

t.test('every input content type gives the same results', { skip }, async (t) => {
  const [head, ...rows] = TWO_ROWS.trim().split('\n');
  const cols = head!.split(',');
  const objs = rows.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], Number(v)])));
  const bodies: [string, RequestInit['body'], string][] = [
    ['text/csv', TWO_ROWS, 'text/csv'],
    ['application/json', JSON.stringify(objs), 'application/json'],
    ['application/x-ndjson', objs.map((o) => JSON.stringify(o)).join('\n'), 'application/x-ndjson'],
  ];
  const m = multipart([{ name: 'file', filename: 'rows.json', type: 'application/json', body: JSON.stringify(objs) }]);
  bodies.push(['multipart JSON file', m.body, m.contentType]);
  const results: unknown[] = [];
  for (const [name, body, type] of bodies) {
    const r = await post(body, { 'content-type': type });
    t.equal(r.status, 200, name);
    results.push(((await r.json()) as { results: unknown }).results);
  }
  for (const r of results.slice(1)) t.same(r, results[0]);
});

t.test('Accept chooses the response format', { skip }, async (t) => {
  const nd = await post(TWO_ROWS, { 'content-type': 'text/csv', accept: 'application/x-ndjson' });
  t.equal(nd.status, 200);
  t.match(nd.headers.get('content-type'), /application\/x-ndjson/);
  const lines = (await nd.text())
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.equal(lines.length, 3);
  t.same(Object.keys(lines[0]).sort(), ['prediction', 'probability', 'risk_level', 'row']);
  t.match(lines[2], { summary: { n_rows: 2, n_rejected: 0 } });

  const csv = await post(
    `${TWO_ROWS.trim()},\n`.replace('pay_amt_aug\n', 'pay_amt_aug,extra\n').replace('689\n', '689,x\n').replace('1000,\n', '1000,y\n'),
    { 'content-type': 'text/csv', accept: 'text/csv' },
  );
  t.equal(csv.status, 200);
  const text = await csv.text();
  t.match(
    text.split('\n')[0],
    'credit_limit,age,pay_delay_sep,pay_delay_aug,bill_amt_sep,bill_amt_aug,pay_amt_sep,pay_amt_aug,extra,probability,prediction,risk_level',
  );
  t.match(text.split('\n')[1], /^20000,24,2,2,3913,3102,0,689,x,0\.\d+,(No )?Default,(Low|Medium|High)$/);

  const q = await post(TWO_ROWS, { 'content-type': 'text/csv', accept: 'text/csv;q=0.5, application/x-ndjson' });
  t.match(q.headers.get('content-type'), /ndjson/, 'q-values are honoured');
  await q.text();
  const none = await post(TWO_ROWS, { 'content-type': 'text/csv', accept: 'image/png' });
  t.equal(none.status, 406);
  t.match(await none.json(), { code: 'DL_ERR_NOT_ACCEPTABLE' });
});

t.test('bad bodies get a 4xx with a detail', { skip }, async (t) => {
  const cases: [string, RequestInit['body'], Record<string, string>, number, string][] = [
    ['empty CSV', '', { 'content-type': 'text/csv' }, 400, 'DL_ERR_EMPTY_BODY'],
    [
      'no file field',
      multipart([{ name: 'upload', filename: 'x.csv', body: TWO_ROWS }]).body,
      { 'content-type': multipart([]).contentType },
      400,
      'DL_ERR_NO_FILE',
    ],
    ['unsupported type', TWO_ROWS, { 'content-type': 'application/xml' }, 415, 'DL_ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['JSON not an array', '{"a":1}', { 'content-type': 'application/json' }, 400, 'DL_ERR_BAD_INPUT'],
    ['malformed JSON', '[{"credit_limit":', { 'content-type': 'application/json' }, 400, 'DL_ERR_BAD_INPUT'],
  ];
  for (const [name, body, headers, status, code] of cases) {
    const r = await post(body, headers);
    t.equal(r.status, status, name);
    const j = (await r.json()) as { detail: string; code: string };
    t.equal(j.code, code, name);
    t.ok(j.detail.length > 10, `${name}: ${j.detail}`);
  }
  const noType = await fetch(`${srv.url}/predict`, { method: 'POST', body: new Uint8Array(Buffer.from(TWO_ROWS)) });
  t.equal(noType.status, 415, 'missing content type');
  t.equal((await fetch(`${srv.url}/predict`)).status, 405, 'GET /predict');
  t.equal((await fetch(`${srv.url}/nope`)).status, 404);
});

t.test('rows with bad values do not fail the request: they are listed in errors', { skip }, async (t) => {
  const r = await post(`${TWO_ROWS}abc,24,2,2,3913,3102,0,689\n`, { 'content-type': 'text/csv' });
  t.equal(r.status, 200);
  const j = (await r.json()) as { n_rows: number; n_rejected: number; errors: unknown[] };
  t.equal(j.n_rows, 2);
  t.equal(j.n_rejected, 1);
  t.same(j.errors, [{ row: 2, column: 'credit_limit', code: 'DL_ERR_ROW_NOT_A_NUMBER', message: 'not a number: "abc"' }]);
});

t.test('read routes: model card, reference, drift, history, predictions, dashboard data, openapi, metrics', { skip }, async (t) => {
  await post(TWO_ROWS, { 'content-type': 'text/csv' }).then((r) => r.text());
  const card = (await (await fetch(`${srv.url}/api/model`)).json()) as { name: string; features: unknown[] };
  t.equal(card.features.length, 8);
  const ref = (await (await fetch(`${srv.url}/api/reference`)).json()) as { features: unknown[] };
  t.equal(ref.features.length, 8);
  const drift = (await (await fetch(`${srv.url}/api/drift`)).json()) as { window_rows: number; features: Record<string, unknown> };
  t.ok(drift.window_rows >= 2);
  t.equal(Object.keys(drift.features).length, 8);
  const dash = (await (await fetch(`${srv.url}/dashboard/data`)).json()) as {
    status: string;
    data: { n_rows: number; results: unknown[]; drift: { column: string; score: number }[] };
  };
  t.equal(dash.status, 'ok');
  t.ok(dash.data.n_rows >= 2);
  t.equal(dash.data.drift.length, 8);
  t.ok(dash.data.results.length >= 2);
  const nd = await (await fetch(`${srv.url}/api/predictions?limit=2`)).text();
  t.equal(nd.trim().split('\n').length, 2);
  const csv = await (await fetch(`${srv.url}/api/predictions?limit=2&format=csv`)).text();
  t.match(csv.split('\n')[0], /^id,ts,request_id,row,model_version,credit_limit,/);
  t.equal((await fetch(`${srv.url}/api/predictions?limit=x`)).status, 400);
  const hist = (await (await fetch(`${srv.url}/api/drift/history?since=0`)).json()) as { points: unknown[] };
  t.ok(Array.isArray(hist.points));
  const api = (await (await fetch(`${srv.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
  t.match(api.openapi, /^3\./);
  for (const p of ['/predict', '/health', '/api/drift', '/metrics', '/ws']) t.ok(api.paths[p], `openapi documents ${p}`);
  const metrics = await (await fetch(`${srv.url}/metrics`)).text();
  for (const m of [
    'driftline_http_requests_total',
    'driftline_rows_predicted_total',
    'driftline_batch_rows_bucket',
    'driftline_inference_queue_seconds_bucket',
    'driftline_inference_compute_seconds_bucket',
    'driftline_drift_share',
    'driftline_feature_drift_score',
    'driftline_websocket_clients',
  ]) {
    t.match(metrics, m, `/metrics has ${m}`);
  }
  t.match(metrics, /driftline_rows_predicted_total [1-9]/);
});
