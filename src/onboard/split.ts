// Which rows train (and make the reference) and which are held out for the card's metrics.
import { DriftlineError } from '../errors.js';
import { createRng, shuffleInPlace } from '../train/prng.js';

export interface Split {
  train: Uint32Array;
  validation: Uint32Array;
  rule: string;
}

/** Rows whose id is listed are held out; every other row trains. */
export function splitByIdList(ids: Float64Array, listed: readonly number[]): Split {
  const want = new Set(listed);
  const val: number[] = [];
  const tr: number[] = [];
  for (let i = 0; i < ids.length; i++) (want.has(ids[i]!) ? val : tr).push(i);
  if (val.length === 0)
    throw new DriftlineError('DL_ERR_BAD_INPUT', `None of the ${listed.length} validation ids occurs in the data's id column`);
  return {
    train: Uint32Array.from(tr),
    validation: Uint32Array.from(val),
    rule: `validation = rows whose id is listed (${val.length} of ${listed.length} found)`,
  };
}

/**
 * A stratified random share of the rows held out, as scikit-learn's
 * train_test_split(stratify=y) does: each class keeps its share in both parts, so a rare
 * positive class is not left out of the validation rows by chance. Seeded: the same file gives
 * the same split, and so the same card.
 */
export function splitByFraction(target: Float64Array, fraction: number, seed: number): Split {
  if (!(fraction > 0 && fraction < 1))
    throw new DriftlineError('DL_ERR_BAD_INPUT', `--validation-fraction must be between 0 and 1, not ${fraction}`);
  const rng = createRng(seed);
  const val: number[] = [];
  const tr: number[] = [];
  for (const cls of [0, 1]) {
    const rows: number[] = [];
    for (let i = 0; i < target.length; i++) if (target[i] === cls) rows.push(i);
    shuffleInPlace(rows, rng);
    const k = Math.round(rows.length * fraction);
    val.push(...rows.slice(0, k));
    tr.push(...rows.slice(k));
  }
  const sorted = (a: number[]): Uint32Array => Uint32Array.from(a).sort();
  return {
    train: sorted(tr),
    validation: sorted(val),
    rule: `stratified random ${Math.round(fraction * 100)} % of the rows, seed ${seed}`,
  };
}

/** The values of `col` at `rows`. */
export function take(col: Float64Array, rows: Uint32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = col[rows[i]!]!;
  return out;
}
