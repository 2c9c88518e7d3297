import t from 'tap';
import { averageEnsembles, fitModel } from '../src/train/ensemble.js';
import { fitBoosting, shouldStop, SKLEARN_DEFAULTS } from '../src/train/gbdt.js';
import { baselineScore, gradients, meanLogLoss } from '../src/train/loss.js';
import { predictRaw } from '../src/train/predict.js';
import { createRng, deriveSeed } from '../src/train/prng.js';
import { stratifiedHoldout, stratifiedKFold } from '../src/train/sampling.js';
import { rocAuc } from '../src/model/metrics.js';
import { syntheticColumns, syntheticRows } from './helpers/train-synthetic.js';

t.test('the generator is a function of its seed', async (t) => {
  const draw = (seed: number) => {
    const r = createRng(seed);
    return Array.from({ length: 8 }, () => r.nextUint32());
  };
  t.same(draw(42), draw(42));
  t.notSame(draw(42), draw(43));
  t.notSame(draw(0), draw(2 ** 32), 'seeds that differ above 32 bits differ');
  const r = createRng(1);
  const counts = [0, 0, 0];
  for (let i = 0; i < 30_000; i++) counts[r.nextInt(3)]!++;
  t.ok(
    counts.every((c) => Math.abs(c - 10_000) < 400),
    `nextInt(3) is uniform: ${counts.join(', ')}`,
  );
  t.equal(deriveSeed(42, 0), 42);
  t.not(deriveSeed(42, 1), deriveSeed(43, 1));
  t.not(deriveSeed(42, 1), deriveSeed(42, 2));
});

t.test('stratified holdout: ceil(f·n) rows, the class mix kept, chosen by the seed', async (t) => {
  const y = Uint8Array.from({ length: 1001 }, (_, i) => (i % 5 === 0 ? 1 : 0)); // 201 positives
  const a = stratifiedHoldout(y, 0.1, createRng(42));
  t.equal(a.holdout.length, 101);
  t.equal(a.fit.length + a.holdout.length, 1001);
  const pos = Array.from(a.holdout).filter((i) => y[i] === 1).length;
  t.ok(pos === 20 || pos === 21, `${pos} positives held out (20.1 expected)`);
  t.same(stratifiedHoldout(y, 0.1, createRng(42)), a, 'same seed, same rows');
  t.notSame(stratifiedHoldout(y, 0.1, createRng(7)).holdout, a.holdout, 'another seed, other rows');
  t.throws(() => stratifiedHoldout(y, 1, createRng(1)), /fraction/);
});

t.test('stratified k-fold: every row held out exactly once, classes spread evenly', async (t) => {
  const y = Uint8Array.from({ length: 503 }, (_, i) => (i % 4 === 0 ? 1 : 0));
  const folds = stratifiedKFold(y, 5, 3);
  const seen = new Uint8Array(503);
  for (const f of folds) {
    for (const i of f.holdout) seen[i]!++;
    t.equal(f.fit.length + f.holdout.length, 503);
    const pos = Array.from(f.holdout).filter((i) => y[i] === 1).length;
    t.ok(Math.abs(pos - 126 / 5) <= 1, `${pos} positives in a fold`);
  }
  t.ok(seen.every((c) => c === 1));
});

t.test("sklearn's stopping rule on losses", async (t) => {
  t.equal(shouldStop([1, 0.9], 2, 0), false, 'too few scores');
  t.equal(shouldStop([1, 0.9, 0.95, 0.96], 2, 0), true, 'no loss in the last 2 beats 0.9');
  t.equal(shouldStop([1, 0.9, 0.89, 0.95], 2, 0), false, '0.89 beats 0.9');
  t.equal(shouldStop([1, 0.9, 0.8999999, 0.95], 2, 1e-6), true, 'an improvement below tol does not count');
});

