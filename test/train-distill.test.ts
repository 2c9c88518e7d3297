import t from 'tap';
import { fitStudent } from '../src/train/distill.js';
import { fitModel } from '../src/train/ensemble.js';
import { checkParams, fitBoosting, SKLEARN_DEFAULTS } from '../src/train/gbdt.js';
import { baselineScore, gradients, meanLogLoss } from '../src/train/loss.js';
import { predictProba, predictRaw } from '../src/train/predict.js';
import { decisionsPerRow } from '../src/train/tree.js';
import { toRowMajor } from '../src/train/dataset.js';
import { rocAuc } from '../src/model/metrics.js';
import { syntheticColumns, syntheticRows } from './helpers/train-synthetic.js';

// Distillation: one booster fit to the members' averaged probabilities (src/train/distill.ts).

t.test('soft targets: the log-loss is the cross-entropy, its gradient p − t and hessian p(1 − p)', async (t) => {
  const target = Float64Array.from([0.9, 0.05, 0.3, 0.5, 1]);
  const raw = Float64Array.from([0.3, -1.2, 2, 40, -40]);
  const grad = new Float64Array(5);
  const hess = new Float64Array(5);
  gradients(target, raw, grad, hess);
  for (let i = 0; i < 5; i++) {
    const p = 1 / (1 + Math.exp(-raw[i]!));
    t.ok(Math.abs(grad[i]! - (p - target[i]!)) < 1e-15, `gradient ${i}`);
    t.ok(Math.abs(hess[i]! - p * (1 - p)) < 1e-15, `hessian ${i}`);
    const ce = -(target[i]! * Math.log(p) + (1 - target[i]!) * Math.log1p(-p));
    if (Math.abs(raw[i]!) < 30)
      t.ok(Math.abs(meanLogLoss(Float64Array.of(target[i]!), Float64Array.of(raw[i]!)) - ce) < 1e-12, `cross-entropy ${i}`);
  }
  t.ok(Number.isFinite(meanLogLoss(target, raw)), 'no overflow at |z| = 40');
  t.ok(Math.abs(baselineScore(Float64Array.from([0.2, 0.4])) - Math.log(0.3 / 0.7)) < 1e-15, 'baseline: log-odds of the mean target');
  t.throws(() => baselineScore(Float64Array.from([0, 0])), /single class/);
});

t.test('0/1 soft targets grow the very trees the labels grow', async (t) => {
  const data = syntheticColumns(syntheticRows(1500, 31));
  const params = { ...SKLEARN_DEFAULTS, maxIter: 12 };
  const hard = fitBoosting(data, params, 4);
  const soft = fitBoosting({ ...data, target: Float64Array.from(data.y) }, params, 4);
  t.same(soft.model, hard.model);
  t.same(soft.holdoutLoss, hard.holdoutLoss);
});

t.test('the student: one booster of exactly studentTrees trees, on every row, close to its teacher', async (t) => {
  const data = syntheticColumns(syntheticRows(4000, 41));
  const fresh = syntheticColumns(syntheticRows(2000, 42));
  const x = toRowMajor({ columns: fresh.columns, rows: 2000 });
  const params = {
    ...SKLEARN_DEFAULTS,
    maxLeafNodes: 15,
    learningRate: 0.1,
    members: 3,
    distill: true,
    studentTrees: 40,
    studentLearningRate: 0.5,
  };
  const fit = fitModel(data, params, 5);
  const student = fit.student!;
  t.equal(fit.model, student.booster.model, 'the student is the model');
  t.equal(fit.members.length, 3);
  t.equal(
    fit.average.trees.length,
    fit.members.reduce((a, m) => a + m.iterations, 0),
    "the teacher is the members' average",
  );
  t.equal(student.booster.iterations, 40);
  t.equal(student.booster.holdoutRows, 0, 'no holdout');
  t.equal(student.booster.fitRows, 4000);
  t.ok(student.klToTeacher >= 0 && student.klToTeacher < 0.01, `KL to the teacher ${student.klToTeacher.toFixed(5)}`);
  t.ok(decisionsPerRow(fit.model, x, 2000) < decisionsPerRow(fit.average, x, 2000), 'fewer split tests a row than the teacher');

  // On fresh rows the student ranks as the teacher does, and far better than chance.
  const pS = predictProba(fit.model, x, 2000);
  const pT = predictProba(fit.average, x, 2000);
  let gap = 0;
  for (let i = 0; i < 2000; i++) gap += Math.abs(pS[i]! - pT[i]!) / 2000;
  t.ok(gap < 0.03, `mean |P_student − P_teacher| on fresh rows ${gap.toFixed(4)}`);
  const aS = rocAuc(fresh.y, pS);
  const aT = rocAuc(fresh.y, pT);
  t.ok(Math.abs(aS - aT) < 0.01, `fresh-row ROC-AUC: student ${aS.toFixed(4)}, teacher ${aT.toFixed(4)}`);

  t.same(fitModel(data, params, 5).model, fit.model, 'deterministic for a seed');
  const direct = fitStudent(data, fit.average, params, 99);
  t.same(predictRaw(direct.booster.model, x, 2000), predictRaw(fit.model, x, 2000), 'the seed plays no part: the student has no holdout');
});

t.test('without distill the model is the average, as before', async (t) => {
  const data = syntheticColumns(syntheticRows(1000, 51));
  const fit = fitModel(data, { ...SKLEARN_DEFAULTS, maxIter: 10, members: 2 }, 3);
  t.equal(fit.student, undefined);
  t.equal(fit.model, fit.average);
});

t.test('student parameters are checked', async (t) => {
  t.throws(
    () => checkParams({ ...SKLEARN_DEFAULTS, studentTrees: 0, studentLearningRate: 1.5 }),
    /studentTrees must be an integer ≥ 1, got 0; studentLearningRate must be in \(0, 1\], got 1.5/,
  );
});
