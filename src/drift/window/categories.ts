// One string column of the window. Strings are coded at the boundary: a reference category
// gets its index in the profile's sorted list, so it lands on its frozen bin; a category the
// reference never had gets a window-local code above them, held while any row in the window
// carries it and freed when the last one leaves. The codes are then counted by ColumnState
// like any numeric value (beyond the reference maximum, so exactly, in `extras`): adding and
// removing a row stay O(1), and every categorical statistic sees one cell per category.
import { DriftlineError } from '../../errors.js';
import { isMissingCategory } from '../reference/profile.js';
import type { ColumnProfile } from '../types.js';
import { ColumnState, EXTRA_VALUES_CAP } from './column-state.js';

/**
 * Distinct unseen categories coded one by one; rows of any further one share a single code.
 * With the shared code, every code fits in ColumnState's exact `extras`. The defaults lose
 * nothing by it: chi-square's p is 0 with any unseen category, Jensen-Shannon adds
 * ln 2 · (their share) however the share is split, and 512 values are far past the 2 of the
 * z-test. Only PSI and KL (overrides) see the lumped rows as one category.
 */
export const UNSEEN_CATEGORIES_CAP = EXTRA_VALUES_CAP - 1;

/** What the shared code is shown as. */
export const OTHER_UNSEEN_LABEL = '(other unseen categories)';

export class CategoryState extends ColumnState {
  readonly categories: readonly string[];
  private readonly known: ReadonlyMap<string, number>;
  private readonly k: number;
  private readonly unseen = new Map<string, number>();
  /** By code − k: the unseen category holding the code, and the window rows carrying it. */
  private names: (string | undefined)[] = [];
  private rows: number[] = [];
  private free: number[] = [];

  constructor(profile: ColumnProfile) {
    super(profile);
    if (profile.categories === undefined) throw new DriftlineError('DL_ERR_REFERENCE', `Column ${profile.name} has no categories`);
    this.categories = profile.categories;
    this.known = new Map(profile.categories.map((c, i) => [c, i]));
    this.k = profile.categories.length;
  }

  /** The code shared by unseen categories beyond the cap. */
  private get otherCode(): number {
    return this.k + UNSEEN_CATEGORIES_CAP;
  }

  /**
   * The code of one row's string, counted as held by that row until `removeCode` takes the row
   * out; NaN (missing, not counted) for null, undefined or ''. Call `add` with the result.
   */
  encode(s: string | null | undefined): number {
    if (isMissingCategory(s)) return Number.NaN;
    const known = this.known.get(s);
    if (known !== undefined) return known;
    let code = this.unseen.get(s);
    if (code === undefined) {
      if (this.unseen.size >= UNSEEN_CATEGORIES_CAP) code = this.otherCode;
      else {
        code = this.free.pop() ?? this.k + this.unseen.size;
        this.unseen.set(s, code);
        this.names[code - this.k] = s;
      }
    }
    this.rows[code - this.k] = (this.rows[code - this.k] ?? 0) + 1;
    return code;
  }

  /** The category a code stands for. */
  labelOf(code: number): string {
    if (code < this.k) return this.categories[code]!;
    return code === this.otherCode ? OTHER_UNSEEN_LABEL : (this.names[code - this.k] ?? OTHER_UNSEEN_LABEL);
  }

  /** Unseen categories and their rows (the shared code as null), for a sketch. */
  unseenRows(): [string | null, number][] {
    const out: [string | null, number][] = [];
    this.rows.forEach((n, i) => {
      if (n > 0) out.push([this.k + i === this.otherCode ? null : this.names[i]!, n]);
    });
    return out;
  }

  /** Adds `n` rows of one category (a sketch read back); null is the shared code. */
  addRows(category: string | null, n: number): void {
    for (let r = 0; r < n; r++) {
      let code: number;
      if (category === null) {
        code = this.otherCode;
        this.rows[UNSEEN_CATEGORIES_CAP] = (this.rows[UNSEEN_CATEGORIES_CAP] ?? 0) + 1;
      } else code = this.encode(category);
      this.add(code);
    }
  }

  override removeCode(x: number, code: number): void {
    super.removeCode(x, code);
    if (!(x >= this.k)) return;
    const i = x - this.k;
    const left = this.rows[i]! - 1;
    this.rows[i] = left;
    if (left === 0 && x !== this.otherCode) {
      this.unseen.delete(this.names[i]!);
      this.names[i] = undefined;
      this.free.push(x);
    }
  }

  override clear(): void {
    super.clear();
    this.unseen.clear();
    this.names = [];
    this.rows = [];
    this.free = [];
  }
}

/** The live state of a profile column: string columns code their strings. */
export function columnState(profile: ColumnProfile): ColumnState {
  return profile.categories === undefined ? new ColumnState(profile) : new CategoryState(profile);
}
