import t from 'tap';
import { existsSync } from 'node:fs';
import { BUNDLED_MODEL, startTestServer, type TestServer } from './helpers/server.js';
import { sampleCsv } from './helpers/fixtures.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';
let srv: TestServer;
t.before(async () => {
  if (skip === false) srv = await startTestServer({ API_KEY: 'k' });
});
t.teardown(async () => srv?.close());

const auth = { authorization: 'Bearer k' };
type Result = { request_id: string; results: { row: number; probability: number; prediction: string }[] };
type Drift = {
  performance: {
    n_labelled: number;
    accuracy: number | null;
    precision: number | null;
    recall: number | null;
    f1: number | null;
    roc_auc: number | null;
  };
};

async function upload(csv: string): Promise<Result> {
  const r = await fetch(`${srv.url}/predict`, { method: 'POST', body: csv, headers: { 'content-type': 'text/csv', ...auth } });
  return (await r.json()) as Result;
}
const feedback = (body: string, type = 'application/json', headers: Record<string, string> = auth) =>
  fetch(`${srv.url}/api/feedback`, { method: 'POST', body, headers: { 'content-type': type, ...headers } });
const drift = async (): Promise<Drift> => (await (await fetch(`${srv.url}/api/drift`)).json()) as Drift;

t.test('labels join by (request_id, row) and by a passed-through id; rolling metrics follow', { skip }, async (t) => {
  const res = await upload(sampleCsv(40, { extra: true }));
  t.equal(res.results.length, 40);
  t.equal((await drift()).performance.n_labelled, 0);

  // Label rows 0-19 by request_id/row: the truth is the opposite of every prediction.
  const wrong = res.results
    .slice(0, 20)
    .map((r) => ({ request_id: res.request_id, row: r.row, target: r.prediction === 'Default' ? 0 : 1 }));
  const a = await feedback(JSON.stringify(wrong));
  t.equal(a.status, 200);
  t.same(await a.json(), { labelled: 20, in_window: 20 });
  let perf = (await drift()).performance;
  t.equal(perf.n_labelled, 20);
  t.equal(perf.accuracy, 0, 'every labelled prediction was wrong');

  // Rows 20-39 by the upload's own ID column (1-based in sampleCsv), as CSV; this time right.
  const lines = ['id,target', ...res.results.slice(20).map((r) => `${r.row + 1},${r.prediction === 'Default' ? 1 : 0}`)];
  const b = await feedback(lines.join('\n'), 'text/csv');
  t.equal(b.status, 200);
  perf = (await drift()).performance;
  t.equal(perf.n_labelled, 40);
  t.equal(perf.accuracy, 0.5, '20 right of 40, as computed by hand');
  const positives = res.results.filter((r, i) => (i < 20 ? r.prediction !== 'Default' : r.prediction === 'Default')).length;
  t.ok(perf.roc_auc !== null || positives === 0 || positives === 40);

  const metrics = await (await fetch(`${srv.url}/metrics`)).text();
  t.match(metrics, /driftline_model_quality\{metric="accuracy"\} 0\.5/);
  t.match(metrics, /driftline_labelled_rows 40/);

  const logged = (await (await fetch(`${srv.url}/api/predictions?limit=40`)).text())
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { target: number | null });
  t.equal(logged.filter((r) => r.target !== null).length, 40, 'labels are in the prediction log');
});

t.test('an uploaded target column is logged and counted at once', { skip }, async (t) => {
  const before = (await drift()).performance.n_labelled;
  const csv = sampleCsv(10)
    .trim()
    .split('\n')
    .map((l, i) => `${l},${i === 0 ? 'target' : i % 2}`)
    .join('\n');
  await upload(`${csv}\n`);
  t.equal((await drift()).performance.n_labelled, before + 10);
});

t.test('unknown ids → 404 listing them, and nothing is applied', { skip }, async (t) => {
  const res = await upload(sampleCsv(3));
  const before = (await drift()).performance.n_labelled;
  const r = await feedback(
    JSON.stringify([
      { request_id: res.request_id, row: 0, target: 1 },
      { request_id: res.request_id, row: 99, target: 0 },
      { id: 'no-such-id', target: 1 },
    ]),
  );
  t.equal(r.status, 404);
  const j = (await r.json()) as { code: string; detail: string; unknown: unknown[]; n_unknown: number };
  t.equal(j.code, 'DL_ERR_FEEDBACK_UNKNOWN_IDS');
  t.same(j.unknown, [{ request_id: res.request_id, row: 99 }, { id: 'no-such-id' }]);
  t.equal(j.n_unknown, 2);
  t.equal((await drift()).performance.n_labelled, before, 'the known item was not applied either');
});

t.test('bad feedback bodies are 4xx; writes need the API key', { skip }, async (t) => {
  t.equal((await feedback('[{"request_id":"x","row":0,"target":2}]')).status, 400);
  t.equal((await feedback('{"a":1}')).status, 400);
  t.equal((await feedback('[]')).status, 400);
  t.equal((await feedback('x', 'application/xml')).status, 415);
  t.equal((await feedback('[]', 'application/json', {})).status, 401);
});
