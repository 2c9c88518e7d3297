// The drift engine's public surface. Pure: no HTTP, no streams; only reference.json is read
// and written here.
export { buildProfile, buildColumnProfile, PREDICTION_COLUMN, VALUES_MODE_MAX_DISTINCT, QUANTILE_BINS } from './profile.js';
export type { BuildProfileInput, ProfileColumnInput } from './profile.js';
export { readProfile, writeProfile, parseProfile, referenceProfileSchema } from './profile-io.js';
export { DriftWindow } from './window.js';
export type { DriftWindowOptions, QuantileTrend } from './window.js';
export type { TrendBucket } from './trend.js';
export { mergeSketches, parseSketch } from './sketch.js';
export type { WindowSketch, ColumnSketch } from './sketch.js';
export { snapshot, DEFAULT_DRIFT_SHARE } from './snapshot.js';
export type { SnapshotOptions } from './snapshot.js';
export { parseDriftOverrides, checkOverrides } from './overrides.js';
export { getStatTest, statTestNames, hasStatTest } from './stattests/registry.js';
export type { StatTest, StatTestName } from './stattests/types.js';
export { defaultTest, DEFAULT_RULES, SMALL_REFERENCE_ROWS } from './defaults.js';
export type { DefaultRule } from './defaults.js';
export { TDigest } from './tdigest.js';
export type { TDigestJSON } from './tdigest.js';
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
