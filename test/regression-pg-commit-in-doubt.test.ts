// A connection lost during COMMIT: the server committed the group, but the writer never got
// the answer. Before, the append was refused although its batch was in the log, so a client
// that retried logged it twice. Now the writer asks the log whether its group took, and
// acknowledges it if so; a group lost before COMMIT is still refused and is not in the log.
import t from 'tap';
import pg from 'pg';
import { PgPredictionLog } from '../src/store/pg/index.js';
import { startPostgres } from './helpers/postgres.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { batch } from './helpers/pg-log.js';

const cluster = await startPostgres(t);
const skip = cluster.skip;

t.test(
  'a COMMIT whose answer is lost is acknowledged when it took, once in the log; a group lost before COMMIT is refused and absent',
  { skip, timeout: 30_000 },
  async (t) => {
    if (cluster.skip !== false) return;
    const direct = await cluster.database();
    const url = new URL(direct);
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    t.teardown(() => proxy.close());
    url.port = String(proxy.port);
    const log = await PgPredictionLog.open({
      connectionString: url.toString(),
      decisionThreshold: 0.5,
      risk: { high: 0.75, medium: 0.5 },
      backoff: { baseMs: 20, capMs: 200 },
    });
    t.teardown(() => log.close());
    t.equal((await log.append(batch(1))).position, 1);

    // The server receives COMMIT and commits; the writer's connection is cut before the answer.
    proxy.dropAfter('COMMIT\0');
    const inDoubt = await log.append(batch(2)).then(
      (r) => r,
      (err: { code?: string }) => err,
    );
    t.match(inDoubt, { position: 2, first: 4, count: 3 }, 'acknowledged: the group did commit');

    // Cut after the INSERT, before COMMIT: the server rolls the group back.
    proxy.dropAfter('INSERT INTO prediction_batches');
    await t.rejects(log.append(batch(3)), { code: 'DL_ERR_STORE_UNAVAILABLE' }, 'refused: the group did not commit');
    t.equal((await log.append(batch(4))).position, 3, 'the next group takes the position the lost one gave back');

    const c = new pg.Client({ connectionString: direct });
    await c.connect();
    t.teardown(() => c.end());
    const rows = (
      await c.query<{ position: number; request_id: string }>('SELECT position, request_id FROM prediction_batches ORDER BY position')
    ).rows;
    t.same(
      rows.map((r) => [Number(r.position), r.request_id]),
      [
        [1, 'r1'],
        [2, 'r2'],
        [3, 'r4'],
      ],
      'the log holds each acknowledged batch once and the refused one not at all',
    );
  },
);
