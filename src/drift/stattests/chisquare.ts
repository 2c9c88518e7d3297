// Pearson chi-square of current counts against reference shares scaled to the current size,
// one category per distinct value of ref ∪ cur (Evidently `chisquare`, scipy.stats.chisquare).
import { chi2Sf } from '../math/gamma.js';
import type { StatTest } from './types.js';

export const chisquare: StatTest = {
  name: 'chisquare',
  displayName: 'chi-square p_value',
  columnTypes: ['cat'],
  defaultThreshold: 0.05,
  kind: 'p_value',
  drifted: (p, threshold) => p < threshold,
  score: (c) => {
    const { pieces: p, n1, n2 } = c;
    const scale = n2 / n1;
    let stat = 0;
    let k = 0;
    const add = (ref: number, cur: number): void => {
      if (ref + cur === 0) return;
      k++;
      const exp = ref * scale;
      // A value the reference never had: scipy divides by zero, stat = inf, p = 0.
      stat += exp === 0 ? Number.POSITIVE_INFINITY : (cur - exp) ** 2 / exp;
    };
    for (let i = 0; i < p.len; i++) {
      add(p.r[i]!, p.c[i]!);
      // Rows known only by bin count as one lumped category per bin (approximate).
      add(p.rIn[i]!, p.cIn[i]!);
    }
    return chi2Sf(stat, k - 1);
  },
};
