// Two-proportion z-test: the smallest value of ref ∪ cur against all others (Evidently `z`).
import { normSf } from '../math/gamma.js';
import type { StatTest } from './types.js';

export const z: StatTest = {
  name: 'z',
  displayName: 'Z-test p_value',
  columnTypes: ['cat'],
  defaultThreshold: 0.05,
  kind: 'p_value',
  drifted: (p, threshold) => p < threshold,
  score: (c) => {
    const { pieces: p, n1, n2 } = c;
    let first = 0;
    while (first < p.len && p.r[first]! + p.c[first]! === 0) first++;
    const r0 = p.r[first] ?? 0;
    const c0 = p.c[first] ?? 0;
    // One and the same value on both sides: Evidently returns 1 rather than 0/0.
    if (r0 === n1 && c0 === n2) return 1;
    const p1 = (n1 - r0) / n1;
    const p2 = (n2 - c0) / n2;
    const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
    const zScore = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
    // Evidently: 2·(1 − Φ(|z|)); the survival function keeps digits far in the tail.
    return 2 * normSf(Math.abs(zScore));
  },
};
