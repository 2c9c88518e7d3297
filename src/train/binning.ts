// Feature binning, as scikit-learn's _BinMapper does it (binning.py): up to `maxBins` bins per
// feature, cut at midpoints between distinct values when there are few enough of them, else at
// (midpoint-interpolated) quantiles. Trees then split on bin indices, which turns the search
// for a split into a scan over at most 255 histogram cells instead of over sorted values.
//
// One difference on purpose: thresholds are float32 values, and a value goes to bin b when it
// is <= threshold b under float32 comparison. The ONNX graph compares float32 inputs with
// float32 thresholds (BRANCH_LEQ), so "bin ≤ b" during training and "x <= t[b]" at inference
// are the same test, not merely close ones.

/** Per feature, strictly increasing float32 cut points; feature j has thresholds[j].length + 1 bins. */
export type BinThresholds = Float32Array[];

export const MAX_BINS_LIMIT = 255;

/** Cut points for one column (float32 values; NaN is not expected — the CSV reader rejects it). */
export function fitThresholds(values: Float32Array, maxBins: number): Float32Array {
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > MAX_BINS_LIMIT) {
    throw new RangeError(`maxBins must be an integer in 2..${MAX_BINS_LIMIT}, got ${maxBins}`);
  }
  const sorted = Float32Array.from(values).sort();
  const n = sorted.length;
  const distinct: number[] = [];
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]!);

  const cuts: number[] = [];
  if (distinct.length <= maxBins) {
    for (let i = 1; i < distinct.length; i++) cuts.push(cutBetween(distinct[i - 1]!, distinct[i]!));
  } else {
    // numpy.percentile(..., method='midpoint') at maxBins−1 evenly spaced ranks, as sklearn.
    for (let k = 1; k < maxBins; k++) {
      const pos = (k / maxBins) * (n - 1);
      const lo = sorted[Math.floor(pos)]!;
      const hi = sorted[Math.ceil(pos)]!;
      cuts.push(lo === hi ? lo : cutBetween(lo, hi));
    }
  }
  // Quantiles repeat on heavy ties (e.g. the many zero payments); an empty bin adds nothing.
  const out: number[] = [];
  for (const c of cuts) if (out.length === 0 || c > out[out.length - 1]!) out.push(c);
  return Float32Array.from(out);
}

/**
 * A float32 cut t with a <= t < b, as close to the midpoint as float32 allows. The midpoint
 * rounded to float32 can land on b when a and b are adjacent floats; a itself then serves.
 */
function cutBetween(a: number, b: number): number {
  const mid = Math.fround(a / 2 + b / 2);
  return mid < b && mid >= a ? mid : a;
}

export function fitBinThresholds(columns: readonly Float32Array[], maxBins: number): BinThresholds {
  return columns.map((c) => fitThresholds(c, maxBins));
}

/** Bin of x: the first b with x <= t[b], else t.length (so NaN lands in the last bin, as it goes right in the graph). */
export function binOf(x: number, t: Float32Array): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x <= t[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function binColumn(values: Float32Array, t: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = binOf(values[i]!, t);
  return out;
}

export function binColumns(columns: readonly Float32Array[], thresholds: BinThresholds): Uint8Array[] {
  return columns.map((c, j) => binColumn(c, thresholds[j]!));
}
