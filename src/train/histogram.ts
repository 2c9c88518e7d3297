// Gradient/hessian histograms per node: for each feature and bin, the sums of gradient and
// hessian and the row count. A split search then reads these ≤ 255 cells per feature instead
// of the node's rows.

/** Cells per feature; bins are Uint8 so 256 always suffices and offsets stay shifts. */
export const BIN_STRIDE = 256;

export interface Histogram {
  grad: Float64Array;
  hess: Float64Array;
  count: Uint32Array;
}

export function emptyHistogram(nFeatures: number): Histogram {
  const n = nFeatures * BIN_STRIDE;
  return { grad: new Float64Array(n), hess: new Float64Array(n), count: new Uint32Array(n) };
}

/** Histogram of the rows order[start..end). */
export function buildHistogram(
  binned: readonly Uint8Array[],
  grad: Float64Array,
  hess: Float64Array,
  order: Uint32Array,
  start: number,
  end: number,
): Histogram {
  const h = emptyHistogram(binned.length);
  for (let f = 0; f < binned.length; f++) {
    // Feature-outer: one column of bins is read sequentially per pass.
    const bins = binned[f]!;
    const off = f * BIN_STRIDE;
    for (let i = start; i < end; i++) {
      const r = order[i]!;
      const c = off + bins[r]!;
      h.grad[c]! += grad[r]!;
      h.hess[c]! += hess[r]!;
      h.count[c]!++;
    }
  }
  return h;
}

/**
 * parent − child: the sibling's histogram without touching its rows. LightGBM's trick; it
 * halves the histogram work, as only the smaller child is ever built from rows.
 */
export function subtractHistogram(parent: Histogram, child: Histogram): Histogram {
  const n = parent.grad.length;
  const out = emptyHistogram(n / BIN_STRIDE);
  for (let i = 0; i < n; i++) {
    out.grad[i] = parent.grad[i]! - child.grad[i]!;
    out.hess[i] = parent.hess[i]! - child.hess[i]!;
    out.count[i] = parent.count[i]! - child.count[i]!;
  }
  return out;
}
