// Export while serving: /health latency while full exports of the prediction log stream.
//
//   node --import=tsx bench/export.ts [--rows 1000000] [--exports 4] [--format csv|ndjson]
//
// The log is written straight into a fresh data directory (no scoring), then the service starts
// on it as a child process (bench/lib/server.ts) and --exports clients each read
// GET /api/predictions?limit=<rows>&format=<format> as fast as they can, while /health is
// polled back to back. Prints /health p50/p99/max, each export's time and rate. The target
// (issue 16, item 2): /health p99 < 100 ms while four 1M-row exports stream. Not part of
// `npm run bench`: a few minutes and ~1 GB of disk at 1M rows.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PredictionLog, databaseFile } from '../src/store/index.js';
import { ensureBuilt, startDriftline } from './lib/server.js';
import { arg, quantile } from './util.js';

const rows = Number(arg('rows') ?? 1_000_000);
const exportsN = Number(arg('exports') ?? 4);
const format = arg('format') ?? 'csv';

async function fill(dataDir: string): Promise<void> {
  const store = await PredictionLog.open({
    file: databaseFile(dataDir),
    retentionRows: rows * 2,
    decisionThreshold: 0.5,
    risk: { high: 0.7, medium: 0.4 },
  });
  const batch = 1024;
  const jobs: Promise<unknown>[] = [];
  for (let first = 0; first < rows; first += batch) {
    const n = Math.min(batch, rows - first);
    const features = new Float32Array(n * 8).map((_, i) => (first * 8 + i) % 100_000);
    const probabilities = new Float32Array(n).map((_, i) => ((first + i) % 1000) / 1000);
    const rowIndex = new Int32Array(n).map((_, i) => first + i);
    jobs.push(
      store.append({
        ts: Date.now(),
        requestId: 'bench-export',
        modelVersion: 'bench',
        nFeatures: 8,
        rows: n,
        features,
        probabilities,
        rowIndex,
        targets: new Float64Array(n).fill(Number.NaN),
        extIds: null,
      }),
    );
    if (jobs.length >= 64) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
  await store.close();
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dl-bench-export-'));
  const t0 = performance.now();
  await fill(dataDir);
  console.log(`${rows} rows logged in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const server = await startDriftline(ensureBuilt(console.log), {
    env: { DATA_DIR: dataDir, LOG_RETENTION_ROWS: String(rows * 2) },
    name: 'driftline',
  });
  try {
    let streaming = exportsN;
    const results = await Promise.all([
      ...Array.from({ length: exportsN }, async (_, i) => {
        const s0 = performance.now();
        let bytes = 0;
        const r = await fetch(`${server.url}/api/predictions?limit=${rows}&format=${format}`);
        for await (const c of r.body!) bytes += (c as Uint8Array).byteLength;
        streaming--;
        return { i, s: (performance.now() - s0) / 1000, mb: bytes / 1e6 };
      }),
      (async () => {
        const lat: number[] = [];
        while (streaming > 0) {
          const s0 = performance.now();
          await (await fetch(`${server.url}/health`)).arrayBuffer();
          lat.push(performance.now() - s0);
          await new Promise((r) => setTimeout(r, 10));
        }
        return { lat };
      })(),
    ]);
    const lat = (results.at(-1) as { lat: number[] }).lat;
    for (const r of results.slice(0, -1) as { i: number; s: number; mb: number }[]) {
      console.log(`export ${r.i}: ${r.mb.toFixed(0)} MB in ${r.s.toFixed(1)} s (${(rows / r.s / 1000).toFixed(0)}k rows/s)`);
    }
    const p99 = quantile(lat, 0.99);
    console.log(
      `/health while exporting: ${lat.length} samples, p50 ${quantile(lat, 0.5).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms (target p99 < 100 ms: ${p99 < 100 ? 'met' : 'missed'})`,
    );
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
