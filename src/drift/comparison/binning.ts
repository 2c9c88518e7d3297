// Evidently 0.4.15's binning for PSI, Jensen-Shannon and KL (stattests/utils.py
// get_binned_data): a numerical column with more than 20 distinct reference values is cut into
// Sturges bins over ref ∪ cur (np.histogram_bin_edges(..., 'sturges'), then np.histogram);
// anything else gets one bin per distinct value of ref ∪ cur.
//
// Per-value bins are exact whenever the pieces are. Sturges edges over frozen fine bins are
// exact for per-value reference bins; rows known only by a quantile bin (or a gap beyond the
// reference range) are spread uniformly over it, an approximation. No default test uses Sturges
// bins (numerical columns default to Wasserstein or KS), only overrides and the `stats` block.
import type { Pieces } from './pieces.js';
import { unionRange } from './pieces.js';

export interface BinnedShares {
  ref: Float64Array;
  cur: Float64Array;
  mode: 'sturges' | 'values';
  /** Sturges mode: the bin edges. */
  edges?: Float64Array;
}

/** numpy's linspace: edge i = i·step + start, last edge = stop exactly. */
export function linspace(start: number, stop: number, bins: number): Float64Array {
  const e = new Float64Array(bins + 1);
  const step = (stop - start) / bins;
  for (let i = 0; i < bins; i++) e[i] = i * step + start;
  e[bins] = stop;
  return e;
}

/** Edges as np.histogram_bin_edges(ref ∪ cur, bins='sturges'). */
export function sturgesEdges(p: Pieces): Float64Array {
  let [first, last] = unionRange(p);
  const ptp = last - first;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const width = ptp / (Math.log2(p.n1 + p.n2) + 1);
  const bins = width > 0 ? Math.ceil((last - first) / width) : 1;
  return linspace(first, last, bins);
}

/**
 * Counts of each side on the given edges, as np.histogram: bins are [e_i, e_i+1), the last one
 * closed; rows outside the edges are left out. One forward sweep (pieces and edges are both
 * sorted).
 */
export function histogram(p: Pieces, edges: Float64Array): { ref: Float64Array; cur: Float64Array } {
  const { len, pos, r, c, rIn, cIn } = p;
  const nb = edges.length - 1;
  const ref = new Float64Array(nb);
  const cur = new Float64Array(nb);
  const lo = edges[0]!;
  const hi = edges[nb]!;
  let b = 0;
  for (let i = 0; i < len; i++) {
    const x = pos[i]!;
    if (x > hi) break;
    if (x >= lo) {
      while (b < nb - 1 && edges[b + 1]! <= x) b++;
      ref[b]! += r[i]!;
      cur[b]! += c[i]!;
    }
    const ri = rIn[i]!;
    const ci = cIn[i]!;
    if (ri + ci === 0 || i + 1 >= len) continue;
    const z = pos[i + 1]!;
    const from = Math.max(x, lo);
    const to = Math.min(z, hi);
    // Spread uniformly over the gap (x, z): see the header.
    for (let g = x >= lo ? b : 0; g < nb && edges[g]! < to; g++) {
      const share = (Math.min(to, edges[g + 1]!) - Math.max(from, edges[g]!)) / (z - x);
      if (share <= 0) continue;
      ref[g]! += ri * share;
      cur[g]! += ci * share;
    }
  }
  return { ref, cur };
}

/** Shares of ref and cur on Evidently's bins, before any zero-fill. */
export function evidentlyBins(p: Pieces, type: 'num' | 'cat', refUnique: number): BinnedShares {
  if (type === 'num' && refUnique > 20) {
    const edges = sturgesEdges(p);
    const h = histogram(p, edges);
    // An empty side (a snapshot before any row) gets zero shares, not 0/0.
    const n1 = Math.max(p.n1, 1);
    const n2 = Math.max(p.n2, 1);
    return { ref: h.ref.map((v) => v / n1), cur: h.cur.map((v) => v / n2), mode: 'sturges', edges };
  }
  const ref: number[] = [];
  const cur: number[] = [];
  for (let i = 0; i < p.len; i++) {
    if (p.r[i]! + p.c[i]! > 0) {
      ref.push(p.r[i]! / p.n1);
      cur.push(p.c[i]! / p.n2);
    }
    // Rows known only by bin: one lumped category per gap (approximate).
    if (p.rIn[i]! + p.cIn[i]! > 0) {
      ref.push(p.rIn[i]! / p.n1);
      cur.push(p.cIn[i]! / p.n2);
    }
  }
  return { ref: Float64Array.from(ref), cur: Float64Array.from(cur), mode: 'values' };
}

/** Evidently's zero-fill: empty shares become min_nonzero / 1e6 (≤ 1e-4) or 1e-4, per side. */
export function fillZeroes(shares: Float64Array): Float64Array {
  let min = Number.POSITIVE_INFINITY;
  for (const v of shares) if (v !== 0 && v < min) min = v;
  const fill = min <= 1e-4 ? min / 1e6 : 1e-4;
  return shares.map((v) => (v === 0 ? fill : v));
}
