// Regression: the leader election's intervals and timeouts and the PostgreSQL outbox's lease
// were constants in the code (1 s tries and checks, 2 s check timeout, 5 s session timeout,
// 5 min lease): an operator could neither make failover faster nor give slow channels a longer
// lease. They are settings now (LEADER_*_MS, OUTBOX_LEASE_MS), checked at start-up, and the
// service uses them.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Alert } from '../src/alerts/index.js';
import { parseConfig } from '../src/config.js';
import { LEADER_LOCK, PgAlertOutbox } from '../src/store/pg/index.js';
import { startPostgres } from './helpers/postgres.js';
import { startHook } from './helpers/receivers.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { until } from './helpers/until.js';

t.test('the settings: defaults as before, bad values and a session timeout a live elector would outlast stop start-up', async (t) => {
  const c = parseConfig({});
  t.same(
    [c.LEADER_RETRY_MS, c.LEADER_KEEPALIVE_MS, c.LEADER_TIMEOUT_MS, c.LEADER_SESSION_TIMEOUT_MS, c.OUTBOX_LEASE_MS],
    [1000, 1000, 2000, 5000, 300_000],
  );
  const fast = parseConfig({
    LEADER_RETRY_MS: '100',
    LEADER_KEEPALIVE_MS: '100',
    LEADER_TIMEOUT_MS: '500',
    LEADER_SESSION_TIMEOUT_MS: '1000',
  });
  t.equal(fast.LEADER_SESSION_TIMEOUT_MS, 1000);
  const bad: [Record<string, string>, RegExp][] = [
    [{ LEADER_RETRY_MS: '5' }, /LEADER_RETRY_MS="5": must be ≥ 10/],
    [{ LEADER_TIMEOUT_MS: 'soon' }, /LEADER_TIMEOUT_MS="soon": expected an integer/],
    [{ OUTBOX_LEASE_MS: '1000' }, /OUTBOX_LEASE_MS="1000": must be ≥ 60000/],
    // 1000 + 2000 by default: the server would end the elector's session while it waits.
    [
      { LEADER_SESSION_TIMEOUT_MS: '3000' },
      /LEADER_SESSION_TIMEOUT_MS="3000": must exceed max\(LEADER_RETRY_MS, LEADER_KEEPALIVE_MS\) \+ LEADER_TIMEOUT_MS \(3000\)/,
    ],
    [{ LEADER_KEEPALIVE_MS: '4000' }, /LEADER_SESSION_TIMEOUT_MS=undefined: must exceed .* \(6000\)/],
  ];
  for (const [env, re] of bad) t.throws(() => parseConfig(env), { code: 'DL_ERR_CONFIG', message: re }, JSON.stringify(env));
});

const cluster = await startPostgres(t);
const skip = cluster.skip;

const leads = async (srv: TestServer): Promise<boolean> =>
  /^driftline_leader\{[^}]*\} 1$/m.test(await (await fetch(`${srv.url}/metrics`)).text());

/** How many distinct statements the replica's elector session started over `ms` (sampled every 10 ms). */
async function statements(c: pg.Client, replica: string, ms: number): Promise<number> {
  const seen = new Set<string>();
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const r = await c.query<{ at: string }>(
      'SELECT query_start::text AS at FROM pg_stat_activity WHERE application_name = $1 AND query_start IS NOT NULL',
      [`driftline-leader ${replica}`],
    );
    for (const row of r.rows) seen.add(row.at);
    await sleep(10);
  }
  return seen.size;
}

t.test(
  'LEADER_RETRY_MS and LEADER_KEEPALIVE_MS set how often a replica tries to lead and the leader checks its session',
  { skip, timeout: 30_000 },
  async (t) => {
    if (cluster.skip !== false) return;
    const url = await cluster.database();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    t.teardown(() => c.end());
    // The test holds the leader's lock, so the replica can only keep trying.
    await c.query('SELECT pg_advisory_lock($1)', [LEADER_LOCK]);
    const srv = await startTestServer({ DATABASE_URL: url, REPLICA_ID: 'replica-a', LEADER_RETRY_MS: '100', LEADER_KEEPALIVE_MS: '100' });
    t.teardown(() => srv.close());
    await until('the elector to connect', async () => (await statements(c, 'replica-a', 50)) > 0);
    // Every 100 ms is about 15 tries in 1.5 s; the old fixed 1 s allowed at most 2.
    const tries = await statements(c, 'replica-a', 1500);
    t.ok(tries >= 5, `${tries} tries to lead in 1.5 s`);
    t.notOk(await leads(srv), 'it does not lead while another session holds the lock');

    const t0 = Date.now();
    await c.query('SELECT pg_advisory_unlock($1)', [LEADER_LOCK]);
    await until('the replica to lead', () => leads(srv));
    t.comment(`it leads ${Date.now() - t0} ms after the lock was freed`);
    const checks = await statements(c, 'replica-a', 1500);
    t.ok(checks >= 5, `${checks} checks of the leader's session in 1.5 s`);
  },
);

t.test('OUTBOX_LEASE_MS: a claim older than the lease is taken back and delivered', { skip, timeout: 30_000 }, async (t) => {
  if (cluster.skip !== false) return;
  const url = await cluster.database();
  const hook = await startHook();
  t.teardown(() => hook.close());
  // A replica claimed a delivery two minutes ago and died mid-send: within the default lease of
  // 5 min that claim still holds; with a lease of 1 min it is stale.
  const dead = await PgAlertOutbox.open({ connectionString: url });
  t.teardown(() => dead.close());
  const alert: Alert = {
    id: 'alert-lease-1',
    rule: 'dataset_drift_share',
    title: 'Dataset drift',
    severity: 'warning',
    status: 'firing',
    message: 'half the features drifted',
    value: 0.5,
    threshold: 0.5,
    values: {},
    model: { name: 'credit-default', version: '1' },
    at: new Date().toISOString(),
  };
  await dead.record(alert, ['slack']);
  t.ok(await dead.claim(alert.id, 'slack'), 'the dead replica had claimed it');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  t.teardown(() => c.end());
  await c.query("UPDATE alert_deliveries SET claimed_at = now() - interval '2 minutes'");

  const srv = await startTestServer({ DATABASE_URL: url, SLACK_WEBHOOK_URL: hook.url, OUTBOX_LEASE_MS: '60000', LEADER_RETRY_MS: '100' });
  t.teardown(() => srv.close());
  await until('the replica to lead', () => leads(srv));
  await until('the stale claim to be delivered', () => hook.posts.length > 0, 10_000);
  t.match(hook.posts[0]!.body.text, /Dataset drift|half the features/, 'the alert that was claimed');
  const states = await until('the delivery to be marked sent', async () => {
    const r = (await c.query<{ state: string }>('SELECT state FROM alert_deliveries')).rows.map((x) => x.state);
    return r.every((x) => x === 'sent') && r;
  });
  t.same(states, ['sent'], 'the one delivery is marked sent');
  await sleep(500);
  t.equal(hook.posts.length, 1, 'delivered once');
});
