import { rocAuc } from './metrics.js';

/** Scores rows given column-wise features (one array per feature, same order as the card). */
export type ColumnPredictor = (columns: readonly Float64Array[]) => Promise<Float64Array>;

export interface ImportanceOptions {
  /** Shuffles per feature; the importance is their mean. Default 5 (scikit-learn's). */
  repeats?: number;
  seed?: number;
}

/**
 * Permutation importance on held-out rows, as scikit-learn's `permutation_importance` with
 * `scoring="roc_auc"`: how much the ROC-AUC falls when one feature's values are shuffled across
 * the rows, breaking its link with the label while keeping its distribution. A feature the
 * model ignores scores about 0 (noise can make it slightly negative). It weighs drift: a drifted
 * feature the model leans on matters more than one it ignores.
 */
export async function permutationImportance(
  predict: ColumnPredictor,
  columns: readonly Float64Array[],
  labels: ArrayLike<number>,
  opts: ImportanceOptions = {},
): Promise<number[]> {
  const repeats = opts.repeats ?? 5;
  const random = mulberry32(opts.seed ?? 42);
  const base = rocAuc(labels, await predict(columns));
  const out: number[] = [];
  for (let j = 0; j < columns.length; j++) {
    let drop = 0;
    for (let r = 0; r < repeats; r++) {
      const shuffled = Float64Array.from(columns[j]!);
      for (let i = shuffled.length - 1; i > 0; i--) {
        const k = Math.floor(random() * (i + 1));
        [shuffled[i], shuffled[k]] = [shuffled[k]!, shuffled[i]!];
      }
      const permuted = columns.map((c, m) => (m === j ? shuffled : c));
      drop += base - rocAuc(labels, await predict(permuted));
    }
    out.push(drop / repeats);
  }
  return out;
}

// A seeded generator, so that a card is rebuilt byte for byte from the same rows.
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 2 ** 32;
  };
}
