// A replica killed mid-upload (issue 19, faults): three replicas, each in its own process, share
// one PostgreSQL. Uploads stream to two of them; the one that leads is SIGKILLed while its
// upload is half sent. Nothing it acknowledged may be missing from the log or from the
// survivors' windows, it may not have acknowledged a row that did not commit, the other upload
// must finish whole, and another replica must take over the alerting within seconds.
import t from 'tap';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { startChildServer, type ChildServer } from './helpers/child-server.js';
import { FEATURE_HEADER, VALID_ROW, send, type Reply } from './helpers/hostile.js';
import { startPostgres } from './helpers/postgres.js';
import { loggedByRequest, windowRows } from './helpers/pg-log.js';
import { until } from './helpers/until.js';

const cluster = await startPostgres(t);
const skip = cluster.skip;

async function leads(srv: ChildServer): Promise<boolean> {
  return /^driftline_leader\{[^}]*\} 1$/m.test(await (await fetch(`${srv.url}/metrics`)).text());
}

/** NDJSON result lines with a row number: the rows the client was told are predicted. */
function acknowledgedRows(reply: Reply): number {
  return reply.body
    .toString()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as { row?: number }];
      } catch {
        return []; // a line cut by the kill acknowledged nothing
      }
    })
    .filter((l) => l.row !== undefined).length;
}

t.test(
  'a replica SIGKILLed mid-upload loses no acknowledged row; the others finish their uploads, hold every logged row, and one of them leads',
  { skip, timeout: 60_000 },
  async (t) => {
    if (cluster.skip !== false) return;
    const url = await cluster.database();
    const env = { DATABASE_URL: url, WINDOW_ROWS: '100000', BATCH_MAX_ROWS: '10', BATCH_MAX_WAIT_MS: '5', DRIFT_PUSH_MS: '50' };
    const replicas = await Promise.all(['a', 'b', 'c'].map((id) => startChildServer({ ...env, REPLICA_ID: `replica-${id}` })));
    t.teardown(() => replicas.forEach((r) => r.kill()));

    let leader: ChildServer | undefined;
    await until('one replica to lead', async () => {
      const flags = await Promise.all(replicas.map(leads));
      leader = flags.filter(Boolean).length === 1 ? replicas[flags.indexOf(true)] : undefined;
      return leader !== undefined;
    });
    const victim = leader!;
    const [other, bystander] = replicas.filter((r) => r !== victim) as [ChildServer, ChildServer];

    const rows = (n: number): Buffer => Buffer.from(`${VALID_ROW}\n`.repeat(n));
    let killedAt = 0;
    const upload = (srv: ChildServer, chunks: number, onChunk?: (i: number) => Promise<void>): Promise<Reply> =>
      send(srv, {
        headers: { 'content-type': 'text/csv', accept: 'application/x-ndjson' },
        timeoutMs: 30_000,
        body: async function* () {
          yield Buffer.from(`${FEATURE_HEADER}\n`);
          for (let i = 0; i < chunks; i++) {
            yield rows(10);
            await sleep(100);
            await onChunk?.(i);
          }
        },
      });
    // Paced so that the victim has acknowledged rows (its 200 is out) before the kill, even on a
    // loaded machine. Then the log's head row is held locked, as a slow commit elsewhere in the
    // cluster would hold it: the victim's next batches wait in their transactions, and the kill
    // lands while they do. A replica that answered rows before their commit would be caught
    // here, with rows acknowledged that the log never got.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    t.teardown(() => admin.end());
    const victimReply = upload(victim, 40, async (i) => {
      if (i === 5) {
        await admin.query('BEGIN');
        await admin.query('SELECT position FROM log_head FOR UPDATE');
      }
      if (i === 8) {
        victim.kill();
        killedAt = performance.now();
        await sleep(300);
        await admin.query('COMMIT');
      }
    });
    const otherReply = upload(other, 30);
    const [v, o] = await Promise.all([victimReply, otherReply]);

    t.equal(o.status, 200, 'the surviving replica answered its upload');
    t.ok(o.complete, 'the surviving replica’s upload ended normally');
    t.equal(acknowledgedRows(o), 300, 'every row of the surviving upload acknowledged');

    t.ok(
      !v.complete || /"error"/.test(v.body.toString().trim().split('\n').at(-1) ?? ''),
      'the killed replica’s upload was cut or ended with an error',
    );
    const vAck = acknowledgedRows(v);
    t.ok(vAck < 400, `the killed replica did not acknowledge the whole upload (${vAck} rows)`);

    // A new leader: the victim's session ended with its process, so its advisory lock is free.
    await until('another replica to lead', async () => (await leads(other)) || (await leads(bystander)), 10_000);
    const failoverMs = performance.now() - killedAt;
    t.ok(failoverMs < 10_000, `another replica leads ${Math.round(failoverMs)} ms after the kill`);
    t.equal([await leads(other), await leads(bystander)].filter(Boolean).length, 1, 'exactly one survivor leads');

    const logged = await loggedByRequest(url);
    const vId = String(v.headers['x-request-id'] ?? '');
    const oId = String(o.headers['x-request-id']);
    if (v.status === 200) {
      t.not(vId, '', 'the killed replica’s answer named its request');
      t.ok(
        (logged.get(vId) ?? 0) >= vAck,
        `every row the killed replica acknowledged is in the log (${logged.get(vId) ?? 0} logged, ${vAck} acknowledged)`,
      );
    } else t.equal(vAck, 0, `no head came back from the killed replica (${v.status}), so nothing was acknowledged`);
    t.equal(logged.get(oId), 300, 'the surviving upload is in the log whole');

    // The others carry on: a fresh upload to the replica that had none.
    const after = await upload(bystander, 5);
    t.equal(acknowledgedRows(after), 50, 'a replica that was idle takes a new upload after the kill');

    const total = [...(await loggedByRequest(url)).values()].reduce((x, y) => x + y, 0);
    await until(
      `both surviving windows to hold the log’s ${total} rows`,
      async () => (await windowRows(other)) === total && (await windowRows(bystander)) === total,
      10_000,
    );
    t.pass(`both surviving windows hold all ${total} logged rows, the killed replica’s committed ones included`);
  },
);
