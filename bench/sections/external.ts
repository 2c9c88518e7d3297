// The two in-process benches, run as they are (each in its own node, so one's heap and JIT
// state never leak into another's numbers) and folded into the report.
import { modelCeiling } from '../lib/ceiling.js';
import { SCORE_BATCH_ROWS } from '../../src/cli/score.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { check, percent, points, keepProfiles, type Ctx, type SectionResult } from '../lib/context.js';
import { fixed, int, mb, pct, table } from '../lib/md.js';
import { ROOT } from '../lib/server.js';

function runScript(ctx: Ctx, flags: string[], script: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, '--import=tsx', path.join(ROOT, 'bench', script), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${script} exited with ${code}:\n${out.slice(-2000)}`))));
  });
}

interface DriftRow {
  window_rows: number;
  update_ns_per_row: number;
  update_ns_per_row_feature: number;
  snapshot_ms: number;
  rescan_ms: number;
  rescan_over_snapshot: number;
}

export async function drift(ctx: Ctx): Promise<SectionResult> {
  const out = path.join(ctx.tmp, 'drift.json');
  await runScript(ctx, [], 'drift.bench.ts', [...(ctx.quick ? ['--quick'] : []), '--json', out]);
  const data = JSON.parse(readFileSync(out, 'utf8')) as { results: DriftRow[]; features: number; reference_rows: number };
  for (const r of data.results)
    ctx.log(
      `  window ${int(r.window_rows)}: update ${int(r.update_ns_per_row)} ns/row, snapshot ${fixed(3)(r.snapshot_ms)} ms, rescan baseline ${fixed(1)(r.rescan_ms)} ms`,
    );
  const markdown = [
    `\`bench/drift.bench.ts\`${ctx.quick ? ' --quick' : ''}: ${data.features} credit-like features, ${int(data.reference_rows)} reference rows; median of 20 batches. The baseline re-scans the window (sort + exact Wasserstein per feature), as a batch tool would; the snapshot should stay flat as the window grows.`,
    '',
    table(
      ['window rows', 'update ns/row', 'ns/row/feature', 'snapshot ms', 'rescan baseline ms', 'rescan / snapshot'],
      data.results.map((r) => [
        int(r.window_rows),
        int(r.update_ns_per_row),
        int(r.update_ns_per_row_feature),
        fixed(3)(r.snapshot_ms),
        fixed(2)(r.rescan_ms),
        `${fixed(1)(r.rescan_over_snapshot)}×`,
      ]),
    ),
  ].join('\n');
  return { name: 'drift', data, checks: [], markdown };
}

interface PipelinePhase {
  rows: number;
  seconds: number;
  rowsPerSec: number;
  rssGrowthMB: number;
  window_us?: [number, number];
}
interface PipelineRow {
  rows: number;
  file_mb: number;
  passes: number;
  baseline: PipelinePhase;
  pipeline: PipelinePhase;
  /** Of the medians. */
  ratio: number;
  /** Pipeline over csv-parser, pass by pass. */
  pair_ratios: number[];
  model_runs: number;
}

