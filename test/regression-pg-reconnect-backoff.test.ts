// The PostgreSQL log hammered a server that was down: the writer opened a new connection for
// every append and the follower one at every poll, and every append waited for its own failed
// attempt. Now both back off (capped, jittered exponential) while connections fail, appends are
// refused at once with DL_ERR_STORE_UNAVAILABLE, and both come back on their own.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { Backoff } from '../src/store/pg/faults.js';
import { PgPredictionLog, type CommittedBatch } from '../src/store/pg/index.js';
import { startPostgres } from './helpers/postgres.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { until } from './helpers/until.js';
import { batch } from './helpers/pg-log.js';

const cluster = await startPostgres(t);
const skip = cluster.skip;

t.test('backoff: each delay in [c/2, c], c doubling from the base up to the cap; a success starts again from the base', async (t) => {
  const low = new Backoff({ baseMs: 100, capMs: 1000 }, () => 0);
  t.same(
    Array.from({ length: 7 }, () => low.next()),
    [50, 100, 200, 400, 500, 500, 500],
  );
  low.reset();
  t.equal(low.next(), 50, 'reset: back to the base');
  const high = new Backoff({ baseMs: 100, capMs: 1000 }, () => 1);
  t.same(
    Array.from({ length: 6 }, () => high.next()),
    [100, 200, 400, 800, 1000, 1000],
  );
  const jittered = new Backoff({ baseMs: 100, capMs: 1000 });
  const draws = Array.from({ length: 200 }, () => (jittered.reset(), jittered.next()));
  t.ok(
    draws.every((d) => d >= 50 && d <= 100),
    'jitter stays within [c/2, c]',
  );
  t.ok(new Set(draws).size > 100, 'and differs between draws, so replicas do not retry in step');
});

t.test(
  'while every connection is dropped, the writer and the follower back off instead of retrying per append and per poll; appends are refused at once; both recover on their own',
  { skip, timeout: 40_000 },
  async (t) => {
    if (cluster.skip !== false) return;
    const url = new URL(await cluster.database());
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    t.teardown(() => proxy.close());
    url.port = String(proxy.port);
    const events: string[] = [];
    const down = new Set<string>();
    const log = await PgPredictionLog.open({
      connectionString: url.toString(),
      decisionThreshold: 0.5,
      risk: { high: 0.75, medium: 0.5 },
      backoff: { baseMs: 50, capMs: 800 },
      onReachability: (part, err) => {
        events.push(`${part} ${err === undefined ? 'up' : 'down'}`);
        if (err === undefined) down.delete(part);
        else down.add(part);
      },
    });
    t.teardown(() => log.close());
    const delivered: number[] = [];
    await log.follow(0, (b: CommittedBatch) => void delivered.push(b.position), { pollMs: 20 });
    await log.append(batch(1));
    await until('the first batch to be followed', () => delivered.length === 1);

    proxy.resetAll();
    const before = proxy.accepted;
    const codes = new Map<string, number>();
    let slowest = 0;
    const end = Date.now() + 2000;
    while (Date.now() < end) {
      const t0 = performance.now();
      await log.append(batch(99)).then(
        () => codes.set('committed', (codes.get('committed') ?? 0) + 1),
        (err: { code?: string }) => codes.set(String(err.code), (codes.get(String(err.code)) ?? 0) + 1),
      );
      slowest = Math.max(slowest, performance.now() - t0);
      await sleep(10);
    }
    const attempts = proxy.accepted - before;
    const appends = [...codes.values()].reduce((a, b) => a + b, 0);
    t.comment(
      `${appends} appends in 2 s while connections were dropped: ${attempts} connection attempts, slowest refusal ${Math.round(slowest)} ms`,
    );
    t.same([...codes.keys()], ['DL_ERR_STORE_UNAVAILABLE'], 'every append refused, typed');
    // Writer and follower each try about log2(2000/50) + 2000/800 ≈ 8 times in 2 s; retrying per
    // append and per 20 ms poll would be a few hundred.
    t.ok(attempts <= 30, `connection attempts backed off: ${attempts} for ${appends} appends`);
    // Generous for a loaded machine: no append waits for a queue or a connect timeout (5 s).
    t.ok(slowest < 1500, `refused at once (slowest ${Math.round(slowest)} ms)`);
    t.ok(log.unreachable, 'the log says it is unreachable');
    t.same([...down].sort(), ['follower#1', 'writer'], 'the writer and the follower reported down');

    await proxy.restore();
    await until('the writer and the follower to be back', () => down.size === 0 && !log.unreachable, 10_000);
    t.same((await log.append(batch(2))).position, 2, 'the next append commits, right after the last one acknowledged');
    await until('the follower to deliver it', () => delivered.length === 2);
    t.same(delivered, [1, 2], 'the follower delivered each committed batch once, in order');
    t.same(events.slice(-2).sort(), ['follower#1 up', 'writer up']);
  },
);

t.test('a log closed while PostgreSQL is unreachable closes at once, its retry timers stopped', { skip, timeout: 30_000 }, async (t) => {
  if (cluster.skip !== false) return;
  const url = new URL(await cluster.database());
  const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
  t.teardown(() => proxy.close());
  url.port = String(proxy.port);
  let down = 0;
  const log = await PgPredictionLog.open({
    connectionString: url.toString(),
    decisionThreshold: 0.5,
    risk: { high: 0.75, medium: 0.5 },
    onReachability: (_part, err) => void (err === undefined ? down-- : down++),
  });
  await log.follow(0, () => undefined, { pollMs: 20 });
  await log.append(batch(1));
  await proxy.cut();
  await until('the writer and the follower to be down', () => down === 2 && log.unreachable);
  const t0 = performance.now();
  await log.close();
  const took = performance.now() - t0;
  t.ok(took < 2000, `closed in ${Math.round(took)} ms`);
  const attempts = proxy.accepted;
  await proxy.restore();
  await sleep(700);
  t.equal(proxy.accepted, attempts, 'no connection attempt after close');
});
