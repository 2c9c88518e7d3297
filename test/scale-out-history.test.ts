// Regression: with DATABASE_URL, the drift history stayed in each replica's local SQLite file,
// every replica wrote its own, and /api/drift/history answered differently depending on which
// replica the load balancer picked. Now the history is in PostgreSQL, written by the leader
// only (one point per DRIFT_HISTORY_MS for the cluster), and read by every replica.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { DriftHistory, openDatabase, type HistoryPoint } from '../src/store/index.js';
import { LEADER_LOCK, PgDriftHistory } from '../src/store/pg/index.js';
import { sampleCsv } from './helpers/fixtures.js';
import { startPostgres } from './helpers/postgres.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { until } from './helpers/until.js';

const cluster = await startPostgres(t);
const skip = cluster.skip;

const point = (i: number): HistoryPoint => ({
  // Two points share each timestamp, so paging must order by (ts, id), not ts alone.
  at: 1_000_000 + Math.floor(i / 2),
  window_rows: i,
  share_drifted: (i % 7) / 8,
  drift: i % 3 === 0,
  features: { age: { test: 'ks', score: i / 1000, threshold: 0.05, drift: false } },
  prediction: null,
});

async function collect(it: Iterable<string> | AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const s of it) out.push(s);
  return out;
}

