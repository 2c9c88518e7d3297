import { BIN_STRIDE, type Histogram } from './histogram.js';

export interface SplitParams {
  minSamplesLeaf: number;
  /** L2 penalty on leaf values (sklearn's l2_regularization, LightGBM's lambda_l2). */
  l2: number;
  /** Smallest hessian sum a child may have (sklearn's min_hessian_to_split, 1e-3). */
  minHessian: number;
}

export interface NodeTotals {
  grad: number;
  hess: number;
  count: number;
}

export interface Split {
  feature: number;
  /** Rows with bin <= this go left. */
  bin: number;
  gain: number;
  left: NodeTotals;
  right: NodeTotals;
}

/**
 * Loss reduction of a split under a second-order expansion of the loss, as sklearn's
 * splitting.pyx computes it: G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ).
 */
export function splitGain(left: NodeTotals, right: NodeTotals, parent: NodeTotals, l2: number): number {
  return (
    (left.grad * left.grad) / (left.hess + l2) +
    (right.grad * right.grad) / (right.hess + l2) -
    (parent.grad * parent.grad) / (parent.hess + l2)
  );
}

/**
 * Best split of a node over every feature and bin boundary, or undefined when none has a
 * positive gain within the constraints. Ties keep the first found (lowest feature, then lowest
 * bin), so the choice does not depend on anything but the data.
 */
export function findBestSplit(hist: Histogram, nBins: readonly number[], totals: NodeTotals, p: SplitParams): Split | undefined {
  let best: Split | undefined;
  let bestGain = 0;
  const parentTerm = (totals.grad * totals.grad) / (totals.hess + p.l2);
  for (let f = 0; f < nBins.length; f++) {
    const off = f * BIN_STRIDE;
    let gL = 0;
    let hL = 0;
    let nL = 0;
    for (let b = 0; b < nBins[f]! - 1; b++) {
      gL += hist.grad[off + b]!;
      hL += hist.hess[off + b]!;
      nL += hist.count[off + b]!;
      const nR = totals.count - nL;
      if (nL < p.minSamplesLeaf) continue;
      if (nR < p.minSamplesLeaf) break;
      const hR = totals.hess - hL;
      if (hL < p.minHessian || hR < p.minHessian) continue;
      const gR = totals.grad - gL;
      const gain = (gL * gL) / (hL + p.l2) + (gR * gR) / (hR + p.l2) - parentTerm;
      if (gain > bestGain) {
        bestGain = gain;
        best = {
          feature: f,
          bin: b,
          gain,
          left: { grad: gL, hess: hL, count: nL },
          right: { grad: gR, hess: hR, count: nR },
        };
      }
    }
  }
  return best;
}
