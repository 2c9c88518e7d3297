// Shapes shared by the drift engine. The profile and the snapshot are plain JSON: they are
// written to disk, pushed over a WebSocket and read by the dashboard without any class.
import type { TDigestJSON } from './math/tdigest.js';

/** Evidently's column types: numerical or categorical. */
export type ColumnType = 'num' | 'cat';

/**
 * Frozen bins of one reference column. Either one bin per distinct reference value
 * (`values`: every reference value sits on a left edge, so the reference CDF is constant
 * inside a bin), or reference quantiles (`quantile`), which also keep the count and the sum of
 * the values strictly inside each bin. `edges[0]` is the minimum and the last edge the maximum.
 */
export interface ColumnBins {
  mode: 'values' | 'quantile';
  edges: number[];
  /** Reference rows equal to each edge. */
  counts: number[];
  /** Quantile mode: reference rows strictly between edge i and edge i+1. */
  inner_counts?: number[];
  /** Quantile mode: Σ (x − edge i) over those rows (offsets keep the sums exact-ish). */
  inner_sums?: number[];
}

export interface ColumnProfile {
  name: string;
  type: ColumnType;
  /** Finite values (missing and non-finite values are left out, as Evidently drops NaN). */
  count: number;
  missing: number;
  mean: number;
  /** Population standard deviation (ddof = 0), as Evidently norms Wasserstein by. */
  std: number;
  min: number;
  max: number;
  n_unique: number;
  bins: ColumnBins;
  tdigest: TDigestJSON;
  /**
   * A column of strings: its categories, sorted, each seen in the reference. A category's code
   * is its index here; the bins, the summary and the t-digest are over the codes (bins per
   * value, edges 0 … k−1). Absent for numeric columns, numeric-coded categorical ones included.
   */
  categories?: string[];
}

export interface ReferenceProfile {
  format: 'driftline-reference-profile';
  version: 1;
  /** Fingerprint of the bins: sketches merge only when built on the same bins. */
  id: string;
  created_at: string;
  source: string | null;
  rows: number;
  features: ColumnProfile[];
  /** The model's P(class 1) on the reference rows. */
  prediction: ColumnProfile | null;
  target: ColumnProfile | null;
  /** How the model's probabilities map to observed default rates; present when the rows had labels. */
  calibration?: CalibrationMap | undefined;
}

/**
 * The model's P(class 1) → the share of positives among rows so scored, learned from the
 * labelled reference rows (reference/calibration.ts): linear between knots, clipped outside.
 */
export interface CalibrationMap {
  method: 'binned';
  x: number[];
  y: number[];
  /** Labelled rows the map was fitted on. */
  rows: number;
  source?: string | undefined;
}

export interface Quantiles {
  mean: number;
  p5: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
}

/** A compact histogram for display; reference and current share `x`. */
export interface DisplayHistogram {
  /** `bins`: x holds k+1 edges of k bins; `values`: x holds k distinct values. */
  kind: 'bins' | 'values';
  x: number[];
  /** Share of the column's rows per bin or value. */
  shares: number[];
  /** A column of strings: the category at each x (x is then 0 … k−1). */
  labels?: string[];
}

export interface ColumnDrift {
  column_type: ColumnType;
  test: string;
  test_display_name: string;
  /** P-value or distance; null while the window holds no value of the column. */
  score: number | null;
  threshold: number;
  drift: boolean;
  n_reference: number;
  n_current: number;
  stats: {
    ks_stat: number | null;
    wasserstein_normed: number | null;
    psi: number | null;
    jensenshannon: number | null;
  };
  reference_hist: DisplayHistogram;
  current_hist: DisplayHistogram;
  /** A column of strings: reference quantiles of the category codes, current null. */
  quantiles: { reference: Quantiles; current: Quantiles | null };
  /** The model's permutation importance of the feature (the card's), when it has one. */
  importance?: number;
}

export interface DatasetDrift {
  n_columns: number;
  n_drifted: number;
  share_drifted: number;
  drift_share_threshold: number;
  drift: boolean;
  /** Share of the features' summed importance that is on drifted features; with importances only. */
  importance_weighted_share?: number | null;
}

export interface DriftSnapshot {
  at: string;
  window_rows: number;
  dataset: DatasetDrift;
  features: Record<string, ColumnDrift>;
  prediction: ColumnDrift | null;
  /** Drift of the labels that have arrived; not counted in the dataset share. */
  target: ColumnDrift | null;
}

export interface DriftOverride {
  test?: string;
  threshold?: number;
}
export type DriftOverrides = Readonly<Record<string, Readonly<DriftOverride>>>;
