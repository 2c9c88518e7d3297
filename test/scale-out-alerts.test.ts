// Replicas sharing PostgreSQL elect one leader, which alone runs the alert rules and delivers
// the outbox they share: an alert fires once for the cluster and reaches a real webhook once.
// When the leader's session dies, another replica leads within seconds and carries on from
// the outbox (what fired resolves, rather than fires again).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { driftedCsv } from './helpers/fixtures.js';
import { startPostgres } from './helpers/postgres.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { startHook } from './helpers/receivers.js';
import { sharedFile } from './helpers/shared.js';
import { until } from './helpers/until.js';

const cluster = await startPostgres(t);
const reference = sharedFile('golden/reference_first1000.csv');
const skip = cluster.skip || reference.skip;

const WINDOW = 400;

const leads = async (srv: TestServer): Promise<boolean> =>
  /^driftline_leader\{[^}]*\} 1$/m.test(await (await fetch(`${srv.url}/metrics`)).text());

async function upload(srv: TestServer, csv: string): Promise<void> {
  const r = await fetch(`${srv.url}/predict`, { method: 'POST', body: csv, headers: { 'content-type': 'text/csv' } });
  if (r.status !== 200) throw new Error(`/predict answered ${r.status}`);
  await r.text();
}

type Alerts = { firing: { id: string }[]; alerts: { id: string; rule: string; status: string; resolves?: string }[] };
const alerts = async (srv: TestServer): Promise<Alerts> => (await (await fetch(`${srv.url}/api/alerts`)).json()) as Alerts;

t.test(
  'three replicas: one leader; an alert fires and is posted once; the leader dies, another resolves it',
  { skip, timeout: 120_000 },
  async (t) => {
    if (cluster.skip !== false) return;
    const hook = await startHook();
    t.teardown(() => hook.close());
    const url = await cluster.database();
    const env = {
      DATABASE_URL: url,
      WINDOW_ROWS: String(WINDOW),
      DRIFT_PUSH_MS: '50',
      ALERT_EVAL_MS: '100',
      ALERT_RETRY_BASE_MS: '50',
      SLACK_WEBHOOK_URL: hook.url,
      // Half the features: the drifted rows move all 8, the reference rows 2 of them (0.25).
      ALERT_RULES: JSON.stringify({ rules: [{ kind: 'dataset_drift_share', threshold: 0.5, min_rows: 100 }], clear_evaluations: 3 }),
    };
    const replicas: TestServer[] = [];
    for (const name of ['a', 'b', 'c']) {
      const srv = await startTestServer({ ...env, REPLICA_ID: `replica-${name}` });
      replicas.push(srv);
      t.teardown(() => srv.close());
    }
    const leaders = async (among = replicas): Promise<number[]> => {
      const flags = await Promise.all(among.map(leads));
      return flags.flatMap((f, i) => (f ? [replicas.indexOf(among[i]!)] : []));
    };
    const [leader] = await until('one leader', async () => {
      const l = await leaders();
      return l.length === 1 && l;
    });
    t.pass(`replica ${leader} leads`);

    // Drifted rows sent to a replica that does not lead: every window sees them, the leader alerts.
    const other = (leader! + 1) % 3;
    await upload(replicas[other]!, driftedCsv(WINDOW));
    const fired = await until('the alert to fire', async () => (await alerts(replicas[other]!)).firing[0]);
    await until('the webhook post', async () => hook.posts.length >= 1);
    await sleep(1500);
    t.equal(hook.posts.length, 1, 'posted once for the cluster');
    for (const r of replicas)
      t.same(
        (await alerts(r)).firing.map((a) => a.id),
        [fired.id],
        'every replica shows it firing (the leader from its rules, the others from the shared outbox)',
      );
    t.same(
      (await alerts(replicas[other]!)).alerts.map((a) => a.id),
      [fired.id],
      'the outbox is shared: every replica lists the alert',
    );
    t.equal((await leaders()).length, 1, 'still one leader');

    // The leader stops (a rolling update): another takes over. (A leader killed outright is
    // test/regression-replica-killed-mid-upload.test.ts; its session lost, test/store-pg-leader.test.ts.)
    const t0 = Date.now();
    await replicas[leader!]!.close();
    const [next] = await until('a new leader', async () => {
      const l = await leaders(replicas.filter((_, i) => i !== leader));
      return l.length === 1 && l;
    });
    t.comment(`replica ${next} leads ${Date.now() - t0} ms after the old leader began to stop`);

    // Clean rows: the new leader resolves the alert it restored from the outbox (no second firing).
    await upload(replicas[other]!, readFileSync(reference.path, 'utf8'));
    const resolved = await until(
      'the alert to resolve',
      async () => (await alerts(replicas[next!]!)).alerts.find((a) => a.status === 'resolved'),
      20_000,
    );
    t.equal(resolved.resolves, fired.id, 'the new leader resolves the alert the old one fired');
    await until('the resolution to be posted', async () => hook.posts.length >= 2);
    await sleep(1500);
    t.equal(hook.posts.length, 2, 'one firing post, one resolved post');
    t.equal((await alerts(replicas[next!]!)).alerts.filter((a) => a.status === 'firing').length, 1, 'it never fired twice');
  },
);
