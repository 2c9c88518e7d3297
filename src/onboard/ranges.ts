// The accepted range of a feature, learned from the training data. The service rejects a row
// whose value falls outside its card's range, so a range drawn tight around the training rows
// would turn tomorrow's slightly larger bill into a row error; noticing that values move is the
// drift monitor's job, not validation's. Validation is there to catch unit mistakes and garbage.

/**
 * 10 % of the observed span added on each side: wide enough that a customer just beyond the
 * training extremes is scored (and shows up as drift), narrow enough that a value off by a unit
 * (cents for dollars: ×100; a year of birth for an age) is still refused.
 */
export const RANGE_MARGIN = 0.1;

export interface LearnedRange {
  min: number;
  max: number;
}

/**
 * [min − m, max + m] with m = RANGE_MARGIN × (max − min) (or 10 % of the value, at least 1, for a
 * constant column). A column that never went below zero keeps zero as its floor: amounts and
 * counts do not turn negative by drifting. Integer columns get whole-number bounds.
 */
export function learnedRange(values: ArrayLike<number>, integer: boolean): LearnedRange {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(lo <= hi)) throw new RangeError('learnedRange needs at least one value');
  const span = hi - lo;
  const pad = span > 0 ? span * RANGE_MARGIN : Math.max(Math.abs(hi) * RANGE_MARGIN, 1);
  let min = lo - pad;
  let max = hi + pad;
  if (lo >= 0) min = Math.max(0, min);
  if (integer) {
    min = Math.floor(min);
    max = Math.ceil(max);
  } else {
    // Six significant digits: a bound is a fence, not a measurement.
    min = Number(min.toPrecision(6));
    max = Number(max.toPrecision(6));
    // toPrecision may round a bound inwards: keep every training value inside.
    if (min > lo) min = lo;
    if (max < hi) max = hi;
  }
  return { min, max };
}
