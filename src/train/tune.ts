import { rocAuc } from '../model/metrics.js';
import { subset, toRowMajor, type Dataset } from './dataset.js';
import { fitModel } from './ensemble.js';
import type { BoostParams } from './gbdt.js';
import { predictProba } from './predict.js';
import { stratifiedKFold } from './sampling.js';

// Hyper-parameters are chosen by k-fold cross-validation on the training rows only, so the
// validation rows stay unseen until the final model is scored on them once.

export interface CvResult {
  params: BoostParams;
  meanAuc: number;
  sdAuc: number;
  foldAuc: number[];
  /** Trees per booster, averaged over folds (and members). */
  meanIterations: number;
}

export function crossValidate(data: Dataset, params: BoostParams, k: number, seed: number): CvResult {
  const foldAuc: number[] = [];
  let iterations = 0;
  for (const fold of stratifiedKFold(data.y, k, seed)) {
    const fit = subset(data, fold.fit);
    const held = subset(data, fold.holdout);
    const r = fitModel(fit, params, seed);
    foldAuc.push(rocAuc(held.y, predictProba(r.model, toRowMajor(held), held.rows)));
    iterations += r.members.reduce((a, m) => a + m.iterations, 0) / r.members.length;
  }
  const meanAuc = foldAuc.reduce((a, b) => a + b, 0) / k;
  const sdAuc = Math.sqrt(foldAuc.reduce((a, b) => a + (b - meanAuc) ** 2, 0) / (k - 1));
  return { params, meanAuc, sdAuc, foldAuc, meanIterations: iterations / k };
}

export type Grid = { [K in keyof BoostParams]?: readonly BoostParams[K][] };

/** Every combination of the grid's values over `base`, in a fixed order. */
export function expandGrid(base: BoostParams, grid: Grid): BoostParams[] {
  let out: BoostParams[] = [{ ...base }];
  for (const key of Object.keys(grid) as (keyof BoostParams)[]) {
    const values = grid[key] ?? [];
    out = out.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  }
  return out;
}

/**
 * Cross-validates each candidate and returns all results, best first. Best = highest mean
 * fold AUC; a tie keeps the earlier candidate.
 */
export function gridSearch(
  data: Dataset,
  candidates: readonly BoostParams[],
  k: number,
  seed: number,
  onResult?: (r: CvResult, done: number) => void,
): CvResult[] {
  const results = candidates.map((p, i) => {
    const r = crossValidate(data, p, k, seed);
    onResult?.(r, i + 1);
    return r;
  });
  return results
    .map((r, i) => ({ r, i }))
    .sort((a, b) => b.r.meanAuc - a.r.meanAuc || a.i - b.i)
    .map(({ r }) => r);
}
