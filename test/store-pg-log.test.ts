// The prediction log on PostgreSQL (src/store/pg), against a real server this file starts.
import t from 'tap';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  FOLLOWER_APP,
  PgPredictionLog,
  WRITER_APP,
  SCHEMA_VERSION,
  schemaVersion,
  writeBatches,
  type CommittedBatch,
} from '../src/store/pg/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PredictionLog } from '../src/store/index.js';
import { startPostgres } from './helpers/postgres.js';
import { until } from './helpers/until.js';
import { RULES, batch } from './helpers/pg-log.js';

const cluster = await startPostgres(t);
const skip = cluster.skip;
if (cluster.skip === false) t.comment(`PostgreSQL cluster: ready in ${cluster.startMs} ms`);

type Teardown = { teardown(fn: () => unknown): void };

async function freshDb(): Promise<string> {
  if (cluster.skip !== false) throw new Error('no PostgreSQL');
  return cluster.database();
}

async function openLog(t: Teardown, url: string): Promise<PgPredictionLog> {
  const log = await PgPredictionLog.open({ connectionString: url, ...RULES });
  t.teardown(() => log.close());
  return log;
}

async function client(t: Teardown, url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  t.teardown(() => c.end().catch(() => undefined));
  return c;
}

t.test(
  'migrations: an empty database reaches the newest version; re-opening keeps it and the rows; replicas opening at once migrate once',
  { skip, timeout: 20_000 },
  async (t) => {
    const url = await freshDb();
    const c = await client(t, url);
    t.equal(await schemaVersion(c), 0, 'empty database: version 0');
    // Three replicas start together on the empty database: one migrates, the others wait for it.
    const logs = await Promise.all([0, 1, 2].map(() => PgPredictionLog.open({ connectionString: url, ...RULES })));
    t.equal(await schemaVersion(c), SCHEMA_VERSION);
    await logs[0]!.append(batch(1));
    await Promise.all(logs.map((l) => l.close()));
    const again = await openLog(t, url);
    t.equal(await schemaVersion(c), SCHEMA_VERSION, 're-open: same version');
    t.equal(await again.count(), 3, 're-open: rows kept');
    t.equal((await again.append(batch(2))).position, 2, 'positions go on where they stopped');
  },
);

t.test(
  'append: waiting batches share a transaction; each gets the next position and contiguous row ids; resolved only once visible',
  { skip, timeout: 20_000 },
  async (t) => {
    const url = await freshDb();
    const log = await openLog(t, url);
    const other = await client(t, url);
    const visible: boolean[] = [];
    const n = 60;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        log.append(batch(i, 1 + (i % 4))).then(async (r) => {
          // Another connection sees the batch the moment its append resolves.
          const seen = await other.query('SELECT 1 FROM prediction_batches WHERE position = $1', [r.position]);
          visible.push(seen.rowCount === 1);
          return r;
        }),
      ),
    );
    t.same(
      results.map((r) => r.position),
      Array.from({ length: n }, (_, i) => i + 1),
      'positions 1…n in append order',
    );
    let next = 1;
    const starts = results.map((r) => {
      const expected = next;
      next += r.count;
      return r.first - expected;
    });
    t.ok(
      starts.every((d) => d === 0),
      'each batch starts at the row id where the one before ended',
    );
    t.ok(visible.every(Boolean), 'every batch visible to another connection when acknowledged');
    const tx = await other.query<{ n: string }>('SELECT count(DISTINCT xmin::text)::text AS n FROM prediction_batches');
    t.ok(Number(tx.rows[0]!.n) < n, `group commit: ${n} batches in ${tx.rows[0]!.n} transactions`);
    t.equal((await log.append(batch(99, 0))).position, null, 'an empty batch takes no position');
    t.equal(await log.head(), n);
  },
);

/**
 * Four writers on their own connections append concurrently, holding some transactions open
 * after drawing their position; one follower reads "everything above my position" as often as
 * it can. `scheme` says how positions are drawn: through the log (writeBatches) or from a
 * plain sequence (the trap). Returns the positions committed and those the follower saw, in
 * the order it saw them.
 */
