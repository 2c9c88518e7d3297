// Default test choice, Evidently 0.4.15's rules: reference size, column type, and the number
// of distinct values in reference ∪ current.
import t from 'tap';
import { buildProfile, DriftWindow, defaultTest, snapshot } from '../src/drift/index.js';

const cycle = (n: number, k: number): number[] => Array.from({ length: n }, (_, i) => i % k);

function chosen(ref: number[], cur: number[], categorical = false): string {
  const profile = buildProfile({ features: [{ name: 'x', values: ref, categorical }] });
  const w = new DriftWindow(profile, { capacity: Math.max(1, cur.length) });
  for (const v of cur) w.push([v], 0, Number.NaN, Number.NaN);
  return snapshot(profile, w).features.x!.test;
}

t.test('the rule table', async (t) => {
  t.equal(defaultTest('num', 1000, 6), 'ks');
  t.equal(defaultTest('num', 1000, 5), 'chisquare');
  t.equal(defaultTest('num', 1000, 3), 'chisquare');
  t.equal(defaultTest('num', 1000, 2), 'z');
  t.equal(defaultTest('cat', 1000, 3), 'chisquare');
  t.equal(defaultTest('cat', 1000, 2), 'z');
  t.equal(defaultTest('num', 1001, 6), 'wasserstein');
  t.equal(defaultTest('num', 1001, 5), 'jensenshannon');
  t.equal(defaultTest('cat', 1001, 50), 'jensenshannon');
});

t.test('1000 reference rows is small, 1001 is large', async (t) => {
  t.equal(chosen(cycle(1000, 10), cycle(100, 10)), 'ks');
  t.equal(chosen(cycle(1001, 10), cycle(100, 10)), 'wasserstein');
});

t.test('distinct values count reference ∪ current', async (t) => {
  // Five reference values; a sixth appears only in the current window.
  t.equal(chosen(cycle(2000, 5), cycle(100, 5)), 'jensenshannon');
  t.equal(chosen(cycle(2000, 5), [...cycle(99, 5), 5]), 'wasserstein');
  t.equal(chosen(cycle(500, 2), cycle(50, 2)), 'z');
  t.equal(chosen(cycle(500, 2), [...cycle(49, 2), 2]), 'chisquare');
  t.equal(chosen(cycle(500, 5), [...cycle(49, 5), 9]), 'ks');
});

t.test('categorical columns', async (t) => {
  t.equal(chosen(cycle(5000, 40), cycle(100, 40), true), 'jensenshannon');
  t.equal(chosen(cycle(300, 40), cycle(100, 40), true), 'chisquare');
});

t.test('an empty window picks by the reference alone and has no score', async (t) => {
  const profile = buildProfile({ features: [{ name: 'x', values: cycle(3000, 50) }] });
  const f = snapshot(profile, new DriftWindow(profile, { capacity: 10 })).features.x!;
  t.equal(f.test, 'wasserstein');
  t.equal(f.score, null);
  t.equal(f.drift, false);
});
