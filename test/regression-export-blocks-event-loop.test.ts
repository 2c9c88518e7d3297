// A full CSV export held the event loop for the whole export (a fast client never makes uWS
// push back, so the page loop never awaited): with 1M rows logged, /health took 9-12 s. Every
// streamed read now yields between time slices (src/server/stream-read.ts).
import t from 'tap';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { logRows } from './helpers/logged-rows.js';
import { BUNDLED_MODEL, startTestServer } from './helpers/server.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';
const ROWS = 150_000;

t.test('/health stays fast while four full exports stream', { skip, timeout: 60_000 }, async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  const t0 = performance.now();
  await logRows(srv.service.state.store, ROWS);
  t.comment(`${ROWS} rows logged in ${Math.round(performance.now() - t0)} ms`);

  const ac = new AbortController();
  const received = [0, 0, 0, 0];
  const exports = [0, 1, 2, 3].map(async (i) => {
    try {
      const r = await fetch(`${srv.url}/api/predictions?limit=${ROWS}&format=${i % 2 === 0 ? 'csv' : 'ndjson'}`, { signal: ac.signal });
      for await (const c of r.body!) received[i]! += (c as Uint8Array).byteLength;
    } catch {
      // aborted below, once /health has been timed
    }
  });
  // /health sampled back to back for a while, as a load balancer would.
  const latencies: number[] = [];
  const until = performance.now() + 3000;
  while (performance.now() < until) {
    const s0 = performance.now();
    const h = await fetch(`${srv.url}/health`);
    await h.arrayBuffer();
    latencies.push(performance.now() - s0);
    await new Promise((r) => setTimeout(r, 10));
  }
  ac.abort();
  await Promise.all(exports);
  latencies.sort((a, b) => a - b);
  const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]!;
  t.comment(`${latencies.length} /health samples: p50 ${latencies[latencies.length >> 1]!.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms; export bytes ${received.join(', ')}`);
  t.ok(received.every((b) => b > 0), 'every export was streaming while /health was timed');
  t.ok(latencies.length >= 20, `enough samples (${latencies.length})`);
  t.ok(p99 < 250, `/health p99 ${p99.toFixed(1)} ms while four exports stream (under 250 ms)`);
});

t.test('an export streams every row asked for, in order, CSV and NDJSON alike', { skip, timeout: 30_000 }, async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  await logRows(srv.service.state.store, 5000, { batch: 700 });
  const csv = (await (await fetch(`${srv.url}/api/predictions?limit=4321&format=csv`)).text()).trim().split('\n');
  t.equal(csv.length, 4322, 'header and 4321 rows');
  t.equal(csv[1]!.split(',')[0], String(5000 - 4321 + 1), 'the oldest of the last 4321 rows first');
  t.equal(csv.at(-1)!.split(',')[0], '5000', 'the newest last');
  const nd = (await (await fetch(`${srv.url}/api/predictions?limit=5000`)).text()).trim().split('\n').map((l) => JSON.parse(l) as { id: number });
  t.same(nd.map((r) => r.id), Array.from({ length: 5000 }, (_, i) => i + 1));
});
