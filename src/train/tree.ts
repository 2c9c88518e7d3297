// A fitted tree as flat arrays, nodes in preorder (root 0, a node's left child right after it),
// the layout the ONNX exporter writes and onnxruntime walks.

export interface Tree {
  /** Feature tested at a split node; -1 at a leaf. */
  feature: Int32Array;
  /** float32 cut: x <= threshold goes left. */
  threshold: Float32Array;
  /** The same cut as a bin index (bin <= this goes left), for binned data. */
  bin: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  /** Leaf contribution to the log-odds, learning rate applied, float32; 0 at split nodes. */
  value: Float32Array;
  /** Training rows that reached the node. */
  count: Uint32Array;
}

export function nodeCount(t: Tree): number {
  return t.feature.length;
}

export function leafCount(t: Tree): number {
  let n = 0;
  for (const f of t.feature) if (f < 0) n++;
  return n;
}

/** Leaf reached by a row of float32 features (row-major `x`, row starting at `offset`). */
export function leafOf(t: Tree, x: Float32Array, offset: number): number {
  let node = 0;
  while (t.feature[node]! >= 0) {
    // NaN fails the test and goes right, as in onnxruntime when no missing-value track is set.
    node = x[offset + t.feature[node]!]! <= t.threshold[node]! ? t.left[node]! : t.right[node]!;
  }
  return node;
}

/** Leaf reached by row `r` of binned columns; the same leaf as leafOf on the unbinned row. */
export function leafOfBinned(t: Tree, binned: readonly Uint8Array[], r: number): number {
  let node = 0;
  while (t.feature[node]! >= 0) {
    node = binned[t.feature[node]!]![r]! <= t.bin[node]! ? t.left[node]! : t.right[node]!;
  }
  return node;
}

/**
 * Split tests per row through all the trees, averaged over the rows: what onnxruntime's
 * TreeEnsembleClassifier spends its time on. Measured at ~8.5 ns a test for both the 80-tree
 * student and the 572-tree average (one thread, the training rows, the shared 2-core machine).
 */
export function decisionsPerRow(model: { trees: readonly Tree[]; nFeatures: number }, x: Float32Array, rows: number): number {
  let n = 0;
  for (const t of model.trees) {
    for (let r = 0; r < rows; r++) {
      const off = r * model.nFeatures;
      let node = 0;
      while (t.feature[node]! >= 0) {
        n++;
        node = x[off + t.feature[node]!]! <= t.threshold[node]! ? t.left[node]! : t.right[node]!;
      }
    }
  }
  return n / rows;
}
