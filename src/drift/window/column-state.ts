// One column of the current window on the reference's frozen bins. Per bin: rows equal to
// the left edge, and the count and offset sum of rows strictly inside; rows beyond the
// reference range go to under/overflow with count and sum. With those, ∫F over any bin is
// exact, which is what Wasserstein needs. Values the reference lacks (any non-edge value when
// bins are per value; out-of-range values with quantile bins) are also counted exactly in a
// bounded map, which keeps KS, chi-square, z and Evidently's per-value bins exact.
import type { ColumnProfile } from '../types.js';

/**
 * Distinct new values counted exactly. Beyond it they are only in the bins ("untracked"),
 * and the statistics that need identities fall back to documented approximations. Sorting
 * 512 keys in a snapshot costs ~20 µs, inside the 1 ms budget for 8 features.
 */
export const EXTRA_VALUES_CAP = 512;

/** Cells of the guide that narrows each row's bin search: 4 per edge, up to this many. */
const GUIDE_CELLS = 8192;

/** Codes `add` returns besides a bin index. */
export const SKIPPED = -2;
export const UNDER = -1;

/** The read-only view that the statistics take; a live window or a parsed sketch gives it. */
export interface ColumnView {
  readonly n: number;
  readonly point: Float64Array;
  readonly inner: Float64Array;
  readonly innerSum: Float64Array;
  readonly underN: number;
  /** Σ (min − x) over rows below the reference minimum. */
  readonly underSum: number;
  readonly overN: number;
  /** Σ (x − max) over rows above the reference maximum. */
  readonly overSum: number;
  readonly extras: ReadonlyMap<number, number>;
  readonly untracked: number;
  /** A value ≤ every underflow row (exact when untracked is 0), +∞ when there is none. */
  readonly lo: number;
  /** A value ≥ every overflow row, −∞ when there is none. */
  readonly hi: number;
}

export class ColumnState implements ColumnView {
  readonly edges: Float64Array;
  readonly valuesMode: boolean;
  readonly point: Float64Array;
  readonly inner: Float64Array;
  readonly innerSum: Float64Array;
  readonly extras = new Map<number, number>();
  n = 0;
  underN = 0;
  underSum = 0;
  overN = 0;
  overSum = 0;
  untracked = 0;
  lo = Number.POSITIVE_INFINITY;
  hi = Number.NEGATIVE_INFINITY;
  private readonly min: number;
  private readonly max: number;
  private readonly last: number;
  private guide: Int32Array | null = null;
  private readonly guideCells: number;
  private readonly guideScale: number;

  constructor(profile: ColumnProfile) {
    this.edges = Float64Array.from(profile.bins.edges);
    this.valuesMode = profile.bins.mode === 'values';
    const k = this.edges.length;
    this.point = new Float64Array(k);
    this.inner = new Float64Array(k);
    this.innerSum = new Float64Array(k);
    this.min = this.edges[0]!;
    this.max = this.edges[k - 1]!;
    this.last = k - 1;
    // One cell (a plain binary search) when the range is a point or too wide for a double.
    const span = this.max - this.min;
    this.guideCells = span > 0 && Number.isFinite(span) ? Math.min(GUIDE_CELLS, 4 * k) : 1;
    this.guideScale = this.guideCells > 1 ? this.guideCells / span : 0;
  }

  /** Index of the bin holding x, for min ≤ x ≤ max: the last edge ≤ x. */
  locate(x: number): number {
    const e = this.edges;
    // The guide narrows the search to the edges of one cell; the two loops only ever move
    // when rounding put x in a neighbouring cell.
    const guide = this.guide ?? this.buildGuide();
    const c = this.guideCells === 1 ? 0 : Math.min(this.guideCells - 1, Math.floor((x - this.min) * this.guideScale));
    let lo = guide[c]!;
    let hi = guide[c + 1]!;
    while (lo > 0 && e[lo]! > x) lo--;
    while (hi < this.last && e[hi + 1]! <= x) hi++;
    return this.search(x, lo, hi);
  }