async function race(t: Teardown, url: string, scheme: 'log' | 'sequence'): Promise<{ committed: number[]; seen: number[]; ms: number }> {
  const WRITERS = 4;
  const EACH = 12;
  if (scheme === 'sequence') {
    const c = await client(t, url);
    await c.query('CREATE TABLE IF NOT EXISTS naive_batches (position BIGSERIAL PRIMARY KEY, payload BYTEA NOT NULL)');
  }
  const committed: number[] = [];
  const seen: number[] = [];
  let done = false;
  const reader = await client(t, url);
  const table = scheme === 'log' ? 'prediction_batches' : 'naive_batches';
  // The follower of the trap, for both schemes: above the last position seen, in order.
  const follow = (async () => {
    let last = 0;
    for (;;) {
      const finished = done;
      const r = await reader.query<{ position: string }>(`SELECT position FROM ${table} WHERE position > $1 ORDER BY position`, [last]);
      for (const row of r.rows) {
        seen.push(Number(row.position));
        last = Number(row.position);
      }
      if (finished) return;
      await sleep(1);
    }
  })();
  const began = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      const c = await client(t, url);
      for (let k = 0; k < EACH; k++) {
        await c.query('BEGIN');
        let position: number;
        if (scheme === 'log') position = (await writeBatches(c, [batch(w * 100 + k)], RULES))[0]!.position!;
        else
          position = Number(
            (await c.query<{ position: string }>('INSERT INTO naive_batches (payload) VALUES ($1) RETURNING position', [Buffer.alloc(16)]))
              .rows[0]!.position,
          );
        // Writer 0 holds every transaction open a while after drawing its position (a slow
        // client, a GC pause); the others commit at once or nearly.
        if (w === 0) await c.query('SELECT pg_sleep(0.03)');
        else if (k % 3 === 0) await sleep(2);
        await c.query('COMMIT');
        committed.push(position);
        // Paced so that the quick writers keep committing all through writer 0's run.
        if (w !== 0) await sleep(20);
      }
    }),
  );
  const ms = performance.now() - began;
  done = true;
  await follow;
  committed.sort((a, b) => a - b);
  return { committed, seen, ms };
}

t.test(
  'ordering: concurrent writers with transactions held open; a follower reading above its position sees every batch once, in order — and with sequence positions it skips',
  { skip, timeout: 30_000 },
  async (t) => {
    const url = await freshDb();
    await openLog(t, url); // migrates
    const ordered = await race(t, url, 'log');
    t.equal(ordered.committed.length, 48);
    t.same(ordered.seen, ordered.committed, 'log positions: every committed batch seen exactly once, in position order');
    t.same(
      ordered.committed,
      Array.from({ length: 48 }, (_, i) => i + 1),
      'no gaps',
    );

    const naive = await race(t, url, 'sequence');
    const skipped = naive.committed.filter((p) => !naive.seen.includes(p));
    t.ok(
      skipped.length > 0,
      `sequence positions: the same follower skipped ${skipped.length} of ${naive.committed.length} committed batches (the trap is real)`,
    );
    t.comment(
      `held-open load (one writer sleeping 30 ms in each transaction): ordered ${ordered.ms.toFixed(0)} ms, sequence ${naive.ms.toFixed(0)} ms — a held-open append transaction stalls every writer in the cluster`,
    );
  },
);

