// Concurrent uploads share the scheduler's dynamic batches: each still gets exactly its own rows,
// in order, with the probabilities it would get alone.
import t from 'tap';
import { existsSync } from 'node:fs';
import { BUNDLED_MODEL, startTestServer, type TestServer } from './helpers/server.js';
import { sampleCsv } from './helpers/fixtures.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';
let srv: TestServer;
t.before(async () => {
  if (skip === false) srv = await startTestServer();
});
t.teardown(async () => srv?.close());

t.test('concurrent uploads each get exactly their own rows, in order', { skip }, async (t) => {
  const bodies = Array.from({ length: 12 }, (_, k) => sampleCsv(50 + k * 30, { seed: k + 1, extra: true }));
  const results = await Promise.all(
    bodies.map((b) =>
      fetch(`${srv.url}/predict`, { method: 'POST', body: b, headers: { 'content-type': 'text/csv', accept: 'text/csv' } }).then((r) =>
        r.text(),
      ),
    ),
  );
  const single = await Promise.all(
    bodies
      .slice(0, 3)
      .map((b) =>
        fetch(`${srv.url}/predict`, { method: 'POST', body: b, headers: { 'content-type': 'text/csv', accept: 'text/csv' } }).then((r) =>
          r.text(),
        ),
      ),
  );
  results.forEach((out, k) => {
    const lines = out.trim().split('\n');
    t.equal(lines.length, 51 + k * 30, `upload ${k}: all rows back`);
    const ids = lines.slice(1).map((l) => Number(l.split(',')[8]));
    t.same(
      ids,
      Array.from({ length: 50 + k * 30 }, (_, i) => i + 1),
      `upload ${k}: its own rows, in order`,
    );
  });
  t.same(results.slice(0, 3), single, 'the same probabilities whether batched with others or alone');
});
