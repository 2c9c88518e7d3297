import { binColumns, fitBinThresholds } from './binning.js';
import { growTree, type GrowParams } from './grower.js';
import { baselineScore, gradients, meanLogLoss } from './loss.js';
import { createRng } from './prng.js';
import { stratifiedHoldout } from './sampling.js';
import { leafOfBinned, type Tree } from './tree.js';

export interface BoostParams {
  learningRate: number;
  maxIter: number;
  maxLeafNodes: number;
  /** Infinity: no depth limit. */
  maxDepth: number;
  minSamplesLeaf: number;
  l2: number;
  maxBins: number;
  earlyStopping: boolean;
  /** Share of the training rows held out to decide when to stop. */
  validationFraction: number;
  /** Stop when none of the last this-many iterations improved the holdout loss by more than `tol`. */
  nIterNoChange: number;
  tol: number;
  /** Boosters averaged into the model, each with its own seeded holdout (ensemble.ts); 1 = one booster, as sklearn. */
  members: number;
  /**
   * Distillation (distill.ts): ship one booster fit to the members' averaged probabilities
   * instead of the average itself. The student shares the members' tree parameters.
   */
  distill: boolean;
  /** The student's trees, all kept: it has no early stopping (distill.ts says why). */
  studentTrees: number;
  studentLearningRate: number;
}

/** scikit-learn 1.2's HistGradientBoostingClassifier defaults (early_stopping='auto' is on above 10,000 rows). */
export const SKLEARN_DEFAULTS: Readonly<BoostParams> = Object.freeze({
  learningRate: 0.1,
  maxIter: 100,
  maxLeafNodes: 31,
  maxDepth: Number.POSITIVE_INFINITY,
  minSamplesLeaf: 20,
  l2: 0,
  maxBins: 255,
  earlyStopping: true,
  validationFraction: 0.1,
  nIterNoChange: 10,
  tol: 1e-7,
  members: 1,
  // sklearn has no distillation; the student's values matter only when it is switched on.
  distill: false,
  studentTrees: 80,
  studentLearningRate: 0.5,
});

// sklearn's min_hessian_to_split: a child whose hessian sum is this small carries no signal.
const MIN_HESSIAN = 1e-3;

/** What the ONNX graph needs: a base log-odds plus the sum of the trees' leaf values. */
export interface Ensemble {
  nFeatures: number;
  /** float32, as the graph's base_values holds it. */
  baseScore: number;
  /** Trees' `bin` fields refer to the binning of the booster that grew them; predict with thresholds. */
  trees: Tree[];
}

export interface IterationInfo {
  iteration: number;
  maxIter: number;
  trainLoss: number;
  /** NaN without early stopping. */
  holdoutLoss: number;
  leaves: number;
}

export interface BoostResult {
  model: Ensemble;
  fitRows: number;
  holdoutRows: number;
  /** Trees kept; like sklearn, the trees of the final no-improvement window are kept too. */
  iterations: number;
  stoppedEarly: boolean;
  /** Loss before the first tree, then after each one. */
  trainLoss: number[];
  holdoutLoss: number[];
}

export interface BoostInput {
  columns: readonly Float32Array[];
  /** True labels: they stratify the early-stopping holdout. */
  y: Uint8Array;
  /**
   * Soft targets in [0, 1] to fit instead of y (distillation: a teacher's probabilities). The
   * early-stopping holdout, if any, is still scored against y.
   */
  target?: Float64Array | undefined;
}

/**
 * Gradient boosting of regression trees on the binary log-loss: each tree is a Newton step
 * on the current log-odds, shrunk by the learning rate. A deterministic function of
 * (data, params, seed): the seed only chooses the early-stopping holdout.
 */
