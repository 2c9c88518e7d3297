import { EventEmitter } from 'node:events';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DriftWindow, snapshot, type DriftOverrides, type DriftSnapshot, type ReferenceProfile } from '../drift/index.js';
import type { RowErrorCode } from '../errors.js';
import { decision, originalResult, type ModelCard } from '../model/card.js';
import type { Awaitable, DecodedBatch, HistoryPoint, HistoryStore, LoggedRow, WindowRow } from '../store/index.js';
import { PAGE_HINKLEY_DEFAULTS, PageHinkley, type PageHinkleyOptions } from './page-hinkley.js';
import { DataQualityRing, qualityKindOf, type DataQuality } from './data-quality.js';
import { EstimatedPerformance, type PerformanceEstimate } from './estimated-performance.js';
import { RollingPerformance, type Performance } from './performance.js';

/** Concept drift: Page-Hinkley over the per-row errors of labelled rows, in label order. */
export interface ConceptDrift {
  detector: 'page_hinkley';
  statistic: number;
  threshold: number;
  /** Labelled rows seen since the detector last reset. */
  samples: number;
  detected_at: string | null;
  /** Labelled rows seen since the last detection. */
  since_detection: number | null;
}

/** The card's validation metrics, beside the estimate for comparison. */
export type ValidationMetrics = Record<'accuracy' | 'precision' | 'recall' | 'f1' | 'roc_auc', number | null>;

/**
 * Quality estimated from the window's probabilities before any label arrives (CBPE); null when
 * the reference profile has no calibration map (it was built without labels).
 */
export type EstimateSnapshot = (PerformanceEstimate & { validation: ValidationMetrics }) | null;

/** What the service publishes: the drift snapshot plus model quality, realized on labelled rows and estimated on all. */
export type MonitorSnapshot = DriftSnapshot & {
  performance: Performance;
  performance_estimate: EstimateSnapshot;
  concept: ConceptDrift;
  /** Per feature: shares of missing, invalid and unseen values over the last rows that arrived, accepted or rejected. */
  data_quality: DataQuality;
  /** Rows behind data_quality (up to the window's capacity, rejected rows included). */
  data_quality_rows: number;
};

export interface MonitorOptions {
  profile: ReferenceProfile;
  capacity: number;
  overrides: DriftOverrides;
  driftShareThreshold: number;
  /**
   * Where persisted snapshots go. Among replicas only the leader's `add` writes; the others'
   * answer `false` (not taken).
   */
  history?: { add(p: HistoryPoint): ReturnType<HistoryStore['add']> | false } | undefined;
  historyMs: number;
  /** reports/drift_report.json, rewritten atomically with each persisted snapshot. */
  reportFile?: string | undefined;
  /** The newest predictions, for the report's `results` (the original service's shape). */
  recent?: (limit: number) => Awaitable<LoggedRow[]>;
  /**
   * The model card: its decision rule scores the labelled rows (quality, concept drift) and its
   * labels spell the report's predictions. Required, so that no default threshold can stand in
   * for the card's.
   */
  card: Pick<ModelCard, 'decision_threshold' | 'labels' | 'metrics'> & { features?: ModelCard['features'] };
  pageHinkley?: PageHinkleyOptions;
}

export function historyPoint(s: MonitorSnapshot): HistoryPoint {
  const brief = (c: DriftSnapshot['features'][string]) => ({ test: c.test, score: c.score, threshold: c.threshold, drift: c.drift });
  return {
    at: Date.parse(s.at),
    window_rows: s.window_rows,
    share_drifted: s.dataset.share_drifted,
    drift: s.dataset.drift,
    features: Object.fromEntries(Object.entries(s.features).map(([k, v]) => [k, brief(v)])),
    prediction: s.prediction === null ? null : brief(s.prediction),
    performance: s.performance,
    ...(s.performance_estimate === null ? {} : { performance_estimate: briefEstimate(s.performance_estimate) }),
  };
}

function briefEstimate(e: NonNullable<EstimateSnapshot>): NonNullable<HistoryPoint['performance_estimate']> {
  return { n_rows: e.n_rows, accuracy: e.accuracy, f1: e.f1, roc_auc: e.roc_auc, f1_band: e.bands.f1, roc_auc_band: e.bands.roc_auc };
}

function validationMetrics(card: Pick<ModelCard, 'metrics'>): ValidationMetrics {
  const v = card.metrics?.validation;
  const pick = (k: string): number | null => (typeof v?.[k] === 'number' ? (v[k] as number) : null);
  return { accuracy: pick('accuracy'), precision: pick('precision'), recall: pick('recall'), f1: pick('f1'), roc_auc: pick('roc_auc') };
}

