import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RuleEngine, loadRules, rulesConfigSchema } from '../src/alerts/index.js';
import type { MonitorSnapshot } from '../src/monitor/index.js';

/** A snapshot with only what the rules read. */
function snap(o: { share?: number; drifted?: string[]; rows?: number; predDrift?: boolean; f1?: number | null; accuracy?: number | null; labelled?: number; detectedAt?: string | null; since?: number | null }): MonitorSnapshot {
  const names = ['a', 'b', 'c', 'd', 'e'];
  const drifted = o.drifted ?? [];
  const feature = (n: string) => ({ test: 'wasserstein', score: drifted.includes(n) ? 0.3 : 0.01, threshold: 0.1, drift: drifted.includes(n) });
  return {
    at: new Date().toISOString(),
    window_rows: o.rows ?? 1000,
    dataset: { n_columns: 5, n_drifted: drifted.length, share_drifted: o.share ?? drifted.length / 5, drift_share_threshold: 0.5, drift: (o.share ?? drifted.length / 5) >= 0.5 },
    features: Object.fromEntries(names.map((n) => [n, feature(n)])),
    prediction: { test: 'wasserstein', score: o.predDrift === true ? 0.4 : 0.02, threshold: 0.1, drift: o.predDrift === true },
    target: null,
    performance: { n_labelled: o.labelled ?? 0, accuracy: o.accuracy ?? null, precision: null, recall: null, f1: o.f1 ?? null, roc_auc: null },
    concept: { detector: 'page_hinkley', statistic: 0, threshold: 50, samples: 0, detected_at: o.detectedAt ?? null, since_detection: o.since ?? null },
  } as unknown as MonitorSnapshot;
}

const model = { name: 'm', version: '7' };
const only = (kind: string, extra: Record<string, unknown> = {}) => rulesConfigSchema.parse({ rules: [{ kind, ...extra }] });
let n = 0;
const engine = (cfg = only('dataset_drift_share'), cooldownMs = 0, baselineAccuracy: number | null = 0.82) => new RuleEngine(cfg, { cooldownMs, model, baselineAccuracy, newId: () => `a${++n}` });

t.test('the defaults are the original service\'s checks plus concept drift', async (t) => {
  const cfg = loadRules({});
  t.same(cfg.rules.map((r) => r.kind), ['dataset_drift_share', 'feature_drift', 'prediction_drift', 'f1_below', 'accuracy_drop', 'concept_drift']);
  t.match(cfg.rules[0], { threshold: 0.2 });
  t.match(cfg.rules[3], { threshold: 0.7 });
  t.match(cfg.rules[4], { threshold: 0.05 });
});

t.test('rules from a JSON string or file; a bad one stops start-up listing the problem', async (t) => {
  t.same(loadRules({ ALERT_RULES: '{"rules":[{"kind":"f1_below","threshold":0.5}]}' }).rules.map((r) => [r.kind, 'threshold' in r ? r.threshold : null]), [['f1_below', 0.5]]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dl-rules-'));
  const f = path.join(dir, 'rules.json');
  writeFileSync(f, JSON.stringify({ rules: [{ kind: 'feature_drift', severity: 'critical' }], hysteresis: 0.2 }));
  t.match(loadRules({ ALERT_RULES_FILE: f }), { hysteresis: 0.2, rules: [{ kind: 'feature_drift', severity: 'critical' }] });
  t.throws(() => loadRules({ ALERT_RULES: '{"rules":[{"kind":"nope"}]}' }), { code: 'DL_ERR_CONFIG', message: /rules\.0/ });
  t.throws(() => loadRules({ ALERT_RULES: 'not json' }), { code: 'DL_ERR_CONFIG' });
  t.throws(() => loadRules({ ALERT_RULES_FILE: path.join(dir, 'missing.json') }), { code: 'DL_ERR_CONFIG' });
});

t.test('an alert fires on the transition into violation, once, with values and threshold', async (t) => {
  const e = engine();
  t.same(e.evaluate(snap({ share: 0.2 })), [], 'at the threshold: not above it');
  const [a] = e.evaluate(snap({ share: 0.4, drifted: ['a', 'b'] }));
  t.match(a, { rule: 'dataset_drift_share', status: 'firing', severity: 'warning', value: 0.4, threshold: 0.2, model: { version: '7' } });
  t.match(a!.values, { drifted_features: ['a', 'b'] });
  t.match(a!.message, /40% of features drifted \(a, b\), threshold 20%/);
  t.same(e.evaluate(snap({ share: 0.6 })), [], 'still in violation: no second alert');
  t.same(e.firing().map((x) => x.id), [a!.id]);
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

t.test('yes/no rules resolve after consecutive clean evaluations', async (t) => {
  const e = engine(only('feature_drift'));
  const [a] = e.evaluate(snap({ drifted: ['c'] }));
  t.match(a, { status: 'firing', value: 1 });
  t.match(a!.values, { drifted: { c: { test: 'wasserstein', score: 0.3, threshold: 0.1 } } });
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
  t.match(x, { rule: 'accuracy_drop', threshold: 0.05 });
  t.ok(Math.abs(x!.value! - 0.12) < 1e-9);
  t.same(engine(only('accuracy_drop'), 0, null).evaluate(snap({ accuracy: 0.1, labelled: 200 })), [], 'no baseline, no rule');
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
