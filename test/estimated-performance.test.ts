import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { featureRequests, predictColumns } from '../src/cli/profile.js';
import { readCsvColumns } from '../src/csv-columns.js';
import { calibrate, fitCalibration, type Calibration } from '../src/drift/index.js';
import { CARD_FILE, loadModel, readModelCard } from '../src/model/index.js';
import { EstimatedPerformance, type PerformanceEstimate } from '../src/monitor/estimated-performance.js';
import { RollingPerformance } from '../src/monitor/performance.js';
import { ROOT, sharedFile } from './helpers/shared.js';
import { seededRandom } from './helpers/fixtures.js';

const rng = seededRandom;

/** Every estimate straight from the rows and the map: the definitions, with no running sums. */
function direct(c: Calibration, probs: readonly number[], threshold: number): Omit<PerformanceEstimate, 'bands' | 'n_rows'> {
  const q = probs.map((p) => calibrate(c, p));
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  probs.forEach((p, i) => {
    if (p >= threshold) {
      tp += q[i]!;
      fp += 1 - q[i]!;
    } else {
      fn += q[i]!;
      tn += 1 - q[i]!;
    }
  });
  // Expected ROC-AUC over every pair, with rows in the same 1/1000 score bin counted as ties.
  const bin = (p: number): number => Math.min(999, Math.floor(p * 1000));
  let num = 0;
  for (let i = 0; i < probs.length; i++) {
    for (let j = 0; j < probs.length; j++) {
      if (i === j) continue;
      const w = q[i]! * (1 - q[j]!);
      num += bin(probs[i]!) > bin(probs[j]!) ? w : bin(probs[i]!) === bin(probs[j]!) ? w / 2 : 0;
    }
  }
  const pos = tp + fn;
  const neg = fp + tn;
  // The pair sum leaves out i = j; the binned estimate counts a row with itself as half a tie.
  const selfTies = q.reduce((s, v) => s + (v * (1 - v)) / 2, 0);
  return {
    accuracy: (tp + tn) / probs.length,
    precision: tp / (tp + fp),
    recall: tp / pos,
    f1: (2 * tp) / (2 * tp + fp + fn),
    roc_auc: (num + selfTies) / (pos * neg),
  };
}

t.test('the calibration map recovers a known miscalibration and keeps the ranking', async (t) => {
  const random = rng(3);
  const p: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const v = random();
    p.push(v);
    // The model says v; the truth is v²: the map must learn to square.
    y.push(random() < v * v ? 1 : 0);
  }
  const c = fitCalibration(p, y);
  t.equal(c.method, 'binned');
  t.equal(c.rows, 20_000);
  for (let i = 1; i < c.y.length; i++) t.ok(c.y[i]! >= c.y[i - 1]!, 'calibrated probabilities never fall as the score rises');
  for (const v of [0.1, 0.3, 0.5, 0.7, 0.9])
    t.ok(Math.abs(calibrate(c, v) - v * v) < 0.03, `calibrate(${v}) = ${calibrate(c, v).toFixed(3)} ≈ ${(v * v).toFixed(3)}`);
  t.equal(calibrate(c, 0), c.y[0], 'clipped below the first knot');
  t.equal(calibrate(c, 1), c.y.at(-1), 'clipped above the last knot');
});

t.test('a map from labels that fall as the score rises is pooled flat, not reversed', async (t) => {
  const p = Array.from({ length: 2000 }, (_, i) => i / 2000);
  const y = p.map((v) => (v < 0.5 ? 1 : 0));
  const c = fitCalibration(p, y);
  t.equal(new Set(c.y).size, 1, 'one pooled value');
  t.ok(Math.abs(c.y[0]! - 0.5) < 1e-12);
});

t.test('rows with no label or no probability are left out of the fit; no labelled row is an error', async (t) => {
  const c = fitCalibration([0.2, 0.4, Number.NaN, 0.6], [0, Number.NaN, 1, 1]);
  t.equal(c.rows, 2);
  t.throws(() => fitCalibration([0.2], [Number.NaN]), /no labelled rows/);
});

