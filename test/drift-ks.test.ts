// The `ks` test: statistic and p-value as scipy's ks_2samp (method 'auto').
import t from 'tap';
import { buildProfile, DriftWindow, snapshot } from '../src/drift/index.js';
import { FEATURES, columns, golden, profileAndWindow, readGolden, relErr } from './helpers/drift.js';

function ksOf(ref: number[], cur: number[]): { p: number; d: number } {
  const profile = buildProfile({ features: [{ name: 'x', values: ref }] });
  const w = new DriftWindow(profile, { capacity: cur.length });
  for (const v of cur) w.push([v], 0, Number.NaN, Number.NaN);
  const f = snapshot(profile, w, { overrides: { x: { test: 'ks' } } }).features.x!;
  return { p: f.score!, d: f.stats.ks_stat! };
}

t.test('hand-computed exact p-values', async (t) => {
  // n1 = n2 = 4, D = 1/2: P = 2·(C(8,2) − C(8,0)) / C(8,4) = 54/70.
  const a = ksOf([1, 2, 3, 4], [3, 4, 5, 6]);
  t.equal(a.d, 0.5);
  t.ok(Math.abs(a.p - 54 / 70) < 1e-12, `p = ${a.p}`);
  // n1 = 3, n2 = 2, D = 1: only 2 of the C(5,2) = 10 orderings separate the samples.
  const b = ksOf([1, 2, 3], [4, 5]);
  t.equal(b.d, 1);
  t.ok(Math.abs(b.p - 0.2) < 1e-12, `p = ${b.p}`);
  // Identical samples: D = 0, p = 1.
  t.same(ksOf([1, 2, 2, 3], [3, 2, 1, 2]), { p: 1, d: 0 });
});

t.test('drift when p ≤ threshold (not <)', async (t) => {
  const profile = buildProfile({ features: [{ name: 'x', values: [1, 2, 3, 4] }] });
  const w = new DriftWindow(profile, { capacity: 4 });
  for (const v of [3, 4, 5, 6]) w.push([v], 0, Number.NaN, Number.NaN);
  const p = snapshot(profile, w).features.x!.score!;
  t.equal(snapshot(profile, w, { overrides: { x: { threshold: p } } }).features.x!.drift, true, 'p equal to the threshold drifts');
  t.equal(snapshot(profile, w, { overrides: { x: { threshold: p * 0.999 } } }).features.x!.drift, false, 'p above it does not');
});

t.test('golden ks_stat and ks_p on every scenario', { skip: golden.skip }, async (t) => {
  for (const [id, sc] of Object.entries(readGolden())) {
    const ref = await columns(sc.reference_csv, FEATURES);
    const cur = await columns(sc.current_csv, FEATURES);
    const { profile, window } = profileAndWindow(ref, cur, FEATURES);
    const s = snapshot(profile, window, { overrides: Object.fromEntries(FEATURES.map((f) => [f, { test: 'ks' }])) });
    for (const f of FEATURES) {
      const g = sc.features[f]!;
      const o = s.features[f]!;
      const perValue = profile.features.find((c) => c.name === f)!.bins.mode === 'values';
      if (perValue) {
        t.ok(relErr(o.stats.ks_stat!, g.ks_stat) < 1e-12, `${id} ${f}: D ${o.stats.ks_stat} vs ${g.ks_stat}`);
        t.ok(relErr(o.score!, g.ks_p) < 1e-9 || (g.ks_p === 0 && o.score === 0), `${id} ${f}: p ${o.score} vs ${g.ks_p}`);
      } else {
        // Quantile bins: the statistic is taken at bin ends, a lower bound (KS is never the
        // default there; references of ≤ 1000 rows always get per-value bins).
        t.ok(
          o.stats.ks_stat! <= g.ks_stat + 1e-12 && relErr(o.stats.ks_stat!, g.ks_stat) < 0.03,
          `${id} ${f}: D ${o.stats.ks_stat} ≤ ${g.ks_stat}, within 3 %`,
        );
      }
    }
  }
});
