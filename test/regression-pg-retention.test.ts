// Retention on the shared PostgreSQL log (LOG_RETENTION_ROWS): the leader alone deletes the
// oldest whole batches beyond the limit, with their labels and ext ids, in short transactions
// that never take log_head; a replica whose follower was behind the deleted batches rebuilds
// its window from the log rather than carrying on with a window missing rows.
import t from 'tap';
import pg from 'pg';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppendItem } from '../src/store/log-protocol.js';
import { openLog, StoreHealth, type DecodedBatch, type WindowRow } from '../src/store/index.js';
import { LEADER_LOCK, PgPredictionLog } from '../src/store/pg/index.js';
import { sampleCsv, testCard } from './helpers/fixtures.js';
import { startPostgres } from './helpers/postgres.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { until } from './helpers/until.js';
import { RULES, batch as logBatch } from './helpers/pg-log.js';

const cluster = await startPostgres(t);
const skip = cluster.skip;

/** Batch `tag` of `rows` rows, ext ids `e<tag>-<row>`. */
function batch(tag: number, rows = 10): AppendItem {
  return {
    ...logBatch(tag, rows),
    probabilities: new Float32Array(rows).fill(0.1),
    extIds: Array.from({ length: rows }, (_, i) => `e${tag}-${i}`),
  };
}
t.test(
  'retention on PostgreSQL keeps at least LOG_RETENTION_ROWS rows, deletes whole batches with their labels and ext ids, and does not wait for log_head',
  { skip, timeout: 30_000 },
  async (t) => {
    if (cluster.skip !== false) return;
    const url = await cluster.database();
    const log = await PgPredictionLog.open({ connectionString: url, ...RULES });
    t.teardown(() => log.close());
    for (let i = 1; i <= 10; i++) await log.append(batch(i)); // rows 1…100, 10 per batch
    t.equal(await log.label([5, 55, 95], [1, 1, 1]), 3);

    // An append transaction holds log_head from its claim to its commit: pruning must not wait for it.
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    t.teardown(() => holder.end().catch(() => undefined));
    await holder.query('BEGIN');
    await holder.query('SELECT * FROM log_head FOR UPDATE');
    // Small chunks, so the deletes take several transactions each.
    const deleted = await Promise.race([log.prune(35, { batches: 2, ids: 1 }), sleep(10_000).then(() => 'waited for log_head' as const)]);
    await holder.query('ROLLBACK');
    // 35 kept at least: row 66 is the oldest to keep, so its whole batch (61…70) stays.
    t.equal(deleted, 60, 'the six oldest whole batches were deleted, without waiting for the append');
    t.equal(await log.count(), 40);
    const page = await log.page(0, 1000);
    t.same(
      page.map((r) => r.id),
      Array.from({ length: 40 }, (_, i) => 61 + i),
      'an export starts at the oldest kept row',
    );
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    t.teardown(() => c.end().catch(() => undefined));
    t.same(
      (await c.query('SELECT id FROM labels ORDER BY id')).rows.map((r: { id: string }) => Number(r.id)),
      [95],
      'labels of deleted rows went',
    );
    t.equal(Number((await c.query('SELECT min(id) AS m FROM ext_ids')).rows[0].m), 61, 'ext ids of deleted rows went');
    t.equal(Number((await c.query('SELECT count(*) AS n FROM ext_ids')).rows[0].n), 40);
    const byExt = await log.findByExtId(['e1-4', 'e7-0']);
    t.same([...byExt.entries()], [['e7-0', 61]], 'feedback finds kept rows by ext id, not deleted ones');
    const byPair = await log.findByRequestRow([
      { requestId: 'r2', row: 0 },
      { requestId: 'r9', row: 3 },
    ]);
    t.same([...byPair.entries()], [['r9#3', 84]]);
    t.equal(await log.label([5, 84], [1, 0]), 1, 'a deleted row can no longer be labelled');
    t.equal(await log.prune(35), 0, 'nothing more to delete');

    // Appends go on as before: ids and positions carry on after the deleted ones.
    const next = await log.append(batch(11));
    t.same({ position: next.position, first: next.first }, { position: 11, first: 101 });
    t.equal(await log.count(), 50);
  },
);

