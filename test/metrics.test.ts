import t from 'tap';
import fc from 'fast-check';
import { accuracy, binaryMetrics, confusion, f1, precision, recall, rocAuc, threshold } from '../src/model/metrics.js';

t.test('rocAuc: hand-computed values', async (t) => {
  // sklearn's roc_auc_score docstring example: 3 of 4 positive/negative pairs ordered right.
  t.equal(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
  t.equal(rocAuc([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8]), 1, 'perfect ranking');
  t.equal(rocAuc([1, 0, 1, 0], [0.1, 0.9, 0.2, 0.8]), 0, 'reversed ranking');
  // Pairs (pos, neg): (0.5, 0.5) tie = ½, (0.5, 0.2) = 1, (0.9, 0.5) = 1, (0.9, 0.2) = 1 → 3.5 / 4.
  t.equal(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]), 0.875, 'a tie between classes counts one half');
  t.equal(rocAuc([0, 1, 1, 0, 1], [0.3, 0.3, 0.3, 0.3, 0.3]), 0.5, 'all tied');
  // Ties within one class change nothing: pos {0.7, 0.7}, neg {0.2, 0.7}: pairs 1, ½, 1, ½ → 0.75.
  t.equal(rocAuc([1, 1, 0, 0], [0.7, 0.7, 0.2, 0.7]), 0.75);
});

t.test('rocAuc: undefined with one class, refuses bad input', async (t) => {
  t.ok(Number.isNaN(rocAuc([1, 1, 1], [0.1, 0.2, 0.3])));
  t.ok(Number.isNaN(rocAuc([0, 0], [0.1, 0.2])));
  t.ok(Number.isNaN(rocAuc([], [])));
  t.throws(() => rocAuc([0, 1], [0.5]), /2 labels but 1 values/);
  t.throws(() => rocAuc([0, 2], [0.5, 0.6]), /label at 1 is 2/);
  t.throws(() => rocAuc([0, 1], [0.5, Number.NaN]), /score at 1 is NaN/);
});

// The definition itself, pair by pair: an independent check of the rank computation.
function pairwiseAuc(labels: number[], scores: number[]): number {
  let wins = 0;
  let pairs = 0;
  labels.forEach((li, i) => {
    if (li !== 1) return;
    labels.forEach((lj, j) => {
      if (lj !== 0) return;
      pairs++;
      wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

t.test('rocAuc equals the pairwise definition (random data with many ties)', async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 6 })), { minLength: 2, maxLength: 60 }),
      (rows) => {
        const labels = rows.map((r) => r[0]);
        const scores = rows.map((r) => r[1] / 6);
        const expected = labels.includes(0) && labels.includes(1) ? pairwiseAuc(labels, scores) : Number.NaN;
        const got = rocAuc(labels, Float32Array.from(scores));
        return Number.isNaN(expected)
          ? Number.isNaN(got)
          : Math.abs(got - pairwiseAuc(labels, Array.from(Float32Array.from(scores)))) < 1e-12;
      },
    ),
    { seed: 20240611, numRuns: 300 },
  );
  t.pass('300 random cases agree');
});

t.test('confusion counts and the metrics built on them', async (t) => {
  const labels = [1, 1, 1, 0, 0, 0, 0, 1];
  const predicted = [1, 0, 1, 1, 0, 0, 0, 0];
  const c = confusion(labels, predicted);
  t.same(c, { tp: 2, fp: 1, tn: 3, fn: 2 });
  t.equal(accuracy(c), 5 / 8);
  t.equal(precision(c), 2 / 3);
  t.equal(recall(c), 1 / 2);
  // 2·P·R / (P + R) = 2·(2/3)(1/2) / (7/6) = 4/7.
  t.equal(f1(c), 4 / 7);
});

t.test('zero division gives 0 (sklearn zero_division=0), accuracy of nothing is NaN', async (t) => {
  const none = confusion([0, 0, 1], [0, 0, 0]);
  t.equal(precision(none), 0, 'nothing predicted positive');
  t.equal(recall(none), 0);
  t.equal(f1(none), 0);
  t.equal(recall(confusion([0, 0], [1, 0])), 0, 'no positives');
  t.ok(Number.isNaN(accuracy(confusion([], []))));
  t.throws(() => confusion([0, 1], [1]), /2 labels but 1 values/);
});

t.test("threshold is inclusive, like the card's decision_threshold", async (t) => {
  t.same(Array.from(threshold([0.49, 0.5, 0.51], 0.5)), [0, 1, 1]);
});

t.test('binaryMetrics puts it together', async (t) => {
  const m = binaryMetrics([0, 0, 1, 1], [0.1, 0.6, 0.35, 0.8]);
  t.same(m, { roc_auc: 0.75, accuracy: 0.5, precision: 0.5, recall: 0.5, f1: 0.5, rows: 4, positives: 2 });
});
