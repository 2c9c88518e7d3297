// Quantile trends per time bucket, and the t-digest under them.
import t from 'tap';
import { buildProfile, DriftWindow, TDigest } from '../src/drift/index.js';
import { TrendRing } from '../src/drift/window/trend.js';

function rng(seed: number): () => number {
  return () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

t.test('t-digest quantiles are close to the exact ones, deterministic, and merge', async (t) => {
  const r = rng(3);
  const xs = Array.from({ length: 50_000 }, () => -Math.log(r() + 1e-12) * 100);
  const sorted = [...xs].sort((a, b) => a - b);
  // A t-digest bounds the rank error: the share of values below the estimate vs q.
  const rankError = (q: number, v: number): number => sorted.filter((x) => x <= v).length / sorted.length - q;
  const d = new TDigest();
  for (const x of xs) d.push(x);
  for (const q of [0.01, 0.05, 0.5, 0.95, 0.99]) {
    const err = rankError(q, d.quantile(q));
    t.ok(Math.abs(err) < 0.002, `q${q}: rank error ${err.toExponential(1)}`);
  }
  const again = new TDigest();
  for (const x of xs) again.push(x);
  t.same(again.toJSON(), d.toJSON(), 'same input, same digest');
  const left = new TDigest();
  const right = new TDigest();
  xs.forEach((x, i) => (i % 2 === 0 ? left : right).push(x));
  left.merge(right);
  t.equal(left.size, xs.length);
  t.ok(Math.abs(rankError(0.5, left.quantile(0.5))) < 0.002, 'merged median');
  t.same(TDigest.fromJSON(d.toJSON()).toJSON(), d.toJSON(), 'JSON round trip');
});

t.test('quantileTrend: one digest per time bucket, oldest first, old buckets age out', async (t) => {
  const profile = buildProfile({
    features: [{ name: 'x', values: Array.from({ length: 100 }, (_, i) => i) }],
    prediction: Array.from({ length: 100 }, (_, i) => i / 100),
  });
  const w = new DriftWindow(profile, { capacity: 10, bucketMs: 1000, buckets: 3 });
  for (let s = 0; s < 5; s++) for (let i = 0; i <= 100; i++) w.push([s * 1000 + i], 0, 0.5, Number.NaN, s * 1000 + 9 * i);
  const trend = w.quantileTrend('x');
  t.equal(trend.bucket_ms, 1000);
  t.same(
    trend.buckets.map((b) => b.start),
    [2000, 3000, 4000],
    'only the last 3 buckets',
  );
  t.same(
    trend.buckets.map((b) => b.count),
    [101, 101, 101],
  );
  t.same(
    trend.buckets.map((b) => b.p50),
    [2050, 3050, 4050],
    'medians of 0..100 shifted per bucket',
  );
  t.ok(Math.abs(trend.reference.p50 - 49.5) < 1, `reference median ${trend.reference.p50}`);
  t.equal(w.size, 10, 'the row window is independent of the trend');
  t.equal(w.quantileTrend('prediction').buckets.at(-1)!.p50, 0.5);
  w.push([1], 0, Number.NaN, Number.NaN, 500);
  t.equal(w.quantileTrend('x').buckets.length, 3, 'a row older than the ring is dropped');
  t.throws(() => w.quantileTrend('nope'), { code: 'DL_ERR_REFERENCE' });
});

t.test('a busy minute is sampled into its digest: exact count, quantiles still close', async (t) => {
  const ring = new TrendRing(60_000, 4);
  const n = 500_000;
  for (let i = 0; i < n; i++) ring.push(((i * 7919) % n) / n, 1_000);
  const [b] = ring.buckets();
  t.equal(b!.count, n, 'every value counted');
  t.ok(
    Math.abs(b!.p5 - 0.05) < 0.01 && Math.abs(b!.p50 - 0.5) < 0.01 && Math.abs(b!.p95 - 0.95) < 0.01,
    `p5 ${b!.p5.toFixed(3)} p50 ${b!.p50.toFixed(3)} p95 ${b!.p95.toFixed(3)}`,
  );
});
