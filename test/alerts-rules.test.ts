import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RuleEngine, emailMessage, loadRules, rulesSchema, slackMessage, type Baseline } from '../src/alerts/index.js';
import { CARD_FILE, readModelCard } from '../src/model/index.js';
import type { MonitorSnapshot } from '../src/monitor/index.js';
import { section } from './helpers/docs.js';
import { BUNDLED_MODEL } from './helpers/server.js';

/** A snapshot with only what the rules read. */
function snap(o: {
  share?: number;
  drifted?: string[];
  rows?: number;
  predDrift?: boolean;
  f1?: number | null;
  accuracy?: number | null;
  labelled?: number;
  detectedAt?: string | null;
  since?: number | null;
  estF1?: number | null;
  estAuc?: number | null;
  dq?: Record<string, Partial<Record<'missing_share' | 'invalid_share' | 'unseen_share', number | null>>>;
  dqRows?: number;
}): MonitorSnapshot {
  const names = ['a', 'b', 'c', 'd', 'e'];
  const drifted = o.drifted ?? [];
  const feature = (n: string) => ({
    test: 'wasserstein',
    score: drifted.includes(n) ? 0.3 : 0.01,
    threshold: 0.1,
    drift: drifted.includes(n),
  });
  return {
    at: new Date().toISOString(),
    window_rows: o.rows ?? 1000,
    dataset: {
      n_columns: 5,
      n_drifted: drifted.length,
      share_drifted: o.share ?? drifted.length / 5,
      drift_share_threshold: 0.5,
      drift: (o.share ?? drifted.length / 5) >= 0.5,
    },
    features: Object.fromEntries(names.map((n) => [n, feature(n)])),
    prediction: { test: 'wasserstein', score: o.predDrift === true ? 0.4 : 0.02, threshold: 0.1, drift: o.predDrift === true },
    target: null,
    performance: {
      n_labelled: o.labelled ?? 0,
      accuracy: o.accuracy ?? null,
      precision: null,
      recall: null,
      f1: o.f1 ?? null,
      roc_auc: null,
    },
    performance_estimate:
      o.estF1 === undefined && o.estAuc === undefined
        ? null
        : {
            n_rows: o.rows ?? 1000,
            accuracy: null,
            precision: null,
            recall: null,
            f1: o.estF1 ?? null,
            roc_auc: o.estAuc ?? null,
            bands: {
              accuracy: null,
              precision: null,
              recall: null,
              f1: o.estF1 == null ? null : [o.estF1 - 0.03, o.estF1 + 0.03],
              roc_auc: o.estAuc == null ? null : [o.estAuc - 0.02, o.estAuc + 0.02],
            },
          },
    concept: {
      detector: 'page_hinkley',
      statistic: 0,
      threshold: 50,
      samples: 0,
      detected_at: o.detectedAt ?? null,
      since_detection: o.since ?? null,
    },
    data_quality: Object.fromEntries(names.map((n) => [n, { missing_share: 0, invalid_share: 0, unseen_share: null, ...o.dq?.[n] }])),
    data_quality_rows: o.dqRows ?? o.rows ?? 1000,
  } as unknown as MonitorSnapshot;
}

const model = { name: 'm', version: '7' };
const only = (kind: string, extra: Record<string, unknown> = {}) => rulesSchema(5000).parse({ rules: [{ kind, ...extra }] });
let n = 0;
const engine = (cfg = only('dataset_drift_share'), cooldownMs = 0, baseline: Baseline = { accuracy: 0.82, f1: 0.45 }) =>
  new RuleEngine(cfg, { cooldownMs, model, baseline, newId: () => `a${++n}` });

t.test("the defaults: the original service's drift checks, quality against the model card, estimated quality, concept drift", async (t) => {
  const cfg = loadRules({ WINDOW_ROWS: 5000 });
  t.same(
    cfg.rules.map((r) => r.kind),
    [
      'dataset_drift_share',
      'feature_drift',
      'prediction_drift',
      'f1_drop',
      'accuracy_drop',
      'estimated_f1_drop',
      'estimated_roc_auc_drop',
      'data_quality',
      'concept_drift',
    ],
  );
  t.match(cfg.rules[0], { threshold: 0.2, min_rows: 1000 });
  t.match(cfg.rules[3], { threshold: 0.1 });
  t.match(cfg.rules[4], { threshold: 0.05 });
  t.match(cfg.rules[5], { threshold: 0.1, min_rows: 1000, severity: 'warning' });
  t.match(cfg.rules[6], { threshold: 0.05, min_rows: 1000, severity: 'warning' });
});