t.test('the drift history in PostgreSQL keeps the points, pages and retention of the SQLite one', { skip, timeout: 30_000 }, async (t) => {
  if (cluster.skip !== false) return;
  const url = await cluster.database();
  const dir = mkdtempSync(path.join(tmpdir(), 'dl-hist-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = openDatabase(path.join(dir, 'driftline.db'));
  t.teardown(() => db.close());
  const lite = new DriftHistory(db, 500);
  const shared = await PgDriftHistory.open({ connectionString: url, retention: 500, replica: 'replica-a' });
  t.teardown(() => shared.close());
  for (let i = 0; i < 700; i++) {
    lite.add(point(i));
    await shared.add(point(i));
  }
  for (const [since, limit] of [
    [0, 100_000],
    [0, 300],
    [1_000_150, 257],
    [1_000_300, 10],
    [2_000_000, 10],
  ] as const) {
    const a = await collect(lite.pointsJson(since, limit));
    const b = await collect(shared.pointsJson(since, limit));
    t.same(b, a, `since ${since}, limit ${limit}: the same points in the same order`);
  }
  const all = (await collect(shared.pointsJson(0, 100_000))).map((s) => (JSON.parse(s) as HistoryPoint).window_rows);
  t.same(
    all,
    Array.from({ length: 500 }, (_, i) => 200 + i),
    'retention keeps the newest 500',
  );
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  t.teardown(() => c.end());
  const rows = (
    await c.query<{ n: string; replicas: string[] }>('SELECT count(*) AS n, array_agg(DISTINCT replica) AS replicas FROM drift_snapshots')
  ).rows[0]!;
  t.equal(Number(rows.n), 500, 'the table holds the kept points only');
  t.same(rows.replicas, ['replica-a'], 'each point records the replica that wrote it');
});

async function predict(srv: TestServer, csv: string): Promise<void> {
  const r = await fetch(`${srv.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv });
  if (r.status !== 200) throw new Error(`/predict answered ${r.status}: ${await r.text()}`);
  await r.text();
}

const leads = async (srv: TestServer): Promise<boolean> =>
  /^driftline_leader\{[^}]*\} 1$/m.test(await (await fetch(`${srv.url}/metrics`)).text());

const historyOf = async (srv: TestServer): Promise<string> => (await fetch(`${srv.url}/api/drift/history?since=0&limit=100000`)).text();

/** The history once no point has been added for a while (no rows arrive, so none is due). */
async function settled(srv: TestServer): Promise<string> {
  let last = await historyOf(srv);
  for (;;) {
    await sleep(400);
    const now = await historyOf(srv);
    if (now === last) return now;
    last = now;
  }
}

t.test(
  'two replicas on one PostgreSQL: the leader alone writes the history, both answer it the same; a new leader carries on',
  { skip, timeout: 60_000 },
  async (t) => {
    if (cluster.skip !== false) return;
    const url = await cluster.database();
    const env = {
      DATABASE_URL: url,
      WINDOW_ROWS: '500',
      DRIFT_PUSH_MS: '50',
      DRIFT_HISTORY_MS: '100',
      LEADER_RETRY_MS: '100',
      LEADER_KEEPALIVE_MS: '100',
    };
    const replicas = [
      await startTestServer({ ...env, REPLICA_ID: 'replica-a' }),
      await startTestServer({ ...env, REPLICA_ID: 'replica-b' }),
    ];
    const open = new Set(replicas);
    t.teardown(async () => {
      for (const r of open) await r.close();
    });
    const ids = ['replica-a', 'replica-b'];
    const leader = await until('one leader', async () => {
      const l = await Promise.all(replicas.map(leads));
      return l.filter(Boolean).length === 1 && l.indexOf(true);
    });
    const other = 1 - leader;
    t.pass(`${ids[leader]} leads`);

    const c = new pg.Client({ connectionString: url });
    await c.connect();
    t.teardown(() => c.end());
    const writers = async (): Promise<Record<string, number>> =>
      Object.fromEntries(
        (
          await c.query<{ replica: string; n: number }>('SELECT replica, count(*)::int AS n FROM drift_snapshots GROUP BY replica')
        ).rows.map((r) => [r.replica, r.n]),
      );

    // Uploads to both replicas, more than DRIFT_HISTORY_MS apart: each changes every window.
    for (let i = 0; i < 4; i++) {
      await predict(replicas[i % 2]!, sampleCsv(50, { seed: i + 1 }));
      await sleep(250);
    }
    await until('both windows to hold the 200 rows', async () => {
      const rows = await Promise.all(
        replicas.map(async (r) => ((await (await fetch(`${r.url}/api/drift`)).json()) as { window_rows: number }).window_rows),
      );
      return rows.every((n) => n === 200);
    });
    const a = await settled(replicas[leader]!);
    const b = await historyOf(replicas[other]!);
    const points = (JSON.parse(a) as { points: HistoryPoint[] }).points;
    t.ok(points.length >= 2, `${points.length} points in the history`);
    t.equal(points.at(-1)!.window_rows, 200, 'the newest point holds every row');
    t.equal(b, a, 'the replica that does not lead answers /api/drift/history with the same bytes');
    t.same(await writers(), { [ids[leader]!]: points.length }, 'every point was written by the leader, none by the other replica');
    t.notOk(existsSync(path.join(replicas[other]!.dataDir, 'driftline.db')), 'a replica keeps no local database');

    // The leader stops (a rolling update); the other leads and goes on writing the same history.
    const t0 = Date.now();
    await replicas[leader]!.close();
    open.delete(replicas[leader]!);
    await until('the other replica to lead', () => leads(replicas[other]!));
    t.comment(`${ids[other]} leads ${Date.now() - t0} ms after the old leader began to stop`);
    await predict(replicas[other]!, sampleCsv(50, { seed: 9 }));
    await until('the new leader to write a point', async () => ((await writers())[ids[other]!] ?? 0) > 0);
    const after = (JSON.parse(await settled(replicas[other]!)) as { points: HistoryPoint[] }).points;
    const old = (JSON.parse(a) as { points: HistoryPoint[] }).points;
    t.same(after.slice(0, old.length), old, 'the old leader’s points are still there, first');
    t.equal(after.at(-1)!.window_rows, 250, 'the new leader’s newest point holds the rows sent since');
    t.equal(
      after.length,
      Object.values(await writers()).reduce((x, y) => x + y, 0),
      'the history is the table, whoever wrote it',
    );
  },
);

t.test(
  'a replica elected after the window last changed writes it: what changed while no replica led is not lost',
  { skip, timeout: 30_000 },
  async (t) => {
    if (cluster.skip !== false) return;
    const url = await cluster.database();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    t.teardown(() => c.end());
    // The test holds the leader's lock: the replica follows, and its history ticks go by unwritten.
    await c.query('SELECT pg_advisory_lock($1)', [LEADER_LOCK]);
    const srv = await startTestServer({ DATABASE_URL: url, WINDOW_ROWS: '500', DRIFT_HISTORY_MS: '100', LEADER_RETRY_MS: '100' });
    t.teardown(() => srv.close());
    await predict(srv, sampleCsv(60, { seed: 3 }));
    await until(
      'the window to hold the rows',
      async () => ((await (await fetch(`${srv.url}/api/drift`)).json()) as { window_rows: number }).window_rows === 60,
    );
    await sleep(1500);
    t.equal((await c.query('SELECT 1 FROM drift_snapshots')).rowCount, 0, 'nothing written while no replica leads');

    await c.query('SELECT pg_advisory_unlock($1)', [LEADER_LOCK]);
    await until('the replica to lead', () => leads(srv));
    const first = await until(
      'the new leader to write the window as it stands',
      async () => (JSON.parse(await historyOf(srv)) as { points: HistoryPoint[] }).points[0],
      5000,
    );
    t.equal(first.window_rows, 60, 'the point holds the rows that arrived before it led');
  },
);
