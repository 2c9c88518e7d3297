// The `wasserstein` test: W1 / max(population std of the reference, 0.001).
import t from 'tap';
import { buildProfile, DriftWindow, snapshot } from '../src/drift/index.js';
import { FEATURES, columns, golden, profileAndWindow, readGolden, relErr } from './helpers/drift.js';

function w1Normed(ref: ArrayLike<number>, cur: ArrayLike<number>): number {
  const profile = buildProfile({ features: [{ name: 'x', values: ref }] });
  const w = new DriftWindow(profile, { capacity: cur.length });
  for (let i = 0; i < cur.length; i++) w.push([cur[i]!], 0, Number.NaN, Number.NaN);
  return snapshot(profile, w, { overrides: { x: { test: 'wasserstein' } } }).features.x!.score!;
}

/** W1 from sorted raw samples: ∫|F − G| over the merged support. */
function exactW1(a: number[], b: number[]): number {
  const xs = [...new Set([...a, ...b])].sort((x, y) => x - y);
  const sa = [...a].sort((x, y) => x - y);
  const sb = [...b].sort((x, y) => x - y);
  let ia = 0,
    ib = 0,
    w = 0;
  for (let k = 0; k < xs.length - 1; k++) {
    while (ia < sa.length && sa[ia]! <= xs[k]!) ia++;
    while (ib < sb.length && sb[ib]! <= xs[k]!) ib++;
    w += Math.abs(ia / sa.length - ib / sb.length) * (xs[k + 1]! - xs[k]!);
  }
  return w;
}

const std = (a: number[]): number => {
  const m = a.reduce((s, v) => s + v, 0) / a.length;
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length);
};

t.test('hand-computed', async (t) => {
  // A shift by 1: W1 = 1; std of {0,1,2,3} = sqrt(1.25).
  t.ok(Math.abs(w1Normed([0, 1, 2, 3], [1, 2, 3, 4]) - 1 / Math.sqrt(1.25)) < 1e-12);
  // Constant reference: the norm is floored at 0.001; W1 = 0.5 (half the rows moved by 1).
  t.ok(Math.abs(w1Normed([5, 5, 5, 5], [5, 6]) - 500) < 1e-9);
  // Current values between and beyond reference values (under/overflow sums).
  const ref = [0, 10, 20, 30];
  const cur = [-5, 4, 15, 27, 41];
  t.ok(relErr(w1Normed(ref, cur), exactW1(ref, cur) / std(ref)) < 1e-12);
});

t.test('quantile bins (> 2048 distinct values) stay within 0.5 % of the exact distance', async (t) => {
  let seed = 7;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const lognormal = (mu: number): number => Math.exp(mu + Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd()));
  const ref = Array.from({ length: 20000 }, () => Math.round(lognormal(8) * 100) / 100);
  for (const [label, shift] of [
    ['no drift', 0],
    ['small shift', 0.05],
    ['large shift', 0.5],
  ] as const) {
    const cur = Array.from({ length: 5000 }, () => Math.round(lognormal(8 + shift) * 100) / 100);
    const err = relErr(w1Normed(ref, cur), exactW1(ref, cur) / std(ref));
    t.ok(err < 0.005, `${label}: relative error ${err.toExponential(2)}`);
  }
});

t.test('golden wasserstein_normed on every scenario and feature', { skip: golden.skip }, async (t) => {
  for (const [id, sc] of Object.entries(readGolden())) {
    const ref = await columns(sc.reference_csv, FEATURES);
    const cur = await columns(sc.current_csv, FEATURES);
    const { profile, window } = profileAndWindow(ref, cur, FEATURES);
    const s = snapshot(profile, window);
    for (const f of FEATURES) {
      const perValue = profile.features.find((c) => c.name === f)!.bins.mode === 'values';
      const err = relErr(s.features[f]!.stats.wasserstein_normed!, sc.features[f]!.wasserstein_normed);
      t.ok(
        err < (perValue ? 1e-11 : 0.005),
        `${id} ${f}: relative error ${err.toExponential(2)} (${perValue ? 'exact' : 'quantile bins'})`,
      );
    }
  }
});
