// The drift engine's public surface. Pure: no HTTP, no streams; only reference.json is read
// and written here.
export { buildProfile, buildColumnProfile, PREDICTION_COLUMN, VALUES_MODE_MAX_DISTINCT, QUANTILE_BINS } from './reference/profile.js';
export type { BuildProfileInput, ProfileColumnInput } from './reference/profile.js';
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