/**
 * The live drift state: the rolling window, the snapshot of it (recomputed only when the window
 * changed), and the log id of every row in the window so that labels arriving later can reach
 * it. Emits 'snapshot' with each freshly computed snapshot.
 */
export class DriftMonitor extends EventEmitter<{ snapshot: [MonitorSnapshot] }> {
  readonly window: DriftWindow;
  /** Per window slot: the row's log id, probability and label (NaN when unlabelled). */
  private readonly logIds: Float64Array;
  private readonly probs: Float64Array;
  private readonly targets: Float64Array;
  private readonly performance: RollingPerformance;
  private readonly estimate: EstimatedPerformance | null;
  /** The card's feature importances, when it has them, for the snapshot. */
  private readonly importance: { importance?: Record<string, number> };
  private readonly concept: PageHinkley;
  private readonly quality: DataQualityRing;
  private detectedAt: number | null = null;
  private sinceDetection: number | null = null;
  private cached: { version: number; snap: MonitorSnapshot } | undefined;
  private persistedVersion = -1;
  private persistedAt = 0;
  private lastSeq = -1;

  constructor(private readonly opts: MonitorOptions) {
    super();
    this.window = new DriftWindow(opts.profile, { capacity: opts.capacity });
    this.logIds = new Float64Array(opts.capacity).fill(-1);
    this.probs = new Float64Array(opts.capacity).fill(Number.NaN);
    this.targets = new Float64Array(opts.capacity).fill(Number.NaN);
    this.performance = new RollingPerformance(opts.card.decision_threshold);
    const weighted = (opts.card.features ?? []).filter((f) => f.importance !== undefined);
    this.importance = weighted.length === 0 ? {} : { importance: Object.fromEntries(weighted.map((f) => [f.name, f.importance!])) };
    const calibration = opts.profile.calibration;
    this.estimate = calibration === undefined ? null : new EstimatedPerformance(calibration, opts.card.decision_threshold);
    this.concept = new PageHinkley(opts.pageHinkley ?? PAGE_HINKLEY_DEFAULTS);
    const names = opts.profile.features.map((f) => f.name);
    this.quality = new DataQualityRing(
      names,
      opts.capacity,
      names.map((_, j) => this.window.isCategorical(j)),
    );
  }

  /**
   * Adds an accepted row (the sketch stage's sink). String columns, if the profile has any, take
   * their values from `strings` as DriftWindow.push does.
   */
  push(
    features: ArrayLike<number>,
    offset: number,
    probability: number,
    target: number,
    at?: number,
    logId = -1,
    strings?: ArrayLike<string | null | undefined>,
    stringOffset = 0,
  ): number {
    const full = this.window.size === this.opts.capacity;
    const w = this.window;
    const seq = w.push(features, offset, probability, target, at, strings, stringOffset);
    this.quality.accept(w.stringColumns.length === 0 ? undefined : (j) => w.categoryStatus(seq, j));
    const slot = seq % this.opts.capacity;
    if (full) {
      this.performance.remove(this.probs[slot]!, this.targets[slot]!);
      this.estimate?.remove(this.probs[slot]!);
    }
    this.estimate?.add(probability);
    this.logIds[slot] = logId;
    this.probs[slot] = probability;
    this.targets[slot] = target;
    this.lastSeq = seq;
    if (target === 0 || target === 1) this.learn(probability, target, at);
    return seq;
  }

  /**
   * A row validation rejected (the sketch stage's sink, in arrival order): counted once against
   * the feature whose cell rejected it. Rejected rows are not logged, so `rebuild` cannot bring
   * them back.
   */
  reject(error: { code: RowErrorCode; feature?: number | undefined }): void {
    this.quality.reject(error.feature ?? -1, qualityKindOf(error.code));
  }

  /** A label reached a row: quality metrics and the concept-drift detector take it in. */
  private learn(probability: number, target: number, at = Date.now()): void {
    this.performance.add(probability, target);
    const wrong = decision(this.opts.card, probability) !== target ? 1 : 0;
    if (this.concept.update(wrong)) {
      this.detectedAt = at;
      this.sinceDetection = 0;
    } else if (this.sinceDetection !== null) this.sinceDetection++;
  }

