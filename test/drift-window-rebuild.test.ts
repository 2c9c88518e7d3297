// The drift window is state kept in memory; on start-up it is rebuilt from the prediction log,
// so a restart shows the same window and the same scores as before it.
import t from 'tap';
import { existsSync } from 'node:fs';
import { BUNDLED_MODEL, TWO_ROWS, startTestServer } from './helpers/server.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';

t.test('the drift window rebuilds from the log after a restart', { skip }, async (t) => {
  const a = await startTestServer();
  const body = TWO_ROWS + TWO_ROWS.split('\n').slice(1).join('\n');
  await (await fetch(`${a.url}/predict`, { method: 'POST', body, headers: { 'content-type': 'text/csv' } })).text();
  const before = (await (await fetch(`${a.url}/api/drift`)).json()) as { window_rows: number; features: Record<string, { score: number }> };
  await a.close();
  const b = await startTestServer({ DATA_DIR: a.dataDir });
  t.teardown(() => b.close());
  const after = (await (await fetch(`${b.url}/api/drift`)).json()) as typeof before;
  t.equal(after.window_rows, before.window_rows);
  t.same(
    Object.fromEntries(Object.entries(after.features).map(([k, v]) => [k, v.score])),
    Object.fromEntries(Object.entries(before.features).map(([k, v]) => [k, v.score])),
  );
});
