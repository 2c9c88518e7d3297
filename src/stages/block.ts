import type { KeptCells, RowBlock, RowError } from './types.js';

/** Fills a RowBlock row by row; validation writes features straight into its Float32Array. */
export class BlockBuilder {
  readonly features: Float32Array;
  /** capacity × nStrings; validation writes a row's strings at `stringOffset` before commit. */
  readonly strings: string[] | null;
  readonly nStrings: number;
  private readonly valid: Uint8Array;
  private readonly rowIndex: Int32Array;
  private readonly targets: Float64Array;
  private readonly ids: (string | null)[] | null;
  private readonly cells: KeptCells[] | null;
  private readonly spanRow: Int32Array | null;
  private readonly errors: RowError[] = [];
  count = 0;
  rows = 0;

  constructor(
    readonly nFeatures: number,
    readonly capacity: number,
    opts: { cells: boolean; ids: boolean; nStrings?: number },
  ) {
    this.features = new Float32Array(capacity * nFeatures);
    this.nStrings = opts.nStrings ?? 0;
    // Nothing allocated for a numeric model: its rows cost what they did before strings.
    this.strings = this.nStrings > 0 ? new Array<string>(capacity * this.nStrings) : null;
    this.valid = new Uint8Array(capacity);
    this.rowIndex = new Int32Array(capacity);
    this.targets = new Float64Array(capacity);
    this.ids = opts.ids ? [] : null;
    this.cells = opts.cells ? [] : null;
    this.spanRow = opts.cells ? new Int32Array(capacity) : null;
  }

  get full(): boolean {
    return this.count >= this.capacity;
  }

  /** Offset in `features` where the next valid row's values go. */
  get offset(): number {
    return this.rows * this.nFeatures;
  }

  /** Offset in `strings` where the next valid row's string values go. */
  get stringOffset(): number {
    return this.rows * this.nStrings;
  }

  /** Accepts the row whose features were just written at `offset`. */
  /** `spanRow`: the row's place in `cells` when that is its span chunk. */
  commit(index: number, target: number, id: string | null, cells: KeptCells | undefined, spanRow = -1): void {
    this.valid[this.count++] = 1;
    this.rowIndex[this.rows] = index;
    this.targets[this.rows] = target;
    this.ids?.push(id);
    if (this.cells !== null) {
      this.cells.push(cells ?? []);
      this.spanRow![this.rows] = spanRow;
    }
    this.rows++;
  }

  reject(err: RowError): void {
    this.valid[this.count++] = 0;
    this.errors.push(err);
  }

  /** Copies valid row `r` of another block in. */
  copyRow(from: RowBlock, r: number): void {
    const f = this.nFeatures;
    const src = from.features;
    const dst = this.features;
    const a = r * f;
    const b = this.rows * f;
    for (let j = 0; j < f; j++) dst[b + j] = src[a + j]!;
    const ns = this.nStrings;
    if (ns > 0) {
      const src = from.strings!;
      const dst = this.strings!;
      const at = this.rows * ns;
      for (let s = 0; s < ns; s++) dst[at + s] = src[r * ns + s]!;
    }
    this.commit(from.rowIndex[r]!, from.targets[r]!, from.ids?.[r] ?? null, from.cells?.[r], from.spanRow?.[r] ?? -1);
  }

  build(): RowBlock {
    const n = this.rows;
    return {
      count: this.count,
      valid: this.valid.subarray(0, this.count),
      rows: n,
      nFeatures: this.nFeatures,
      features: this.features.subarray(0, n * this.nFeatures),
      nStrings: this.nStrings,
      strings: this.strings === null ? null : this.strings.slice(0, n * this.nStrings),
      rowIndex: this.rowIndex.subarray(0, n),
      targets: this.targets.subarray(0, n),
      ids: this.ids,
      cells: this.cells,
      spanRow: this.spanRow === null ? null : this.spanRow.subarray(0, n),
      errors: this.errors,
    };
  }
}
