// PostgreSQL unreachable (issue 19, faults): before, /ready stayed 200 while the shared log was
// gone, /predict and /api/feedback answered 500 DL_ERR_INTERNAL, and the writer tried a new
// connection per append with nothing to slow it. Now /ready says 503 with the reason, uploads
// and feedback are refused with 503 DL_ERR_STORE_UNAVAILABLE and Retry-After, both the writer
// and the window's follower come back on their own with backoff, and no acknowledged row is lost.
//
// The outage is real sockets: the replica reaches PostgreSQL through a TCP relay that the test
// cuts (every connection reset, the port refused) and restores; killed sessions are real
// pg_terminate_backend calls.
import t from 'tap';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { WRITER_APP } from '../src/store/pg/index.js';
import { sampleCsv } from './helpers/fixtures.js';
import { FEATURE_HEADER, VALID_ROW, send } from './helpers/hostile.js';
import { startPostgres } from './helpers/postgres.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';
import { loggedByRequest, windowRows } from './helpers/pg-log.js';
import { until } from './helpers/until.js';

const cluster = await startPostgres(t);
const skip = cluster.skip;

const csvPost = (body: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'text/csv', accept: 'application/json' },
  body,
});

/** A replica that reaches the database through a relay the test can cut. */
async function relayed(url: string, env: Record<string, string>): Promise<{ srv: TestServer; proxy: TcpProxy }> {
  const u = new URL(url);
  const proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port) });
  u.port = String(proxy.port);
  const srv = await startTestServer({ ...env, DATABASE_URL: u.toString() });
  return { srv, proxy };
}

t.test(
  'PostgreSQL unreachable: /ready 503 with the reason, /predict and /api/feedback 503 DL_ERR_STORE_UNAVAILABLE with Retry-After, refused at once; all back on their own',
  { skip, timeout: 60_000 },
  async (t) => {
    if (cluster.skip !== false) return;
    const url = await cluster.database();
    const { srv, proxy } = await relayed(url, { WINDOW_ROWS: '5000' });
    t.teardown(async () => {
      await proxy.restore();
      await srv.close();
      await proxy.close();
    });
    const first = await fetch(`${srv.url}/predict`, csvPost(sampleCsv(30, { seed: 3 })));
    t.equal(first.status, 200);
    const { request_id } = (await first.json()) as { request_id: string };
    t.equal((await fetch(`${srv.url}/ready`)).status, 200, 'ready while PostgreSQL answers');

    await proxy.cut();
    await until('/ready to say 503', async () => (await fetch(`${srv.url}/ready`)).status === 503, 10_000);
    const ready = await fetch(`${srv.url}/ready`);
    t.ok(ready.headers.get('retry-after'), '/ready 503 says when to ask again');
    t.match(await ready.json(), { code: 'DL_ERR_NOT_READY', cause: 'DL_ERR_STORE_UNAVAILABLE', detail: /PostgreSQL/ }, 'with the reason');

    // Several uploads while it is down: each refused, none queued behind a dead connection.
    const began = performance.now();
    const refused = await Promise.all(
      Array.from({ length: 8 }, (_, i) => fetch(`${srv.url}/predict`, csvPost(sampleCsv(20, { seed: 10 + i })))),
    );
    const took = performance.now() - began;
    for (const r of refused) {
      t.equal(r.status, 503, '/predict: 503, not 500');
      t.ok(Number(r.headers.get('retry-after')) >= 1, 'with Retry-After');
      t.match(await r.json(), { code: 'DL_ERR_STORE_UNAVAILABLE' });
    }
    // Generous for a loaded 2-core machine: what is checked is that nothing waits for a
    // connection timeout (5 s) or a queue that never drains.
    t.ok(took < 4000, `8 uploads refused in ${Math.round(took)} ms`);

    const fb = await fetch(`${srv.url}/api/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ request_id, row: 0, target: 1 }]),
    });
    t.equal(fb.status, 503, '/api/feedback: 503, not 500');
    t.ok(fb.headers.get('retry-after'), 'with Retry-After');
    t.match(await fb.json(), { code: 'DL_ERR_STORE_UNAVAILABLE' });

    // Down for a while: the writer and follower back off; then PostgreSQL is back.
    await sleep(1500);
    await proxy.restore();
    await until('/ready to say 200 again', async () => (await fetch(`${srv.url}/ready`)).status === 200, 15_000);
    const again = await fetch(`${srv.url}/predict`, csvPost(sampleCsv(25, { seed: 4 })));
    t.equal(again.status, 200, 'uploads are committed again');
    await again.arrayBuffer();
    const fb2 = await fetch(`${srv.url}/api/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ request_id, row: 0, target: 1 }]),
    });
    t.equal(fb2.status, 200, 'feedback is applied again');
    await fb2.arrayBuffer();
    await until('the window to follow the log again', async () => (await windowRows(srv)) === 55, 10_000);
    t.same([...(await loggedByRequest(url)).values()].sort(), [25, 30], 'the log holds the two acknowledged uploads and nothing refused');
  },
);

