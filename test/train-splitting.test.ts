import t from 'tap';
import { fitThresholds, binColumns } from '../src/train/binning.js';
import { growTree, type GrowParams } from '../src/train/grower.js';
import { buildHistogram, emptyHistogram, subtractHistogram, BIN_STRIDE } from '../src/train/histogram.js';
import { findBestSplit, splitGain } from '../src/train/splitting.js';
import { leafCount, leafOf } from '../src/train/tree.js';

function histOf(cells: [number, number, number][][]) {
  const h = emptyHistogram(cells.length);
  cells.forEach((bins, f) =>
    bins.forEach(([g, hs, n], b) => {
      h.grad[f * BIN_STRIDE + b] = g;
      h.hess[f * BIN_STRIDE + b] = hs;
      h.count[f * BIN_STRIDE + b] = n;
    }),
  );
  return h;
}

const params = { minSamplesLeaf: 1, l2: 0, minHessian: 1e-3 };
const totals = { grad: 0, hess: 6, count: 60 };
// Bins (G, H, n): (−4, 2, 20), (1, 2, 20), (3, 2, 20).
const oneFeature = histOf([
  [
    [-4, 2, 20],
    [1, 2, 20],
    [3, 2, 20],
  ],
]);

t.test('the best split maximises G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)', async (t) => {
  // Cut after bin 0: 16/2 + 16/4 − 0 = 12. After bin 1: 9/4 + 9/2 = 6.75.
  const s = findBestSplit(oneFeature, [3], totals, params)!;
  t.match(s, { feature: 0, bin: 0, gain: 12, left: { grad: -4, hess: 2, count: 20 }, right: { grad: 4, hess: 4, count: 40 } });
  t.equal(splitGain(s.left, s.right, totals, 0), 12);
  // λ = 2: 16/4 + 16/6 − 0 = 6.6667.
  t.ok(Math.abs(findBestSplit(oneFeature, [3], totals, { ...params, l2: 2 })!.gain - (4 + 16 / 6)) < 1e-12);
});

t.test('min_samples_leaf and min_hessian exclude cuts', async (t) => {
  t.equal(findBestSplit(oneFeature, [3], totals, { ...params, minSamplesLeaf: 21 }), undefined, 'both cuts leave a 20-row side');
  t.match(findBestSplit(oneFeature, [3], totals, { ...params, minSamplesLeaf: 20 }), { bin: 0 });
  // Bins (−4, 1, 20), (1, 3, 20), (3, 2, 20): cut 0 gains 16/1 + 16/5 = 19.2, cut 1 gains 6.75.
  const light = histOf([
    [
      [-4, 1, 20],
      [1, 3, 20],
      [3, 2, 20],
    ],
  ]);
  t.match(findBestSplit(light, [3], totals, params), { bin: 0 });
  t.match(findBestSplit(light, [3], totals, { ...params, minHessian: 1.5 }), { bin: 1 }, 'a left side of hessian 1 is too light');
});

t.test('no split without gain; ties keep the lower feature', async (t) => {
  // Gradient proportional to hessian in every bin: every cut has gain 0.
  const flat = histOf([
    [
      [2, 1, 10],
      [4, 2, 20],
      [6, 3, 30],
    ],
  ]);
  t.equal(findBestSplit(flat, [3], { grad: 12, hess: 6, count: 60 }, params), undefined);
  const twin = histOf([
    [
      [-4, 2, 20],
      [1, 2, 20],
      [3, 2, 20],
    ],
    [
      [-4, 2, 20],
      [1, 2, 20],
      [3, 2, 20],
    ],
  ]);
  t.match(findBestSplit(twin, [3, 3], totals, params), { feature: 0, bin: 0 });
});

t.test('a sibling histogram by subtraction equals one built from its rows', async (t) => {
  const bins = [Uint8Array.from({ length: 50 }, (_, i) => i % 7), Uint8Array.from({ length: 50 }, (_, i) => (i * 3) % 5)];
  const grad = Float64Array.from({ length: 50 }, (_, i) => Math.sin(i));
  const hess = Float64Array.from({ length: 50 }, (_, i) => 0.1 + (i % 3) / 10);
  const order = Uint32Array.from({ length: 50 }, (_, i) => i);
  const parent = buildHistogram(bins, grad, hess, order, 0, 50);
  const left = buildHistogram(bins, grad, hess, order, 0, 20);
  const right = buildHistogram(bins, grad, hess, order, 20, 50);
  const derived = subtractHistogram(parent, left);
  t.same(Array.from(derived.count), Array.from(right.count));
  for (let i = 0; i < derived.grad.length; i++) {
    if (Math.abs(derived.grad[i]! - right.grad[i]!) > 1e-12 || Math.abs(derived.hess[i]! - right.hess[i]!) > 1e-12) t.fail(`cell ${i}`);
  }
});

