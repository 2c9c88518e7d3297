// Which test a column gets when no override names one: Evidently 0.4.15's
// `_get_default_stattest` (calculations/stattests/registry.py), as a table. `values` is the
// number of distinct values in reference ∪ current (Evidently counts the concatenation), and
// `rows` the reference's non-missing rows.
import type { StatTestName } from './types.js';
import type { ColumnType } from '../types.js';

export interface DefaultRule {
  rows: 'small' | 'large';
  type: ColumnType;
  /** Inclusive range of distinct values. */
  values: readonly [number, number];
  test: StatTestName;
}

/** Evidently switches from p-value tests to distances above this many reference rows. */
export const SMALL_REFERENCE_ROWS = 1000;

const ANY = Number.POSITIVE_INFINITY;

export const DEFAULT_RULES: readonly DefaultRule[] = [
  // reference ≤ 1000 rows
  { rows: 'small', type: 'num', values: [0, 2], test: 'z' },
  { rows: 'small', type: 'num', values: [3, 5], test: 'chisquare' },
  { rows: 'small', type: 'num', values: [6, ANY], test: 'ks' },
  { rows: 'small', type: 'cat', values: [0, 2], test: 'z' },
  { rows: 'small', type: 'cat', values: [3, ANY], test: 'chisquare' },
  // reference > 1000 rows
  { rows: 'large', type: 'num', values: [0, 5], test: 'jensenshannon' },
  { rows: 'large', type: 'num', values: [6, ANY], test: 'wasserstein' },
  { rows: 'large', type: 'cat', values: [0, ANY], test: 'jensenshannon' },
];

export function defaultTest(type: ColumnType, referenceRows: number, values: number): StatTestName {
  const rows = referenceRows <= SMALL_REFERENCE_ROWS ? 'small' : 'large';
  const rule = DEFAULT_RULES.find((r) => r.rows === rows && r.type === type && values >= r.values[0] && values <= r.values[1]);
  // The table covers every case; this only guards against editing it wrongly.
  if (rule === undefined) throw new Error(`no default drift test for ${type}, ${rows} reference, ${values} values`);
  return rule.test;
}
