// The trainer's public surface: `driftline train` uses trainModel; tests and tools reach the
// pieces (fit, predict, export) through here.
export { trainModel, paramsJson, CARD_PARAM_NAMES } from './run.js';
export type { TrainOptions, TrainEvent, TrainResult } from './run.js';
export { BUNDLED_PARAMS, BUNDLED_PARAMS_SOURCE, TUNING_GRID, TUNING_FOLDS, DEFAULT_SEED } from './defaults.js';
export { checkParams, fitBoosting, shouldStop, SKLEARN_DEFAULTS } from './gbdt.js';
export { fitModel, averageEnsembles } from './ensemble.js';
export type { ModelResult } from './ensemble.js';
export { fitStudent } from './distill.js';
export type { StudentResult } from './distill.js';
export type { BoostParams, BoostResult, Ensemble, IterationInfo } from './gbdt.js';
export { predictRaw, predictProba, predictLabel, logistic32 } from './predict.js';
export { exportOnnx } from './onnx-export.js';
export { readDataset, readSplitIds, splitByIds, subset, toRowMajor } from './dataset.js';
export type { Dataset } from './dataset.js';
export { CREDIT_FEATURES, CREDIT_TARGET } from './features.js';
export { buildCard } from './model-card.js';
export { crossValidate, expandGrid, gridSearch } from './tune.js';
export type { CvResult, Grid } from './tune.js';