export async function pipelineBench(ctx: Ctx): Promise<SectionResult> {
  const out = path.join(ctx.tmp, 'pipeline.json');
  const rowsArg = ctx.quick ? '100000' : '1000000,100000';
  await runScript(ctx, ['--expose-gc'], 'pipeline.bench.ts', ['--rows', rowsArg, '--json', out]);
  const data = JSON.parse(readFileSync(out, 'utf8')) as { results: PipelineRow[] };
  for (const r of data.results)
    ctx.log(
      `  ${int(r.rows)} rows: pipeline ${int(r.pipeline.rowsPerSec)} rows/s, csv-parser ${int(r.baseline.rowsPerSec)} rows/s (medians of ${r.passes}) → ${pct(100 * r.ratio)}; RSS +${mb(r.pipeline.rssGrowthMB)}`,
    );
  const checks = data.results.flatMap((r) => [
    check(`pipeline ${int(r.rows)} rows vs csv-parser (one process)`, 100 * r.ratio, '>=', 100, percent, points),
    check(
      `pipeline ${int(r.rows)} rows: RSS growth beyond csv-parser's`,
      r.pipeline.rssGrowthMB - r.baseline.rssGrowthMB,
      '<=',
      30,
      (v) => `${v.toFixed(1)} MB`,
    ),
  ]);
  const ceiling = await modelCeiling(300_000, SCORE_BATCH_ROWS);
  ctx.log(
    `  ceiling: the model alone scores ${int(ceiling.rowsPerSec)} rows/s in batches of ${int(ceiling.batch)}; the pipeline reached ${data.results.map((r) => pct((100 * r.pipeline.rowsPerSec) / ceiling.rowsPerSec)).join(' and ')} of it`,
  );
  let profile: SectionResult['profile'];
  if (ctx.profile === 'always' || (ctx.profile === 'missed' && checks.some((c) => !c.ok))) {
    // No server here: the bench process itself is what is profiled, on the largest size.
    const dir = mkdtempSync(path.join(ctx.tmp, 'prof-'));
    const largest = String(Math.max(...data.results.map((r) => r.rows)));
    ctx.log(`  profiling pipeline.bench.ts --rows ${largest}`);
    const json = path.join(dir, 'phases.json');
    await runScript(ctx, ['--expose-gc', '--cpu-prof', `--cpu-prof-dir=${dir}`], 'pipeline.bench.ts', [
      '--rows',
      largest,
      '--passes',
      '1',
      '--json',
      json,
    ]);
    const phase = (JSON.parse(readFileSync(json, 'utf8')) as { results: PipelineRow[] }).results[0]?.pipeline.window_us;
    profile = {
      during: `pipeline.bench.ts --rows ${largest}, the scoring phase only`,
      summaries: keepProfiles(ctx, 'pipeline', dir, phase),
    };
  }
  const range = (xs: number[]): string => `${pct(100 * Math.min(...xs))}–${pct(100 * Math.max(...xs))}`;
  const markdown = [
    `\`bench/pipeline.bench.ts --rows ${rowsArg}\`: the scoring pipeline as \`driftline score\` runs it (parse, validate, batch, model, CSV out to /dev/null; no log, no sketches) against csv-parser alone on the same generated file, in one process per size. After an untimed run of each, the two alternate for ${data.results[0]?.passes ?? '?'} passes each; rows/s are medians and the ratio is of the medians (pass by pass in brackets). RSS growth is the highest peak of any run of a side over RSS just before its first run, after a forced collection; from there V8 regrows its young generation for csv-parser alone as much as for the pipeline, so the target is on the difference.`,
    '',
    table(
      [
        'rows',
        'file',
        'pipeline rows/s',
        'csv-parser rows/s',
        'pipeline / csv-parser',
        'pipeline RSS growth',
        'csv-parser RSS growth',
        'difference',
        'model runs',
      ],
      data.results.map((r) => [
        int(r.rows),
        mb(r.file_mb),
        int(r.pipeline.rowsPerSec),
        int(r.baseline.rowsPerSec),
        `${pct(100 * r.ratio)} [${range(r.pair_ratios)}]`,
        mb(r.pipeline.rssGrowthMB),
        mb(r.baseline.rssGrowthMB),
        mb(r.pipeline.rssGrowthMB - r.baseline.rssGrowthMB),
        int(r.model_runs),
      ]),
    ),
    '',
    `**The ceiling.** The model alone, in one worker thread with nothing else running, scores ${int(ceiling.rowsPerSec)} rows/s of these rows in batches of ${int(ceiling.batch)} (${ceiling.usPerRow.toFixed(2)} µs a row). The pipeline reached ${data.results.map((r) => `${pct((100 * r.pipeline.rowsPerSec) / ceiling.rowsPerSec)} of it at ${int(r.rows)} rows`).join(' and ')}. Where csv-parser alone parses faster than that, scoring a file cannot cost less than csv-parser reading it: the model, not the parsing, sets the pace.`,
  ].join('\n');
  return { name: 'pipeline', data: { ...data, ceiling }, checks, markdown, ...(profile === undefined ? {} : { profile }) };
}
