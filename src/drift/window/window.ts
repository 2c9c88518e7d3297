// The rolling window: the last `capacity` rows. Each row updates every column's histogram on
// the frozen bins (a guided search over the edges); once the window is full, the oldest row
// is still in the ring with the bin each of its values went to, and leaves those bins in O(1).
// The window is never re-scanned. Quantile trends live beside it in per-minute t-digests.
//
// String columns (a profile column with `categories`) are coded on the way in (see
// categories.ts): the ring holds the code, which is all eviction needs.
import { DriftlineError } from '../../errors.js';
import { CategoryState, columnState } from './categories.js';
import { ColumnState, SKIPPED } from './column-state.js';
import { columnSketch, type WindowSketch, type WindowViews } from './sketch.js';
import { TDigest } from '../math/tdigest.js';
import { TrendRing, type TrendBucket } from './trend.js';
import type { ReferenceProfile } from '../types.js';

export interface DriftWindowOptions {
  capacity: number;
  /** Width of a quantile-trend bucket. Default: one minute. */
  bucketMs?: number;
  /** Trend buckets kept. Default: 60 (an hour of minutes). */
  buckets?: number;
}

export interface QuantileTrend {
  column: string;
  bucket_ms: number;
  reference: { p5: number; p50: number; p95: number };
  buckets: TrendBucket[];
}

export class DriftWindow {
  readonly profile: ReferenceProfile;
  readonly capacity: number;
  private readonly nf: number;
  private readonly stride: number;
  /** Row-major ring: nf feature values, then probability, then target (NaN when absent). */
  private readonly ring: Float64Array;
  /** Where each ring value went in its column's bins, so eviction needs no search. */
  private readonly codes: Int32Array;
  private readonly features: ColumnState[];
  private readonly prediction: ColumnState | null;
  private readonly target: ColumnState | null;
  private readonly trends: TrendRing[];
  /** Per string column, in profile order: its feature index and state. */
  private readonly text: { j: number; state: CategoryState }[];
  /** Names of the string columns, in the order `push` takes their values. */
  readonly stringColumns: readonly string[];
  private nextSeq = 0;
  private count = 0;
  private changes = 0;

