// The `kl_div` test: KL(ref ‖ cur) on Evidently's bins, zero-filled then renormalised (scipy entropy).
import t from 'tap';
import { buildProfile, DriftWindow, snapshot } from '../src/drift/index.js';
import { FEATURES, columns, evidentlyBinsRaw, golden, profileAndWindow, readGolden, relErr, zeroFill } from './helpers/drift.js';

function klOf(ref: number[], cur: number[]): number {
  const profile = buildProfile({ features: [{ name: 'x', values: ref }] });
  const w = new DriftWindow(profile, { capacity: cur.length });
  for (const v of cur) w.push([v], 0, Number.NaN, Number.NaN);
  return snapshot(profile, w, { overrides: { x: { test: 'kl_div' } } }).features.x!.score!;
}

function entropy(p0: number[], q0: number[]): number {
  const sp = p0.reduce((a, b) => a + b, 0);
  const sq = q0.reduce((a, b) => a + b, 0);
  return p0.reduce((s, pi, i) => s + (pi / sp) * Math.log(pi / sp / (q0[i]! / sq)), 0);
}

t.test('hand-computed', async (t) => {
  // p = (1/2, 1/2), q = (1/4, 3/4).
  t.ok(Math.abs(klOf([0, 0, 1, 1], [0, 1, 1, 1]) - (0.5 * Math.log(2) + 0.5 * Math.log(0.5 / 0.75))) < 1e-12);
  // Zero-filled q = (1e-4, 1), renormalised.
  const q = [1e-4 / 1.0001, 1 / 1.0001];
  t.ok(Math.abs(klOf([0, 0, 1, 1], [1, 1, 1, 1]) - (0.5 * Math.log(0.5 / q[0]!) + 0.5 * Math.log(0.5 / q[1]!))) < 1e-12, 'zero-fill');
});

t.test('golden kl_div_evidently_bins; bins recomputed from the raw columns agree', { skip: golden.skip }, async (t) => {
  for (const [id, sc] of Object.entries(readGolden())) {
    const ref = await columns(sc.reference_csv, FEATURES);
    const cur = await columns(sc.current_csv, FEATURES);
    const { profile, window } = profileAndWindow(ref, cur, FEATURES);
    const s = snapshot(profile, window, { overrides: Object.fromEntries(FEATURES.map((f) => [f, { test: 'kl_div' }])) });
    for (const f of FEATURES) {
      const g = sc.features[f]!.kl_div_evidently_bins;
      if (id === 'S9') {
        const { p, q } = evidentlyBinsRaw(ref.get(f)!, cur.get(f)!);
        t.ok(relErr(entropy(zeroFill(p), zeroFill(q)), g) < 1e-9, `${id} ${f}: raw bins reproduce Evidently`);
      }
      const perValue = profile.features.find((c) => c.name === f)!.bins.mode === 'values';
      const err = relErr(s.features[f]!.score!, g);
      t.ok(err < (perValue ? 1e-9 : 0.03), `${id} ${f}: kl ${s.features[f]!.score} vs ${g} (${err.toExponential(2)})`);
    }
  }
});