t.test(
  'a streamed upload whose commit fails midway ends with a typed DL_ERR_STORE_UNAVAILABLE line; every row it acknowledged is in the log',
  { skip, timeout: 60_000 },
  async (t) => {
    if (cluster.skip !== false) return;
    const url = await cluster.database();
    const { srv, proxy } = await relayed(url, { WINDOW_ROWS: '5000', BATCH_MAX_ROWS: '10', BATCH_MAX_WAIT_MS: '5' });
    t.teardown(async () => {
      await proxy.restore();
      await srv.close();
      await proxy.close();
    });
    const rows = (n: number): Buffer => Buffer.from(`${VALID_ROW}\n`.repeat(n));
    const reply = await send(srv, {
      headers: { 'content-type': 'text/csv', accept: 'application/x-ndjson' },
      timeoutMs: 20_000,
      body: async function* () {
        yield Buffer.from(`${FEATURE_HEADER}\n`);
        // Paced so that results are flowing back (and the 200 is out) before the cut, even on
        // a loaded machine.
        for (let i = 0; i < 5; i++) {
          yield rows(10);
          await sleep(200);
        }
        await proxy.cut();
        for (let i = 0; i < 20; i++) {
          yield rows(10);
          await sleep(50);
        }
      },
    });
    t.equal(reply.status, 200, 'results had started before the log went away');
    const lines = reply.body
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { row?: number; error?: { code: string } });
    const last = lines.at(-1);
    t.equal(last?.error?.code, 'DL_ERR_STORE_UNAVAILABLE', 'the response ends with the typed error, not a bare cut');
    const acknowledged = lines.filter((l) => l.row !== undefined).length;
    t.ok(acknowledged >= 10, `rows acknowledged before the cut: ${acknowledged}`);
    await proxy.restore();
    await until('/ready to say 200 again', async () => (await fetch(`${srv.url}/ready`)).status === 200, 15_000);
    const requestId = String(reply.headers['x-request-id']);
    const logged = (await loggedByRequest(url)).get(requestId) ?? 0;
    t.ok(logged >= acknowledged, `every acknowledged row is in the log (${logged} logged, ${acknowledged} acknowledged)`);
    t.ok(logged < 250, 'rows sent after the cut were not logged');
  },
);

t.test(
  'nothing acknowledged is lost: writers killed, one replica cut off, then PostgreSQL stopped and restarted, mid-stream of uploads to two replicas; every acknowledged row is in the log and in both windows',
  { skip, timeout: 90_000 },
  async (t) => {
    if (cluster.skip !== false) return;
    const url = await cluster.database();
    const env = { WINDOW_ROWS: '100000', DRIFT_PUSH_MS: '50' };
    const { srv: a, proxy } = await relayed(url, env);
    t.teardown(async () => {
      await proxy.restore();
      await a.close();
      await proxy.close();
    });
    const b = await startTestServer({ ...env, DATABASE_URL: url });
    t.teardown(() => b.close());
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    admin.on('error', () => undefined); // ended by the server's stop below

    const acknowledged = new Map<string, number>();
    const statuses = new Map<string, number>();
    let stop = false;
    const client = async (srv: TestServer, seed: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const r = await fetch(`${srv.url}/predict`, csvPost(sampleCsv(40, { seed: seed * 1000 + i })));
        const body = (await r.json()) as { request_id?: string; n_rows?: number; code?: string };
        const key = r.status === 200 ? '200' : `${r.status} ${body.code}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (r.status === 200) acknowledged.set(body.request_id!, body.n_rows!);
        else await sleep(20);
      }
    };
    const clients = [client(a, 1), client(a, 2), client(b, 3), client(b, 4)];
    let killed = 0;
    // Writers' sessions terminated over and over, on both replicas.
    for (let i = 0; i < 10; i++) {
      await sleep(120);
      killed += (await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [WRITER_APP]))
        .rowCount!;
    }
    // Then replica A loses the database altogether for a while, and gets it back.
    await proxy.cut();
    await sleep(1500);
    await proxy.restore();
    await until('replica A to be ready again', async () => (await fetch(`${a.url}/ready`)).status === 200, 15_000);
    await sleep(300);
    // Then the server itself stops, as an operator's restart does, and comes back.
    await admin.end();
    await cluster.stop();
    await until(
      'both replicas to say 503',
      async () => (await fetch(`${a.url}/ready`)).status === 503 && (await fetch(`${b.url}/ready`)).status === 503,
    );
    await sleep(1000);
    await cluster.start();
    await until(
      'both replicas to be ready again',
      async () => (await fetch(`${a.url}/ready`)).status === 200 && (await fetch(`${b.url}/ready`)).status === 200,
      15_000,
    );
    await sleep(500);
    stop = true;
    await Promise.all(clients);
    t.comment(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}; writer sessions killed: ${killed}`);
    t.ok(killed >= 5, 'writer sessions were killed mid-stream');
    for (const key of statuses.keys()) t.match(key, /^(200|503 DL_ERR_STORE_UNAVAILABLE)$/, `every answer is 200 or a typed 503 (${key})`);
    t.ok((statuses.get('200') ?? 0) > 10, 'uploads were acknowledged throughout');

    const logged = await loggedByRequest(url);
    const missing = [...acknowledged].filter(([id, n]) => logged.get(id) !== n);
    t.same(missing, [], `each of the ${acknowledged.size} acknowledged uploads is in the log, every row of it`);
    const total = [...logged.values()].reduce((x, y) => x + y, 0);
    await until(
      `both windows to hold the log's ${total} rows`,
      async () => (await windowRows(a)) === total && (await windowRows(b)) === total,
      15_000,
    );
    const snap = async (s: TestServer): Promise<unknown> => ({
      ...((await (await fetch(`${s.url}/api/drift`)).json()) as object),
      at: undefined,
      took_ms: undefined,
    });
    t.same(await snap(a), await snap(b), 'both replicas give the same snapshot after recovery');
  },
);
