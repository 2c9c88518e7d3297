// Population Stability Index on Evidently's bins with its zero-fill (Evidently `psi`).
import { fillZeroes } from '../comparison/binning.js';
import type { StatTest } from './types.js';

export const psi: StatTest = {
  name: 'psi',
  displayName: 'PSI',
  columnTypes: ['cat', 'num'],
  defaultThreshold: 0.1,
  kind: 'distance',
  drifted: (score, threshold) => score >= threshold,
  score: (c) => {
    const p = fillZeroes(c.binned.ref);
    const q = fillZeroes(c.binned.cur);
    let s = 0;
    for (let i = 0; i < p.length; i++) s += (p[i]! - q[i]!) * Math.log(p[i]! / q[i]!);
    return s;
  },
};
