// DATABASE_URL: replicas of the service share one prediction log in a real PostgreSQL (started
// by this file), and every replica's window follows it: the same rows, in log order, whichever
// replica received them.
import t from 'tap';
import { WebSocket } from 'ws';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { categoricalCheckCsv, categoricalSkip, initCategoricalModel } from './helpers/categorical-model.js';
import { sampleCsv } from './helpers/fixtures.js';
import { startPostgres } from './helpers/postgres.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { until } from './helpers/until.js';

const cluster = await startPostgres(t);
const skip = cluster.skip;

async function predict(srv: TestServer, csv: string): Promise<{ n_rows: number; request_id: string }> {
  const r = await fetch(`${srv.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', accept: 'application/json' },
    body: csv,
  });
  if (r.status !== 200) throw new Error(`/predict answered ${r.status}: ${await r.text()}`);
  return (await r.json()) as { n_rows: number; request_id: string };
}

async function drift(
  srv: TestServer,
): Promise<{ window_rows: number; features: Record<string, { score: number }> } & Record<string, unknown>> {
  return (await (await fetch(`${srv.url}/api/drift`)).json()) as never;
}

/** The snapshot without what differs by the moment it was taken. */
const comparable = (s: Record<string, unknown>): unknown => ({ ...s, at: undefined, took_ms: undefined });

t.test(
  'two replicas on one PostgreSQL: each window holds both replicas’ rows, the snapshots agree, feedback and exports work on either',
  { skip, timeout: 90_000 },
  async (t) => {
    if (cluster.skip !== false) return;
    const url = await cluster.database();
    const env = { DATABASE_URL: url, WINDOW_ROWS: '500', DRIFT_PUSH_MS: '50' };
    const a = await startTestServer({ ...env, REPLICA_ID: 'replica-a' });
    t.teardown(() => a.close());
    const b = await startTestServer({ ...env, REPLICA_ID: 'replica-b' });
    t.teardown(() => b.close());

    const first = await predict(a, sampleCsv(200, { seed: 1 }));
    const second = await predict(b, sampleCsv(150, { seed: 2 }));
    t.equal(first.n_rows + second.n_rows, 350);
    await until(
      'both windows to hold all 350 rows',
      async () => (await drift(a)).window_rows === 350 && (await drift(b)).window_rows === 350,
    );
    const [da, db] = [await drift(a), await drift(b)];
    t.same(comparable(da), comparable(db), 'the same snapshot on both replicas');

    // A third replica started now rebuilds the same window from the log.
    const c = await startTestServer({ ...env, REPLICA_ID: 'replica-c' });
    t.teardown(() => c.close());
    t.same(comparable(await drift(c)), comparable(da), 'a new replica rebuilds the same window from the log');

    // Feedback sent to B names a row that A predicted.
    const fb = await fetch(`${b.url}/api/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ request_id: first.request_id, row: 3, target: 1 }]),
    });
    t.equal(fb.status, 200, 'feedback on the other replica finds the row');
    t.match(await fb.json(), { labelled: 1 });
    const labelled = async (srv: TestServer): Promise<number> =>
      ((await drift(srv)) as unknown as { performance: { n_labelled: number } }).performance.n_labelled;
    const before = (da as unknown as { performance: { n_labelled: number } }).performance.n_labelled;
    await until('the label to reach every replica’s window', async () => {
      const n = await Promise.all([a, b, c].map(labelled));
      return n.every((x) => x === before + 1);
    });
    t.same(comparable(await drift(a)), comparable(await drift(c)), 'the labelled windows agree');
    // A replica started after the feedback rebuilds with the label, then follows on.
    const d = await startTestServer({ ...env, REPLICA_ID: 'replica-d' });
    t.teardown(() => d.close());
    t.equal(await labelled(d), before + 1, 'a new replica rebuilds with the label');

    // Exports read the shared log from any replica: every row, both requests.
    const lines = (await (await fetch(`${c.url}/api/predictions?limit=1000`)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; request_id: string; target: number | null });
    t.equal(lines.length, 350, 'every row in the export');
    t.same(
      lines.map((l) => l.id),
      Array.from({ length: 350 }, (_, i) => i + 1),
      'ids 1…350 in order',
    );
    t.same(new Set(lines.map((l) => l.request_id)), new Set([first.request_id, second.request_id]));
    t.equal(lines.find((l) => l.request_id === first.request_id && l.id === 4)?.target, 1, 'the label is in the shared log');

    // A dashboard connected to C is sent the newest rows of the cluster on connect.
    const hello = await new Promise<{ data: { recent: { request_id: string }[] } }>((resolve, reject) => {
      const ws = new WebSocket(`${c.url.replace('http', 'ws')}/ws?topics=predictions`);
      ws.once('message', (m) => {
        resolve(JSON.parse(String(m)) as never);
        ws.close();
      });
      ws.once('error', reject);
    });
    t.equal(hello.data.recent.length, 100, 'the newest 100 rows on connect');
    t.ok(
      hello.data.recent.every((r) => second.request_id.startsWith(r.request_id) || r.request_id === second.request_id),
      'the newest rows are the second upload’s, sent to another replica',
    );
  },
);