t.test('estimated quality drops fire before any label, against the card, once the window holds min_rows', async (t) => {
  const base: Baseline = { accuracy: 0.82, f1: 0.45, roc_auc: 0.77 };
  const f1 = engine(only('estimated_f1_drop'), 0, base);
  t.same(f1.evaluate(snap({ rows: 999, estF1: 0.2 })), [], 'below min_rows: not judged');
  t.same(f1.evaluate(snap({ rows: 1000, estF1: 0.36 })), [], 'a drop of 0.09: within the threshold');
  const [a] = f1.evaluate(snap({ rows: 1000, estF1: 0.3 }));
  t.match(a, { rule: 'estimated_f1_drop', status: 'firing', severity: 'warning', threshold: 0.1 });
  t.ok(Math.abs(a!.value! - 0.15) < 1e-12, 'the value is the drop');
  t.match(a!.values, { estimated_f1: 0.3, validation_f1: 0.45 });
  t.same(
    (a!.values.band as number[]).map((v) => Math.round(v * 100) / 100),
    [0.27, 0.33],
    "with the estimate's band",
  );
  t.match(a!.message, /estimated F1 0\.3.*before labels/);
  const auc = engine(only('estimated_roc_auc_drop'), 0, base);
  t.same(auc.evaluate(snap({ rows: 5000 })), [], 'no estimate (no calibration map): not judged');
  t.match(auc.evaluate(snap({ rows: 5000, estAuc: 0.7 })), [{ rule: 'estimated_roc_auc_drop', status: 'firing' }]);
  t.match(auc.evaluate(snap({ rows: 5000, estAuc: 0.76 })), [{ rule: 'estimated_roc_auc_drop', status: 'resolved' }]);
});

