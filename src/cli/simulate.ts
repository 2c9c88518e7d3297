// `driftline simulate`: synthetic traffic for a running service (or a sample CSV with --out).
// Rows come from the model's reference profile, so no data file is needed.
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { readProfile } from '../drift/index.js';
import { DriftlineError } from '../errors.js';
import { CARD_FILE, readModelCard } from '../model/index.js';
import {
  describeScenarios,
  parseDuration,
  parseDurationRange,
  parseIntRange,
  postCsv,
  predictUrl,
  runTraffic,
  TrafficGenerator,
  type TrafficTotals,
} from '../sim/index.js';

export interface SimulateOptions {
  url: string;
  rowsPerRequest: string;
  interval: string;
  drift?: string;
  duration?: string;
  requests?: string;
  apiKey?: string;
  seed?: string;
  model?: string;
  out?: string;
  rows?: string;
}

/** A generator for the model in `dir` (its card.json and reference.json). */
export function generatorFor(dir: string, seed: number, drift: string | undefined): TrafficGenerator {
  return new TrafficGenerator(readProfile(path.join(dir, 'reference.json')), readModelCard(path.join(dir, CARD_FILE)), { seed, drift });
}

function parseSeed(text: string | undefined): number {
  if (text === undefined) return randomInt(2 ** 31);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new DriftlineError('DL_ERR_CONFIG', `--seed must be a non-negative integer, not ${JSON.stringify(text)}`);
  return n;
}

export async function simulate(
  o: SimulateOptions,
  io: { stdout: Writable; stderr: Writable } = process,
  signal?: AbortSignal,
): Promise<TrafficTotals | null> {
  const config = loadConfig();
  const seed = parseSeed(o.seed);
  const gen = generatorFor(o.model ?? config.MODEL_DIR, seed, o.drift);
  if (o.out !== undefined) {
    const [rows] = parseIntRange(o.rows ?? '20', '--rows');
    writeFileSync(o.out, gen.csv(rows));
    io.stderr.write(`wrote ${rows} rows to ${o.out} (seed ${seed}, drift ${describeScenarios(gen.scenarios)})\n`);
    return null;
  }
  const url = predictUrl(o.url);
  const rowsPerRequest = parseIntRange(o.rowsPerRequest, '--rows-per-request');
  const intervalMs = parseDurationRange(o.interval, '--interval');
  const durationMs = o.duration === undefined ? undefined : parseDuration(o.duration);
  const maxRequests = o.requests === undefined ? undefined : parseIntRange(o.requests, '--requests')[0];
  const apiKey = o.apiKey ?? config.API_KEY;
  io.stderr.write(
    `simulating traffic to ${url.href}: ${rowsPerRequest.join('-')} rows every ${intervalMs.map((m) => m / 1000).join('-')} s, drift ${describeScenarios(gen.scenarios)}, seed ${seed}\n`,
  );
  const totals = await runTraffic({
    generator: gen,
    send: (csv) => postCsv(url, csv, { apiKey, signal }),
    rowsPerRequest,
    intervalMs,
    durationMs,
    maxRequests,
    signal,
    onRequest: (r) => {
      const t = new Date().toISOString().slice(11, 19);
      io.stdout.write(
        r.status === 200
          ? `${t} #${r.seq} ${r.rows} rows → 200: ${r.n_rows} predicted, ${r.n_rejected} rejected\n`
          : `${t} #${r.seq} ${r.rows} rows → ${r.status === 0 ? 'no response' : r.status}: ${r.error ?? ''}\n`,
      );
    },
  });
  io.stderr.write(
    `sent ${totals.requests} requests, ${totals.rows_sent} rows: ${totals.rows_predicted} predicted, ${totals.rows_rejected} rejected, ${totals.failures} failed requests\n`,
  );
  return totals;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('send synthetic rows drawn from the reference profile to /predict, optionally drifted (or write a sample CSV with --out)')
    .option('--url <url>', 'the service', 'http://127.0.0.1:8000')
    .option('--rows-per-request <n|lo-hi>', 'rows per request, drawn uniformly from the range', '1-5')
    .option('--interval <duration|lo-hi>', 'pause between requests (e.g. 2-8s, 500ms, 0)', '2-8s')
    .option('--drift <scenario>', 'shift features: age+8, credit_limit*1.5, age-3; ramp in with @10m; join with commas')
    .option('--duration <duration>', 'stop after this long (e.g. 90s, 10m)')
    .option('--requests <n>', 'stop after this many requests')
    .option('--api-key <key>', 'sent as Authorization: Bearer (default: API_KEY)')
    .option('--seed <n>', 'seed of the row generator (default: random, printed)')
    .option('--model <dir>', 'model directory with card.json and reference.json (default: MODEL_DIR)')
    .option('--out <file>', 'write a sample CSV instead of sending traffic')
    .option('--rows <n>', 'rows in the --out file', '20')
    .action(async (o: SimulateOptions) => {
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const totals = await simulate(o, process, ac.signal);
        if (totals !== null && totals.requests > 0 && totals.failures === totals.requests) process.exitCode = 1;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
