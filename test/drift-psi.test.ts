// The `psi` test: Σ (p − q)·ln(p/q) on Evidently's bins, zero-filled per side.
import t from 'tap';
import { buildProfile, DriftWindow, snapshot } from '../src/drift/index.js';
import { FEATURES, columns, evidentlyBinsRaw, golden, profileAndWindow, readGolden, relErr, zeroFill } from './helpers/drift.js';

function psiOf(ref: number[], cur: number[]): number {
  const profile = buildProfile({ features: [{ name: 'x', values: ref }] });
  const w = new DriftWindow(profile, { capacity: cur.length });
  for (const v of cur) w.push([v], 0, Number.NaN, Number.NaN);
  return snapshot(profile, w, { overrides: { x: { test: 'psi' } } }).features.x!.score!;
}

const psi = (p: number[], q: number[]): number => p.reduce((s, pi, i) => s + (pi - q[i]!) * Math.log(pi / q[i]!), 0);

t.test('hand-computed', async (t) => {
  // p = (1/2, 1/2), q = (1/4, 3/4).
  t.ok(Math.abs(psiOf([0, 0, 1, 1], [0, 1, 1, 1]) - (0.25 * Math.log(2) - 0.25 * Math.log(0.5 / 0.75))) < 1e-12);
  // An empty current bin is filled with 1e-4 (its smallest non-zero share, 1, is > 1e-4).
  const filled = (0.5 - 1e-4) * Math.log(0.5 / 1e-4) + (0.5 - 1) * Math.log(0.5);
  t.ok(Math.abs(psiOf([0, 0, 1, 1], [1, 1, 1, 1]) - filled) < 1e-12, 'zero-fill');
  t.equal(psiOf([3, 1, 2], [2, 3, 1]), 0);
});

t.test('golden psi_evidently_bins; bins recomputed from the raw columns agree', { skip: golden.skip }, async (t) => {
  for (const [id, sc] of Object.entries(readGolden())) {
    const ref = await columns(sc.reference_csv, FEATURES);
    const cur = await columns(sc.current_csv, FEATURES);
    const { profile, window } = profileAndWindow(ref, cur, FEATURES);
    const s = snapshot(profile, window, { overrides: Object.fromEntries(FEATURES.map((f) => [f, { test: 'psi' }])) });
    for (const f of FEATURES) {
      const g = sc.features[f]!.psi_evidently_bins;
      if (id === 'S9') {
        const { p, q } = evidentlyBinsRaw(ref.get(f)!, cur.get(f)!);
        t.ok(relErr(psi(zeroFill(p), zeroFill(q)), g) < 1e-9, `${id} ${f}: raw bins reproduce Evidently`);
      }
      // Sturges bins cut through quantile bins for > 2048 distinct values: spread, ≤ 3 %.
      const perValue = profile.features.find((c) => c.name === f)!.bins.mode === 'values';
      const err = relErr(s.features[f]!.score!, g);
      t.ok(err < (perValue ? 1e-9 : 0.03), `${id} ${f}: psi ${s.features[f]!.score} vs ${g} (${err.toExponential(2)})`);
      t.equal(s.features[f]!.stats.psi, s.features[f]!.score, 'the stats block holds the same value');
    }
  }
});