  constructor(profile: ReferenceProfile, opts: DriftWindowOptions) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 1) {
      throw new DriftlineError('DL_ERR_CONFIG', `Drift window capacity must be a positive integer, not ${opts.capacity}`);
    }
    this.profile = profile;
    this.capacity = opts.capacity;
    this.nf = profile.features.length;
    this.stride = this.nf + 2;
    this.ring = new Float64Array(this.capacity * this.stride).fill(Number.NaN);
    this.codes = new Int32Array(this.capacity * this.stride).fill(SKIPPED);
    this.features = profile.features.map(columnState);
    this.text = this.features.flatMap((state, j) => (state instanceof CategoryState ? [{ j, state }] : []));
    this.stringColumns = this.text.map(({ j }) => profile.features[j]!.name);
    this.prediction = profile.prediction === null ? null : columnState(profile.prediction);
    this.target = profile.target === null ? null : columnState(profile.target);
    const bucketMs = opts.bucketMs ?? 60_000;
    const buckets = opts.buckets ?? 60;
    this.trends = Array.from({ length: this.nf + 1 }, () => new TrendRing(bucketMs, buckets));
  }

  get size(): number {
    return this.count;
  }

  /** Increments on every change, so a publisher can skip unchanged windows. */
  get version(): number {
    return this.changes;
  }

  /**
   * Adds one row: `features[offset + j]` is feature j in profile order (a pipeline passes its
   * Float32Array batch and row·nFeatures). `probability` and `target` are NaN when absent.
   * Returns the row's sequence number, for `label`. Evicts the oldest row when full.
   *
   * String columns take their value from `strings[stringOffset + s]` instead, for the s-th name
   * of `stringColumns` (their slot in `features` is ignored): null, undefined or '' is missing;
   * a category the reference lacks is counted as itself (chi-square then gives p = 0, as
   * Evidently does).
   */
  push(
    features: ArrayLike<number>,
    offset: number,
    probability: number,
    target: number,
    at: number = Date.now(),
    strings?: ArrayLike<string | null | undefined>,
    stringOffset = 0,
  ): number {
    const seq = this.nextSeq++;
    const base = (seq % this.capacity) * this.stride;
    const ring = this.ring;
    const codes = this.codes;
    const nf = this.nf;
    const pred = this.prediction;
    const tgt = this.target;
    if (this.count === this.capacity) {
      for (let j = 0; j < nf; j++) this.features[j]!.removeCode(ring[base + j]!, codes[base + j]!);
      pred?.removeCode(ring[base + nf]!, codes[base + nf]!);
      tgt?.removeCode(ring[base + nf + 1]!, codes[base + nf + 1]!);
    } else this.count++;
    let t = 0;
    for (let j = 0; j < nf; j++) {
      const text = this.text[t];
      let x: number;
      if (text?.j === j) {
        // A category code has no quantiles: no trend.
        x = text.state.encode(strings?.[stringOffset + t++]);
        ring[base + j] = x;
        codes[base + j] = text.state.add(x);
        continue;
      }
      x = features[offset + j]!;
      ring[base + j] = x;
      const code = this.features[j]!.add(x);
      codes[base + j] = code;
      if (code !== SKIPPED) this.trends[j]!.push(x, at);
    }
    ring[base + nf] = probability;
    ring[base + nf + 1] = target;
    codes[base + nf] = pred === null ? SKIPPED : pred.add(probability);
    codes[base + nf + 1] = tgt === null ? SKIPPED : tgt.add(target);
    if (codes[base + nf] !== SKIPPED) this.trends[nf]!.push(probability, at);
    this.changes++;
    return seq;
  }

  /**
   * For feature `j` of row `seq` (the last row pushed, or any still in the window): 'missing' or
   * 'unseen' (a category the reference lacks) when it is a string column's, else null. O(1):
   * it reads the code the ring holds.
   */
  categoryStatus(seq: number, j: number): 'missing' | 'unseen' | null {
    const state = this.features[j];
    if (!(state instanceof CategoryState)) return null;
    const x = this.ring[(seq % this.capacity) * this.stride + j]!;
    if (x !== x) return 'missing';
    return x >= state.categories.length ? 'unseen' : null;
  }

  /** Whether feature `j` is a string column (it has categories). */
  isCategorical(j: number): boolean {
    return this.features[j] instanceof CategoryState;
  }

  /** Sets the label of a row still in the window; false when it has left (or never was). */
  label(seq: number, target: number): boolean {
    if (!Number.isInteger(seq) || seq < this.nextSeq - this.count || seq >= this.nextSeq) return false;
    const at = (seq % this.capacity) * this.stride + this.nf + 1;
    const old = this.ring[at]!;
    if (Object.is(old, target)) return true;
    this.target?.removeCode(old, this.codes[at]!);
    this.ring[at] = target;
    this.codes[at] = this.target === null ? SKIPPED : this.target.add(target);
    this.changes++;
    return true;
  }

  clear(): void {
    this.ring.fill(Number.NaN);
    this.codes.fill(SKIPPED);
    for (const s of this.features) s.clear();
    this.prediction?.clear();
    this.target?.clear();
    for (const t of this.trends) t.clear();
    this.count = 0;
    this.changes++;
  }

  /** The window's state as JSON, to ship to another process or merge with mergeSketches. */
  sketch(): WindowSketch {
    const features: WindowSketch['features'] = {};
    this.profile.features.forEach((f, j) => (features[f.name] = columnSketch(this.features[j]!)));
    return {
      format: 'driftline-window-sketch',
      version: 1,
      profile_id: this.profile.id,
      rows: this.count,
      features,
      prediction: this.prediction === null ? null : columnSketch(this.prediction),
      target: this.target === null ? null : columnSketch(this.target),
    };
  }

  /** @internal Live views of the column states for `snapshot` (no copy; do not mutate). */
  views(): WindowViews {
    return { rows: this.count, features: this.features, prediction: this.prediction, target: this.target };
  }

  /** p5/p50/p95 per time bucket of a feature or of `prediction`, oldest first. */
  quantileTrend(column: string): QuantileTrend {
    let j = this.profile.features.findIndex((f) => f.name === column);
    let ref = this.profile.features[j];
    if (j < 0 && this.profile.prediction !== null && column === this.profile.prediction.name) {
      j = this.nf;
      ref = this.profile.prediction;
    }
    if (ref === undefined) throw new DriftlineError('DL_ERR_REFERENCE', `No column "${column}" in the reference profile`);
    if (ref.categories !== undefined)
      throw new DriftlineError('DL_ERR_REFERENCE', `Column "${column}" holds categories: it has no quantiles`);
    const digest = TDigest.fromJSON(ref.tdigest);
    const trend = this.trends[j]!;
    return {
      column,
      bucket_ms: trend.bucketMs,
      reference: { p5: digest.quantile(0.05), p50: digest.quantile(0.5), p95: digest.quantile(0.95) },
      buckets: trend.buckets(),
    };
  }
}
