// Kullback-Leibler divergence KL(ref ‖ cur) on Evidently's bins with zero-fill (Evidently
// `kl_div`; scipy.stats.entropy renormalises both sides after the fill).
import { fillZeroes } from '../comparison/binning.js';
import type { StatTest } from './types.js';

export const klDiv: StatTest = {
  name: 'kl_div',
  displayName: 'Kullback-Leibler divergence',
  columnTypes: ['cat', 'num'],
  defaultThreshold: 0.1,
  kind: 'distance',
  drifted: (score, threshold) => score >= threshold,
  score: (c) => {
    const p = fillZeroes(c.binned.ref);
    const q = fillZeroes(c.binned.cur);
    let sp = 0;
    let sq = 0;
    for (let i = 0; i < p.length; i++) {
      sp += p[i]!;
      sq += q[i]!;
    }
    let s = 0;
    for (let i = 0; i < p.length; i++) {
      const a = p[i]! / sp;
      s += a * Math.log(a / (q[i]! / sq));
    }
    return s;
  },
};
