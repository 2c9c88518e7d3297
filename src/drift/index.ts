// The drift engine's public surface. Pure: no HTTP, no streams; only reference.json is read
// and written here.
//
// String (categorical) columns, end to end:
// - Profile: `buildProfile({ features: [{ name, strings }] })` keeps the sorted categories in
//   `ColumnProfile.categories` and bins their codes (a category's index in that list).
// - Window: `window.stringColumns` names the string columns in profile order; `push(features,
//   offset, probability, target, at, strings, stringOffset)` reads the s-th one from
//   `strings[stringOffset + s]` (its slot in `features` is ignored). null, undefined and '' are
//   missing. Categories the reference lacks are counted one by one and leave with their rows.
// - Snapshot: Evidently's categorical tests on the codes; display histograms list categories
//   by name in `labels` (x is 0 … m−1; the 30 largest when there are more), and a string
//   column has no current quantiles.
// - Sketch: unseen categories travel by name (`ColumnSketch.unseen`) and merge by name.
export {
  buildProfile,
  buildColumnProfile,
  buildCategoricalProfile,
  isMissingCategory,
  PREDICTION_COLUMN,
  VALUES_MODE_MAX_DISTINCT,
  QUANTILE_BINS,
} from './reference/profile.js';
export type { BuildProfileInput, ProfileColumnInput, NumericColumnInput, StringColumnInput } from './reference/profile.js';
export { UNSEEN_CATEGORIES_CAP, OTHER_UNSEEN_LABEL } from './window/categories.js';
export { fitCalibration, calibrate, calibrationSchema, CALIBRATION_BINS } from './reference/calibration.js';
export type { Calibration } from './reference/calibration.js';
export { readProfile, writeProfile, parseProfile, referenceProfileSchema } from './reference/profile-io.js';
export { DriftWindow } from './window/window.js';
export type { DriftWindowOptions, QuantileTrend } from './window/window.js';
export type { TrendBucket } from './window/trend.js';
export { mergeSketches, parseSketch } from './window/sketch.js';
export type { WindowSketch, ColumnSketch } from './window/sketch.js';
export { snapshot, DEFAULT_DRIFT_SHARE } from './comparison/snapshot.js';
export type { SnapshotOptions } from './comparison/snapshot.js';
export { parseDriftOverrides, checkOverrides } from './stattests/overrides.js';
export { getStatTest, statTestNames, hasStatTest } from './stattests/registry.js';
export type { StatTest, StatTestName } from './stattests/types.js';
export { defaultTest, DEFAULT_RULES, SMALL_REFERENCE_ROWS } from './stattests/defaults.js';
export type { DefaultRule } from './stattests/defaults.js';
export { TDigest } from './math/tdigest.js';
export type { TDigestJSON } from './math/tdigest.js';
export type {
  ColumnBins,
  ColumnDrift,
  ColumnProfile,
  ColumnType,
  DatasetDrift,
  DisplayHistogram,
  DriftOverride,
  DriftOverrides,
  DriftSnapshot,
  Quantiles,
  ReferenceProfile,
} from './types.js';
