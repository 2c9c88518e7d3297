// What the dashboard draws: reference and current histograms on one common grid, and
// quantiles. Exact for per-value pieces; rows known only by bin are spread uniformly over it.
import { histogram, linspace, type BinnedShares } from './binning.js';
import type { Pieces } from './pieces.js';
import { unionRange } from './pieces.js';
import type { DisplayHistogram, Quantiles } from '../types.js';

/** At most this many bars, so a WebSocket frame of 8 features stays a few kB. */
export const DISPLAY_BINS = 30;

/**
 * Reference and current on one grid: per value when ref ∪ cur has at most 30 values;
 * otherwise Evidently's own Sturges bins when the column has them (ceil(log2 n + 1) ≤ 30 bins
 * up to 2^29 rows; reusing them saves a sweep per snapshot), else 30 equal-width bins.
 */
export function displayHistograms(p: Pieces, binned: BinnedShares): { reference: DisplayHistogram; current: DisplayHistogram } {
  if (binned.mode === 'sturges' && binned.edges !== undefined && binned.edges.length <= DISPLAY_BINS + 1) {
    const x = Array.from(binned.edges);
    return { reference: { kind: 'bins', x, shares: Array.from(binned.ref) }, current: { kind: 'bins', x, shares: Array.from(binned.cur) } };
  }
  const values: number[] = [];
  for (let i = 0; i < p.len && values.length <= DISPLAY_BINS; i++) if (p.r[i]! + p.c[i]! > 0) values.push(i);
  const n1 = Math.max(p.n1, 1);
  const n2 = Math.max(p.n2, 1);
  if (p.exact && values.length <= DISPLAY_BINS) {
    return {
      reference: { kind: 'values', x: values.map((i) => p.pos[i]!), shares: values.map((i) => p.r[i]! / n1) },
      current: { kind: 'values', x: values.map((i) => p.pos[i]!), shares: values.map((i) => p.c[i]! / n2) },
    };
  }
  const [lo, hi] = unionRange(p);
  const edges = linspace(lo, hi, DISPLAY_BINS);
  const h = histogram(p, edges);
  const x = Array.from(edges);
  return {
    reference: { kind: 'bins', x, shares: Array.from(h.ref, (v) => v / n1) },
    current: { kind: 'bins', x, shares: Array.from(h.cur, (v) => v / n2) },
  };
}

const LEVELS = [0.05, 0.25, 0.5, 0.75, 0.95] as const;

/**
 * Quantiles of one side as numpy's default ('linear') method: the order statistics at
 * floor((n−1)q) and the next one, interpolated. `side` picks the reference or the current rows.
 */
export function quantiles(p: Pieces, side: 'ref' | 'cur'): Quantiles | null {
  const n = side === 'ref' ? p.n1 : p.n2;
  if (n === 0) return null;
  const { len, pos } = p;
  const point = side === 'ref' ? p.r : p.c;
  const gap = side === 'ref' ? p.rIn : p.cIn;
  const gapSum = side === 'ref' ? p.rSum : p.cSum;
  // Order statistics needed (two per level), swept in ascending order.
  const wanted = LEVELS.flatMap((q) => {
    const h = Math.floor((n - 1) * q);
    return [h, Math.min(n - 1, h + 1)];
  });
  const ranks = Float64Array.from(wanted).sort();
  const values = new Float64Array(ranks.length).fill(Number.NaN);
  let k = 0;
  let next = ranks[0]!;
  let seen = 0;
  let total = 0;
  for (let i = 0; i < len; i++) {
    const x = pos[i]!;
    const m = point[i]!;
    total += m * x;
    seen += m;
    while (next < seen && k < ranks.length) {
      values[k++] = x;
      next = ranks[k] ?? Number.POSITIVE_INFINITY;
    }
    const g = gap[i]!;
    if (g === 0) continue;
    total += g * x + gapSum[i]!;
    const start = seen;
    seen += g;
    const width = (i + 1 < len ? pos[i + 1]! : x) - x;
    while (next < seen && k < ranks.length) {
      values[k++] = x + ((next - start + 0.5) / g) * width;
      next = ranks[k] ?? Number.POSITIVE_INFINITY;
    }
  }
  const stat = (rank: number): number => values[ranks.indexOf(rank)]!;
  const at = (j: number): number => {
    const h = (n - 1) * LEVELS[j]!;
    const a = stat(wanted[2 * j]!);
    const b = stat(wanted[2 * j + 1]!);
    return a + (h - Math.floor(h)) * (b - a);
  };
  return { mean: total / n, p5: at(0), p25: at(1), p50: at(2), p75: at(3), p95: at(4) };
}

/**
 * A string column per category, named in `labels`; x is 0 … m−1 (codes of unseen categories
 * are local to a window, so they are not shown). Past DISPLAY_BINS categories, those with the
 * largest share on either side; ordered by name, so a window and its sketch show the same.
 */
export function categoryHistograms(p: Pieces, label: (code: number) => string): { reference: DisplayHistogram; current: DisplayHistogram } {
  const n1 = Math.max(p.n1, 1);
  const n2 = Math.max(p.n2, 1);
  let cells: { name: string; r: number; c: number }[] = [];
  for (let i = 0; i < p.len; i++) if (p.r[i]! + p.c[i]! > 0) cells.push({ name: label(p.pos[i]!), r: p.r[i]! / n1, c: p.c[i]! / n2 });
  if (cells.length > DISPLAY_BINS) {
    cells = cells.sort((a, b) => Math.max(b.r, b.c) - Math.max(a.r, a.c) || (a.name < b.name ? -1 : 1)).slice(0, DISPLAY_BINS);
  }
  cells.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const x = cells.map((_, i) => i);
  const labels = cells.map((c) => c.name);
  return {
    reference: { kind: 'values', x, shares: cells.map((c) => c.r), labels },
    current: { kind: 'values', x, shares: cells.map((c) => c.c), labels },
  };
}
