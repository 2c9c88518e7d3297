// Alerts reach real peers: an SMTP server (smtp-server) and an HTTP receiver standing in for
// Slack, both on loopback. With both down, alerts wait in the outbox, across a restart too, and
// each is delivered exactly once when the peers come up.
import t from 'tap';
import { existsSync } from 'node:fs';
import { driftedCsv } from './helpers/fixtures.js';
import { freePort, startHook, startSmtp } from './helpers/receivers.js';
import { BUNDLED_MODEL, startTestServer, type TestServer } from './helpers/server.js';
import { until } from './helpers/until.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';

t.test(
  'a drifted upload alerts by email and Slack; with peers down the alerts wait, across a restart, and arrive once',
  { skip },
  async (t) => {
    const smtpPort = await freePort();
    const hookPort = await freePort();
    const secretPath = '/services/T000/B000/very-secret-token';
    const env = {
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      ALERT_EMAIL_FROM: 'driftline@example.test',
      ALERT_EMAIL_TO: 'oncall@example.test',
      SLACK_WEBHOOK_URL: `http://127.0.0.1:${hookPort}${secretPath}`,
      ALERT_RETRY_BASE_MS: '50',
      ALERT_RETRY_MAX_MS: '300',
      DRIFT_PUSH_MS: '50',
      ALERT_RULES: JSON.stringify({
        rules: [
          { kind: 'dataset_drift_share', min_rows: 100 },
          { kind: 'feature_drift', min_rows: 100 },
        ],
      }),
    };
    let srv: TestServer = await startTestServer(env);
    const up = await fetch(`${srv.url}/predict`, { method: 'POST', body: driftedCsv(600), headers: { 'content-type': 'text/csv' } });
    t.equal(up.status, 200);
    await up.text();

    type AlertsBody = {
      firing: { id: string; rule: string }[];
      alerts: {
        id: string;
        rule: string;
        status: string;
        deliveries: { channel: string; state: string; attempts: number; last_error: string | null }[];
      }[];
      undelivered: number;
    };
    const alerts = async (): Promise<AlertsBody> => (await (await fetch(`${srv.url}/api/alerts`)).json()) as AlertsBody;
    let body = await alerts();
    await until('two alerts to be recorded', () => body.alerts.length >= 2, 5000).catch(async () => undefined);
    for (let i = 0; i < 50 && (body.alerts.length < 2 || body.alerts.some((a) => a.deliveries.every((d) => d.attempts === 0))); i++) {
      await new Promise((r) => setTimeout(r, 100));
      body = await alerts();
    }
    t.same(body.alerts.map((a) => a.rule).sort(), ['dataset_drift_share', 'feature_drift']);
    t.ok(
      body.alerts.every((a) => a.deliveries.length === 2 && a.deliveries.every((d) => d.state !== 'sent')),
      'peers are down: nothing delivered',
    );
    t.ok(
      body.alerts.some((a) => a.deliveries.some((d) => d.attempts > 0 && d.last_error !== null)),
      'deliveries were tried and failed',
    );
    t.notMatch(JSON.stringify(body), 'very-secret-token', 'the webhook URL does not leak into errors');
    t.equal(body.undelivered, 4);
    const ids = body.alerts.map((a) => a.id).sort();

    // Restart the service with the peers still down; then bring the peers up.
    await srv.close();
    srv = await startTestServer({ ...env, DATA_DIR: srv.dataDir });
    t.teardown(() => srv.close());
    const after = await alerts();
    t.same(after.firing.map((a) => a.id).sort(), ids, 'the rules are still firing after the restart; nothing new fired');
    const smtp = await startSmtp(smtpPort);
    const hook = await startHook(hookPort);
    t.teardown(() => smtp.close());
    t.teardown(() => hook.close());

    await until('2 emails and 2 Slack posts', () => smtp.mails.length >= 2 && hook.posts.length >= 2, 15_000);
    await new Promise((r) => setTimeout(r, 1000));
    t.equal(smtp.mails.length, 2, 'each alert emailed once');
    t.equal(hook.posts.length, 2, 'each alert posted to Slack once');
    t.same(smtp.mails.map((m) => /<(.+)@driftline>/.exec(m.messageId)?.[1]).sort(), ids, 'one email per alert id');

    const mail = smtp.mails.find((m) => m.subject.includes('dataset_drift_share'))!;
    t.match(mail.subject, /FIRING warning: Dataset drift share above threshold \(dataset_drift_share\) — credit-default \d/);
    t.match(mail.text, /Rule:\s+dataset_drift_share/);
    t.match(mail.text, /Threshold: 0\.2/);
    t.match(mail.text, /Value:\s+0\.\d+|Value:\s+1/);
    t.match(mail.text, /Model:\s+credit-default version \d/);
    t.match(mail.text, /drifted_features: \[/);
    const post = hook.posts.find((p) => p.body.text.includes('feature_drift'))!;
    t.equal(post.path, secretPath);
    t.match(post.body.text, /FIRING Feature drift \(feature_drift\) — credit-default/);
    t.ok(post.body.blocks.length >= 3);
    // The feature_drift messages name each drifted feature with its test, score and threshold.
    const featureMail = smtp.mails.find((m) => m.subject.includes('(feature_drift)'))!;
    t.notMatch(featureMail.text, /^Value:|^Threshold:/m, 'no drifted-feature count passed off as value and threshold');
    t.match(
      featureMail.text,
      /Drifted features \(\d+\):(?:\r?\n {2}.+)*\r?\n {2}age: Wasserstein distance \(normed\) \d[\d.]* >= threshold 0\.1/,
    );
    t.match(
      JSON.stringify(post.body.blocks),
      /Drifted features \(\d+\):\\n(?:[a-z_]+: [^\\]+\\n)*age: Wasserstein distance \(normed\) \d[\d.]* >= threshold 0\.1/,
    );

    await until('the outbox to be empty', () => false, 1).catch(() => undefined);
    const final = await alerts();
    t.equal(final.undelivered, 0);
    t.ok(final.alerts.every((a) => a.deliveries.every((d) => d.state === 'sent')));
  },
);

t.test('a channel without configuration is off', { skip }, async (t) => {
  const srv = await startTestServer({
    DRIFT_PUSH_MS: '50',
    ALERT_RULES: JSON.stringify({ rules: [{ kind: 'dataset_drift_share', min_rows: 100 }] }),
  });
  t.teardown(() => srv.close());
  await (await fetch(`${srv.url}/predict`, { method: 'POST', body: driftedCsv(300), headers: { 'content-type': 'text/csv' } })).text();
  let body: { alerts: { deliveries: unknown[] }[]; undelivered: number } = { alerts: [], undelivered: 0 };
  for (let i = 0; i < 40 && body.alerts.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    body = (await (await fetch(`${srv.url}/api/alerts`)).json()) as typeof body;
  }
  t.equal(body.alerts.length, 1, 'the alert is still recorded, logged and listed');
  t.same(body.alerts[0]!.deliveries, [], 'but there is no channel to deliver it to');
  t.equal(body.undelivered, 0);
});