  /** Refills the window from the prediction log's last rows (oldest first), after a restart. */
  rebuild(rows: readonly WindowRow[]): void {
    this.window.clear();
    this.logIds.fill(-1);
    this.probs.fill(Number.NaN);
    this.targets.fill(Number.NaN);
    this.performance.clear();
    this.estimate?.clear();
    this.quality.clear();
    for (const r of rows) this.push(r.features, 0, r.probability, r.target, r.ts, r.id, r.strings, 0);
  }

  /** Adds a batch committed to the shared log (any replica's), with its uploaded labels. */
  applyBatch(b: DecodedBatch): void {
    const s = b.strings ?? undefined;
    const ns = s === undefined ? 0 : s.length / b.rows;
    for (let r = 0; r < b.rows; r++)
      this.push(b.features, r * b.nFeatures, b.probabilities[r]!, b.targets[r]!, b.ts, b.first + r, s, r * ns);
  }

  /** Applies a label to a logged row if it is still in the window. */
  label(logId: number, target: number): boolean {
    const w = this.window;
    const cap = this.opts.capacity;
    // Log ids grow with the window's sequence numbers, so the ring is sorted: binary search.
    const newest = this.lastSeq;
    let lo = newest - w.size + 1;
    let hi = newest;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const id = this.logIds[mid % cap]!;
      if (id === logId) {
        const slot = mid % cap;
        if (this.targets[slot] === target) return true;
        this.performance.remove(this.probs[slot]!, this.targets[slot]!);
        this.targets[slot] = target;
        this.learn(this.probs[slot]!, target);
        return w.label(mid, target);
      }
      if (id < logId) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  current(now: number = Date.now()): MonitorSnapshot {
    const version = this.version;
    if (this.cached?.version !== version) {
      const drift = snapshot(this.opts.profile, this.window, {
        overrides: this.opts.overrides,
        driftShareThreshold: this.opts.driftShareThreshold,
        at: now,
        ...this.importance,
      });
      const ph = this.opts.pageHinkley ?? PAGE_HINKLEY_DEFAULTS;
      const concept: ConceptDrift = {
        detector: 'page_hinkley',
        statistic: this.concept.statistic,
        threshold: ph.threshold,
        samples: this.concept.seen,
        detected_at: this.detectedAt === null ? null : new Date(this.detectedAt).toISOString(),
        since_detection: this.sinceDetection,
      };
      const estimate = this.estimate === null ? null : { ...this.estimate.estimate(), validation: validationMetrics(this.opts.card) };
      const snap: MonitorSnapshot = {
        ...drift,
        performance: this.performance.metrics(),
        performance_estimate: estimate,
        concept,
        data_quality: this.quality.shares(),
        data_quality_rows: this.quality.size,
      };
      this.cached = { version, snap };
      this.emit('snapshot', snap);
    }
    return this.cached.snap;
  }

  /** Changes with the window and with every rejected row (which only data quality sees). */
  get version(): number {
    return this.window.version + this.quality.version;
  }

  /** Persists the snapshot if the window changed and DRIFT_HISTORY_MS has passed. */
  async maybePersist(now: number = Date.now(), force = false): Promise<boolean> {
    if (this.version === this.persistedVersion) return false;
    if (!force && now - this.persistedAt < this.opts.historyMs) return false;
    const snap = this.current(now);
    // Marked before the read below, so that a timer firing meanwhile does not persist it twice.
    this.persistedVersion = this.version;
    this.persistedAt = now;
    // Not taken (a replica that does not lead): still due, so that once this replica leads it
    // writes the window as it stands, even if nothing changed since the old leader's last point.
    if ((await this.opts.history?.add(historyPoint(snap))) === false) this.persistedVersion = -1;
    if (this.opts.reportFile !== undefined) writeReport(this.opts.reportFile, snap, (await this.opts.recent?.(100)) ?? [], this.opts.card);
    return true;
  }
}

/** The original service's `drift` list: one `{column, score}` per feature. */
export function originalDrift(snap: DriftSnapshot): { column: string; score: DriftSnapshot['features'][string]['score'] }[] {
  return Object.entries(snap.features).map(([column, f]) => ({ column, score: f.score }));
}

/** reports/drift_report.json: the original service's shape plus the full snapshot, written atomically. */
export function writeReport(file: string, snap: MonitorSnapshot, recent: readonly LoggedRow[], card: Pick<ModelCard, 'labels'>): void {
  const body = {
    n_rows: snap.window_rows,
    results: recent.map((r) => originalResult(card, r)),
    drift: originalDrift(snap),
    snapshot: snap,
  };
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(body));
  renameSync(tmp, file);
}
