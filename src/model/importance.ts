import { rocAuc } from './metrics.js';

/** One feature's values over the rows: numbers, or the text of a string (categorical) feature. */
export type FeatureColumn = Float64Array | string[];

/** Scores rows given column-wise features (one array per feature, same order as the card). */
export type ColumnPredictor<C extends FeatureColumn = FeatureColumn> = (columns: readonly C[]) => Promise<Float64Array>;

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
export async function permutationImportance<C extends FeatureColumn>(
  predict: ColumnPredictor<C>,
  columns: readonly C[],
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
      const col = columns[j]!;
      const shuffled = (Array.isArray(col) ? [...col] : Float64Array.from(col)) as C;
      for (let i = shuffled.length - 1; i > 0; i--) {
        const k = Math.floor(random() * (i + 1));
        const t = shuffled[i]!;
        shuffled[i] = shuffled[k]!;
        shuffled[k] = t;
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
