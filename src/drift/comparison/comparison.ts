// One column's reference and current, with each intermediate result computed at most once:
// the chosen test and the `stats` block of a snapshot share the same sweep and bins.
import { evidentlyBins, type BinnedShares } from './binning.js';
import { cdfStats, type CdfStats } from './cdf.js';
import type { ColumnView } from '../window/column-state.js';
import { distinctValues, type Pieces } from './pieces.js';
import type { ColumnProfile } from '../types.js';

export class Comparison {
  readonly reference: ColumnProfile;
  readonly pieces: Pieces;
  readonly current: ColumnView | null;
  private cdfMemo: CdfStats | undefined;
  private binsMemo: BinnedShares | undefined;
  private distinctMemo: number | undefined;

  constructor(reference: ColumnProfile, current: ColumnView | null, pieces: Pieces) {
    this.reference = reference;
    this.current = current;
    this.pieces = pieces;
  }

  get n1(): number {
    return this.pieces.n1;
  }

  get n2(): number {
    return this.pieces.n2;
  }

  get cdf(): CdfStats {
    this.cdfMemo ??= cdfStats(this.pieces);
    return this.cdfMemo;
  }

  /** sup |F_ref − F_cur|. */
  get ksStatistic(): number {
    return this.cdf.ksNumer / (this.n1 * this.n2);
  }

  /** Shares on Evidently's PSI / Jensen-Shannon / KL bins, without zero-fill. */
  get binned(): BinnedShares {
    this.binsMemo ??= evidentlyBins(this.pieces, this.reference.type, this.reference.n_unique);
    return this.binsMemo;
  }

  /** Distinct values of ref ∪ cur (pandas nunique of the concatenation). */
  get nValues(): number {
    this.distinctMemo ??= this.current === null ? this.reference.n_unique : distinctValues(this.reference, this.current);
    return this.distinctMemo;
  }
}
