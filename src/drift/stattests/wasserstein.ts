// Wasserstein-1 distance normed by the reference's population std (Evidently `wasserstein`).
import type { StatTest } from './types.js';

/** Evidently's floor on the norm, so a constant reference column does not divide by zero. */
const MIN_STD = 0.001;

export const wasserstein: StatTest = {
  name: 'wasserstein',
  displayName: 'Wasserstein distance (normed)',
  columnTypes: ['num'],
  defaultThreshold: 0.1,
  kind: 'distance',
  drifted: (score, threshold) => score >= threshold,
  score: (c) => c.cdf.wasserstein / Math.max(c.reference.std, MIN_STD),
};