t.test(
  'the live feed on one replica shows rows uploaded to another; /metrics carries the replica label',
  { skip, timeout: 60_000 },
  async (t) => {
    if (cluster.skip !== false) return;
    const url = await cluster.database();
    const env = { DATABASE_URL: url, WINDOW_ROWS: '500' };
    const a = await startTestServer({ ...env, REPLICA_ID: 'replica-a' });
    t.teardown(() => a.close());
    const b = await startTestServer({ ...env, REPLICA_ID: 'replica-b' });
    t.teardown(() => b.close());
    const ws = new WebSocket(`${a.url.replace('http', 'ws')}/ws?topics=predictions`);
    t.teardown(() => ws.close());
    const rows: { request_id: string }[] = [];
    ws.on('message', (m) => {
      const msg = JSON.parse(String(m)) as { type: string; data: { rows?: { request_id: string }[] } };
      if (msg.type === 'predictions') rows.push(...(msg.data.rows ?? []));
    });
    await new Promise((resolve) => ws.once('message', resolve));
    const sent = await predict(b, sampleCsv(30, { seed: 3 }));
    await until('the feed on A to show the 30 rows sent to B', async () => rows.length >= 30);
    t.ok(
      rows.every((r) => sent.request_id.startsWith(r.request_id) || r.request_id === sent.request_id),
      'the rows are the upload sent to B',
    );
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    t.match(metrics, /driftline_process_cpu_seconds_total\{replica="replica-a"\}/, 'series carry replica="replica-a"');
  },
);

t.test(
  'a model with string inputs on two replicas: the string features go through the log, both windows agree with one node on their categorical drift',
  { skip: skip || categoricalSkip, timeout: 180_000 },
  async (t) => {
    if (cluster.skip !== false) return;
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-pg-cat-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const model = await initCategoricalModel(dir);
    const [header, ...rows] = categoricalCheckCsv().trim().split(/\r?\n/);
    // The second upload shifts the categories: every EDUCATION is 'other', every MARRIAGE 'married'.
    const shifted = rows.map((l) => {
      const c = l.split(',');
      c[9] = 'other';
      c[10] = 'married';
      return c.join(',');
    });
    const first = `${header}\n${rows.join('\n')}\n`;
    const second = `${header}\n${shifted.slice(0, 120).join('\n')}\n`;

    const url = await cluster.database();
    const env = { MODEL_DIR: model, DATABASE_URL: url, WINDOW_ROWS: '1000', DRIFT_PUSH_MS: '50' };
    const a = await startTestServer({ ...env, REPLICA_ID: 'replica-a' });
    t.teardown(() => a.close());
    const b = await startTestServer({ ...env, REPLICA_ID: 'replica-b' });
    t.teardown(() => b.close());
    await predict(a, first);
    await predict(b, second);
    await until(
      'both windows to hold all 320 rows',
      async () => (await drift(a)).window_rows === 320 && (await drift(b)).window_rows === 320,
    );
    const [da, db] = [await drift(a), await drift(b)];
    t.same(comparable(da), comparable(db), 'the same snapshot on both replicas');

    // One node on SQLite that received the same rows in log order.
    const one = await startTestServer({ MODEL_DIR: model, WINDOW_ROWS: '1000' });
    t.teardown(() => one.close());
    await predict(one, first);
    await predict(one, second);
    const d1 = await drift(one);
    for (const s of ['SEX', 'EDUCATION', 'MARRIAGE']) {
      const f = da.features[s] as { score: number; test?: string } | undefined;
      t.equal(f?.test, 'jensenshannon', `${s} is tested as categories`);
      t.equal(f?.score, (d1.features[s] as { score: number }).score, `${s}: the replicas' score is one node's`);
    }
    t.ok((da.features.EDUCATION as { drift?: boolean }).drift, 'the shifted categories drift');

    // A replica started now rebuilds the window, strings included, from the log.
    const c = await startTestServer({ ...env, REPLICA_ID: 'replica-c' });
    t.teardown(() => c.close());
    t.same(comparable(await drift(c)), comparable(da), 'a new replica rebuilds the same window, categories included');
  },
);
