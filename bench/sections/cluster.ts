// N replicas on one throwaway PostgreSQL (docs/scale-out.md), each in its own process, against
// one SQLite node in the same run. The same closed-loop load drives both: `clients` uploads in
// flight from 127.0.0.1, each client sending its next upload to the next replica in turn,
// bounded by the step's duration and by a count of uploads. Reported: cluster and per-replica
// rows/s, p50/p99 upload latency, and the follow lag: from an upload's acknowledgement until
// every replica's window holds it.
//
//   npm run bench -- --cluster [--replicas 3] [--clients 6] [--upload-rows 200] [--max-uploads 2000] [--duration 10]
//
// Follow lag is measured from outside, without instrumenting the service: a poller reads the
// log's head (`log_head.next_id`, the rows committed so far) and then every replica's
// `window_rows` every POLL_MS. A window holds a prefix of the log, so once every window holds
// as many rows as the head showed, every upload acknowledged before that head was read is in
// every window. An upload's lag is therefore measured to the first poll whose head read came
// after its acknowledgement and whose windows all reached that head: an upper bound, coarse by
// about one poll interval. Each poll makes every replica compute a snapshot, so the poller is
// part of the load; the SQLite node is polled the same way, so both carry it.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startPostgres } from '../../test/helpers/postgres.js';
import { type Ctx, type SectionResult } from '../lib/context.js';
import { csvText } from '../lib/load.js';
import { fixed, int, ms, ratio, table } from '../lib/md.js';
import { startDriftline, type ServerHandle } from '../lib/server.js';
import { arg, quantile } from '../util.js';

const POLL_MS = 25;
// Every row stays in the window for the whole run, so window_rows counts the rows applied.
const WINDOW_ROWS = '10000000';

interface Upload {
  replica: number;
  rows: number;
  startMs: number;
  ackMs: number;
}

interface Drive {
  uploads: Upload[];
  failed: number;
  seconds: number;
}