t.test(
  'a replica whose follower was behind the batches retention deleted rebuilds its window from the log',
  { skip, timeout: 30_000 },
  async (t) => {
    if (cluster.skip !== false) return;
    const url = await cluster.database();
    const settings = {
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'dl-ret-')),
      DATABASE_URL: url,
      LOG_RETENTION_ROWS: 35,
      WINDOW_ROWS: 25,
    };
    const opened = await openLog(settings, testCard(), new StoreHealth(path.join(settings.DATA_DIR, 'x.db')));
    t.teardown(() => opened.store.close());
    const writer = await PgPredictionLog.open({ connectionString: url, ...RULES });
    t.teardown(() => writer.close());

    const events: ({ rebuild: number[] } | { applied: number })[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const gaps: [number, number][] = [];
    await opened.feedWindow(
      {
        rebuild: (rows: readonly WindowRow[]) => events.push({ rebuild: rows.map((r) => r.id) }),
        label: () => false,
        // The first batch holds the follower, as a replica that is slow or cut off would be.
        applyBatch: (b: DecodedBatch & { position?: number }) => {
          events.push({ applied: b.position! });
          return b.position === 1 ? held : undefined;
        },
      },
      { pageBatches: 1, pollMs: 50, onGap: (last, next) => gaps.push([last, next]) },
    );
    t.same(events, [{ rebuild: [] }], 'an empty log: an empty window');

    await writer.append(batch(1));
    await until('the follower to hold batch 1', () => events.length === 2);
    for (let i = 2; i <= 10; i++) await writer.append(batch(i));
    t.equal(await writer.prune(settings.LOG_RETENTION_ROWS), 60, 'batches 1…6 deleted while the follower was at 1');
    release();
    // Appended only once the rebuild has read the log, which would otherwise hold batch 11 already.
    await until('the window to be rebuilt', () => events.length === 3);
    await writer.append(batch(11));
    await until('batch 11 to reach the window', () => events.some((e) => 'applied' in e && e.applied === 11));

    t.same(gaps[0], [1, 7], 'the follower met the gap');
    t.same(
      events.slice(2),
      [{ rebuild: Array.from({ length: 25 }, (_, i) => 76 + i) }, { applied: 11 }],
      'the window was rebuilt from the newest WINDOW_ROWS rows, then followed on from there',
    );
  },
);

async function predict(srv: TestServer, csv: string): Promise<{ request_id: string }> {
  const r = await fetch(`${srv.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', accept: 'application/json' },
    body: csv,
  });
  if (r.status !== 200) throw new Error(`/predict answered ${r.status}: ${await r.text()}`);
  return (await r.json()) as { request_id: string };
}

const logRows = async (srv: TestServer): Promise<number> =>
  ((await (await fetch(`${srv.url}/dashboard/data`)).json()) as { data: { n_rows: number } }).data.n_rows;

t.test(
  'replicas on PostgreSQL: only the leader applies LOG_RETENTION_ROWS; exports and feedback see the kept rows',
  { skip, timeout: 90_000 },
  async (t) => {
    if (cluster.skip !== false) return;
    const url = await cluster.database();
    // The test holds the leader's lock first: no replica leads, so none may prune.
    const usurper = new pg.Client({ connectionString: url });
    await usurper.connect();
    t.teardown(() => usurper.end().catch(() => undefined));
    await usurper.query('SELECT pg_advisory_lock($1)', [LEADER_LOCK]);

    const env = { DATABASE_URL: url, WINDOW_ROWS: '500', LOG_RETENTION_ROWS: '100' };
    const a = await startTestServer({ ...env, REPLICA_ID: 'replica-a' });
    t.teardown(() => a.close());
    const b = await startTestServer({ ...env, REPLICA_ID: 'replica-b' });
    t.teardown(() => b.close());
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) sent.push((await predict(i % 2 === 0 ? a : b, sampleCsv(50, { seed: i + 1 }))).request_id);
    await sleep(2500); // two retention rounds and more
    t.equal(await logRows(a), 250, 'no replica leads: nothing was deleted');

    await usurper.query('SELECT pg_advisory_unlock($1)', [LEADER_LOCK]);
    await until('a replica to lead and prune', async () => (await logRows(a)) < 250);
    const kept = await logRows(b);
    t.ok(kept >= 100 && kept < 250, `at least 100 rows kept, the oldest whole batches deleted (${kept} kept)`);

    const exported = (await (await fetch(`${b.url}/api/predictions?limit=1000`)).text()).trim().split('\n');
    t.equal(exported.length, kept, 'the export holds the kept rows');
    t.notOk(
      exported.some((l) => l.includes(sent[0]!)),
      'none of the first upload',
    );
    t.ok(exported.at(-1)!.includes(sent[4]!), 'the newest upload is there');

    // The windows had applied every row before the deletion: they keep them, and agree.
    // (Compared before the feedback: a label reaches only the window of the replica it was sent to.)
    const drift = async (srv: TestServer): Promise<Record<string, unknown>> => ({
      ...((await (await fetch(`${srv.url}/api/drift`)).json()) as Record<string, unknown>),
      at: undefined,
      took_ms: undefined,
    });
    await until(
      'both windows to hold all 250 rows',
      async () => (await drift(a)).window_rows === 250 && (await drift(b)).window_rows === 250,
    );
    t.same(await drift(a), await drift(b), 'the replicas’ snapshots agree');

    const feedback = (srv: TestServer, requestId: string): Promise<Response> =>
      fetch(`${srv.url}/api/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ request_id: requestId, row: 3, target: 1 }]),
      });
    const gone = await feedback(a, sent[0]!);
    t.equal(gone.status, 404, 'feedback naming a deleted row is refused');
    t.match(await gone.json(), { code: 'DL_ERR_FEEDBACK_UNKNOWN_IDS' });
    t.equal((await feedback(b, sent[4]!)).status, 200, 'feedback naming a kept row labels it');
  },
);
