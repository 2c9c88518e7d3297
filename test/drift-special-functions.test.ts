// Survival functions behind the p-values, against closed forms, CPython's math.lgamma/erfc
// values, hand counts, and each other.
import t from 'tap';
import { chi2Sf, lgamma, normSf } from '../src/drift/math/gamma.js';
import { ksTwoSamplePValue } from '../src/drift/math/ks-exact.js';
import { kolmognDMTW, kolmognPelzGood, kolmognPomeranz, kolmognSf, smirnovSf } from '../src/drift/math/kolmogorov.js';

const close = (a: number, b: number, rel: number): boolean => Math.abs(a - b) <= rel * Math.abs(b);

t.test('lgamma', async (t) => {
  t.ok(close(lgamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-14));
  t.ok(close(lgamma(10), Math.log(362880), 1e-14));
  t.ok(close(lgamma(171.5), 709.1431630309282, 1e-13), 'CPython math.lgamma');
});

t.test('chi-square survival: closed forms for even df, the 5 % point of df = 1', async (t) => {
  for (const x of [0.1, 1, 5, 20, 80, 300]) {
    t.ok(close(chi2Sf(x, 2), Math.exp(-x / 2), 1e-12), `df 2, x ${x}`);
    t.ok(close(chi2Sf(x, 4), Math.exp(-x / 2) * (1 + x / 2), 1e-12), `df 4, x ${x}`);
    t.ok(close(chi2Sf(x, 6), Math.exp(-x / 2) * (1 + x / 2 + (x * x) / 8), 1e-12), `df 6, x ${x}`);
  }
  t.ok(close(chi2Sf(3.841458820694124, 1), 0.05, 1e-12));
  t.equal(chi2Sf(Number.POSITIVE_INFINITY, 3), 0);
  t.equal(chi2Sf(0, 3), 1);
});

t.test('normal survival', async (t) => {
  t.equal(normSf(0), 0.5);
  t.ok(close(normSf(1.959963984540054), 0.025, 1e-12));
  t.ok(close(normSf(-1), 1 - normSf(1), 1e-15));
  t.ok(close(normSf(5), 2.866515718791946e-7, 1e-12));
  t.ok(close(normSf(10), 7.619853024160593e-24, 1e-10));
});

t.test('two-sample KS exact p-values: hand counts', async (t) => {
  // n = m = 4, D = 1/2 (h = 2): 2·(C(8,2) − C(8,0))/C(8,4).
  t.ok(close(ksTwoSamplePValue(4, 4, 2).p, 54 / 70, 1e-12));
  // n = 3, m = 2, D = 1 (lcm 6, h = 6): 2/C(5,2).
  t.ok(close(ksTwoSamplePValue(3, 2, 6).p, 0.2, 1e-12));
  t.equal(ksTwoSamplePValue(3, 2, 0).p, 1);
  t.equal(ksTwoSamplePValue(20_000, 500, 800).method, 'asymp', 'max(n1, n2) > 10000 → asymptotic');
});

t.test('one-sample Kolmogorov: the exact methods agree with each other, the series with both', async (t) => {
  for (const [n, x] of [
    [30, 0.2],
    [50, 0.1],
    [100, 0.08],
    [120, 0.12],
    [140, 0.05],
  ] as const) {
    const durbin = kolmognDMTW(n, x);
    const pomeranz = kolmognPomeranz(n, x);
    t.ok(close(durbin, pomeranz, 1e-10), `n ${n}, x ${x}: Durbin ${durbin}, Pomeranz ${pomeranz}`);
    t.ok(Math.abs(kolmognPelzGood(n, x) - durbin) < 1e-3, `n ${n}, x ${x}: Pelz-Good within 1e-3`);
  }
  // For large n·x², 2·P(D+ ≥ x) is the two-sided tail; and sf is continuous across scipy's switch.
  t.ok(close(kolmognSf(1000, 0.06), 2 * smirnovSf(1000, 0.06), 1e-12));
  const below = kolmognSf(1000, Math.sqrt(2.2 / 1000) * 0.9999);
  const above = kolmognSf(1000, Math.sqrt(2.2 / 1000) * 1.0001);
  t.ok(Math.abs(below - above) < 1e-4, `continuous at n·x² = 2.2: ${below} vs ${above}`);
});
