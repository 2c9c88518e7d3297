// P-value of the two-sample Kolmogorov-Smirnov test, as scipy 1.10 `ks_2samp(method='auto')`
// computes it (scipy/stats/_stats_py.py and _stats_pythran.py): exact lattice-path counting
// when max(n1, n2) ≤ 10000, else the one-sample distribution kstwo.sf(d, round(n1·n2/(n1+n2))).
// The statistic is passed as an integer h = d·lcm(n1, n2), exact from counts, so no rounding
// of d can move it to a neighbouring lattice value.
import { kolmognSf } from './kolmogorov.js';

const MAX_AUTO_N = 10_000;

export function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

// Pr(D_{n,n} ≥ h/n), Horner form of the alternating binomial sum (scipy
// _compute_prob_outside_square).
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
  }
  return 2 * P;
}

// Proportion of lattice paths from (0,0) to (m,n) that leave the band |x/m − y/n| < h/lcm,
// by Viehmann's recursion for 1 − p (scipy _compute_outer_prob_inside_method).
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1]!;
}

/** numpy's round: half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface KsPValue {
  /** The statistic, h / lcm. */
  d: number;
  p: number;
  method: 'exact' | 'asymp';
}

// The exact count costs O(max(n1,n2) · d · min(n1,n2)); a sliding window re-asks the same
// (n1, n2, h) many times between changes of the statistic, so a few answers are kept.
const cache = new Map<string, KsPValue>();
const CACHE_SIZE = 256;

/** Two-sided p-value for sample sizes n1, n2 and statistic h / lcm(n1, n2). */
export function ksTwoSamplePValue(n1: number, n2: number, h: number): KsPValue {
  const key = `${n1},${n2},${h}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const d = h / lcm;
  let result: KsPValue | undefined;
  if (h === 0) result = { d, p: 1, method: 'exact' };
  else if (Math.max(n1, n2) <= MAX_AUTO_N) {
    const p = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
    if (p >= 0 && p <= 1) result = { d, p, method: 'exact' };
  }
  if (result === undefined) {
    const en = (n1 * n2) / (n1 + n2);
    result = { d, p: Math.min(1, Math.max(0, kolmognSf(roundHalfEven(en), d))), method: 'asymp' };
  }
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, result);
  return result;
}
