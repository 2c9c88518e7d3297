import t from 'tap';
import fc from 'fast-check';
import { binColumn, binOf, fitThresholds } from '../src/train/binning.js';

t.test('few distinct values: one bin each, cut at the midpoints', async (t) => {
  const th = fitThresholds(Float32Array.from([3, 1, 2, 2, 10, 1, 3]), 255);
  t.same(Array.from(th), [1.5, 2.5, 6.5]);
  t.same(Array.from(binColumn(Float32Array.from([1, 2, 3, 10, 0, 1.5, 1.6, 100]), th)), [0, 1, 2, 3, 0, 0, 1, 3]);
});

t.test('a value equal to a cut goes to the lower bin (x <= t, as BRANCH_LEQ)', async (t) => {
  const th = Float32Array.from([1.5, 2.5]);
  t.equal(binOf(1.5, th), 0);
  t.equal(binOf(Math.fround(1.5000001), th), 1);
  t.equal(binOf(2.5, th), 1);
  t.equal(binOf(Number.NaN, th), 2, 'NaN lands in the last bin, as it goes right in the graph');
});

t.test('adjacent float32 values still get a cut between them', async (t) => {
  const a = Math.fround(1 + 2 ** -23);
  const b = Math.fround(1 + 2 ** -22);
  // (a + b) / 2 is a tie exactly between two float32s and rounds to b: the cut falls back to a.
  const th = fitThresholds(Float32Array.from([a, b, a, b]), 255);
  t.equal(th.length, 1);
  t.ok(th[0]! >= a && th[0]! < b, `cut ${th[0]} in [a, b)`);
  t.equal(binOf(a, th), 0);
  t.equal(binOf(b, th), 1);
});

t.test('many distinct values: at most maxBins bins of near-equal size', async (t) => {
  const values = Float32Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 10_007);
  const th = fitThresholds(values, 64);
  t.equal(th.length, 63, 'maxBins − 1 cuts');
  for (let i = 1; i < th.length; i++) t.ok(th[i]! > th[i - 1]!, 'strictly increasing');
  const counts = new Array<number>(64).fill(0);
  for (const b of binColumn(values, th)) counts[b]!++;
  t.ok(Math.max(...counts) - Math.min(...counts) <= 2, `quantile bins hold ${Math.min(...counts)}–${Math.max(...counts)} rows`);
});

t.test('heavy ties (the many zero payments) collapse repeated quantiles', async (t) => {
  const values = Float32Array.from({ length: 1000 }, (_, i) => (i < 700 ? 0 : i));
  const th = fitThresholds(values, 255);
  t.ok(th.length < 254, `${th.length} cuts, not 254 duplicates`);
  t.equal(binOf(0, th), 0, 'all zeros share the first bin');
  t.equal(th[0], 0, 'the quantiles inside the zeros collapse into one cut at 0');
  t.equal(binOf(700, th), 1, 'the first non-zero value starts the next bin');
});

t.test('maxBins is checked', async (t) => {
  t.throws(() => fitThresholds(Float32Array.from([1, 2]), 256), /maxBins must be an integer in 2\.\.255/);
  t.throws(() => fitThresholds(Float32Array.from([1, 2]), 1), /maxBins/);
});

t.test('bin(x) <= b exactly when x <= t[b] (the training split equals the graph test)', async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 400 }),
      fc.integer({ min: 2, max: 40 }),
      (raw, maxBins) => {
        const values = Float32Array.from(raw);
        const th = fitThresholds(values, maxBins);
        const bins = binColumn(values, th);
        for (let i = 0; i < values.length; i++) {
          for (let b = 0; b < th.length; b++) if (bins[i]! <= b !== values[i]! <= th[b]!) return false;
        }
        return th.length <= maxBins - 1;
      },
    ),
    { seed: 7, numRuns: 200 },
  );
  t.pass('200 random columns');
});
