import type { BinThresholds } from './binning.js';
import { buildHistogram, subtractHistogram, type Histogram } from './histogram.js';
import { findBestSplit, type NodeTotals, type Split, type SplitParams } from './splitting.js';
import type { Tree } from './tree.js';

// Leaf-wise ("best-first") growth, as LightGBM and sklearn's TreeGrower: always split the
// leaf whose best split gains most, until maxLeafNodes leaves exist or no leaf can gain.
// Depth-wise growth spends splits on shallow nodes that gain little; best-first spends them
// where the loss drops.

export interface GrowParams extends SplitParams {
  maxLeafNodes: number;
  /** Depth limit (root = 0); Infinity for none, sklearn's default. */
  maxDepth: number;
  learningRate: number;
}

export interface BinnedData {
  /** One Uint8Array of bin indices per feature. */
  binned: readonly Uint8Array[];
  thresholds: BinThresholds;
}

/** A leaf and the rows that reached it: order[start..end) after growth. */
export interface LeafRows {
  start: number;
  end: number;
  value: number;
}

export interface GrownTree {
  tree: Tree;
  leaves: LeafRows[];
}

interface Node {
  start: number;
  end: number;
  depth: number;
  totals: NodeTotals;
  hist: Histogram | undefined;
  split: Split | undefined;
  left: Node | undefined;
  right: Node | undefined;
  value: number;
  /** Creation order: the tie-breaker between equal gains. */
  seq: number;
}

/**
 * Grows one tree on the rows in `order` (permuted in place: each leaf's rows end up contiguous).
 */
export function growTree(data: BinnedData, grad: Float64Array, hess: Float64Array, order: Uint32Array, p: GrowParams): GrownTree {
  const nBins = data.thresholds.map((t) => t.length + 1);
  const scratch = new Uint32Array(order.length);
  let seq = 0;

  const makeNode = (start: number, end: number, depth: number, totals: NodeTotals, hist: Histogram): Node => {
    const node: Node = { start, end, depth, totals, hist, split: undefined, left: undefined, right: undefined, value: 0, seq: seq++ };
    const splittable = totals.count >= 2 * p.minSamplesLeaf && totals.hess >= 2 * p.minHessian && depth < p.maxDepth;
    node.split = splittable ? findBestSplit(hist, nBins, totals, p) : undefined;
    if (node.split === undefined) node.hist = undefined;
    return node;
  };

  let g = 0;
  let h = 0;
  for (let i = 0; i < order.length; i++) {
    g += grad[order[i]!]!;
    h += hess[order[i]!]!;
  }
  const root = makeNode(
    0,
    order.length,
    0,
    { grad: g, hess: h, count: order.length },
    buildHistogram(data.binned, grad, hess, order, 0, order.length),
  );

  const open: Node[] = root.split === undefined ? [] : [root];
  let leaves = 1;
  while (open.length > 0 && leaves < p.maxLeafNodes) {
    let k = 0;
    for (let i = 1; i < open.length; i++) {
      const a = open[i]!.split!.gain;
      const b = open[k]!.split!.gain;
      if (a > b || (a === b && open[i]!.seq < open[k]!.seq)) k = i;
    }
    const node = open.splice(k, 1)[0]!;
    const split = node.split!;
    const mid = partition(order, scratch, node.start, node.end, data.binned[split.feature]!, split.bin);
    // Build the smaller child from its rows; the larger one is parent − smaller.
    const leftSmaller = mid - node.start <= node.end - mid;
    const small = leftSmaller
      ? buildHistogram(data.binned, grad, hess, order, node.start, mid)
      : buildHistogram(data.binned, grad, hess, order, mid, node.end);
    const large = subtractHistogram(node.hist!, small);
    node.hist = undefined;
    node.left = makeNode(node.start, mid, node.depth + 1, split.left, leftSmaller ? small : large);
    node.right = makeNode(mid, node.end, node.depth + 1, split.right, leftSmaller ? large : small);
    leaves++;
    for (const child of [node.left, node.right]) if (child.split !== undefined) open.push(child);
  }
  return flatten(root, data.thresholds, p);
}

/** Stable partition of order[start..end): bin <= cut first. Returns the boundary. */
function partition(order: Uint32Array, scratch: Uint32Array, start: number, end: number, bins: Uint8Array, cut: number): number {
  let l = start;
  let r = 0;
  for (let i = start; i < end; i++) {
    const row = order[i]!;
    if (bins[row]! <= cut) order[l++] = row;
    else scratch[r++] = row;
  }
  order.set(scratch.subarray(0, r), l);
  return l;
}

function flatten(root: Node, thresholds: BinThresholds, p: GrowParams): GrownTree {
  const nodes: Node[] = [];
  const visit = (n: Node): void => {
    nodes.push(n);
    if (n.left !== undefined && n.right !== undefined) {
      visit(n.left);
      visit(n.right);
    }
  };
  visit(root);
  const id = new Map(nodes.map((n, i) => [n, i]));
  const m = nodes.length;
  const tree: Tree = {
    feature: new Int32Array(m),
    threshold: new Float32Array(m),
    bin: new Uint8Array(m),
    left: new Int32Array(m),
    right: new Int32Array(m),
    value: new Float32Array(m),
    count: new Uint32Array(m),
  };
  const leaves: LeafRows[] = [];
  nodes.forEach((n, i) => {
    tree.count[i] = n.totals.count;
    if (n.left !== undefined && n.right !== undefined) {
      const s = n.split!;
      tree.feature[i] = s.feature;
      tree.bin[i] = s.bin;
      tree.threshold[i] = thresholds[s.feature]![s.bin]!;
      tree.left[i] = id.get(n.left)!;
      tree.right[i] = id.get(n.right)!;
    } else {
      tree.feature[i] = -1;
      tree.left[i] = -1;
      tree.right[i] = -1;
      // Newton step −G/(H+λ), shrunk; rounded to float32 here so that training updates its
      // scores with exactly the number the ONNX graph will hold.
      const v = Math.fround((-p.learningRate * n.totals.grad) / (n.totals.hess + p.l2 + Number.EPSILON));
      tree.value[i] = v;
      leaves.push({ start: n.start, end: n.end, value: v });
    }
  });
  return { tree, leaves };
}
