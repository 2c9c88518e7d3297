// snapshot = pure function (reference profile, window or sketch, options) → plain JSON:
// per column the test, score, threshold and decision, the other statistics, display
// histograms and quantiles; and the dataset decision (share of drifted features ≥ threshold).
import { DriftlineError } from '../../errors.js';
import type { ColumnView } from '../window/column-state.js';
import type { BinnedShares } from './binning.js';
import { Comparison } from './comparison.js';
import { defaultTest } from '../stattests/defaults.js';
import { categoryHistograms, displayHistograms, quantiles } from './describe.js';
import { checkOverrides } from '../stattests/overrides.js';
import { buildPieces, referencePieces, type Pieces } from './pieces.js';
import { viewsFromSketch, type WindowSketch } from '../window/sketch.js';
import { getStatTest } from '../stattests/registry.js';
import { jensenshannon } from '../stattests/jensenshannon.js';
import { psi } from '../stattests/psi.js';
import { wasserstein } from '../stattests/wasserstein.js';
import type { ColumnDrift, ColumnProfile, DriftOverride, DriftOverrides, DriftSnapshot, Quantiles, ReferenceProfile } from '../types.js';
import { DriftWindow } from '../window/window.js';
import { CategoryState, OTHER_UNSEEN_LABEL } from '../window/categories.js';

export interface SnapshotOptions {
  overrides?: DriftOverrides;
  /** Dataset drift when the share of drifted features reaches this. Default 0.5 (Evidently). */
  driftShareThreshold?: number;
  /** Time stamp of the snapshot (ms or Date). Default: now. */
  at?: number | Date;
  /** Features to test, by name. Default: every feature of the profile. */
  columns?: readonly string[];
  /**
   * How much the model leans on each feature (the card's permutation importance). Given, each
   * feature's drift carries its importance and the dataset an importance-weighted share.
   */
  importance?: Readonly<Record<string, number>>;
}

export const DEFAULT_DRIFT_SHARE = 0.5;

// The reference never changes: its quantiles are computed once per profile column.
const refQuantiles = new WeakMap<ColumnProfile, Quantiles>();
function referenceQuantiles(ref: ColumnProfile, pieces: Pieces): Quantiles {
  let q = refQuantiles.get(ref);
  if (q === undefined) {
    q = quantiles(pieces, 'ref')!;
    refQuantiles.set(ref, q);
  }
  return q;
}

const NO_BINS: BinnedShares = { mode: 'values', ref: new Float64Array(0), cur: new Float64Array(0) };

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function columnDrift(ref: ColumnProfile, cur: ColumnView | null, override: DriftOverride | undefined): ColumnDrift {
  const empty = cur === null || cur.n === 0;
  const pieces = empty ? referencePieces(ref) : buildPieces(ref, cur);
  const cmp = new Comparison(ref, empty ? null : cur, pieces);
  const test = getStatTest(override?.test ?? defaultTest(ref.type, ref.count, cmp.nValues));
  const threshold = override?.threshold ?? test.defaultThreshold;
  const score = empty ? null : finiteOrNull(test.score(cmp));
  const num = ref.type === 'num' && !empty;
  const categories = ref.categories;
  const hists =
    categories === undefined
      ? displayHistograms(pieces, ref.type === 'num' && ref.n_unique > 20 ? cmp.binned : NO_BINS)
      : categoryHistograms(pieces, (x) => (cur instanceof CategoryState ? cur.labelOf(x) : (categories[x] ?? OTHER_UNSEEN_LABEL)));
  return {
    column_type: ref.type,
    test: test.name,
    test_display_name: test.displayName,
    score,
    threshold,
    drift: score !== null && test.drifted(score, threshold),
    n_reference: ref.count,
    n_current: pieces.n2,
    stats: {
      ks_stat: num ? cmp.ksStatistic : null,
      wasserstein_normed: num ? finiteOrNull(wasserstein.score(cmp)) : null,
      psi: empty ? null : finiteOrNull(psi.score(cmp)),
      jensenshannon: empty ? null : finiteOrNull(jensenshannon.score(cmp)),
    },
    reference_hist: hists.reference,
    current_hist: hists.current,
    // Codes of unseen categories are local to a window: no current quantiles of a string column.
    quantiles: { reference: referenceQuantiles(ref, pieces), current: categories === undefined ? quantiles(pieces, 'cur') : null },
  };
}

export function snapshot(profile: ReferenceProfile, source: DriftWindow | WindowSketch, opts: SnapshotOptions = {}): DriftSnapshot {
  if (source instanceof DriftWindow && source.profile.id !== profile.id) {
    throw new DriftlineError('DL_ERR_REFERENCE', `The window was built on profile ${source.profile.id}, not ${profile.id}`);
  }
  const views = source instanceof DriftWindow ? source.views() : viewsFromSketch(profile, source);
  const overrides = opts.overrides ?? {};
  checkOverrides(profile, overrides);
  const names = profile.features.map((f) => f.name);
  const wanted = opts.columns ?? names;
  const unknown = wanted.filter((c) => !names.includes(c));
  if (unknown.length > 0) {
    throw new DriftlineError(
      'DL_ERR_REFERENCE',
      `Columns not in the reference profile: ${unknown.join(', ')} (it has ${names.join(', ')})`,
    );
  }
  const features: Record<string, ColumnDrift> = {};
  let drifted = 0;
  for (const name of wanted) {
    const j = names.indexOf(name);
    const d = columnDrift(profile.features[j]!, views.features[j] ?? null, overrides[name]);
    const weight = opts.importance?.[name];
    features[name] = weight === undefined ? d : { ...d, importance: weight };
    if (d.drift) drifted++;
  }
  const threshold = opts.driftShareThreshold ?? DEFAULT_DRIFT_SHARE;
  const share = wanted.length === 0 ? 0 : drifted / wanted.length;
  const pred = profile.prediction;
  const target = profile.target;
  const at = opts.at === undefined ? new Date() : new Date(opts.at);
  return {
    at: at.toISOString(),
    window_rows: views.rows,
    dataset: {
      n_columns: wanted.length,
      n_drifted: drifted,
      share_drifted: share,
      drift_share_threshold: threshold,
      drift: share >= threshold,
      ...(opts.importance === undefined ? {} : { importance_weighted_share: weightedShare(features, opts.importance) }),
    },
    features,
    prediction: pred === null || views.prediction === null ? null : columnDrift(pred, views.prediction, overrides[pred.name]),
    target:
      target === null || views.target === null || views.target.n === 0 ? null : columnDrift(target, views.target, overrides[target.name]),
  };
}

/**
 * The share of the model's reliance that sits on drifted features: Σ importance of the drifted
 * ones / Σ importance, negative importances (noise) counted as 0. Null when no feature has any.
 */
export function weightedShare(
  features: Readonly<Record<string, ColumnDrift>>,
  importance: Readonly<Record<string, number>>,
): number | null {
  let total = 0;
  let drifted = 0;
  for (const [name, f] of Object.entries(features)) {
    const w = Math.max(0, importance[name] ?? 0);
    total += w;
    if (f.drift) drifted += w;
  }
  return total > 0 ? drifted / total : null;
}
