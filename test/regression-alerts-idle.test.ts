// feature_drift stayed "firing" long after the window showed no drift once traffic stopped:
// rules ran only on fresh snapshots, i.e. only while rows arrived, and a yes/no rule resolves
// only after several clean evaluations. A real service, a drifted upload, then clean rows from
// the reference data, then no traffic at all: the alert must resolve on its own.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { driftedCsv } from './helpers/fixtures.js';
import { BUNDLED_MODEL, startTestServer } from './helpers/server.js';
import { sharedFile } from './helpers/shared.js';
import { until } from './helpers/until.js';

const reference = sharedFile('golden/reference_first1000.csv');
const skip = !existsSync(`${BUNDLED_MODEL}/model.onnx`) ? 'the bundled model is not built (models/credit-default/v1)' : reference.skip;

const WINDOW = 400;

type Alerts = {
  firing: { id: string; rule: string }[];
  alerts: { id: string; rule: string; status: string; resolves?: string; message: string }[];
};

t.test('regression: a drift alert stayed firing after traffic stopped; rules re-read the idle window and resolve', { skip }, async (t) => {
  const srv = await startTestServer({
    WINDOW_ROWS: String(WINDOW),
    // Fresh snapshots at most once a second, so the clean upload yields only a few of them:
    // fewer than the clean evaluations the rule needs.
    DRIFT_PUSH_MS: '1000',
    ALERT_EVAL_MS: '100',
    ALERT_RULES: JSON.stringify({ rules: [{ kind: 'feature_drift' }], clear_evaluations: 10 }),
  });
  t.teardown(() => srv.close());
  const alerts = async (): Promise<Alerts> => (await (await fetch(`${srv.url}/api/alerts`)).json()) as Alerts;
  const upload = async (csv: string): Promise<void> => {
    const r = await fetch(`${srv.url}/predict`, { method: 'POST', body: csv, headers: { 'content-type': 'text/csv' } });
    t.equal(r.status, 200);
    await r.text();
  };

  await upload(driftedCsv(WINDOW));
  const fired = await until('feature_drift to fire', async () => (await alerts()).firing.find((a) => a.rule === 'feature_drift'), 10_000);

  // Idle with the window still drifted: re-reading it neither resolves nor fires again.
  await new Promise((r) => setTimeout(r, 1500));
  let body = await alerts();
  t.same(
    body.firing.map((a) => a.id),
    [fired.id],
    'still firing while the idle window is drifted',
  );
  t.equal(body.alerts.length, 1, 'and nothing new');

  // Replace the whole window with rows from the reference data, then send nothing more.
  const lines = readFileSync(reference.path, 'utf8').split('\n');
  await upload(`${lines.slice(0, WINDOW + 1).join('\n')}\n`);
  const drift = (await (await fetch(`${srv.url}/api/drift`)).json()) as { window_rows: number; dataset: { n_drifted: number } };
  t.equal(drift.window_rows, WINDOW);
  t.equal(drift.dataset.n_drifted, 0, 'the window shows no drift');

  const resolved = await until(
    'the alert to resolve with no traffic',
    async () => (await alerts()).alerts.find((a) => a.status === 'resolved'),
    10_000,
  );
  t.match(resolved, { rule: 'feature_drift', resolves: fired.id, message: /^back within bounds: no feature drifted over 400 rows/ });
  body = await alerts();
  t.same(body.firing, [], 'nothing firing');
});
