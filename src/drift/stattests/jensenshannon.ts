// Jensen-Shannon distance, natural log, on Evidently's bins without zero-fill (Evidently
// `jensenshannon`; scipy.spatial.distance.jensenshannon, which renormalises both sides).
import type { StatTest } from './types.js';

function normalised(a: Float64Array): Float64Array {
  let s = 0;
  for (const v of a) s += v;
  return a.map((v) => v / s);
}

/** x·ln(x/y), 0 when x = 0 (scipy.special.rel_entr). */
const relEntr = (x: number, y: number): number => (x === 0 ? 0 : x * Math.log(x / y));

export const jensenshannon: StatTest = {
  name: 'jensenshannon',
  displayName: 'Jensen-Shannon distance',
  columnTypes: ['cat', 'num'],
  defaultThreshold: 0.1,
  kind: 'distance',
  drifted: (score, threshold) => score >= threshold,
  score: (c) => {
    const p = normalised(c.binned.ref);
    const q = normalised(c.binned.cur);
    let js = 0;
    for (let i = 0; i < p.length; i++) {
      const m = (p[i]! + q[i]!) / 2;
      js += relEntr(p[i]!, m) + relEntr(q[i]!, m);
    }
    return Math.sqrt(js / 2);
  },
};
