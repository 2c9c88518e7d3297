// Whether retention on the PostgreSQL log stalls appends: a writer appends batches one at a
// time (each awaited: the latency a client waits for) while, in the second half of the run,
// another log prunes the backlog to `--keep` rows as the leader would. Prints the append
// latency for `--duration` seconds without pruning, then for as long as the prune runs.
//
//   node --import=tsx bench/pg-retention.ts [--backlog 4000] [--rows 64] [--keep 10000] [--duration 3]
//
// Starts its own throwaway PostgreSQL (fsync off, as the tests).
import type { AppendItem } from '../src/store/log-protocol.js';
import { PgPredictionLog } from '../src/store/pg/index.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { arg, quantile } from './util.js';

const BACKLOG = Number(arg('backlog') ?? 4000);
const ROWS = Number(arg('rows') ?? 64);
const KEEP = Number(arg('keep') ?? 10_000);
const SECONDS = Number(arg('duration') ?? 3);
const RULES = { decisionThreshold: 0.5, risk: { high: 0.75, medium: 0.5 } };
const N_FEATURES = 23;

function batch(): AppendItem {
  return {
    ts: Date.now(),
    requestId: 'bench',
    modelVersion: 'v1',
    nFeatures: N_FEATURES,
    rows: ROWS,
    features: new Float32Array(ROWS * N_FEATURES).map(() => Math.random()),
    probabilities: new Float32Array(ROWS).map(() => Math.random()),
    rowIndex: Int32Array.from({ length: ROWS }, (_, i) => i),
    targets: new Float64Array(ROWS).fill(Number.NaN),
    extIds: null,
  };
}

async function appendWhile(log: PgPredictionLog, going: () => boolean, item: AppendItem): Promise<number[]> {
  const lat: number[] = [];
  while (going()) {
    const t0 = performance.now();
    await log.append(item);
    lat.push(performance.now() - t0);
  }
  return lat;
}

const fmt = (lat: number[]): string =>
  `${lat.length} appends, p50 ${quantile(lat, 0.5).toFixed(2)} ms, p95 ${quantile(lat, 0.95).toFixed(2)} ms, max ${Math.max(...lat).toFixed(2)} ms`;

async function main(): Promise<void> {
  const teardowns: (() => unknown)[] = [];
  const cluster = await startPostgres({ teardown: (f) => teardowns.push(f) });
  try {
    if (cluster.skip !== false) throw new Error(`PostgreSQL unavailable: ${cluster.skip}`);
    const url = await cluster.database('bench');
    const writer = await PgPredictionLog.open({ connectionString: url, ...RULES });
    const leader = await PgPredictionLog.open({ connectionString: url, ...RULES });
    const item = batch();
    // The backlog, appended in parallel so that group commit fills it quickly.
    for (let i = 0; i < BACKLOG; i += 256) await Promise.all(Array.from({ length: Math.min(256, BACKLOG - i) }, () => writer.append(item)));
    console.log(`backlog: ${BACKLOG} batches × ${ROWS} rows; keep ${KEEP} rows`);
    const quietEnd = performance.now() + SECONDS * 1000;
    const quiet = await appendWhile(writer, () => performance.now() < quietEnd, item);
    let pruneMs = 0;
    let deleted = 0;
    let done = false;
    const pruning = (async () => {
      const t0 = performance.now();
      deleted = await leader.prune(KEEP);
      pruneMs = performance.now() - t0;
      done = true;
    })();
    // Only the appends that overlap the prune.
    const busy = await appendWhile(writer, () => !done, item);
    await pruning;
    console.log(`without pruning: ${fmt(quiet)}`);
    console.log(`while pruning:   ${fmt(busy)}`);
    console.log(`prune: ${deleted} rows deleted in ${pruneMs.toFixed(0)} ms`);
    await writer.close();
    await leader.close();
  } finally {
    for (const f of teardowns) await f();
  }
}

await main();