const grow: GrowParams = {
  maxLeafNodes: 31,
  maxDepth: Number.POSITIVE_INFINITY,
  minSamplesLeaf: 1,
  l2: 0,
  minHessian: 1e-3,
  learningRate: 0.1,
};

t.test('a tree finds a step, at the float32 midpoint, with Newton leaf values', async (t) => {
  const n = 100;
  const x0 = Float32Array.from({ length: n }, (_, i) => i);
  const noise = Float32Array.from({ length: n }, (_, i) => (i * 37) % 11);
  const thresholds = [fitThresholds(x0, 255), fitThresholds(noise, 255)];
  const binned = binColumns([x0, noise], thresholds);
  const grad = Float64Array.from({ length: n }, (_, i) => (i < 50 ? -1 : 1));
  const hess = new Float64Array(n).fill(1);
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  const { tree, leaves } = growTree({ binned, thresholds }, grad, hess, order, { ...grow, maxLeafNodes: 2 });
  t.equal(tree.feature[0], 0);
  t.equal(tree.threshold[0], 49.5);
  t.same([tree.left[0], tree.right[0]], [1, 2], 'preorder: left child right after its parent');
  // −lr·G/(H+λ): left G = −50, H = 50 → +0.1; right → −0.1 (float32).
  t.equal(tree.value[1], Math.fround(0.1));
  t.equal(tree.value[2], Math.fround(-0.1));
  t.same(
    leaves.map((l) => [l.start, l.end]),
    [
      [0, 50],
      [50, 100],
    ],
  );
  for (const l of leaves) {
    for (let i = l.start; i < l.end; i++) {
      const leaf = leafOf(tree, Float32Array.from([x0[order[i]!]!, noise[order[i]!]!]), 0);
      if (tree.value[leaf] !== l.value) t.fail(`row ${order[i]} is not in the leaf that claims it`);
    }
  }
});

t.test('leaf-wise growth splits the leaf that gains most first', async (t) => {
  // Root splits on x0 (gain 5000). Then the x0 = 1 child gains 400 from splitting on x1,
  // the x0 = 0 child only 25: with 3 leaves, only the x0 = 1 child is split.
  const n = 200;
  const x0 = Float32Array.from({ length: n }, (_, i) => (i < 100 ? 0 : 1));
  const x1 = Float32Array.from({ length: n }, (_, i) => i % 100);
  const grad = Float64Array.from({ length: n }, (_, i) => (x0[i] === 0 ? -5 : 5) + (x1[i]! < 50 ? -1 : 1) * (x0[i] === 0 ? 0.5 : 2));
  const hess = new Float64Array(n).fill(1);
  const thresholds = [fitThresholds(x0, 255), fitThresholds(x1, 255)];
  const binned = binColumns([x0, x1], thresholds);
  const { tree } = growTree(
    { binned, thresholds },
    grad,
    hess,
    Uint32Array.from({ length: n }, (_, i) => i),
    { ...grow, maxLeafNodes: 3 },
  );
  t.equal(leafCount(tree), 3);
  t.equal(tree.feature[0], 0, 'root on x0');
  const left = tree.left[0]!;
  const right = tree.right[0]!;
  t.equal(tree.feature[left], -1, 'the weak child stays a leaf');
  t.equal(tree.feature[right], 1, 'the strong child splits on x1');
  t.equal(tree.threshold[right], 49.5);
});

t.test('max_leaf_nodes and min_samples_leaf hold on a noisy problem', async (t) => {
  const n = 3000;
  const cols = [0, 1, 2].map((f) => Float32Array.from({ length: n }, (_, i) => ((i + 1) * (7919 + f * 104729)) % 1009));
  const thresholds = cols.map((c) => fitThresholds(c, 255));
  const binned = binColumns(cols, thresholds);
  const grad = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) + (cols[0]![i]! > 500 ? 0.3 : -0.3));
  const hess = Float64Array.from({ length: n }, (_, i) => 0.2 + 0.05 * Math.cos(i));
  for (const [maxLeafNodes, minSamplesLeaf] of [
    [7, 20],
    [31, 50],
    [15, 200],
  ] as const) {
    const { tree, leaves } = growTree(
      { binned, thresholds },
      grad,
      hess,
      Uint32Array.from({ length: n }, (_, i) => i),
      { ...grow, maxLeafNodes, minSamplesLeaf },
    );
    t.ok(leafCount(tree) <= maxLeafNodes, `${leafCount(tree)} ≤ ${maxLeafNodes} leaves`);
    t.ok(
      leaves.every((l) => l.end - l.start >= minSamplesLeaf),
      `every leaf holds ≥ ${minSamplesLeaf} rows`,
    );
    t.equal(
      leaves.reduce((a, l) => a + l.end - l.start, 0),
      n,
      'leaves partition the rows',
    );
    let leafTotal = 0;
    for (let i = 0; i < tree.feature.length; i++) if (tree.feature[i]! < 0) leafTotal += tree.count[i]!;
    t.equal(leafTotal, n);
  }
});
