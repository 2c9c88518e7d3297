// What the PostgreSQL log's ordering costs: appends through the log (positions drawn from the
// locked log_head row, so append transactions run one at a time in the cluster) raced against
// the same inserts with positions from a sequence (writers in parallel, but followers can skip
// a batch that commits late), on the same load, in the same run.
//
//   node --import=tsx bench/pg-log-order.ts [--replicas 3] [--group 8] [--rows 64] [--duration 5]
//
// Each replica is one connection committing groups of `group` batches of `rows` rows as fast
// as it can (group commit at its busiest). Starts its own throwaway PostgreSQL (as the tests
// do: fsync off, so the figures are the engine's work, not the disk's flush).
import pg from 'pg';
import type { AppendItem } from '../src/store/log-protocol.js';
import { PgPredictionLog, writeBatches } from '../src/store/pg/index.js';
import { types } from '../src/store/pg/batch.js';
import * as sql from '../src/store/pg/sql.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { arg } from './util.js';

const REPLICAS = Number(arg('replicas') ?? 3);
const GROUP = Number(arg('group') ?? 8);
const ROWS = Number(arg('rows') ?? 64);
const SECONDS = Number(arg('duration') ?? 5);
const RULES = { decisionThreshold: 0.5, risk: { high: 0.75, medium: 0.5 } };
const N_FEATURES = 23;

function batch(): AppendItem {
  const targets = new Float64Array(ROWS).fill(Number.NaN);
  return {
    ts: Date.now(),
    requestId: 'bench',
    modelVersion: 'v1',
    nFeatures: N_FEATURES,
    rows: ROWS,
    features: new Float32Array(ROWS * N_FEATURES).map(() => Math.random()),
    probabilities: new Float32Array(ROWS).map(() => Math.random()),
    rowIndex: Int32Array.from({ length: ROWS }, (_, i) => i),
    targets,
    extIds: null,
  };
}

// Each claim reserves a block no group can overflow (≤ 256 batches, ≤ 1e6 rows): distinct
// positions without the lock, as a sequence hands them out.
const SEQUENCE_CLAIM = `SELECT nextval('bench_pos') - $1 + 0 * $1 AS position, nextval('bench_id') - $2 + 0 * $2 AS next_id`;

async function run(url: string, scheme: 'ordered' | 'sequence'): Promise<{ groups: number; rows: number; perSecond: number }> {
  const setup = await PgPredictionLog.open({ connectionString: url, ...RULES });
  await setup.close();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query('TRUNCATE prediction_batches; UPDATE log_head SET position = 0, next_id = 1');
  await admin.query(
    'DROP SEQUENCE IF EXISTS bench_pos; DROP SEQUENCE IF EXISTS bench_id; CREATE SEQUENCE bench_pos INCREMENT 1000; CREATE SEQUENCE bench_id INCREMENT 1000000',
  );
  await admin.end();
  const items = Array.from({ length: GROUP }, batch);
  const end = performance.now() + SECONDS * 1000;
  let groups = 0;
  await Promise.all(
    Array.from({ length: REPLICAS }, async () => {
      const c = new pg.Client({ connectionString: url, types });
      await c.connect();
      const target: pg.ClientBase =
        scheme === 'ordered'
          ? c
          : Object.assign(Object.create(c) as pg.Client, {
              query: (text: string, params: unknown[]) => c.query(text === sql.CLAIM ? SEQUENCE_CLAIM : text, params),
            });
      while (performance.now() < end) {
        await c.query('BEGIN');
        await writeBatches(target, items, RULES);
        await c.query('COMMIT');
        groups++;
      }
      await c.end();
    }),
  );
  return { groups, rows: groups * GROUP * ROWS, perSecond: (groups * GROUP * ROWS) / SECONDS };
}

async function main(): Promise<void> {
  const teardowns: (() => unknown)[] = [];
  const cluster = await startPostgres({ teardown: (f) => teardowns.push(f) });
  try {
    if (cluster.skip !== false) throw new Error(`PostgreSQL unavailable: ${cluster.skip}`);
    const url = await cluster.database('bench');
    console.log(`${REPLICAS} writers, groups of ${GROUP} batches × ${ROWS} rows, ${SECONDS} s each`);
    const seq = await run(url, 'sequence');
    const ord = await run(url, 'ordered');
    console.log(`sequence positions (may skip): ${seq.groups} groups, ${Math.round(seq.perSecond)} rows/s`);
    console.log(`ordered positions (log_head):  ${ord.groups} groups, ${Math.round(ord.perSecond)} rows/s`);
    console.log(`ordered / sequence: ${(ord.perSecond / seq.perSecond).toFixed(2)}`);
  } finally {
    for (const f of teardowns) await f();
  }
}

await main();