export function fitBoosting(data: BoostInput, params: BoostParams, seed: number, onIteration?: (info: IterationInfo) => void): BoostResult {
  checkParams(params);
  const n = data.y.length;
  const nFeatures = data.columns.length;
  let fitIdx: Uint32Array;
  let holdIdx: Uint32Array;
  if (params.earlyStopping) {
    ({ fit: fitIdx, holdout: holdIdx } = stratifiedHoldout(data.y, params.validationFraction, createRng(seed)));
  } else {
    fitIdx = Uint32Array.from({ length: n }, (_, i) => i);
    holdIdx = new Uint32Array(0);
  }
  const take = <T extends Float32Array | Uint8Array>(a: T, idx: Uint32Array): T => {
    const out = new (a.constructor as new (n: number) => T)(idx.length);
    for (let i = 0; i < idx.length; i++) out[i] = a[idx[i]!]!;
    return out;
  };
  const takeF64 = (a: Float64Array, idx: Uint32Array): Float64Array => Float64Array.from(idx, (i) => a[i]!);
  const fitCols = data.columns.map((c) => take(c, fitIdx));
  const holdCols = data.columns.map((c) => take(c, holdIdx));
  const yFit = data.target === undefined ? take(data.y, fitIdx) : takeF64(data.target, fitIdx);
  const yHold = take(data.y, holdIdx);

  // Bins come from the rows trees are fit on, never from the holdout, as in sklearn.
  const thresholds = fitBinThresholds(fitCols, params.maxBins);
  const binnedFit = binColumns(fitCols, thresholds);
  const binnedHold = binColumns(holdCols, thresholds);

  const baseScore = Math.fround(baselineScore(yFit));
  const rawFit = new Float64Array(yFit.length).fill(baseScore);
  const rawHold = new Float64Array(yHold.length).fill(baseScore);
  const grad = new Float64Array(yFit.length);
  const hess = new Float64Array(yFit.length);
  const order = new Uint32Array(yFit.length);
  const grow: GrowParams = { ...params, minHessian: MIN_HESSIAN };

  const trees: Tree[] = [];
  const trainLoss = [meanLogLoss(yFit, rawFit)];
  const holdoutLoss = params.earlyStopping ? [meanLogLoss(yHold, rawHold)] : [];
  let stoppedEarly = false;
  for (let it = 1; it <= params.maxIter; it++) {
    gradients(yFit, rawFit, grad, hess);
    for (let i = 0; i < order.length; i++) order[i] = i;
    const { tree, leaves } = growTree({ binned: binnedFit, thresholds }, grad, hess, order, grow);
    trees.push(tree);
    for (const leaf of leaves) {
      for (let i = leaf.start; i < leaf.end; i++) rawFit[order[i]!]! += leaf.value;
    }
    for (let r = 0; r < rawHold.length; r++) rawHold[r]! += tree.value[leafOfBinned(tree, binnedHold, r)]!;
    trainLoss.push(meanLogLoss(yFit, rawFit));
    if (params.earlyStopping) holdoutLoss.push(meanLogLoss(yHold, rawHold));
    onIteration?.({
      iteration: it,
      maxIter: params.maxIter,
      trainLoss: trainLoss[it]!,
      holdoutLoss: holdoutLoss[it] ?? Number.NaN,
      leaves: leaves.length,
    });
    if (params.earlyStopping && shouldStop(holdoutLoss, params.nIterNoChange, params.tol)) {
      stoppedEarly = true;
      break;
    }
  }
  return {
    model: { nFeatures, baseScore, trees },
    fitRows: yFit.length,
    holdoutRows: yHold.length,
    iterations: trees.length,
    stoppedEarly,
    trainLoss,
    holdoutLoss,
  };
}

/**
 * sklearn's _should_stop on losses: stop when none of the last k losses beats the one just
 * before them by more than tol.
 */
export function shouldStop(losses: readonly number[], k: number, tol: number): boolean {
  if (losses.length < k + 1) return false;
  const reference = losses[losses.length - k - 1]! - tol;
  for (let i = losses.length - k; i < losses.length; i++) if (losses[i]! < reference) return false;
  return true;
}

export function checkParams(p: BoostParams): void {
  const problems: string[] = [];
  if (!(p.learningRate > 0 && p.learningRate <= 1)) problems.push(`learningRate must be in (0, 1], got ${p.learningRate}`);
  if (!(Number.isInteger(p.maxIter) && p.maxIter >= 1)) problems.push(`maxIter must be an integer ≥ 1, got ${p.maxIter}`);
  if (!(Number.isInteger(p.maxLeafNodes) && p.maxLeafNodes >= 2))
    problems.push(`maxLeafNodes must be an integer ≥ 2, got ${p.maxLeafNodes}`);
  if (!(p.maxDepth >= 1)) problems.push(`maxDepth must be ≥ 1, got ${p.maxDepth}`);
  if (!(Number.isInteger(p.minSamplesLeaf) && p.minSamplesLeaf >= 1))
    problems.push(`minSamplesLeaf must be an integer ≥ 1, got ${p.minSamplesLeaf}`);
  if (!(p.l2 >= 0)) problems.push(`l2 must be ≥ 0, got ${p.l2}`);
  if (!(Number.isInteger(p.nIterNoChange) && p.nIterNoChange >= 1))
    problems.push(`nIterNoChange must be an integer ≥ 1, got ${p.nIterNoChange}`);
  if (!(Number.isInteger(p.members) && p.members >= 1)) problems.push(`members must be an integer ≥ 1, got ${p.members}`);
  if (!(Number.isInteger(p.studentTrees) && p.studentTrees >= 1))
    problems.push(`studentTrees must be an integer ≥ 1, got ${p.studentTrees}`);
  if (!(p.studentLearningRate > 0 && p.studentLearningRate <= 1))
    problems.push(`studentLearningRate must be in (0, 1], got ${p.studentLearningRate}`);
  if (!(p.tol >= 0)) problems.push(`tol must be ≥ 0, got ${p.tol}`);
  if (problems.length > 0) throw new RangeError(`Invalid boosting parameters: ${problems.join('; ')}`);
}