t.test('rules from a JSON string or file; a bad one stops start-up listing the problem', async (t) => {
  t.same(
    loadRules({ WINDOW_ROWS: 5000, ALERT_RULES: '{"rules":[{"kind":"f1_below","threshold":0.5}]}' }).rules.map((r) => [
      r.kind,
      'threshold' in r ? r.threshold : null,
    ]),
    [['f1_below', 0.5]],
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dl-rules-'));
  const f = path.join(dir, 'rules.json');
  writeFileSync(f, JSON.stringify({ rules: [{ kind: 'feature_drift', severity: 'critical' }], hysteresis: 0.2 }));
  t.match(loadRules({ WINDOW_ROWS: 5000, ALERT_RULES_FILE: f }), {
    hysteresis: 0.2,
    rules: [{ kind: 'feature_drift', severity: 'critical' }],
  });
  t.throws(() => loadRules({ WINDOW_ROWS: 5000, ALERT_RULES: '{"rules":[{"kind":"nope"}]}' }), {
    code: 'DL_ERR_CONFIG',
    message: /rules\.0/,
  });
  t.throws(() => loadRules({ WINDOW_ROWS: 5000, ALERT_RULES: 'not json' }), { code: 'DL_ERR_CONFIG' });
  t.throws(() => loadRules({ WINDOW_ROWS: 5000, ALERT_RULES_FILE: path.join(dir, 'missing.json') }), { code: 'DL_ERR_CONFIG' });
});

t.test('an alert fires on the transition into violation, once, with values and threshold', async (t) => {
  const e = engine();
  t.same(e.evaluate(snap({ share: 0.2 })), [], 'at the threshold: not above it');
  const [a] = e.evaluate(snap({ share: 0.4, drifted: ['a', 'b'] }));
  t.match(a, { rule: 'dataset_drift_share', status: 'firing', severity: 'warning', value: 0.4, threshold: 0.2, model: { version: '7' } });
  t.match(a!.values, { drifted_features: ['a', 'b'] });
  t.match(a!.message, /40% of features drifted \(a, b\), threshold 20%/);
  t.same(e.evaluate(snap({ share: 0.6 })), [], 'still in violation: no second alert');
  t.same(
    e.firing().map((x) => x.id),
    [a!.id],
  );
});

t.test('numeric hysteresis: resolves only once the value is 10% inside the threshold', async (t) => {
  const e = engine();
  e.evaluate(snap({ share: 0.4 }));
  t.same(e.evaluate(snap({ share: 0.19 })), [], '0.19 is under 0.2 but within the margin');
  t.same(e.evaluate(snap({ share: 0.21 })), []);
  const [r] = e.evaluate(snap({ share: 0.18 }));
  t.match(r, { status: 'resolved', rule: 'dataset_drift_share' });
  t.ok(r!.resolves, 'names the alert it resolves');
  t.same(e.firing(), []);
});

t.test('a score hovering at the threshold does not flap', async (t) => {
  const e = engine();
  const out = [0.21, 0.19, 0.21, 0.195, 0.205, 0.19, 0.21].flatMap((v) => e.evaluate(snap({ share: v })));
  t.equal(out.length, 1, 'one alert for the whole episode');
});

t.test('cool-down: a rule fires at most once per ALERT_COOLDOWN_S', async (t) => {
  const e = engine(only('dataset_drift_share'), 60_000);
  const t0 = 1_000_000;
  t.equal(e.evaluate(snap({ share: 0.5 }), t0).length, 1);
  t.equal(e.evaluate(snap({ share: 0.1 }), t0 + 1000)[0]?.status, 'resolved');
  t.same(e.evaluate(snap({ share: 0.5 }), t0 + 2000), [], 'in violation again within the cool-down: suppressed');
  t.equal(e.evaluate(snap({ share: 0.5 }), t0 + 61_000)[0]?.status, 'firing', 'still in violation after it: fires');
});

t.test(
  "data_quality fires when a feature's share of a kind passes that kind's threshold, once the quality window holds min_rows",
  async (t) => {
    const cfg = loadRules({ WINDOW_ROWS: 5000 });
    t.match(
      cfg.rules.find((r) => r.kind === 'data_quality'),
      { thresholds: { missing: 0.05, invalid: 0.05, unseen: 0.05 }, min_rows: 1000, severity: 'warning' },
    );
    const e = engine(only('data_quality', { thresholds: { missing: 0.1, unseen: 0.02 } }));
    t.same(e.evaluate(snap({ dqRows: 999, dq: { a: { missing_share: 0.5 } } })), [], 'below min_rows: not judged');
    t.same(
      e.evaluate(snap({ dq: { a: { missing_share: 0.1, invalid_share: 0.05 }, b: { unseen_share: 0.02 } } })),
      [],
      'at each threshold: not above it',
    );
    const [a] = e.evaluate(snap({ dq: { a: { missing_share: 0.04 }, c: { invalid_share: 0.2 }, d: { unseen_share: 0.03 } } }));
    t.match(a, { rule: 'data_quality', status: 'firing', severity: 'warning' });
    t.same(
      (a!.values.breaches as { feature: string; kind: string }[]).map((b) => `${b.feature} ${b.kind}`),
      ['c invalid', 'd unseen'],
      'invalid 0.2 > 0.05 (the default kept), unseen 0.03 > 0.02; missing 0.04 < 0.1 is fine; worst first',
    );
    t.match(a!.message, /c invalid 20% \(threshold 5%\); d unseen 3% \(threshold 2%\)/);
    t.throws(() => only('data_quality', { thresholds: { missing: 0.1, typo: 1 } }), 'an unknown kind of threshold is refused');
    for (let i = 0; i < 2; i++) t.same(e.evaluate(snap({})), []);
    t.match(e.evaluate(snap({})), [{ rule: 'data_quality', status: 'resolved' }], 'resolves after clean evaluations');
  },
);

t.test('yes/no rules resolve after consecutive clean evaluations', async (t) => {
  const e = engine(only('feature_drift'));
  const [a] = e.evaluate(snap({ drifted: ['c'] }));
  t.match(a, { status: 'firing', drifted: [{ column: 'c', test: 'wasserstein', score: 0.3, threshold: 0.1 }] });
  t.same(e.evaluate(snap({})), []);
  t.same(e.evaluate(snap({ drifted: ['d'] })), [], 'drift again resets the streak');
  t.same(e.evaluate(snap({})), []);
  t.same(e.evaluate(snap({})), []);
  t.equal(e.evaluate(snap({}))[0]?.status, 'resolved', 'three clean evaluations in a row');
});

t.test('drift rules need min_rows; quality rules need min_labels', async (t) => {
  const d = engine();
  t.same(d.evaluate(snap({ share: 1, rows: 10 })), [], 'ten rows are not evidence');
  const f1 = engine(only('f1_below'));
  t.same(f1.evaluate(snap({ f1: 0.2, labelled: 50 })), []);
  t.match(f1.evaluate(snap({ f1: 0.2, labelled: 150 })), [{ rule: 'f1_below', value: 0.2, threshold: 0.7, severity: 'critical' }]);
  const acc = engine(only('accuracy_drop'));
  t.same(acc.evaluate(snap({ accuracy: 0.8, labelled: 200 })), [], 'a drop of 0.02');
  const [x] = acc.evaluate(snap({ accuracy: 0.7, labelled: 200 }));
  t.match(x, {
    rule: 'accuracy_drop',
    threshold: 0.05,
    title: "Accuracy dropped below the model card's",
    message: /^Accuracy 0\.7 on 200 labelled rows vs 0\.82 at validation \(model card\): a drop of 0\.12, threshold 0\.05$/,
  });
  t.ok(Math.abs(x!.value! - 0.12) < 1e-9);
  t.same(
    engine(only('accuracy_drop'), 0, { accuracy: null, f1: null }).evaluate(snap({ accuracy: 0.1, labelled: 200 })),
    [],
    'no baseline, no rule',
  );
});

t.test('prediction drift and concept drift rules', async (t) => {
  const p = engine(only('prediction_drift'));
  t.match(p.evaluate(snap({ predDrift: true })), [{ rule: 'prediction_drift', value: 0.4 }]);
  const c = engine(only('concept_drift', { clear_after: 50 }));
  t.same(c.evaluate(snap({})), []);
  t.match(c.evaluate(snap({ detectedAt: new Date().toISOString(), since: 0 })), [{ rule: 'concept_drift', status: 'firing' }]);
  t.same(c.evaluate(snap({ detectedAt: new Date().toISOString(), since: 10 })), []);
  for (let i = 0; i < 2; i++) c.evaluate(snap({ detectedAt: new Date().toISOString(), since: 60 }));
  t.equal(c.evaluate(snap({ detectedAt: new Date().toISOString(), since: 70 }))[0]?.status, 'resolved');
});

t.test('restore: a rule still firing before a restart does not fire again', async (t) => {
  const a = engine();
  const [fired] = a.evaluate(snap({ share: 0.5 }));
  const b = engine();
  b.restore(new Map([['dataset_drift_share', fired!]]));
  t.same(b.evaluate(snap({ share: 0.5 })), []);
  t.equal(b.evaluate(snap({ share: 0.05 }))[0]?.resolves, fired!.id);
});

t.test('regression: the default f1_below 0.7 fired CRITICAL on normal data; quality rules compare with the model card', async (t) => {
  const card = readModelCard(path.join(BUNDLED_MODEL, CARD_FILE));
  const v = card.metrics!.validation;
  t.ok(v.f1 < 0.7, `the bundled model's own validation F1 (${v.f1}) is under the original's absolute 0.7`);
  const e = new RuleEngine(loadRules({ WINDOW_ROWS: 5000 }), { cooldownMs: 0, model, baseline: { accuracy: v.accuracy, f1: v.f1 } });
  t.same(
    e.evaluate(snap({ f1: v.f1 - 0.03, accuracy: v.accuracy - 0.01, labelled: 2000 })),
    [],
    'as good as at validation, give or take: silence',
  );
  const [a] = e.evaluate(snap({ f1: v.f1 - 0.15, accuracy: v.accuracy - 0.01, labelled: 2000 }));
  t.match(a, { rule: 'f1_drop', status: 'firing', severity: 'critical', threshold: 0.1 });
  t.ok(Math.abs(a!.value! - 0.15) < 1e-9, 'the value is the drop');
  t.match(
    a!.message,
    new RegExp(
      `vs ${String(Math.round(v.f1 * 1e4) / 1e4).replace('.', '\\.')} at validation \\(model card\\): a drop of 0\\.15, threshold 0\\.1`,
    ),
  );
  t.match(a!.values, { f1: v.f1 - 0.15, validation_f1: v.f1 });

  // The original's absolute rule is still there for whoever asks for it.
  const abs = new RuleEngine(loadRules({ WINDOW_ROWS: 5000, ALERT_RULES: '{"rules":[{"kind":"f1_below","threshold":0.7}]}' }), {
    cooldownMs: 0,
    model,
    baseline: { accuracy: v.accuracy, f1: v.f1 },
  });
  t.match(abs.evaluate(snap({ f1: v.f1, labelled: 2000 })), [{ rule: 'f1_below', threshold: 0.7, message: /absolute threshold 0\.7/ }]);
});

t.test('regression: feature_drift fired on a 201-row window; drift rules wait for min(WINDOW_ROWS, 1000) rows', async (t) => {
  const kinds = (alerts: { rule: string }[]) => alerts.map((a) => a.rule).sort();
  const e = new RuleEngine(loadRules({ WINDOW_ROWS: 5000 }), { cooldownMs: 0, model, baseline: { accuracy: null, f1: null } });
  t.same(e.evaluate(snap({ drifted: ['a', 'b'], predDrift: true, rows: 201 })), [], '201 rows: too few to judge');
  t.same(e.evaluate(snap({ drifted: ['a', 'b'], predDrift: true, rows: 999 })), []);
  t.same(kinds(e.evaluate(snap({ drifted: ['a', 'b'], predDrift: true, rows: 1000 }))), [
    'dataset_drift_share',
    'feature_drift',
    'prediction_drift',
  ]);
  // A window smaller than 1000 rows is judged once it is full.
  const small = new RuleEngine(loadRules({ WINDOW_ROWS: 300 }), { cooldownMs: 0, model, baseline: { accuracy: null, f1: null } });
  t.same(small.evaluate(snap({ drifted: ['a'], rows: 299 })), []);
  t.same(kinds(small.evaluate(snap({ drifted: ['a'], rows: 300 }))), ['feature_drift']);
  // An explicit min_rows still wins.
  const explicit = new RuleEngine(loadRules({ WINDOW_ROWS: 5000, ALERT_RULES: '{"rules":[{"kind":"feature_drift","min_rows":50}]}' }), {
    cooldownMs: 0,
    model,
    baseline: { accuracy: null, f1: null },
  });
  t.equal(explicit.evaluate(snap({ drifted: ['a'], rows: 50 })).length, 1);
});

t.test('regression: feature_drift email and Slack said "Value: 1 / Threshold: 0"; they list the drifted features', async (t) => {
  const e = engine(only('feature_drift'));
  const s = snap({ drifted: ['b', 'd'] });
  s.features.d = { ...s.features.d!, test: 'ks', test_display_name: 'K-S p_value', score: 0.00001234, threshold: 0.05 };
  s.features.b = { ...s.features.b!, test_display_name: 'Wasserstein distance (normed)' };
  const [a] = e.evaluate(s);
  const mail = emailMessage(a!).text;
  t.notMatch(mail, /Value:/, 'no count passed off as a value');
  t.notMatch(mail, /Threshold:\s+0\n/);
  t.match(
    mail,
    /Drifted features \(2\):\n {2}b: Wasserstein distance \(normed\) 0\.3 >= threshold 0\.1\n {2}d: K-S p_value 1\.23e-5 <= threshold 0\.05\n/,
  );
  t.match(
    a!.message,
    /2 of 5 features drifted over 1000 rows: b: Wasserstein distance \(normed\) 0\.3 >= threshold 0\.1; d: K-S p_value 1\.23e-5 <= threshold 0\.05/,
  );
  const slack = JSON.stringify(slackMessage(a!).blocks);
  t.notMatch(slack, /\*Value\*|\*Threshold\*/);
  t.match(slack, /b: Wasserstein distance \(normed\) 0\.3 >= threshold 0\.1\\nd: K-S p_value 1\.23e-5 <= threshold 0\.05/);
  // A rule that compares one number with a threshold keeps both lines.
  const [share] = engine().evaluate(snap({ drifted: ['a', 'b'] }));
  t.match(emailMessage(share!).text, /Value:\s+0\.4\nThreshold: 0\.2\n/);
});

t.test('every ALERT_RULES example in the docs is valid', async (t) => {
  const { file, body } = section('Alerts and labels');
  const examples = [...body.matchAll(/^ALERT_RULES='(.+)'$/gm)].map((m) => m[1]!);
  t.ok(examples.length >= 2, `${file} shows rule examples`);
  for (const e of examples) t.doesNotThrow(() => loadRules({ WINDOW_ROWS: 5000, ALERT_RULES: e }), e);
  t.match(body, /"kind":"f1_below","threshold":0\.7/, 'the original absolute F1 rule is documented');
});
