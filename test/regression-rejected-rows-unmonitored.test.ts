// Rows that failed validation were answered with an error and counted in one total
// (driftline_rows_rejected_total), but nothing said which feature was going bad, nor how often:
// a feed that started sending blank ages looked like a healthy service with fewer rows. A real
// service gets an upload with missing, unparsable and out-of-range cells; /api/drift must give
// each feature's shares over the rows that arrived, /metrics the same as gauges, and the
// data_quality rule must fire.
import t from 'tap';
import { existsSync } from 'node:fs';
import { FEATURE_HEADER, VALID_ROW } from './helpers/hostile.js';
import { BUNDLED_MODEL, startTestServer } from './helpers/server.js';
import { until } from './helpers/until.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';

type Shares = Record<string, { missing_share: number | null; invalid_share: number | null; unseen_share: number | null }>;

t.test(
  'regression: rejected rows were invisible to monitoring; per-feature data quality in /api/drift, /metrics and an alert',
  { skip },
  async (t) => {
    const srv = await startTestServer({
      WINDOW_ROWS: '200',
      DRIFT_PUSH_MS: '100',
      ALERT_EVAL_MS: '100',
      ALERT_RULES: JSON.stringify({ rules: [{ kind: 'data_quality', min_rows: 100 }] }),
    });
    t.teardown(() => srv.close());

    // 300 rows: the first 100 leave the window again. Of the last 200: 20 blank ages, 12
    // unparsable credit limits, 6 ages out of the card's range, 4 fractional ages.
    const cells = VALID_ROW.split(',');
    const row = (j: number, v: string): string => cells.map((c, k) => (k === j ? v : c)).join(',');
    const lines = [FEATURE_HEADER];
    for (let i = 0; i < 100; i++) lines.push(i % 2 === 0 ? row(7, '') : VALID_ROW);
    for (let i = 0; i < 200; i++) {
      if (i % 10 === 3) lines.push(row(1, ''));
      else if (i % 50 === 7 || i % 50 === 27 || i === 9 || i === 19 || i === 29 || i === 39)
        lines.push(row(0, i % 2 === 0 ? 'abc' : '0x1f'));
      else if (i === 5 || i === 15 || i === 25 || i === 35 || i === 45 || i === 55) lines.push(row(1, '150'));
      else if (i === 61 || i === 71 || i === 81 || i === 91) lines.push(row(1, '30.5'));
      else lines.push(VALID_ROW);
    }
    const r = await fetch(`${srv.url}/predict`, { method: 'POST', body: `${lines.join('\n')}\n`, headers: { 'content-type': 'text/csv' } });
    t.equal(r.status, 200);
    const answer = (await r.json()) as { errors: { column: string | null; code: string }[] };
    t.equal(answer.errors.length, 50 + 20 + 12 + 10, 'the upload had its rejected rows');

    const drift = (await (await fetch(`${srv.url}/api/drift`)).json()) as {
      window_rows: number;
      data_quality: Shares;
      data_quality_rows: number;
    };
    t.equal(drift.data_quality_rows, 200, 'the last 200 rows that arrived, accepted or rejected');
    t.equal(drift.window_rows, 200, 'the drift window holds the last 200 accepted rows, reaching further back');
    const q = drift.data_quality;
    t.same(Object.keys(q), [
      'credit_limit',
      'age',
      'pay_delay_sep',
      'pay_delay_aug',
      'bill_amt_sep',
      'bill_amt_aug',
      'pay_amt_sep',
      'pay_amt_aug',
    ]);
    t.same(
      q.age,
      { missing_share: 20 / 200, invalid_share: 10 / 200, unseen_share: null },
      'age: blank cells missing, 150 and 30.5 invalid',
    );
    t.same(q.credit_limit, { missing_share: 0, invalid_share: 12 / 200, unseen_share: null }, 'credit_limit: unparsable cells invalid');
    t.same(q.pay_amt_aug, { missing_share: 0, invalid_share: 0, unseen_share: null }, 'the blank pay_amt_aug rows have left the window');

    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    t.match(metrics, /^driftline_data_quality_share\{feature="age",kind="missing"\} 0\.1$/m);
    t.match(metrics, /^driftline_data_quality_share\{feature="credit_limit",kind="invalid"\} 0\.06$/m);
    t.match(metrics, /^driftline_data_quality_share\{feature="pay_amt_aug",kind="missing"\} 0$/m);
    t.notMatch(metrics, /driftline_data_quality_share\{[^}]*kind="unseen"/, 'numeric features have no unseen share');

    type Alerts = { firing: { rule: string; message: string; values: { breaches: { feature: string; kind: string; share: number }[] } }[] };
    const fired = await until(
      'data_quality to fire',
      async () => ((await (await fetch(`${srv.url}/api/alerts`)).json()) as Alerts).firing.find((a) => a.rule === 'data_quality'),
      10_000,
    );
    t.same(
      fired.values.breaches.map((b) => [b.feature, b.kind, b.share]),
      [
        ['age', 'missing', 0.1],
        ['credit_limit', 'invalid', 0.06],
      ],
      'above the default 5 %: age missing and credit_limit invalid; age invalid at exactly 5 % is not',
    );
    t.match(fired.message, /age missing 10% \(threshold 5%\); credit_limit invalid 6% \(threshold 5%\)/);
  },
);