  /**
   * Equal-width cells over [min, max], each knowing the bin its left end falls in: a row's bin
   * is then a search among the few edges of one cell, not all of them (quantile bins have
   * ~2,600 edges, 12 unpredictable branches per value without it). Built on first use: states
   * made from sketches, to merge or report, never locate.
   */
  private buildGuide(): Int32Array {
    const g = new Int32Array(this.guideCells + 1);
    let i = 0;
    for (let c = 1; c < this.guideCells; c++) {
      const start = this.min + c / this.guideScale;
      while (i < this.last && this.edges[i + 1]! <= start) i++;
      g[c] = i;
    }
    g[this.guideCells] = this.last;
    return (this.guide = g);
  }

  private search(x: number, from: number, to: number): number {
    const e = this.edges;
    let lo = from;
    let hi = to;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (e[mid]! <= x) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Adds x; returns where it went, for `removeCode`: a bin index, UNDER, `edges.length` for
   * overflow, or SKIPPED for a non-finite value (missing, not counted).
   */
  add(x: number): number {
    if (!Number.isFinite(x)) return SKIPPED;
    this.n++;
    if (x < this.min) {
      this.underN++;
      this.underSum += this.min - x;
      if (x < this.lo) this.lo = x;
      this.track(x);
      return UNDER;
    }
    if (x > this.max) {
      this.overN++;
      this.overSum += x - this.max;
      if (x > this.hi) this.hi = x;
      this.track(x);
      return this.last + 1;
    }
    const i = this.locate(x);
    const edge = this.edges[i]!;
    if (x === edge) this.point[i]!++;
    else {
      this.inner[i]!++;
      this.innerSum[i]! += x - edge;
      if (this.valuesMode) this.track(x);
    }
    return i;
  }

  /** Takes out x, which `add` put at `code`: no search (the window keeps the codes). */
  removeCode(x: number, code: number): void {
    if (code === SKIPPED) return;
    this.n--;
    if (code === UNDER) {
      // Exact zeros once a region empties: float sums that went up and down drift by ulps.
      if (--this.underN === 0) {
        this.underSum = 0;
        this.lo = Number.POSITIVE_INFINITY;
      } else this.underSum -= this.min - x;
      this.untrack(x);
    } else if (code > this.last) {
      if (--this.overN === 0) {
        this.overSum = 0;
        this.hi = Number.NEGATIVE_INFINITY;
      } else this.overSum -= x - this.max;
      this.untrack(x);
    } else {
      const edge = this.edges[code]!;
      if (x === edge) this.point[code]!--;
      else {
        if (--this.inner[code]! === 0) this.innerSum[code] = 0;
        else this.innerSum[code]! -= x - edge;
        if (this.valuesMode) this.untrack(x);
      }
    }
  }

  clear(): void {
    this.n = this.underN = this.underSum = this.overN = this.overSum = this.untracked = 0;
    this.point.fill(0);
    this.inner.fill(0);
    this.innerSum.fill(0);
    this.extras.clear();
    this.lo = Number.POSITIVE_INFINITY;
    this.hi = Number.NEGATIVE_INFINITY;
  }

  private track(x: number): void {
    const c = this.extras.get(x);
    if (c !== undefined) this.extras.set(x, c + 1);
    else if (this.extras.size < EXTRA_VALUES_CAP) this.extras.set(x, 1);
    else this.untracked++;
  }

  // Which copy of x leaves does not matter: the map and the untracked count together always
  // describe the same multiset, so a tracked x may stand for an untracked one.
  private untrack(x: number): void {
    const c = this.extras.get(x);
    if (c === undefined) this.untracked--;
    else if (c === 1) this.extras.delete(x);
    else this.extras.set(x, c - 1);
  }
}
