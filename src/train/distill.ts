import { toRowMajor } from './dataset.js';
import { fitBoosting, type BoostInput, type BoostParams, type BoostResult, type Ensemble, type IterationInfo } from './gbdt.js';
import { predictProba } from './predict.js';

// Distillation (Buciluǎ et al. 2006, "Model compression"; Hinton et al. 2015): the average of
// `members` boosters predicts better than one booster, but onnxruntime walks every tree of it
// for every row, and inference cost grows with the trees. So the shipped model is one booster
// (the student) fit to the average's probabilities (the teacher's) on the training rows, with
// the soft-label log-loss: gradient p − p_teacher, hessian p(1 − p).
//
// Measured by 5-fold CV on the 24,000 training rows, seeds 42 and 7 (10 folds; the teacher
// refit inside each fold's training part), against one early-stopped booster, paired by fold:
// the 5-booster average +0.0013 ± 0.0003 ROC-AUC at ~2,100 split tests a row; an 80-tree
// student (learning rate 0.5) +0.0009 ± 0.0004 at ~290; the same one booster refit on all rows
// without a holdout (hard labels, learning rate 0.1) +0.0008 ± 0.0005 at 40–60 trees, but it
// overfits past 70 (−0.0005 at 100, −0.0024 at 150), while the student's CV AUC only creeps up
// with trees (+0.0006 at 40, +0.0009 at 80–100, +0.0010 at 150), so its tree count can be set
// by the inference budget alone. Soft targets carry no label noise, which is why the student
// takes a larger learning rate than the members: at 80 trees 0.3, 0.5 and 0.7 lie within 0.0003
// of each other; 0.5 reaches the plateau sooner than 0.3 and strays half as far from the
// teacher fold by fold as 0.7 (s.e. of the paired difference 0.0002 against 0.0004).
//
// No early stopping: a student stopped on a holdout (true labels or the teacher's, learning
// rate 0.3) ran on to 216–853 trees without a better CV AUC than at 80, and the holdout keeps a
// tenth of the rows from it. Mixing the labels back into the targets (half and half, learning
// rate 0.2, seed-42 folds) lost 0.0014 at 80 trees against the teacher's probabilities alone.

export interface StudentResult {
  booster: BoostResult;
  /** Mean KL divergence from the teacher's to the student's probabilities on the training rows: how closely it copies. */
  klToTeacher: number;
}

/** Fits one booster of `studentTrees` trees to the teacher's probabilities on `data`'s rows. */
export function fitStudent(
  data: BoostInput,
  teacher: Ensemble,
  params: BoostParams,
  seed: number,
  onIteration?: (info: IterationInfo) => void,
): StudentResult {
  const rows = data.y.length;
  // float32, as the graph computes them: the student copies the teacher the service would run.
  const target = Float64Array.from(predictProba(teacher, toRowMajor({ columns: data.columns, rows }), rows));
  const booster = fitBoosting(
    { columns: data.columns, y: data.y, target },
    { ...params, members: 1, distill: false, learningRate: params.studentLearningRate, maxIter: params.studentTrees, earlyStopping: false },
    seed,
    onIteration,
  );
  // The cross-entropy to soft targets never reaches 0; less their entropy it is the KL divergence.
  let entropy = 0;
  for (const p of target) if (p > 0 && p < 1) entropy -= p * Math.log(p) + (1 - p) * Math.log(1 - p);
  return { booster, klToTeacher: booster.trainLoss.at(-1)! - entropy / rows };
}
