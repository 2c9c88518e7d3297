// The scoring pipeline against csv-parser alone, in one process, on the same generated file:
// rows/s of each, their ratio, and how much the process's RSS grew while each ran.
//
//   node --expose-gc --import=tsx bench/pipeline.bench.ts [--rows 1000000,100000] [--passes 5] [--json out.json]
//
// On a shared 2-core machine one pass of either can run 30 % fast or slow, so they alternate
// (csv-parser, pipeline, csv-parser, pipeline, …) after an untimed warm-up of each, and the ratio
// is of the medians: a slow spell hits both sides instead of deciding the result.
//
// Target (docs/performance.md): pipeline ≥ 1.0 × csv-parser (scoring a file costs no more than
// csv-parser reading it), RSS growth ≤ 30 MB at any size.
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import csv from 'csv-parser';
import { parseConfig } from '../src/config.js';
import { loadModel } from '../src/model/index.js';
import { SCORE_BATCH_ROWS, scoreScheduler } from '../src/cli/score.js';
import { runPipeline } from '../src/pipeline/index.js';
import { arg, median, nearestMedian, writeJson } from './util.js';

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
  rssBeforeMB: number;
  rssPeakMB: number;
  /** The phase in process.hrtime µs (CLOCK_MONOTONIC, as V8 stamps CPU profiles). */
  window_us: [number, number];
}

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * Runs fn while sampling RSS every 10 ms; growth is the peak minus RSS just before. `collect`
 * forces a full collection first: only before a side's first run. A forced collection is a
 * memory-reducing one, after which V8 compiles the code it dropped again, so a collection
 * before every pass would make each pass start cold, which no single `driftline score` run does.
 */
async function measure(fn: () => Promise<number>, collect = false): Promise<Phase> {
  if (collect) gc();
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
  return {
    rows,
    seconds,
    rowsPerSec: rows / seconds,
    rssGrowthMB: (peak - before) / 1e6,
    rssBeforeMB: before / 1e6,
    rssPeakMB: peak / 1e6,
    window_us: [from, to],
  };
}

const devNull = (): Writable => createWriteStream('/dev/null');

/**
 * The medians of a side's passes. RSS growth is counted from just before the side's first,
 * untimed run (after a forced collection) to the highest peak of any of its runs: what the heap
 * grew to hold the work, not only what one more pass adds once it has. From a collected heap V8
 * also regrows its young generation, which csv-parser alone does as much as the pipeline: the
 * target is on the pipeline's growth beyond csv-parser's.
 */
function summarise(first: Phase, passes: Phase[]): Phase & { passes: Phase[] } {
  const peak = Math.max(first.rssPeakMB, ...passes.map((p) => p.rssPeakMB));
  return {
    rows: passes[0]!.rows,
    seconds: median(passes.map((p) => p.seconds)),
    rowsPerSec: median(passes.map((p) => p.rowsPerSec)),
    rssGrowthMB: peak - first.rssBeforeMB,
    rssBeforeMB: first.rssBeforeMB,
    rssPeakMB: peak,
    // The pass nearest the median: the window a profile of this run is cut to.
    window_us: nearestMedian(passes, (p) => p.rowsPerSec).window_us,
    passes,
  };
}

async function main(): Promise<void> {
  const sizes = (arg('rows') ?? '1000000,100000').split(',').map(Number);
  const passes = Number(arg('passes') ?? 5);
  const out = arg('json');
  if (sizes.length > 1) {
    // Each size in a fresh process, so that the heap one size grew can't hide another's growth.
    const results: unknown[] = [];
    for (const n of sizes) {
      const json = path.join(os.tmpdir(), `dl-pipeline-${process.pid}-${n}.json`);
      execFileSync(
        process.execPath,
        [...process.execArgv, fileURLToPath(import.meta.url), '--rows', String(n), '--passes', String(passes), '--json', json],
        { stdio: 'inherit' },
      );
      results.push(...(JSON.parse(readFileSync(json, 'utf8')) as { results: unknown[] }).results);
      rmSync(json, { force: true });
    }
    if (out !== undefined) writeJson(out, { bench: 'pipeline', at: new Date().toISOString(), results });
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dl-bench-'));
  const config = parseConfig({ ...process.env, LOG_LEVEL: 'silent' });
  const model = await loadModel(config.MODEL_DIR, { threads: config.INFERENCE_THREADS });
  const results: Record<string, unknown>[] = [];
  try {
    for (const n of sizes) {
      const file = path.join(dir, `rows-${n}.csv`);
      await generateCsv(file, n);
      const mb = statSync(file).size / 1e6;
      const parseOnly = async (): Promise<number> => {
        let rows = 0;
        await pipeline(
          createReadStream(file),
          csv(),
          new Writable({
            objectMode: true,
            write: (_r, _e, cb) => {
              rows++;
              cb();
            },
          }),
        );
        return rows;
      };
      let runs = 0;
      const scoreAll = async (): Promise<number> => {
        const scheduler = scoreScheduler(model.engine);
        const r = await runPipeline({
          source: createReadStream(file),
          input: 'csv',
          output: 'csv',
          sink: devNull(),
          card: model.card,
          predictor: scheduler,
          requestId: 'bench',
          batch: { maxRows: SCORE_BATCH_ROWS, maxWaitMs: config.BATCH_MAX_WAIT_MS },
        });
        runs = scheduler.runs;
        return r.n_rows;
      };
      // Untimed for speed (both compiled before anything counts), but their RSS counts.
      const firstA = await measure(parseOnly, true);
      const firstB = await measure(scoreAll, true);
      const a: Phase[] = [];
      const b: Phase[] = [];
      for (let i = 0; i < passes; i++) {
        a.push(await measure(parseOnly));
        b.push(await measure(scoreAll));
      }
      const baseline = summarise(firstA, a);
      const scored = summarise(firstB, b);
      const ratio = scored.rowsPerSec / baseline.rowsPerSec;
      const pairs = a.map((x, i) => b[i]!.rowsPerSec / x.rowsPerSec);
      results.push({ rows: n, file_mb: mb, passes, baseline, pipeline: scored, ratio, pair_ratios: pairs, model_runs: runs });
      console.log(`\n${n.toLocaleString('en')} rows (${mb.toFixed(1)} MB), ${passes} alternating passes each`);
      console.table({
        'csv-parser alone': {
          'median rows/s': Math.round(baseline.rowsPerSec),
          'each pass': a.map((p) => Math.round(p.rowsPerSec / 1000)).join(' ') + ' k',
          'RSS growth MB': +baseline.rssGrowthMB.toFixed(1),
        },
        'driftline score': {
          'median rows/s': Math.round(scored.rowsPerSec),
          'each pass': b.map((p) => Math.round(p.rowsPerSec / 1000)).join(' ') + ' k',
          'RSS growth MB': +scored.rssGrowthMB.toFixed(1),
        },
      });
      console.log(
        `ratio of medians ${ratio.toFixed(2)} (target ≥ 1.0; pass by pass ${Math.min(...pairs).toFixed(2)}–${Math.max(...pairs).toFixed(2)}); ${runs} model runs a pass`,
      );
      console.log(
        `RSS growth from a collected heap: pipeline ${scored.rssGrowthMB.toFixed(1)} MB, csv-parser alone ${baseline.rssGrowthMB.toFixed(1)} MB; the pipeline's beyond csv-parser's ${(scored.rssGrowthMB - baseline.rssGrowthMB).toFixed(1)} MB (target ≤ 30 MB)`,
      );
    }
  } finally {
    await model.engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (out !== undefined) writeJson(out, { bench: 'pipeline', at: new Date().toISOString(), results });
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
