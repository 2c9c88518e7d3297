// The benchmark suite: every figure beside a baseline measured in the same run.
//
//   npm run bench                               all sections, 10 s per load step (a few minutes)
//   npm run bench -- --quick                    smoke run, ~2 minutes
//   npm run bench -- --only small,live --duration 5
//   npm run bench -- --profile always|missed|never   (default: profile the server where a target is missed)
//   npm run bench -- --cluster [--replicas 3]   N replicas on a throwaway PostgreSQL vs one SQLite node
//
// Sections: small (POST /predict vs a bare uWS handler), bulk (100k/1M-row uploads vs
// csv-parser), batching (DYNAMIC_BATCHING on/off), live (200 WebSocket subscribers: ingest
// cost and delivery lag), drift (bench/drift.bench.ts), pipeline (bench/pipeline.bench.ts).
// cluster (bench/sections/cluster.ts) runs only when asked for (--cluster, or by name in --only):
// it needs PostgreSQL's binaries and starts a server per replica.
// Writes reports/bench/<date>.json and reports/bench/latest.md (+ latest.svg).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Ctx, SectionResult } from './lib/context.js';
import { ensureBuilt, ROOT } from './lib/server.js';
import { chartName, renderChart, renderMarkdown, type RunMeta } from './report.js';
import { batching } from './sections/batching.js';
import { cluster } from './sections/cluster.js';
import { bulk } from './sections/bulk.js';
import { drift, pipelineBench } from './sections/external.js';
import { live } from './sections/live.js';
import { small, TARGET_RATIO, type SmallRow } from './sections/small.js';
import { arg, flag, writeJson } from './util.js';

const SECTIONS: Record<string, (ctx: Ctx) => Promise<SectionResult>> = { small, bulk, batching, live, drift, pipeline: pipelineBench };
const ON_REQUEST: Record<string, (ctx: Ctx) => Promise<SectionResult>> = { cluster };
const ALL = { ...SECTIONS, ...ON_REQUEST };

function commit(): string {
  try {
    // --no-optional-locks: never take the index lock a colleague's git command may need.
    const git = (...a: string[]): string =>
      execFileSync('git', ['--no-optional-locks', ...a], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' with uncommitted changes' : ''}`;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const quick = flag('quick');
  const only = (arg('only') ?? (flag('cluster') ? 'cluster' : Object.keys(SECTIONS).join(',')))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = only.filter((s) => !(s in ALL));
  if (unknown.length > 0) throw new Error(`unknown section(s) ${unknown.join(', ')}; known: ${Object.keys(ALL).join(', ')}`);
  const seconds = Number(arg('duration') ?? (quick ? 2 : 10));
  if (!(seconds > 0)) throw new Error('--duration must be a positive number of seconds');
  const profile = (arg('profile') ?? 'missed') as Ctx['profile'];
  if (!['missed', 'always', 'never'].includes(profile)) throw new Error('--profile must be missed, always or never');

  const started = new Date();
  const stamp = started.toISOString().slice(0, 19).replace(/:/g, '-');
  const outDir = path.join(ROOT, 'reports', 'bench');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'dl-bench-'));
  const log = (line: string): void => console.log(line);
  const loadStart = os.loadavg();
  log(
    `driftline bench: ${only.join(', ')}; ${seconds} s per load step${quick ? ' (quick)' : ''}; node ${process.version}, ${os.cpus().length} CPUs, load ${loadStart.map((l) => l.toFixed(1)).join(' ')}`,
  );
  const build = ensureBuilt(log);
  log(`server: ${build.how}`);
  const ctx: Ctx = { quick, seconds, warmup: quick ? 0.5 : 2, build, profile, tmp, profilesDir: path.join(outDir, 'profiles', stamp), log };

  const results: SectionResult[] = [];
  const failed: { name: string; error: string }[] = [];
  try {
    for (const name of only) {
      log(`\n${name}`);
      const t0 = performance.now();
      try {
        const r = await ALL[name]!(ctx);
        results.push(r);
        for (const c of r.checks)
          log(`  ${c.ok ? 'ok    ' : 'MISSED'} ${c.name}: ${c.measured} (target ${c.target})${c.ok ? '' : `, ${c.miss}`}`);
        if (r.profile !== undefined)
          for (const s of r.profile.summaries)
            log(
              `  profile ${s.thread}: ${s.top
                .slice(0, 3)
                .map((t) => `${t.fn} ${t.pct.toFixed(0)}%`)
                .join(', ')}`,
            );
      } catch (err) {
        const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
        failed.push({ name, error });
        log(`  FAILED: ${error}`);
      }
      log(`  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  mkdirSync(outDir, { recursive: true });
  const jsonFile = path.join(outDir, `${stamp}.json`);
  const meta: RunMeta = {
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    startedAt: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    node: process.version,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.cpus().length,
    memGB: os.totalmem() / 2 ** 30,
    loadStart,
    loadEnd: os.loadavg(),
    commit: commit(),
    server: build.how,
    json: path.relative(ROOT, jsonFile),
  };
  writeJson(jsonFile, { meta, sections: results, failed });
  const smallRows = (results.find((r) => r.name === 'small')?.data as { rows?: SmallRow[] } | undefined)?.rows;
  const mdFile = path.join(outDir, 'latest.md');
  let chart: string | undefined;
  if (smallRows !== undefined && smallRows.length > 0) {
    writeFileSync(chartName(mdFile), renderChart(smallRows, TARGET_RATIO));
    chart = path.basename(chartName(mdFile));
  }
  writeFileSync(mdFile, renderMarkdown(meta, results, failed, chart));
  const missed = results.flatMap((r) => r.checks).filter((c) => !c.ok);
  log(
    `\nwrote ${path.relative(ROOT, mdFile)} and ${path.relative(ROOT, jsonFile)} in ${Math.round(meta.seconds)} s; ${missed.length} target(s) missed${failed.length > 0 ? `; ${failed.length} section(s) FAILED` : ''}`,
  );
  if (failed.length > 0) process.exitCode = 1;
}

await main();