/** Closed-loop clients, round-robin over `targets`, until `seconds` pass or `maxUploads` are sent. */
async function drive(targets: ServerHandle[], body: string, o: { clients: number; seconds: number; maxUploads: number }): Promise<Drive> {
  const uploads: Upload[] = [];
  let failed = 0;
  let issued = 0;
  let next = 0;
  const t0 = performance.now();
  const end = t0 + o.seconds * 1000;
  const client = async (): Promise<void> => {
    while (performance.now() < end && issued < o.maxUploads) {
      issued++;
      const replica = next++ % targets.length;
      const startMs = performance.now();
      const r = await fetch(`${targets[replica]!.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', accept: 'application/json' },
        body,
      });
      const answer = (await r.json()) as { n_rows?: number };
      if (r.status === 200) uploads.push({ replica, rows: answer.n_rows!, startMs, ackMs: performance.now() });
      else {
        failed++;
        await sleep(20);
      }
    }
  };
  await Promise.all(Array.from({ length: o.clients }, client));
  return { uploads, failed, seconds: (performance.now() - t0) / 1000 };
}

interface Poll {
  /** When the head was read. */
  headAtMs: number;
  head: number;
  /** When every window had been read. */
  doneMs: number;
  windows: number[];
}

async function windowRows(s: ServerHandle): Promise<number> {
  return ((await (await fetch(`${s.url}/api/drift`)).json()) as { window_rows: number }).window_rows;
}

/**
 * Polls the head and the windows until `stop()`, then until every window holds the last head.
 * Without a database (the SQLite node) it polls the window alone, so that both setups carry the
 * same polling load.
 */
function poller(url: string | undefined, replicas: ServerHandle[]): { stop(): Promise<Poll[]> } {
  const polls: Poll[] = [];
  // Only a poll that began after stop() was called can speak for the last acknowledgement.
  let stoppedAt = Number.POSITIVE_INFINITY;
  const client = url === undefined ? undefined : new pg.Client({ connectionString: url });
  const run = (async () => {
    await client?.connect();
    try {
      const drainBy = (): number => performance.now() + 30_000;
      let deadline = Number.POSITIVE_INFINITY;
      for (;;) {
        const headAtMs = performance.now();
        const head =
          client === undefined
            ? 0
            : Number((await client.query<{ rows: string }>('SELECT next_id - 1 AS rows FROM log_head')).rows[0]!.rows);
        const windows = await Promise.all(replicas.map(windowRows));
        polls.push({ headAtMs, head, doneMs: performance.now(), windows });
        if (headAtMs >= stoppedAt) {
          if (deadline === Number.POSITIVE_INFINITY) deadline = drainBy();
          if (windows.every((w) => w >= head) || performance.now() > deadline) return;
        }
        await sleep(POLL_MS);
      }
    } finally {
      await client?.end();
    }
  })();
  // A failed poll surfaces at stop(), not as an unhandled rejection mid-load.
  const outcome = run.then(
    () => undefined,
    (err: unknown) => err,
  );
  return {
    async stop() {
      stoppedAt = performance.now();
      const err = await outcome;
      if (err !== undefined) throw err;
      return polls;
    },
  };
}

/** Each upload's follow lag (ms), from the polls; NaN for one no poll saw everywhere. */
function followLags(uploads: Upload[], polls: Poll[]): number[] {
  return uploads.map((u) => {
    const p = polls.find((p) => p.headAtMs >= u.ackMs && p.windows.every((w) => w >= p.head));
    return p === undefined ? Number.NaN : p.doneMs - u.ackMs;
  });
}

export interface ClusterRow {
  setup: string;
  replicas: number;
  uploads: number;
  failed: number;
  rows: number;
  seconds: number;
  rowsPerSec: number;
  perReplicaRowsPerSec: number[];
  p50Ms: number;
  p99Ms: number;
  followP50Ms?: number;
  followP99Ms?: number;
  followMaxMs?: number;
}

function summarise(setup: string, n: number, d: Drive): ClusterRow {
  const rows = d.uploads.reduce((a, u) => a + u.rows, 0);
  const lat = d.uploads.map((u) => u.ackMs - u.startMs);
  return {
    setup,
    replicas: n,
    uploads: d.uploads.length,
    failed: d.failed,
    rows,
    seconds: d.seconds,
    rowsPerSec: rows / d.seconds,
    perReplicaRowsPerSec: Array.from(
      { length: n },
      (_, i) => d.uploads.filter((u) => u.replica === i).reduce((a, u) => a + u.rows, 0) / d.seconds,
    ),
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
  };
}

export async function cluster(ctx: Ctx): Promise<SectionResult> {
  const n = Number(arg('replicas') ?? 3);
  const clients = Number(arg('clients') ?? 2 * n);
  const uploadRows = Number(arg('upload-rows') ?? 200);
  const maxUploads = Number(arg('max-uploads') ?? 2000);
  for (const [name, v] of Object.entries({ replicas: n, clients, 'upload-rows': uploadRows, 'max-uploads': maxUploads }))
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`--${name} must be a positive integer`);
  const body = await csvText(uploadRows);
  const load = { clients, seconds: ctx.seconds, maxUploads };
  const warm = { clients, seconds: ctx.warmup, maxUploads: Math.max(1, Math.round(maxUploads / 10)) };
  ctx.log(
    `  ${n} replicas vs 1 SQLite node; ${clients} clients, ${uploadRows} rows per upload, ≤ ${maxUploads} uploads or ${ctx.seconds} s`,
  );

  const teardowns: (() => unknown)[] = [];
  const started: ServerHandle[] = [];
  try {
    // The baseline: one node on its embedded SQLite log, the same load.
    const single = await startDriftline(ctx.build, { env: { WINDOW_ROWS }, name: 'driftline (SQLite)' });
    started.push(single);
    if (ctx.warmup > 0) await drive([single], body, warm);
    const singlePolls = poller(undefined, [single]);
    const base = summarise('1 node, SQLite', 1, await drive([single], body, load));
    await singlePolls.stop();
    await single.stop();
    started.pop();
    ctx.log(`  SQLite: ${int(base.rowsPerSec)} rows/s, p99 ${ms(base.p99Ms)}`);

    const pgCluster = await startPostgres({ teardown: (f) => teardowns.push(f) });
    if (pgCluster.skip !== false) throw new Error(`PostgreSQL unavailable: ${pgCluster.skip}`);
    const url = await pgCluster.database('bench_cluster');
    // One at a time: the first migrates the new database, the others find it done.
    const replicas: ServerHandle[] = [];
    for (let i = 0; i < n; i++) {
      const r = await startDriftline(ctx.build, {
        env: { DATABASE_URL: url, REPLICA_ID: `bench-${i + 1}`, WINDOW_ROWS },
        name: `driftline replica ${i + 1}`,
      });
      replicas.push(r);
      started.push(r);
    }
    // A build from before DATABASE_URL existed would ignore it and measure three SQLite nodes.
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    const migrated = (await check.query<{ t: string | null }>("SELECT to_regclass('log_head') AS t")).rows[0]!.t !== null;
    await check.end();
    if (!migrated)
      throw new Error(`the replicas did not open the log in PostgreSQL; is the server build (${ctx.build.how}) older than src/?`);
    if (ctx.warmup > 0) await drive(replicas, body, warm);
    const polls = poller(url, replicas);
    const measured = await drive(replicas, body, load);
    const lags = followLags(measured.uploads, await polls.stop());
    const seen = lags.filter((l) => Number.isFinite(l));
    const row: ClusterRow = {
      ...summarise(`${n} replicas, PostgreSQL`, n, measured),
      followP50Ms: quantile(seen, 0.5),
      followP99Ms: quantile(seen, 0.99),
      followMaxMs: seen.length === 0 ? Number.NaN : Math.max(...seen),
    };
    const unseen = lags.length - seen.length;
    ctx.log(
      `  cluster: ${int(row.rowsPerSec)} rows/s (${ratio(row.rowsPerSec / base.rowsPerSec)} the SQLite node), p99 ${ms(row.p99Ms)}, follow lag p99 ${ms(row.followP99Ms!)}${unseen > 0 ? `; ${unseen} upload(s) not yet in every window when polling gave up` : ''}`,
    );

    const rowsOf = (r: ClusterRow): (string | number)[] => [
      r.setup,
      int(r.uploads),
      int(r.failed),
      int(r.rowsPerSec),
      r.perReplicaRowsPerSec.map((v) => int(v)).join(' / '),
      ms(r.p50Ms),
      ms(r.p99Ms),
      r.followP50Ms === undefined ? '–' : `${ms(r.followP50Ms)} / ${ms(r.followP99Ms!)} / ${ms(r.followMaxMs!)}`,
    ];
    const markdown = [
      `${n} replicas on one PostgreSQL (each its own process) against one SQLite node, the same load: ${clients} closed-loop clients from 127.0.0.1, ${uploadRows} rows per upload, round-robin over the replicas, at most ${maxUploads} uploads or ${ctx.seconds} s. Follow lag: from an upload's acknowledgement until every replica's window holds it, an upper bound polled every ${POLL_MS} ms.`,
      '',
      table(
        ['setup<', 'uploads', 'refused', 'rows/s', 'rows/s per replica', 'p50', 'p99', 'follow lag p50 / p99 / max'],
        [rowsOf(base), rowsOf(row)],
      ),
      '',
      `Cluster / SQLite node: **${ratio(row.rowsPerSec / base.rowsPerSec)}** rows/s, p99 latency ${fixed(1)(row.p99Ms / base.p99Ms)}× the node's.${unseen > 0 ? ` ${unseen} upload(s) were not in every window when polling gave up (30 s after the load).` : ''}`,
    ].join('\n');
    return { name: 'cluster', data: { baseline: base, cluster: row, unseen }, checks: [], markdown };
  } finally {
    for (const s of started) await s.stop();
    for (const f of teardowns) await f();
  }
}
