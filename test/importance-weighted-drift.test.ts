import path from 'node:path';
import t from 'tap';
import { featureRequests, predictColumns } from '../src/cli/profile.js';
import { readCsvColumns } from '../src/csv-columns.js';
import { DriftWindow, buildProfile, snapshot } from '../src/drift/index.js';
import { CARD_FILE, loadModel, readModelCard } from '../src/model/index.js';
import { permutationImportance } from '../src/model/importance.js';
import { rocAuc } from '../src/model/metrics.js';
import { DriftMonitor } from '../src/monitor/index.js';
import { seededRandom, testCard } from './helpers/fixtures.js';
import { ROOT, sharedFile } from './helpers/shared.js';

const rng = seededRandom;

t.test('permutation importance: a feature the model ignores scores 0, the one it reads scores its fall in ROC-AUC', async (t) => {
  const random = rng(5);
  const n = 2000;
  const x0 = Float64Array.from({ length: n }, () => random());
  const x1 = Float64Array.from({ length: n }, () => random());
  const labels = Array.from(x0, (v) => (random() < v ? 1 : 0));
  const predict = async (cols: readonly Float64Array[]) => Float64Array.from(cols[0]!);
  const imp = await permutationImportance(predict, [x0, x1], labels, { repeats: 3, seed: 1 });
  t.equal(imp[1], 0, 'shuffling an unused feature changes nothing');
  // Shuffled, x0 carries no information: the ROC-AUC falls to about 0.5.
  const base = rocAuc(labels, x0);
  t.ok(Math.abs(imp[0]! - (base - 0.5)) < 0.05, `importance ${imp[0]!.toFixed(3)} ≈ ${(base - 0.5).toFixed(3)}`);
  t.same(await permutationImportance(predict, [x0, x1], labels, { repeats: 3, seed: 1 }), imp, 'the same seed gives the same importances');
});

t.test('each feature carries its importance and the dataset an importance-weighted share', async (t) => {
  const random = rng(8);
  const ref = (shift: number) => Float64Array.from({ length: 3000 }, () => random() * 10 + shift);
  const profile = buildProfile({
    features: [
      { name: 'a', values: ref(0) },
      { name: 'b', values: ref(0) },
      { name: 'c', values: ref(0) },
    ],
  });
  const w = new DriftWindow(profile, { capacity: 1000 });
  for (let i = 0; i < 1000; i++) w.push([random() * 10 + 5, random() * 10, random() * 10], 0, Number.NaN, Number.NaN);
  const plain = snapshot(profile, w);
  t.notOk('importance_weighted_share' in plain.dataset, 'no importances, no weighted share');
  t.notOk('importance' in plain.features.a!);
  t.ok(plain.features.a!.drift && !plain.features.b!.drift && !plain.features.c!.drift, 'only a drifted');
  const weighted = snapshot(profile, w, { importance: { a: 0.3, b: 0.1, c: -0.02 } });
  t.equal(weighted.features.a!.importance, 0.3);
  t.equal(weighted.features.c!.importance, -0.02);
  t.ok(Math.abs(weighted.dataset.importance_weighted_share! - 0.75) < 1e-12, 'a holds 0.3 of 0.4 (a negative importance counts as 0)');
  t.equal(weighted.dataset.share_drifted, plain.dataset.share_drifted, "Evidently's share is unchanged beside it");
  t.equal(
    snapshot(profile, w, { importance: { a: 0, b: 0, c: 0 } }).dataset.importance_weighted_share,
    null,
    'no importance anywhere: null',
  );
});

t.test("the monitor weighs drift with the card's importances", async (t) => {
  const random = rng(2);
  const names = testCard().features.map((f) => f.name);
  const cols = names.map(() => Float64Array.from({ length: 2000 }, () => random() * 100));
  const profile = buildProfile({ features: names.map((name, j) => ({ name, values: cols[j]! })) });
  const card = testCard({ features: names.map((name, j) => ({ name, importance: j === 0 ? 0.2 : 0.01 })) });
  const monitor = new DriftMonitor({ profile, capacity: 500, overrides: {}, driftShareThreshold: 0.5, historyMs: 1000, card });
  for (let i = 0; i < 500; i++)
    monitor.push(
      names.map((_, j) => (j === 0 ? random() * 100 + 60 : random() * 100)),
      0,
      0.3,
      Number.NaN,
    );
  const snap = monitor.current();
  t.equal(snap.features[names[0]!]!.importance, 0.2);
  t.ok(snap.features[names[0]!]!.drift, 'the shifted feature drifted');
  const expected =
    Object.entries(snap.features).reduce((s, [, f]) => s + (f.drift ? f.importance! : 0), 0) / (0.2 + 0.01 * (names.length - 1));
  t.ok(Math.abs(snap.dataset.importance_weighted_share! - expected) < 1e-12, `weighted share ${snap.dataset.importance_weighted_share}`);
});

const data = sharedFile('data/UCI_Credit_Card.csv');
t.test('on the bundled model, the repayment status leads the importances', { skip: data.skip }, async (t) => {
  const MODEL = path.join(ROOT, 'models', 'credit-default', 'v1');
  const card = readModelCard(path.join(MODEL, CARD_FILE));
  const { columns, rows } = await readCsvColumns(
    data.path,
    [...featureRequests(card), { name: 'target', aliases: ['default.payment.next.month'] }],
    { limit: 6000 },
  );
  const model = await loadModel(MODEL, { threads: 1 });
  t.teardown(() => model.engine.close());
  const features = card.features.map((f) => columns.get(f.name)!);
  const imp = await permutationImportance((cols) => predictColumns(model.engine, cols, rows), features, columns.get('target')!, {
    repeats: 2,
  });
  const ranked = card.features.map((f, j) => [f.name, imp[j]!] as const).sort((a, b) => b[1] - a[1]);
  t.equal(ranked[0]![0], 'pay_delay_sep', `ranked: ${ranked.map(([n, v]) => `${n} ${v.toFixed(3)}`).join(', ')}`);
  t.ok(ranked[0]![1] > 0.05, 'a clear fall in ROC-AUC');
});
