// The scoring pipeline against csv-parser alone, in one process, on the same generated file:
// rows/s of each, their ratio, and how much the process's RSS grew while each ran.
//
//   node --expose-gc --import=tsx bench/pipeline.bench.ts [--rows 1000000,100000] [--json out.json]
//
// Target (README, Performance): pipeline ≥ 0.5 × csv-parser, RSS growth ≤ 30 MB at any size.
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import csv from 'csv-parser';
import { parseConfig } from '../src/config.js';
import { loadModel } from '../src/model/index.js';
import { BatchScheduler, runPipeline } from '../src/pipeline/index.js';
import { arg, writeJson } from './util.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

/** A credit-like CSV in the original service's format (deterministic, no real rows). */
export async function generateCsv(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('credit_limit,age,pay_delay_sep,pay_delay_aug,bill_amt_sep,bill_amt_aug,pay_amt_sep,pay_amt_aug\n');
  let s = 12345;
  const r = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  let buf = '';
  for (let i = 0; i < rows; i++) {
    buf += `${(1 + Math.floor(r() * 50)) * 10000},${21 + Math.floor(r() * 50)},${Math.floor(r() * 5) - 2},${Math.floor(r() * 5) - 2},${Math.round(r() * 200000 - 5000)},${Math.round(r() * 200000 - 5000)},${Math.round(r() * 20000)},${Math.round(r() * 20000)}\n`;
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await new Promise<void>((res) => out.once('drain', () => res()));
      buf = '';
    }
  }
  await new Promise<void>((res) => out.end(buf, res));
}

interface Phase {
  rows: number;
  seconds: number;
  rowsPerSec: number;
  rssGrowthMB: number;
  /** The phase in process.hrtime µs (CLOCK_MONOTONIC, as V8 stamps CPU profiles). */
  window_us: [number, number];
}

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Runs fn while sampling RSS every 10 ms; growth is the peak minus RSS just before. */
async function measure(fn: () => Promise<number>): Promise<Phase> {
  gc();
  await new Promise((r) => setTimeout(r, 100));
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const from = monotonicUs();
  const t0 = performance.now();
  const rows = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const to = monotonicUs();
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { rows, seconds, rowsPerSec: rows / seconds, rssGrowthMB: (peak - before) / 1e6, window_us: [from, to] };
}

const devNull = (): Writable => createWriteStream('/dev/null');

async function main(): Promise<void> {
  const sizes = (arg('rows') ?? '1000000,100000').split(',').map(Number);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dl-bench-'));
  const config = parseConfig({ ...process.env, LOG_LEVEL: 'silent' });
  const model = await loadModel(config.MODEL_DIR, { threads: config.INFERENCE_THREADS });
  const results: Record<string, unknown>[] = [];
  try {
    for (const n of sizes) {
      const file = path.join(dir, `rows-${n}.csv`);
      await generateCsv(file, n);
      const mb = statSync(file).size / 1e6;
      const baseline = await measure(async () => {
        let rows = 0;
        await pipeline(createReadStream(file), csv(), new Writable({ objectMode: true, write: (_r, _e, cb) => { rows++; cb(); } }));
        return rows;
      });
      const scheduler = new BatchScheduler(model.engine, { maxRows: config.BATCH_MAX_ROWS, maxWaitMs: 0, maxInflight: 1 });
      const scored = await measure(async () => {
        const r = await runPipeline({
          source: createReadStream(file), input: 'csv', output: 'csv', sink: devNull(), card: model.card, predictor: scheduler,
          requestId: 'bench', batch: { maxRows: config.BATCH_MAX_ROWS, maxWaitMs: config.BATCH_MAX_WAIT_MS },
        });
        return r.n_rows;
      });
      const ratio = scored.rowsPerSec / baseline.rowsPerSec;
      results.push({ rows: n, file_mb: mb, baseline, pipeline: scored, ratio, model_runs: scheduler.runs });
      console.log(`\n${n.toLocaleString('en')} rows (${mb.toFixed(1)} MB)`);
      console.table({
        'csv-parser alone': { 'rows/s': Math.round(baseline.rowsPerSec), seconds: +baseline.seconds.toFixed(2), 'RSS growth MB': +baseline.rssGrowthMB.toFixed(1) },
        'driftline score': { 'rows/s': Math.round(scored.rowsPerSec), seconds: +scored.seconds.toFixed(2), 'RSS growth MB': +scored.rssGrowthMB.toFixed(1) },
      });
      console.log(`ratio ${ratio.toFixed(2)} (target ≥ 0.5); pipeline RSS growth ${scored.rssGrowthMB.toFixed(1)} MB (target ≤ 30 MB); ${scheduler.runs} model runs`);
    }
  } finally {
    await model.engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const out = arg('json');
  if (out !== undefined) writeJson(out, { bench: 'pipeline', at: new Date().toISOString(), results });
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
