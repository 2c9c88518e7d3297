// The `chisquare` test: Pearson's statistic of current counts against reference shares scaled
// to the current size, p = chi2.sf(stat, k − 1); drift when p < threshold.
import t from 'tap';
import { buildProfile, DriftWindow, snapshot } from '../src/drift/index.js';

const rep = (counts: Record<number, number>): number[] => Object.entries(counts).flatMap(([v, n]) => new Array<number>(n).fill(Number(v)));

function run(ref: number[], cur: number[], categorical: boolean, threshold?: number) {
  const profile = buildProfile({ features: [{ name: 'x', values: ref, categorical }] });
  const w = new DriftWindow(profile, { capacity: cur.length });
  for (const v of cur) w.push([v], 0, Number.NaN, Number.NaN);
  return snapshot(profile, w, threshold === undefined ? {} : { overrides: { x: { threshold } } }).features.x!;
}

t.test('three categories: the default for a small categorical reference; closed-form df = 2', async (t) => {
  // Expected (25, 15, 10) for observed (20, 20, 10): stat = 1 + 5/3; p = exp(−stat/2).
  const f = run(rep({ 1: 50, 2: 30, 3: 20 }), rep({ 1: 20, 2: 20, 3: 10 }), true);
  t.equal(f.test, 'chisquare');
  t.equal(f.threshold, 0.05);
  t.ok(Math.abs(f.score! - Math.exp(-(1 + 5 / 3) / 2)) < 1e-12, `p = ${f.score}`);
  t.equal(f.drift, false);
});

t.test('five values of a small numerical reference; closed-form df = 4', async (t) => {
  const ref = rep({ 0: 40, 1: 30, 2: 15, 3: 10, 4: 5 });
  const cur = rep({ 0: 10, 1: 10, 2: 10, 3: 10, 4: 10 });
  const exp = [20, 15, 7.5, 5, 2.5];
  const stat = [10, 10, 10, 10, 10].reduce((s, o, i) => s + (o - exp[i]!) ** 2 / exp[i]!, 0);
  const f = run(ref, cur, false);
  t.equal(f.test, 'chisquare', 'numerical with 3–5 values and ≤ 1000 reference rows');
  t.ok(Math.abs(f.score! - Math.exp(-stat / 2) * (1 + stat / 2)) < 1e-15, `p = ${f.score}`);
  t.equal(f.drift, true);
});

t.test('a category the reference never had: infinite statistic, p = 0', async (t) => {
  const f = run(rep({ 1: 5, 2: 5, 3: 5 }), rep({ 1: 5, 2: 5, 4: 1 }), true);
  t.equal(f.score, 0);
  t.equal(f.drift, true);
});

t.test('drift when p < threshold, strictly', async (t) => {
  const p = run(rep({ 1: 50, 2: 30, 3: 20 }), rep({ 1: 20, 2: 20, 3: 10 }), true).score!;
  t.equal(run(rep({ 1: 50, 2: 30, 3: 20 }), rep({ 1: 20, 2: 20, 3: 10 }), true, p).drift, false);
  t.equal(run(rep({ 1: 50, 2: 30, 3: 20 }), rep({ 1: 20, 2: 20, 3: 10 }), true, p * 1.001).drift, true);
});
