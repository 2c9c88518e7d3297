// Data quality over the last `capacity` rows that arrived, accepted or rejected. The drift
// window holds accepted rows only (a rejected row has no features to bin, nor a prediction), so
// the flags live in a ring of their own beside it: one byte per row and feature, written when
// the row arrives and subtracted from the counts when the ring overwrites it. Arrival and
// eviction are O(features); a snapshot reads the counts and never re-reads the ring.
//
// Validation stops at a row's first bad cell, so a rejected row counts once, against the column
// that rejected it; an accepted row has every feature present and in range, and can only carry
// flags of string columns (missing, a category the reference lacks).
import type { RowErrorCode } from '../errors.js';

export type QualityKind = 'missing' | 'invalid' | 'unseen';

/** Shares over the ring's rows; null where it does not apply (unseen for numeric features) or before any row. */
export interface FeatureQuality {
  missing_share: number | null;
  invalid_share: number | null;
  unseen_share: number | null;
}

export type DataQuality = Record<string, FeatureQuality>;

const NONE = 0;
const CODE: Record<QualityKind, number> = { missing: 1, invalid: 2, unseen: 3 };

/**
 * Which quality kind a row error is, by its code: the one home of that mapping. Errors that name
 * no feature cell (a bad label, a ragged or malformed row, a feature given twice) are none: the
 * row still counts once, in every share's denominator.
 */
export function qualityKindOf(code: RowErrorCode): QualityKind | null {
  switch (code) {
    case 'DL_ERR_ROW_MISSING_VALUE':
    case 'DL_ERR_ROW_EMPTY_VALUE':
      return 'missing';
    case 'DL_ERR_ROW_NOT_A_NUMBER':
    case 'DL_ERR_ROW_OUT_OF_RANGE':
    case 'DL_ERR_ROW_NOT_AN_INTEGER':
      return 'invalid';
    default:
      return null;
  }
}

export class DataQualityRing {
  readonly capacity: number;
  private readonly nf: number;
  /** Row-major ring: per row, one kind code per feature (0 = clean). */
  private readonly flags: Uint8Array;
  /** Per feature, rows of each kind code (index feature·4 + code). */
  private readonly counts: Int32Array;
  private next = 0;
  private count = 0;
  private changes = 0;

  constructor(
    readonly features: readonly string[],
    capacity: number,
    /** Per feature: whether it holds categories (only those have an unseen share). */
    private readonly categorical: readonly boolean[] = features.map(() => false),
  ) {
    this.capacity = capacity;
    this.nf = features.length;
    this.flags = new Uint8Array(capacity * this.nf);
    this.counts = new Int32Array(this.nf * 4);
  }

  get size(): number {
    return this.count;
  }

  get version(): number {
    return this.changes;
  }

  /** Takes a slot for one arriving row, evicting the oldest when full; returns its base offset. */
  private slot(): number {
    const base = (this.next % this.capacity) * this.nf;
    this.next++;
    if (this.count === this.capacity) {
      for (let j = 0; j < this.nf; j++) {
        const k = this.flags[base + j]!;
        if (k !== NONE) this.counts[j * 4 + k]!--;
      }
    } else this.count++;
    this.flags.fill(NONE, base, base + this.nf);
    this.changes++;
    return base;
  }

  /** An accepted row; `flag(j)` gives its string columns' kinds (numeric features are clean). */
  accept(flag?: (j: number) => QualityKind | null): void {
    const base = this.slot();
    if (flag === undefined) return;
    for (let j = 0; j < this.nf; j++) {
      const kind = flag(j);
      if (kind !== null) this.mark(base, j, kind);
    }
  }

  /** A rejected row: `feature` is the index of the column that rejected it, or -1 for none. */
  reject(feature: number, kind: QualityKind | null): void {
    const base = this.slot();
    if (kind !== null && feature >= 0 && feature < this.nf) this.mark(base, feature, kind);
  }

  private mark(base: number, j: number, kind: QualityKind): void {
    const k = CODE[kind];
    this.flags[base + j] = k;
    this.counts[j * 4 + k]!++;
  }

  clear(): void {
    this.flags.fill(NONE);
    this.counts.fill(0);
    this.count = 0;
    this.changes++;
  }

  /** Rows of a kind for one feature. */
  rows(j: number, kind: QualityKind): number {
    return this.counts[j * 4 + CODE[kind]]!;
  }

  shares(): DataQuality {
    const n = this.count;
    const share = (j: number, kind: QualityKind): number | null => (n === 0 ? null : this.rows(j, kind) / n);
    const out: DataQuality = {};
    this.features.forEach((name, j) => {
      out[name] = {
        missing_share: share(j, 'missing'),
        invalid_share: share(j, 'invalid'),
        unseen_share: this.categorical[j] === true ? share(j, 'unseen') : null,
      };
    });
    return out;
  }
}
