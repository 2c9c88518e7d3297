import type { Comparison } from '../comparison/comparison.js';
import type { ColumnType } from '../types.js';

/** The names Evidently registers its tests under. */
export type StatTestName = 'ks' | 'wasserstein' | 'psi' | 'jensenshannon' | 'kl_div' | 'chisquare' | 'z';

export interface StatTest {
  readonly name: StatTestName;
  /** As Evidently displays it. */
  readonly displayName: string;
  /** Column types an override may apply it to (Evidently's allowed_feature_types). */
  readonly columnTypes: readonly ColumnType[];
  readonly defaultThreshold: number;
  /** A p-value drifts when small, a distance when large. */
  readonly kind: 'p_value' | 'distance';
  readonly drifted: (score: number, threshold: number) => boolean;
  readonly score: (c: Comparison) => number;
}
