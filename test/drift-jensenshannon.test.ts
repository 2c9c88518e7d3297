// The `jensenshannon` test: Jensen-Shannon distance (natural log) on Evidently's bins, no zero-fill.
import t from 'tap';
import { buildProfile, DriftWindow, snapshot } from '../src/drift/index.js';
import { FEATURES, columns, evidentlyBinsRaw, golden, profileAndWindow, readGolden, relErr } from './helpers/drift.js';

function jsOf(ref: number[], cur: number[], categorical = false): { test: string; score: number } {
  const profile = buildProfile({ features: [{ name: 'x', values: ref, categorical }] });
  const w = new DriftWindow(profile, { capacity: cur.length });
  for (const v of cur) w.push([v], 0, Number.NaN, Number.NaN);
  const f = snapshot(profile, w, { overrides: { x: { test: 'jensenshannon' } } }).features.x!;
  return { test: f.test, score: f.score! };
}

function js(p: number[], q: number[]): number {
  const kl = (a: number[], b: number[]): number => a.reduce((s, ai, i) => s + (ai === 0 ? 0 : ai * Math.log(ai / b[i]!)), 0);
  const m = p.map((pi, i) => (pi + q[i]!) / 2);
  return Math.sqrt((kl(p, m) + kl(q, m)) / 2);
}

t.test('hand-computed', async (t) => {
  // p = (1/2, 1/2), q = (1/4, 3/4), m = (3/8, 5/8).
  const kl1 = 0.5 * Math.log(0.5 / 0.375) + 0.5 * Math.log(0.5 / 0.625);
  const kl2 = 0.25 * Math.log(0.25 / 0.375) + 0.75 * Math.log(0.75 / 0.625);
  t.ok(Math.abs(jsOf([0, 0, 1, 1], [0, 1, 1, 1]).score - Math.sqrt((kl1 + kl2) / 2)) < 1e-12);
  // Disjoint supports reach the maximum, sqrt(ln 2), with no zero-fill.
  t.ok(Math.abs(jsOf([1, 1, 2], [3, 4, 4], true).score - Math.sqrt(Math.LN2)) < 1e-12);
});

t.test('golden js_evidently_bins; bins recomputed from the raw columns agree', { skip: golden.skip }, async (t) => {
  for (const [id, sc] of Object.entries(readGolden())) {
    const ref = await columns(sc.reference_csv, FEATURES);
    const cur = await columns(sc.current_csv, FEATURES);
    const { profile, window } = profileAndWindow(ref, cur, FEATURES);
    const s = snapshot(profile, window, { overrides: Object.fromEntries(FEATURES.map((f) => [f, { test: 'jensenshannon' }])) });
    for (const f of FEATURES) {
      const g = sc.features[f]!.js_evidently_bins;
      if (id === 'S9') {
        const { p, q } = evidentlyBinsRaw(ref.get(f)!, cur.get(f)!);
        t.ok(relErr(js(p, q), g) < 1e-9, `${id} ${f}: raw bins reproduce Evidently`);
      }
      const perValue = profile.features.find((c) => c.name === f)!.bins.mode === 'values';
      const err = relErr(s.features[f]!.score!, g);
      t.ok(err < (perValue ? 1e-9 : 0.03), `${id} ${f}: js ${s.features[f]!.score} vs ${g} (${err.toExponential(2)})`);
    }
  }
});