t.test('loss, gradient and baseline', async (t) => {
  const y = Uint8Array.from([1, 0, 0, 1, 0]);
  t.ok(Math.abs(baselineScore(y) - Math.log(2 / 3)) < 1e-15, 'log-odds of the positive rate');
  t.throws(() => baselineScore(Uint8Array.from([1, 1])), /single class/);
  const raw = Float64Array.from([0.3, -1.2, 2, 40, -40]);
  const grad = new Float64Array(5);
  const hess = new Float64Array(5);
  gradients(y, raw, grad, hess);
  // Central differences of the per-row loss agree with the analytic gradient.
  for (let i = 0; i < 3; i++) {
    const h = 1e-5;
    const at = (d: number) => meanLogLoss(Uint8Array.of(y[i]!), Float64Array.of(raw[i]! + d));
    t.ok(Math.abs((at(h) - at(-h)) / (2 * h) - grad[i]!) < 1e-8, `gradient ${i}`);
  }
  t.ok(Number.isFinite(meanLogLoss(y, raw)), 'no overflow at |z| = 40');
  t.ok(Math.abs(meanLogLoss(Uint8Array.of(1), Float64Array.of(-40)) - 40) < 1e-12);
});

t.test('boosting learns the synthetic problem and early stopping ends it', async (t) => {
  const data = syntheticColumns(syntheticRows(4000, 11));
  const test = syntheticColumns(syntheticRows(2000, 12));
  const r = fitBoosting(data, { ...SKLEARN_DEFAULTS, learningRate: 0.3, maxIter: 500 }, 5);
  t.equal(r.fitRows + r.holdoutRows, 4000);
  t.equal(r.holdoutRows, 400);
  t.ok(r.stoppedEarly && r.iterations < 500, `stopped after ${r.iterations} trees`);
  t.ok(r.trainLoss.at(-1)! < r.trainLoss[0]! - 0.02, `fit loss ${r.trainLoss[0]!.toFixed(4)} → ${r.trainLoss.at(-1)!.toFixed(4)}`);
  t.ok(r.holdoutLoss.length === r.iterations + 1);
  const x = new Float32Array(2000 * 8);
  test.columns.forEach((c, j) => c.forEach((v, i) => (x[i * 8 + j] = v)));
  const auc = rocAuc(test.y, predictRaw(r.model, x, 2000));
  t.ok(auc > 0.7, `AUC on fresh rows ${auc.toFixed(3)}`);
  t.throws(
    () => fitBoosting(data, { ...SKLEARN_DEFAULTS, learningRate: 0, minSamplesLeaf: 0 }, 1),
    /learningRate must be in \(0, 1\].*minSamplesLeaf/,
  );
});

t.test("averaging boosters is one ensemble whose score is the members' mean", async (t) => {
  const data = syntheticColumns(syntheticRows(1500, 21));
  const { model, members } = fitModel(data, { ...SKLEARN_DEFAULTS, maxIter: 15, members: 3 }, 9);
  t.equal(members.length, 3);
  t.equal(
    model.trees.length,
    members.reduce((a, m) => a + m.iterations, 0),
  );
  t.notSame(members[0]!.model.trees[0]!.threshold, members[1]!.model.trees[0]!.threshold, 'members see different rows');
  const x = new Float32Array(1500 * 8);
  data.columns.forEach((c, j) => c.forEach((v, i) => (x[i * 8 + j] = v)));
  const avg = predictRaw(model, x, 1500);
  const each = members.map((m) => predictRaw(m.model, x, 1500));
  let worst = 0;
  for (let i = 0; i < 1500; i++) worst = Math.max(worst, Math.abs(avg[i]! - (each[0]![i]! + each[1]![i]! + each[2]![i]!) / 3));
  t.ok(worst < 1e-5, `max |mean − averaged ensemble| = ${worst.toExponential(2)} (float32 rounding)`);
  t.equal(averageEnsembles([members[0]!.model]), members[0]!.model);
});
