import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DriftlineError } from '../errors.js';
import type { ModelCard } from '../model/card.js';
import { binaryMetrics, type BinaryMetrics } from '../model/metrics.js';
import { readDataset, readSplitIds, splitByIds, toRowMajor } from './dataset.js';
import { fitModel, type MemberIterationInfo, type ModelResult } from './ensemble.js';
import type { BoostParams } from './gbdt.js';
import { buildCard, INPUT_NAME, MODEL_NAME, round } from './model-card.js';
import { exportOnnx } from './onnx-export.js';
import { predictProba } from './predict.js';
import { permutationImportance } from '../model/importance.js';
import { decisionsPerRow, leafCount, nodeCount } from './tree.js';
import { expandGrid, gridSearch, type CvResult, type Grid } from './tune.js';
import { onnxMaxAbsDiff } from './verify.js';

// One training run, start to finish: read → split → (tune) → fit → score → export → check the
// graph in onnxruntime → write. Everything the run decides is a function of its inputs, so
// the same data, split and seed give byte-identical model.onnx and card.json.

export interface TrainOptions {
  dataFile: string;
  outDir: string;
  splitFile: string;
  seed: number;
  params: BoostParams;
  /** Where `params` came from, for the card (e.g. "bundled defaults"); --tune records its own. */
  paramsSource?: string;
  /** Card version string. */
  version: string;
  /** driftline's version, recorded as the ONNX producer version. */
  producerVersion: string;
  /** Choose params by k-fold CV over this grid (on the training rows) instead of using `params` as is. */
  tune?: { grid: Grid; folds: number } | undefined;
  onEvent?: (e: TrainEvent) => void;
}

export type TrainEvent =
  | { type: 'step'; message: string }
  | { type: 'warning'; message: string }
  | { type: 'tune-start'; candidates: number }
  | { type: 'tune-result'; done: number; total: number; result: CvResult }
  | { type: 'fit-start'; maxIter: number; members: number }
  | ({ type: 'iteration' } & MemberIterationInfo);

export interface TrainResult {
  card: ModelCard;
  modelPath: string;
  cardPath: string;
  validation: BinaryMetrics;
  fit: ModelResult;
  params: BoostParams;
  /** Largest |P_onnx − P_trainer| over the validation rows. */
  onnxMaxAbsDiff: number;
  modelBytes: number;
}

