import t from 'tap';
import { PageHinkley, RollingPerformance } from '../src/monitor/index.js';

t.test('rolling metrics against hand-computed values', async (t) => {
  const r = new RollingPerformance(0.5);
  t.same(r.metrics(), { n_labelled: 0, accuracy: null, precision: null, recall: null, f1: null, roc_auc: null });
  // p:      0.9 0.8 0.7 0.6 0.4 0.3 0.2 0.1
  // target:  1   1   0   1   1   0   0   0
  // predicted 1 for p ≥ 0.5: TP=3 (0.9,0.8,0.6) FP=1 (0.7) FN=1 (0.4) TN=3
  const rows: [number, number][] = [
    [0.9, 1],
    [0.8, 1],
    [0.7, 0],
    [0.6, 1],
    [0.4, 1],
    [0.3, 0],
    [0.2, 0],
    [0.1, 0],
  ];
  for (const [p, y] of rows) r.add(p, y);
  const m = r.metrics();
  t.equal(m.n_labelled, 8);
  t.equal(m.accuracy, 6 / 8);
  t.equal(m.precision, 3 / 4);
  t.equal(m.recall, 3 / 4);
  t.equal(m.f1, 0.75);
  // Positives 0.9,0.8,0.6,0.4 vs negatives 0.7,0.3,0.2,0.1: 14 of 16 pairs ordered right.
  t.equal(m.roc_auc, 14 / 16);
  r.remove(0.7, 0);
  r.add(0.7, 1);
  const after = r.metrics();
  t.equal(after.precision, 1);
  t.equal(after.recall, 4 / 5);
  t.equal(after.roc_auc, 15 / 15);
  r.add(0.5, Number.NaN);
  t.equal(r.metrics().n_labelled, 8, 'unlabelled rows do not count');
});

/** A seeded 0/1 stream: error rate p. */
function errors(seed: number, n: number, p: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 < p ? 1 : 0;
  });
}

t.test('Page-Hinkley: no alarm on a steady error rate, an alarm soon after it jumps', async (t) => {
  const ph = new PageHinkley();
  const steady = errors(3, 3000, 0.2);
  t.equal(steady.filter((x) => ph.update(x)).length, 0, 'no false alarm over 3000 rows at 20% errors');
  const jumped = errors(5, 1000, 0.6);
  const at = jumped.findIndex((x) => ph.update(x));
  t.ok(at > 0 && at < 300, `detected ${at} rows after the error rate went from 20% to 60%`);
  t.ok(ph.statistic > 50);
  ph.update(0);
  t.equal(ph.seen, 1, 'the detector resets after a detection');
});

t.test('Page-Hinkley follows River: min_instances, delta, threshold', async (t) => {
  const ph = new PageHinkley({ minInstances: 30, delta: 0.005, threshold: 5, alpha: 1 });
  const xs = [...Array(29).fill(0), ...Array(20).fill(1)];
  const hits = xs.map((x) => ph.update(x));
  // By hand: after 29 zeros the mean is 0 and the sums sit at -0.005·k; each 1 then adds
  // (1 - mean) - delta, with the mean creeping up — the cumulative increase passes 5 on the 6th one.
  t.equal(hits.indexOf(true), 29 + 5);
});
