// The physical ceiling of end-to-end scoring on this machine: the bundled model alone, in its
// worker thread with nothing else running, on rows like the bulk section's. Every scored row
// costs the model this much on one core, so however the rest is arranged across two cores,
// scoring cannot pass this rate; the bulk and pipeline sections report the share they reach.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PACKAGE_ROOT } from '../../src/config.js';
import { InferenceEngine, readModelCard, sessionSpec } from '../../src/model/index.js';

export interface Ceiling {
  rowsPerSec: number;
  usPerRow: number;
  batch: number;
}

/** `rows` rows through the model in batches of `batch` (the service's BATCH_MAX_ROWS), two in flight. */
export async function modelCeiling(rows = 300_000, batch = 1024): Promise<Ceiling> {
  const dir = path.join(PACKAGE_ROOT, 'models/credit-default/v1');
  const card = readModelCard(path.join(dir, 'card.json'));
  // The same value ranges as pipeline.bench.ts's generateCsv.
  let s = 12345;
  const r = (): number => ((s = (s * 1103515245 + 12345) % 2147483648), s / 2147483648);
  const nf = card.features.length;
  const pool = new Float32Array(65_536 * nf);
  for (let i = 0; i < 65_536; i++) {
    const row = [
      (1 + Math.floor(r() * 50)) * 10000,
      21 + Math.floor(r() * 50),
      Math.floor(r() * 5) - 2,
      Math.floor(r() * 5) - 2,
      Math.round(r() * 200000 - 5000),
      Math.round(r() * 200000 - 5000),
      Math.round(r() * 20000),
      Math.round(r() * 20000),
    ];
    for (let j = 0; j < nf; j++) pool[i * nf + j] = row[j % row.length]!;
  }
  const engine = await InferenceEngine.start(sessionSpec(card, path.join(dir, 'model.onnx'), 1));
  try {
    const slice = (done: number): Float32Array => {
      const off = (done % (65_536 - batch)) * nf;
      return pool.slice(off, off + batch * nf);
    };
    for (let i = 0; i < 20; i++) await engine.run(slice(i * batch), batch);
    const t0 = performance.now();
    const inflight: Promise<unknown>[] = [];
    for (let done = 0; done < rows; done += batch) {
      inflight.push(engine.run(slice(done), batch));
      if (inflight.length >= 2) await inflight.shift();
    }
    await Promise.all(inflight);
    const secs = (performance.now() - t0) / 1000;
    return { rowsPerSec: rows / secs, usPerRow: (secs * 1e6) / rows, batch };
  } finally {
    await engine.close();
  }
}
