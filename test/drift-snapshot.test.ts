// The snapshot: plain JSON, the dataset decision, display histograms and quantiles.
import t from 'tap';
import { buildProfile, DriftWindow, snapshot } from '../src/drift/index.js';

const n = 2000;
const profile = buildProfile({
  features: [
    { name: 'a', values: Array.from({ length: n }, (_, i) => i % 50) },
    { name: 'b', values: Array.from({ length: n }, (_, i) => i % 4) },
    { name: 'c', values: Array.from({ length: n }, (_, i) => (i * 7) % 100) },
  ],
  prediction: Array.from({ length: n }, (_, i) => (i % 10) / 10),
});

function windowOf(shiftA: number, shiftC: number): DriftWindow {
  const w = new DriftWindow(profile, { capacity: 1000 });
  for (let i = 0; i < 1000; i++) w.push([(i % 50) + shiftA, i % 4, ((i * 7) % 100) + shiftC], 0, (i % 10) / 10, Number.NaN);
  return w;
}

t.test('shape, and JSON round trip', async (t) => {
  const s = snapshot(profile, windowOf(0, 0), { at: Date.UTC(2024, 0, 1) });
  t.equal(s.at, '2024-01-01T00:00:00.000Z');
  t.same(Object.keys(s.features), ['a', 'b', 'c']);
  t.same(JSON.parse(JSON.stringify(s)), s, 'plain JSON');
  const a = s.features.a!;
  t.match(a, { column_type: 'num', test: 'wasserstein', threshold: 0.1, drift: false, n_reference: n, n_current: 1000 });
  t.equal(a.score, 0, 'same distribution');
  t.equal(a.stats.ks_stat, 0);
  t.equal(s.prediction!.test, 'wasserstein');
  t.equal(s.target, null);
  t.equal(s.features.b!.test, 'jensenshannon', '4 values, large reference');
});

t.test('histograms share one grid and sum to 1; quantiles as numpy', async (t) => {
  const s = snapshot(profile, windowOf(3, 0));
  const a = s.features.a!;
  t.equal(a.reference_hist.kind, 'bins', 'more than 30 values: Sturges bins');
  t.same(a.reference_hist.x, a.current_hist.x);
  t.ok(a.reference_hist.x.length <= 31);
  t.ok(a.reference_hist.x[0] === 0 && a.reference_hist.x.at(-1) === 52, 'over reference ∪ current');
  const sum = (xs: number[]): number => xs.reduce((p, q) => p + q, 0);
  t.ok(Math.abs(sum(a.reference_hist.shares) - 1) < 1e-12 && Math.abs(sum(a.current_hist.shares) - 1) < 1e-12);
  t.same(s.features.b!.current_hist, { kind: 'values', x: [0, 1, 2, 3], shares: [0.25, 0.25, 0.25, 0.25] });
  // numpy.quantile(linear) of 0..49 each 40 times: p50 = 24.5, p5 = 2, p95 = 47.
  t.match(a.quantiles.reference, { p5: 2, p50: 24.5, p95: 47, mean: 24.5 });
  t.match(a.quantiles.current, { p50: 27.5, mean: 27.5 });
});

t.test('dataset drift: share of drifted features ≥ the threshold; a subset of columns', async (t) => {
  const w = windowOf(20, 40);
  const s = snapshot(profile, w);
  t.same(s.dataset, { n_columns: 3, n_drifted: 2, share_drifted: 2 / 3, drift_share_threshold: 0.5, drift: true });
  t.equal(snapshot(profile, w, { driftShareThreshold: 0.7 }).dataset.drift, false);
  const sub = snapshot(profile, w, { columns: ['a', 'b'] });
  t.same(Object.keys(sub.features), ['a', 'b']);
  t.same(
    sub.dataset,
    { n_columns: 2, n_drifted: 1, share_drifted: 0.5, drift_share_threshold: 0.5, drift: true },
    'share = 0.5 reaches 0.5',
  );
  t.throws(() => snapshot(profile, w, { columns: ['zz'] }), { code: 'DL_ERR_REFERENCE', message: /zz/ });
});

t.test('snapshot of a sketch equals the snapshot of its window', async (t) => {
  const w = windowOf(5, 2);
  t.same(snapshot(profile, w.sketch(), { at: 0 }), snapshot(profile, w, { at: 0 }));
});

t.test('quantiles of tiny windows match numpy.quantile (ranks of several levels coincide)', async (t) => {
  const p = buildProfile({ features: [{ name: 'x', values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }] });
  const cases: [number[], number[]][] = [
    [
      [3, 7],
      [3.2, 4, 5, 6, 6.8],
    ],
    [
      [1, 2, 2, 9, 10],
      [1.2, 2, 2, 9, 9.8],
    ],
    [[4], [4, 4, 4, 4, 4]],
  ];
  for (const [cur, numpy] of cases) {
    const w = new DriftWindow(p, { capacity: 10 });
    for (const v of cur) w.push([v], 0, Number.NaN, Number.NaN);
    const q = snapshot(p, w).features.x!.quantiles.current!;
    const got = [q.p5, q.p25, q.p50, q.p75, q.p95];
    t.ok(
      got.every((v, i) => Math.abs(v - numpy[i]!) < 1e-12),
      `${JSON.stringify(cur)}: ${got.join(' ')}`,
    );
  }
});