t.test('the live estimate equals the direct computation on the window after evictions', async (t) => {
  const random = rng(9);
  const c = fitCalibration(
    Array.from({ length: 5000 }, () => random()),
    Array.from({ length: 5000 }, function (this: void) {
      return random() < 0.3 ? 1 : 0;
    }),
  );
  const skewed: Calibration = { ...c, x: [0, 0.3, 0.8, 1], y: [0.02, 0.2, 0.7, 0.95] };
  const capacity = 400;
  const est = new EstimatedPerformance(skewed, 0.4);
  const window: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const p = random() ** 1.5;
    est.add(p);
    window.push(p);
    if (window.length > capacity) est.remove(window.shift()!);
  }
  const got = est.estimate();
  const want = direct(skewed, window, 0.4);
  t.equal(got.n_rows, capacity);
  for (const k of ['accuracy', 'precision', 'recall', 'f1'] as const)
    t.ok(Math.abs(got[k]! - want[k]!) < 1e-6, `${k}: ${got[k]} vs ${want[k]}`);
  t.ok(Math.abs(got.roc_auc! - want.roc_auc!) < 1e-6, `roc_auc: ${got.roc_auc} vs ${want.roc_auc}`);
  for (const k of ['accuracy', 'precision', 'recall', 'f1', 'roc_auc'] as const) {
    const band = got.bands[k]!;
    t.ok(band[0] <= got[k]! && got[k]! <= band[1] && band[1] - band[0] > 0, `${k} lies inside its band ${band.join('–')}`);
  }
  // Emptied, the window holds nothing: sums cancel exactly.
  for (const p of window) est.remove(p);
  t.same(est.estimate(), {
    n_rows: 0,
    accuracy: null,
    precision: null,
    recall: null,
    f1: null,
    roc_auc: null,
    bands: { accuracy: null, precision: null, recall: null, f1: null, roc_auc: null },
  });
});

const data = sharedFile('data/UCI_Credit_Card.csv');
const ids = sharedFile('golden/validation_ids.json');
t.test('estimated against realized performance on the UCI validation rows', { skip: data.skip || ids.skip }, async (t) => {
  const MODEL = path.join(ROOT, 'models', 'credit-default', 'v1');
  const card = readModelCard(path.join(MODEL, CARD_FILE));
  const { columns, rows } = await readCsvColumns(data.path, [
    ...featureRequests(card),
    { name: 'target', aliases: ['default.payment.next.month'] },
    { name: 'ID' },
  ]);
  const model = await loadModel(MODEL, { threads: 1 });
  t.teardown(() => model.engine.close());
  const prob = await predictColumns(
    model.engine,
    card.features.map((f) => columns.get(f.name)!),
    rows,
  );
  const target = columns.get('target')!;
  const listed = new Set<number>((JSON.parse(readFileSync(ids.path, 'utf8')) as { ids: number[] }).ids);
  const all = Array.from({ length: rows }, (_, i) => i);
  const validation = all.filter((i) => listed.has(columns.get('ID')![i]!));
  // The map is fitted on the reference rows, as `driftline profile` sees them.
  const reference = all.slice(0, 21_000);
  const c = fitCalibration(
    reference.map((i) => prob[i]!),
    reference.map((i) => target[i]!),
  );
  const measure = (idx: readonly number[]) => {
    const est = new EstimatedPerformance(c, card.decision_threshold);
    const real = new RollingPerformance(card.decision_threshold);
    for (const i of idx) {
      est.add(prob[i]!);
      real.add(prob[i]!, target[i]!);
    }
    return { est: est.estimate(), real: real.metrics() };
  };

  const random = rng(21);
  const trials = 30;
  let covered = 0;
  for (let k = 0; k < trials; k++) {
    const pool = [...validation];
    for (let i = 0; i < 5000; i++) {
      const j = i + Math.floor(random() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    const { est, real } = measure(pool.slice(0, 5000));
    t.ok(
      Math.abs(est.roc_auc! - real.roc_auc!) <= 0.03,
      `window ${k}: estimated ROC-AUC ${est.roc_auc!.toFixed(4)}, realized ${real.roc_auc!.toFixed(4)}`,
    );
    t.ok(Math.abs(est.f1! - real.f1!) <= 0.05, `window ${k}: estimated F1 ${est.f1!.toFixed(4)}, realized ${real.f1!.toFixed(4)}`);
    const inside = (b: [number, number] | null, v: number | null) => b !== null && v !== null && b[0] <= v && v <= b[1];
    if (inside(est.bands.roc_auc, real.roc_auc) && inside(est.bands.f1, real.f1)) covered++;
  }
  t.ok(covered / trials >= 0.9, `the bands cover the realized ROC-AUC and F1 in ${covered} of ${trials} windows`);

  const validationCard = card.metrics!.validation;
  const shifted = {
    'pay_delay_sep ≥ 1': validation.filter((i) => columns.get('pay_delay_sep')![i]! >= 1),
    'credit_limit < 50,000': validation.filter((i) => columns.get('credit_limit')![i]! < 50_000),
  };
  for (const [name, idx] of Object.entries(shifted)) {
    const { est, real } = measure(idx);
    for (const k of ['roc_auc', 'f1'] as const) {
      t.ok(
        Math.abs(est[k]! - real[k]!) < Math.abs(validationCard[k] - real[k]!),
        `${name} (${idx.length} rows): estimated ${k} ${est[k]!.toFixed(4)} is nearer the realized ${real[k]!.toFixed(4)} than the card's ${validationCard[k]}`,
      );
    }
  }
});