t.test(
  'follow: the log delivers every batch once, in order, own appends included; a follower started late catches up, then goes on; removed batches are reported as gaps',
  { skip, timeout: 20_000 },
  async (t) => {
    const url = await freshDb();
    const log = await openLog(t, url);
    for (let i = 1; i <= 30; i++) await log.append(batch(i));
    const early: CommittedBatch[] = [];
    const late: CommittedBatch[] = [];
    await log.follow(0, (b) => void early.push(b), { pollMs: 50 });
    t.equal(early.length, 30, 'follow() resolves once caught up');
    const f = await log.follow(10, (b) => void late.push(b), { pollMs: 50 });
    t.same(
      late.map((b) => b.position),
      Array.from({ length: 20 }, (_, i) => i + 11),
      'from 11 on',
    );
    t.equal(late[0]!.features[0], 11, 'values decoded');
    t.same(Array.from(late[0]!.rowIndex), [0, 1, 2]);
    t.equal(late[0]!.first, 31, 'row ids of batch 11');
    await Promise.all(Array.from({ length: 10 }, (_, i) => log.append(batch(31 + i))));
    await until('both followers to reach position 40', () => late.length === 30 && early.length === 40, 10_000);
    t.same(
      late.map((b) => b.position),
      Array.from({ length: 30 }, (_, i) => i + 11),
    );
    t.same(
      early.map((b) => b.position),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    t.equal(f.position, 40);

    // Removed batches (as retention will remove them) are told, never passed over in silence.
    const admin = await client(t, url);
    await admin.query('DELETE FROM prediction_batches WHERE position <= 5 OR position = 20');
    const gaps: [number, number][] = [];
    const after: number[] = [];
    await log.follow(0, (b) => void after.push(b.position), { pollMs: 50, onGap: (last, next) => void gaps.push([last, next]) });
    t.same(
      gaps,
      [
        [0, 6],
        [19, 21],
      ],
      'each gap reported with the last position delivered and the next one',
    );
    t.equal(after.length, 34, 'delivery goes on after a gap');
  },
);

t.test('follow: NOTIFY wakes a follower (polling off); wake-up latency measured', { skip, timeout: 20_000 }, async (t) => {
  const url = await freshDb();
  const log = await openLog(t, url);
  const arrived = new Map<number, number>();
  // A poll every 10 minutes: anything delivered within the test came through NOTIFY.
  await log.follow(0, (b) => void arrived.set(b.position, performance.now()), { pollMs: 600_000 });
  const lags: number[] = [];
  for (let i = 1; i <= 20; i++) {
    const r = await log.append(batch(i));
    const committed = performance.now();
    await until(`batch ${i} to arrive`, () => arrived.has(r.position!), 5_000);
    lags.push(arrived.get(r.position!)! - committed);
  }
  lags.sort((a, b) => a - b);
  const p50 = lags[10]!;
  const p95 = lags[18]!;
  t.comment(
    `NOTIFY wake-up, commit acknowledged → follower callback: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${lags[19]!.toFixed(1)} ms`,
  );
  // Generous: a loaded 2-core machine; the point is that it is not the 10-minute poll.
  t.ok(p95 < 2_000, 'woken by NOTIFY, not by polling');
});

t.test(
  'follow: polling alone delivers everything when NOTIFY is not heard — no LISTEN, or the listening connection killed',
  { skip, timeout: 20_000 },
  async (t) => {
    const url = await freshDb();
    const log = await openLog(t, url);
    const polled: number[] = [];
    const poller = await log.follow(0, (b) => void polled.push(b.position), { listen: false, pollMs: 100 });
    for (let i = 1; i <= 5; i++) await log.append(batch(i));
    await until('the polling follower', () => polled.length === 5, 5_000);
    t.same(polled, [1, 2, 3, 4, 5], 'without LISTEN: polled, in order');
    await poller.close();

    // A listening follower whose connection dies: notifications sent meanwhile are lost; it
    // reconnects at the next poll and reads from its position, skipping nothing.
    const heard: number[] = [];
    const errors: string[] = [];
    await log.follow(5, (b) => void heard.push(b.position), { pollMs: 100, onError: (e) => errors.push(e.message) });
    const admin = await client(t, url);
    const killed = await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
      [FOLLOWER_APP],
    );
    t.equal(killed.rowCount, 1, 'the listening connection terminated');
    for (let i = 6; i <= 10; i++) await log.append(batch(i));
    await until('the follower to reconnect and catch up', () => heard.length === 5, 10_000);
    t.same(heard, [6, 7, 8, 9, 10], 'caught up after the connection came back, in order, none twice');
    t.ok(errors.length > 0, 'the lost connection was reported');
  },
);

t.test(
  'append: the writer connection killed — the next append opens a new one; every acknowledged batch is in the log, in order',
  { skip, timeout: 20_000 },
  async (t) => {
    const url = await freshDb();
    const log = await openLog(t, url);
    const admin = await client(t, url);
    const acked: number[] = [];
    let rejected = 0;
    for (let round = 0; round < 3; round++) {
      await log.append(batch(round * 10)).then((r) => acked.push(r.position!));
      const killed = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [WRITER_APP]);
      t.equal(killed.rowCount, 1, `round ${round}: the writer's connection terminated`);
      // The first append after may still meet the dead connection (it is rejected, never
      // acknowledged); the writer must then come back on its own.
      for (let k = 1; k <= 3; k++) {
        await log.append(batch(round * 10 + k)).then(
          (r) => void acked.push(r.position!),
          () => void rejected++,
        );
      }
    }
    t.ok(rejected <= 3, `${rejected} append(s) rejected, at most one per kill`);
    t.equal(acked.length, 12 - rejected);
    const inLog = await admin.query<{ position: string }>('SELECT position FROM prediction_batches ORDER BY position');
    t.same(
      inLog.rows.map((r) => Number(r.position)),
      acked,
      'exactly the acknowledged batches, in acknowledgement order, no gaps',
    );
  },
);

