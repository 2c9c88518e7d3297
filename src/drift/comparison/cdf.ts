// Wasserstein-1 (∫|F_ref − F_cur|, as scipy.stats.wasserstein_distance) and the KS statistic
// (sup |F_ref − F_cur| over right-continuous ECDFs, as scipy.stats.ks_2samp) in one sweep over
// the pieces.
//
// Over a gap [a, b) holding rows with Σ (x − a) = s, ∫_a^b F = (b − a)·F(a) + (c·(b − a) − s)/n
// exactly. So ∫|D| is exact whenever D = F_ref − F_cur keeps one sign over the gap, which the
// end values prove: F_ref(a) ≥ F_cur(b−) or F_ref(b−) ≤ F_cur(a). Otherwise each side's gap
// rows are placed at their mean (which keeps each ∫F exact) and |D| is integrated over the
// resulting steps. KS takes D at every position and at the end of every gap; both values are
// attained, so the statistic is exact when the reference has no gap mass (bins per value) and
// a lower bound otherwise.
import type { Pieces } from './pieces.js';

export interface CdfStats {
  /** max |R·n2 − C·n1| over the sweep, an integer: D = ksNumer / (n1·n2). */
  ksNumer: number;
  wasserstein: number;
}

// The sweep works in units of 1/(n1·n2): there D = R·n2 − C·n1 is an exact integer, and the
// loop needs no division (divisions were most of its cost).

// ∫|D| over a gap whose rows sit at each side's mean (ri or ci may be 0: no step there);
// d0 = D at the gap start, dr = ri·n2 and dc = ci·n1 the steps, in the same units.
function crossingIntegral(width: number, d0: number, ri: number, rOff: number, dr: number, ci: number, cOff: number, dc: number): number {
  const xr = ri > 0 ? rOff / ri : width;
  const xc = ci > 0 ? cOff / ci : width;
  const first = Math.min(xr, xc);
  const second = Math.max(xr, xc);
  // Between the two steps only the side whose mean comes first has stepped.
  const mid = xr <= xc ? d0 + dr : d0 - dc;
  return Math.abs(d0) * first + Math.abs(mid) * (second - first) + Math.abs(d0 + dr - dc) * (width - second);
}

export function cdfStats(p: Pieces): CdfStats {
  const { n1, n2, len, pos, r, c, rIn, cIn, rSum, cSum } = p;
  let R = 0;
  let C = 0;
  let best = 0;
  let w = 0;
  for (let i = 0; i < len; i++) {
    R += r[i]!;
    C += c[i]!;
    const d = R * n2 - C * n1;
    const numer = Math.abs(d);
    if (numer > best) best = numer;
    if (i === len - 1) break;
    const width = pos[i + 1]! - pos[i]!;
    const ri = rIn[i]!;
    const ci = cIn[i]!;
    if (ri === 0 && ci === 0) {
      w += numer * width;
      continue;
    }
    const dr = ri * n2;
    const dc = ci * n1;
    const integral = width * d + (ri * width - rSum[i]!) * n2 - (ci * width - cSum[i]!) * n1;
    // F_ref(a) ≥ F_cur(b−), or F_ref(b−) ≤ F_cur(a): D keeps its sign over the gap.
    if (d - dc >= 0) w += integral;
    else if (d + dr <= 0) w -= integral;
    else w += crossingIntegral(width, d, ri, rSum[i]!, dr, ci, cSum[i]!, dc);
    R += ri;
    C += ci;
    const end = Math.abs(R * n2 - C * n1);
    if (end > best) best = end;
  }
  return { ksNumer: best, wasserstein: w / (n1 * n2) };
}
