// Survival functions for the chi-square and z tests, from the regularized incomplete gamma
// function (Numerical Recipes 3rd ed. §6.2: series below a+1, Lentz continued fraction above).
// erfc(x) = Q(1/2, x²), so the normal tail shares the same code. Checked against scipy 1.10
// values in test/drift-special-functions.test.ts.

const EPS = 1e-16;
const FPMIN = 1e-300;
const MAX_ITER = 100_000;

// Lanczos approximation, g = 7, n = 9: about 15 significant digits over x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0. */
export function lgamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return HALF_LOG_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

function prefactor(a: number, x: number): number {
  return Math.exp(-x + a * Math.log(x) - lgamma(a));
}

function seriesP(a: number, x: number): number {
  let ap = a;
  let del = 1 / a;
  let sum = del;
  for (let i = 0; i < MAX_ITER; i++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * EPS) break;
  }
  return sum * prefactor(a, x);
}

function continuedFractionQ(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / FPMIN;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITER; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = b + an / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return prefactor(a, x) * h;
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a). */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  return x < a + 1 ? 1 - seriesP(a, x) : continuedFractionQ(a, x);
}

/** P(χ²_k > x), as scipy.stats.chi2.sf. k = 0 (a single category) has no spread: 1. */
export function chi2Sf(x: number, k: number): number {
  if (k <= 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  return gammaQ(k / 2, x / 2);
}

/** P(Z > z) for a standard normal Z, as scipy.stats.norm.sf. */
export function normSf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  const q = 0.5 * gammaQ(0.5, (z * z) / 2);
  return z >= 0 ? q : 1 - q;
}