/** Trains, scores on the validation rows, exports, checks the graph in onnxruntime, writes model.onnx and card.json. */
export async function trainModel(opts: TrainOptions): Promise<TrainResult> {
  const emit = opts.onEvent ?? (() => {});
  emit({ type: 'step', message: `reading ${opts.dataFile}` });
  const { dataset, idSource } = await readDataset(opts.dataFile);
  if (idSource === 'row-number') {
    emit({
      type: 'warning',
      message: `${path.basename(opts.dataFile)} has no ID column: using 1-based row numbers as IDs (right for the UCI file's row order)`,
    });
  }
  const ids = readSplitIds(opts.splitFile);
  const { train, validation, missingIds } = splitByIds(dataset, ids);
  if (validation.rows === 0) {
    throw new DriftlineError(
      'DL_ERR_BAD_INPUT',
      `None of the ${ids.length} IDs in ${opts.splitFile} occurs in ${opts.dataFile}; is it the right split for this file?`,
    );
  }
  if (missingIds > 0) emit({ type: 'warning', message: `${missingIds} of ${ids.length} validation IDs are not in the data` });
  emit({ type: 'step', message: `${dataset.rows} rows: ${train.rows} to train on, ${validation.rows} for validation` });

  let params = opts.params;
  let tuning: Record<string, unknown> | undefined;
  if (opts.tune !== undefined) {
    // Candidates are scored as single boosters (members × faster, no student); the winner then
    // gets the requested number of members and, if asked for, the student.
    const candidates = expandGrid({ ...opts.params, members: 1, distill: false }, opts.tune.grid);
    emit({ type: 'tune-start', candidates: candidates.length });
    const ranked = gridSearch(train, candidates, opts.tune.folds, opts.seed, (result, done) =>
      emit({ type: 'tune-result', done, total: candidates.length, result }),
    );
    params = { ...ranked[0]!.params, members: opts.params.members, distill: opts.params.distill };
    tuning = {
      method: `${opts.tune.folds}-fold stratified cross-validation on the training rows, mean fold ROC-AUC`,
      candidates: candidates.length,
      grid: opts.tune.grid,
      best: ranked.slice(0, 5).map((r) => ({
        params: paramsJson(r.params),
        cv_roc_auc: round(r.meanAuc),
        cv_roc_auc_sd: round(r.sdAuc),
        mean_iterations: r.meanIterations,
      })),
    };
  }

  emit({ type: 'fit-start', maxIter: params.maxIter, members: params.members });
  const fit = fitModel(train, params, opts.seed, (info) => emit({ type: 'iteration', ...info }));
  const members = fit.members;
  emit({
    type: 'step',
    message: `${members.length} booster(s) of ${members.map((m) => m.iterations).join(', ')} trees; holdout log-loss ${members.map((m) => m.holdoutLoss.at(-1)?.toFixed(5) ?? 'n/a').join(', ')}`,
  });
  const student = fit.student;
  if (student !== undefined) {
    emit({
      type: 'step',
      message: `distilled into one booster of ${student.booster.iterations} trees (KL divergence to the teacher ${student.klToTeacher.toFixed(5)})`,
    });
  }

  const xVal = toRowMajor(validation);
  const pVal = predictProba(fit.model, xVal, validation.rows);
  const metrics = binaryMetrics(validation.y, pVal);
  // Scored by the trainer itself (the ONNX graph agrees with it, checked below).
  const scoreColumns = async (cols: readonly Float64Array[]): Promise<Float64Array> =>
    Float64Array.from(
      predictProba(fit.model, toRowMajor({ columns: cols.map((c) => Float32Array.from(c)), rows: validation.rows }), validation.rows),
    );
  const importance = await permutationImportance(
    scoreColumns,
    validation.columns.map((c) => Float64Array.from(c)),
    validation.y,
  );
  emit({
    type: 'step',
    message: `validation ROC-AUC ${metrics.roc_auc.toFixed(4)}, accuracy ${metrics.accuracy.toFixed(4)}, F1 ${metrics.f1.toFixed(4)}`,
  });
  // Reported, never used to choose anything: what the copy cost against the model it copies.
  const teacherAuc =
    student === undefined ? undefined : binaryMetrics(validation.y, predictProba(fit.average, xVal, validation.rows)).roc_auc;
  if (teacherAuc !== undefined)
    emit({ type: 'step', message: `teacher (the ${members.length} boosters' average) validation ROC-AUC ${teacherAuc.toFixed(4)}` });
  const xTrain = toRowMajor(train);

  const bytes = exportOnnx(fit.model, {
    inputName: INPUT_NAME,
    graphName: MODEL_NAME,
    producerVersion: opts.producerVersion,
    docString: `${MODEL_NAME} ${opts.version}: histogram gradient-boosted trees (${student === undefined ? `${members.length} averaged boosters` : `one booster distilled from the average of ${members.length}`}, ${fit.model.trees.length} trees), input [N, ${dataset.featureNames.length}] float32 (${dataset.featureNames.join(', ')})`,
    metadata: [['features', dataset.featureNames.join(',')]],
  });

  const trees = fit.model.trees;
  const training = {
    trainer: `driftline train ${opts.producerVersion}`,
    algorithm:
      'histogram-based gradient boosting: binary log-loss, leaf-wise trees on ≤ max_bins bins per feature, baseline log-odds init, early stopping on a stratified holdout; the mean of `members` such boosters, each with its own seeded holdout' +
      (student === undefined
        ? ''
        : "; distilled: the model is one booster of `student_trees` trees (learning rate `student_learning_rate`, the same tree parameters, no holdout) fit to that mean's probabilities on all training rows with the soft-label log-loss"),
    data_file: path.basename(opts.dataFile),
    id_source: idSource === 'column' ? 'ID column' : '1-based row number (no ID column)',
    split: {
      file: path.basename(opts.splitFile),
      rule: 'validation = rows whose ID is listed; training = all other rows',
      listed_ids: ids.length,
      missing_ids: missingIds,
    },
    seed: opts.seed,
    rows: {
      total: dataset.rows,
      train: train.rows,
      fit_per_member: members[0]!.fitRows,
      early_stopping_holdout_per_member: members[0]!.holdoutRows,
      validation: validation.rows,
    },
    hyper_parameters: paramsJson(params),
    hyper_parameters_chosen_by: tuning === undefined ? (opts.paramsSource ?? 'given by the caller') : 'this run (--tune)',
    ...(tuning === undefined ? {} : { tuning }),
    members: members.map((m) => ({
      iterations: m.iterations,
      stopped_early: m.stoppedEarly,
      fit_log_loss: round(m.trainLoss.at(-1)!),
      early_stopping_holdout_log_loss: m.holdoutLoss.length > 0 ? round(m.holdoutLoss.at(-1)!) : null,
    })),
    ...(student === undefined
      ? {}
      : {
          distillation: {
            teacher: {
              trees: fit.average.trees.length,
              decisions_per_row: round(decisionsPerRow(fit.average, xTrain, train.rows), 1),
              validation_roc_auc: round(teacherAuc!),
            },
            student: {
              trees: student.booster.iterations,
              fit_rows: student.booster.fitRows,
              fit_cross_entropy: round(student.booster.trainLoss.at(-1)!),
              kl_to_teacher: round(student.klToTeacher),
            },
          },
        }),
    trees: trees.length,
    nodes: trees.reduce((a, t) => a + nodeCount(t), 0),
    leaves: trees.reduce((a, t) => a + leafCount(t), 0),
    // What inference costs grows with: split tests a row makes through all trees (training rows).
    decisions_per_row: round(decisionsPerRow(fit.model, xTrain, train.rows), 1),
    onnx: { opset: { 'ai.onnx.ml': 1, 'ai.onnx': 17 }, ir_version: 8, operator: 'ai.onnx.ml.TreeEnsembleClassifier' },
  };

  mkdirSync(opts.outDir, { recursive: true });
  const modelPath = path.join(opts.outDir, 'model.onnx');
  const cardPath = path.join(opts.outDir, 'card.json');
  const tmpModel = `${modelPath}.tmp-${process.pid}`;
  writeFileSync(tmpModel, bytes);
  let diff: number;
  let card: ModelCard;
  try {
    // The card without the check's result tells the session what input and output to expect.
    card = buildCard({ version: opts.version, validation: metrics, importance, training });
    emit({ type: 'step', message: 'checking the graph in onnxruntime' });
    diff = await onnxMaxAbsDiff(tmpModel, card, xVal, validation.rows, pVal);
    // 1e-6: a float32 P differs by one ulp at ~6e-8; one thread sums in the trainer's order, so
    // anything near 1e-6 means the graph and the trainer disagree about a tree, not rounding.
    if (!(diff <= 1e-6)) {
      throw new DriftlineError(
        'DL_ERR_MODEL_LOAD',
        `The exported graph disagrees with the trainer: max |ΔP| = ${diff} over ${validation.rows} validation rows`,
      );
    }
    card = buildCard({
      version: opts.version,
      validation: metrics,
      importance,
      training: { ...training, onnx_check: { rows: validation.rows, max_abs_diff: diff } },
    });
    renameSync(tmpModel, modelPath);
  } catch (err) {
    rmSync(tmpModel, { force: true });
    throw err;
  }
  writeAtomic(cardPath, `${JSON.stringify(card, null, 2)}\n`);
  emit({ type: 'step', message: `wrote ${modelPath} (${bytes.length} bytes) and ${cardPath}` });

  return {
    card,
    modelPath,
    cardPath,
    validation: metrics,
    fit,
    params,
    onnxMaxAbsDiff: diff,
    modelBytes: bytes.length,
  };
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** Parameter names as the card records them: sklearn's, where sklearn has the parameter. */
export const CARD_PARAM_NAMES: Readonly<Record<keyof BoostParams, string>> = {
  learningRate: 'learning_rate',
  maxIter: 'max_iter',
  maxLeafNodes: 'max_leaf_nodes',
  maxDepth: 'max_depth',
  minSamplesLeaf: 'min_samples_leaf',
  l2: 'l2_regularization',
  maxBins: 'max_bins',
  earlyStopping: 'early_stopping',
  validationFraction: 'validation_fraction',
  nIterNoChange: 'n_iter_no_change',
  tol: 'tol',
  members: 'members',
  distill: 'distill',
  studentTrees: 'student_trees',
  studentLearningRate: 'student_learning_rate',
};

/** Parameters for the card (Infinity has no JSON form: null = no limit). */
export function paramsJson(p: BoostParams): Record<string, number | boolean | null> {
  const out: Record<string, number | boolean | null> = {};
  for (const k of Object.keys(CARD_PARAM_NAMES) as (keyof BoostParams)[]) {
    const v = p[k];
    out[CARD_PARAM_NAMES[k]] = typeof v === 'number' && !Number.isFinite(v) ? null : v;
  }
  return out;
}