t.test(
  'tail(n) gives the newest rows oldest first, labels applied, and the position to follow from; label() ignores ids not in the log',
  { skip, timeout: 20_000 },
  async (t) => {
    const url = await freshDb();
    const log = await openLog(t, url);
    t.same(await log.tail(5), { rows: [], position: 0, labelSeq: 0 }, 'empty log');
    await log.append(batch(1)); // ids 1–3
    await log.append({ ...batch(2), targets: new Float64Array([1, Number.NaN, 0]) }); // ids 4–6
    await log.append(batch(3)); // ids 7–9
    t.equal(await log.label([5, 8, 999], [1, 0, 1]), 2, 'two ids in the log labelled, 999 ignored');
    const { rows, position } = await log.tail(5);
    t.equal(position, 3);
    t.same(
      rows.map((r) => r.id),
      [5, 6, 7, 8, 9],
      'oldest first',
    );
    t.same(
      rows.map((r) => r.target),
      [1, 0, Number.NaN, 0, Number.NaN],
      'uploaded labels, feedback over them',
    );
    t.same(Array.from(rows[2]!.features), [3, 0]);
    t.equal(await log.count(), 9);
  },
);

t.test(
  'feedback lookups: log ids by (request, row) and by user id, the newest row for an id sent twice',
  { skip, timeout: 20_000 },
  async (t) => {
    const url = await freshDb();
    const log = await openLog(t, url);
    await log.append({ ...batch(1, 3, 'req-a'), extIds: ['u1', null, 'u2'] }); // ids 1–3
    const b = batch(2, 2, 'req-b');
    b.rowIndex.set([7, 8]);
    await log.append({ ...b, extIds: ['u1', 'u3'] }); // ids 4–5
    const byRow = await log.findByRequestRow([
      { requestId: 'req-a', row: 2 },
      { requestId: 'req-b', row: 8 },
      { requestId: 'req-b', row: 0 },
      { requestId: 'nope', row: 0 },
    ]);
    t.same(
      byRow,
      new Map([
        ['req-a#2', 3],
        ['req-b#8', 5],
      ]),
    );
    t.same(
      await log.findByExtId(['u1', 'u2', 'zz']),
      new Map([
        ['u1', 4],
        ['u2', 3],
      ]),
    );
    t.equal(await log.label([byRow.get('req-b#8')!], [1]), 1);
    t.equal((await log.tail(1)).rows[0]!.target, 1, 'the label reaches the row found');
  },
);

t.test(
  'recent and page read the same rows as the SQLite log from the same batches (labels, rules, ext ids, page edges)',
  { skip, timeout: 30_000 },
  async (t) => {
    const url = await freshDb();
    const pgLog = await openLog(t, url);
    const dir = mkdtempSync(path.join(tmpdir(), 'driftline-pg-sqlite-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const sqlite = await PredictionLog.open({
      file: path.join(dir, 'driftline.db'),
      retentionRows: 1_000_000,
      decisionThreshold: RULES.decisionThreshold,
      risk: RULES.risk,
    });
    t.teardown(() => sqlite.close());
    const items = [
      batch(1, 5),
      { ...batch(2, 3, 'req-x'), targets: new Float64Array([1, Number.NaN, 0]), extIds: ['a', null, 'b'] },
      batch(3, 1),
      batch(4, 7),
    ];
    for (const it of items) {
      await pgLog.append(it);
      await sqlite.append(it);
    }
    t.equal(await pgLog.label([2, 7, 15], [1, 1, 0]), 3);
    t.equal(await sqlite.label([2, 7, 15], [1, 1, 0]), 3);
    for (const limit of [1, 3, 9, 16, 100]) t.same(await pgLog.recent(limit), sqlite.recent(limit), `recent(${limit})`);
    for (const [after, limit] of [
      [0, 100],
      [0, 4],
      [4, 3],
      [5, 1],
      [8, 5],
      [15, 10],
      [16, 10],
    ] as const) {
      t.same(await pgLog.page(after, limit), sqlite.page(after, limit), `page(${after}, ${limit})`);
    }
    t.equal((await pgLog.recent(100)).length, 16, 'every row');
  },
);
