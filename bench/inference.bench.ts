// Inference settings by measurement: the bundled model in its worker thread, at several batch
// sizes, with 1 and 2 onnxruntime intra-op threads, while the main thread idles and while it is
// busy (as it is when it parses an upload). Where the defaults (INFERENCE_THREADS=1,
// BATCH_MAX_ROWS=1024) come from.
//
//   node --import=tsx bench/inference.bench.ts [--rows 200000]
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PACKAGE_ROOT } from '../src/config.js';
import { InferenceEngine, readModelCard, sessionSpec } from '../src/model/index.js';
import { arg } from './util.js';

const dir = path.join(PACKAGE_ROOT, 'models/credit-default/v1');
const card = readModelCard(path.join(dir, 'card.json'));
const total = Number(arg('rows') ?? 200_000);
let s = 3;
const r = (): number => ((s = (s * 1103515245 + 12345) % 2147483648), s / 2147483648);
const pool = new Float32Array(65_536 * 8);
for (let i = 0; i < pool.length / 8; i++) {
  pool.set(
    [
      (1 + Math.floor(r() * 50)) * 10000,
      21 + Math.floor(r() * 50),
      Math.floor(r() * 5) - 2,
      Math.floor(r() * 5) - 2,
      Math.round(r() * 200000),
      Math.round(r() * 200000),
      Math.round(r() * 20000),
      Math.round(r() * 20000),
    ],
    i * 8,
  );
}

/** Burns the main thread in 5 ms slices, yielding between them, until stopped. */
function busyMainThread(): () => void {
  let on = true;
  const spin = (): void => {
    const end = performance.now() + 5;
    while (performance.now() < end);
    if (on) setImmediate(spin);
  };
  setImmediate(spin);
  return () => (on = false);
}

async function run(threads: number, batch: number, busy: boolean): Promise<number> {
  const engine = await InferenceEngine.start(sessionSpec(card, path.join(dir, 'model.onnx'), threads));
  try {
    await engine.run(pool.slice(0, batch * 8), batch); // warm up
    const stop = busy ? busyMainThread() : () => undefined;
    const t0 = performance.now();
    // Two batches in flight, as the predict stage keeps the worker fed.
    const inflight: Promise<unknown>[] = [];
    for (let done = 0; done < total; done += batch) {
      const off = (done % (pool.length / 8 - batch)) * 8;
      inflight.push(engine.run(pool.slice(off, off + batch * 8), batch));
      if (inflight.length >= 2) await inflight.shift();
    }
    await Promise.all(inflight);
    const secs = (performance.now() - t0) / 1000;
    stop();
    return total / secs;
  } finally {
    await engine.close();
  }
}

const rows: Record<string, Record<string, number>> = {};
for (const busy of [false, true]) {
  for (const threads of [1, 2]) {
    const key = `${threads} thread${threads > 1 ? 's' : ''}, main ${busy ? 'busy' : 'idle'}`;
    rows[key] = {};
    for (const batch of [64, 256, 1024, 4096])
      rows[key][`batch ${batch} (k rows/s)`] = Math.round((await run(threads, batch, busy)) / 1000);
  }
}
console.table(rows);
