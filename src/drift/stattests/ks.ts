// Two-sample Kolmogorov-Smirnov p-value (Evidently `ks`, scipy ks_2samp, method 'auto').
import { gcd, ksTwoSamplePValue } from '../math/ks-exact.js';
import type { StatTest } from './types.js';

export const ks: StatTest = {
  name: 'ks',
  displayName: 'K-S p_value',
  columnTypes: ['num'],
  defaultThreshold: 0.05,
  kind: 'p_value',
  // Evidently: drift when p ≤ threshold (chi-square and z use <).
  drifted: (p, threshold) => p <= threshold,
  score: (c) => ksTwoSamplePValue(c.n1, c.n2, Math.round(c.cdf.ksNumer / gcd(c.n1, c.n2))).p,
};
