import type { RowErrorCode } from '../errors.js';

// Records that flow between stages. A stream carries one Header first, then rows (or batches
// of rows) in input order. Row numbers are 0-based positions among the data rows of the upload
// (the header is not counted), as the original service's pandas index was.

export type InputFormat = 'csv' | 'json' | 'ndjson';

/**
 * Object-mode buffer between stages. Each object is a chunk of rows or a batch (hundreds of
 * rows), so a couple per stage keeps every stage busy while bounding memory to a few chunks.
 */
export const CHUNKS_BUFFERED = 1;

export interface Header {
  kind: 'header';
  format: InputFormat;
  /** Column names in input order (a CSV's header line; the first JSON object's keys). */
  columns: string[];
}

/**
 * A row as parsed: cells by column position, aligned to Header.columns (strings for CSV, JSON
 * values otherwise). A CSV row is csv-parser's own record (`{0: …, 1: …}`), used as is: copying
 * each into an array would cost an allocation per row for nothing.
 */
export type Cells = Readonly<Record<number, unknown>>;

/** A row that could not be used; it is reported, counted and skipped, never fatal. */
export interface RowError {
  kind: 'error';
  index: number;
  /** The offending column, or null when the row as a whole is bad (ragged, unparsable). */
  column: string | null;
  /**
   * The model card's index of the feature whose cell was rejected (column may be an alias);
   * absent when the error is not about a feature cell. Data quality counts the row against it.
   */
  feature?: number;
  /** Stable, for clients to match on (docs/errors.md); `message` is for people. */
  code: RowErrorCode;
  message: string;
}

/**
 * A JSON or NDJSON row whose keys are not the header's (the first row's): other spellings of the
 * columns (a feature's alias), a key more or fewer. Its names are resolved by validation, row by
 * row; a row with the header's keys, in any order, is aligned Cells instead.
 */
export interface KeyedRow {
  kind: 'keyed';
  keys: string[];
  values: unknown[];
}

/**
 * Rows travel in chunks (all the rows one input chunk held), not one stream object each: an
 * object-mode stream costs a few hundred ns per object per stage, more than validating a row.
 * Row numbers are consecutive within a chunk: `rows[i]` is row `first + i`.
 */
export interface Rows {
  kind: 'rows';
  first: number;
  rows: (Cells | RowError | KeyedRow)[];
}

/**
 * CSV rows that the byte-level fast path split (src/stages/csv-spans.ts): every row has the
 * header's cell count, and cell `c` of row `r` is the bytes of `buf` from `bounds[r * (n + 1) + c]`
 * up to one before `bounds[r * (n + 1) + c + 1]` (the comma, or the line's end plus one). No
 * string or object is made per row: validation reads numbers straight from the bytes.
 */
export interface CsvSpans {
  kind: 'spans';
  first: number;
  /** Rows in the chunk; row `first + r` is the r-th. */
  rows: number;
  /** Cells per row (the header's). */
  n: number;
  buf: Buffer;
  bounds: Int32Array;
  /** Whether every byte of these rows is ASCII (their bytes are then their text's UTF-8 as is). */
  ascii: boolean;
}

/**
 * A valid row's input as kept for output that echoes it: csv-parser's cells, or the span chunk
 * the row came in (its row there in RowBlock.spanRow): no object per row on the fast path.
 */
export type KeptCells = Cells | CsvSpans;

export type Parsed = Header | Rows;

/** What a parser gives a reader that takes spans (validation): CSV's fast path included. */
export type ParsedOrSpans = Parsed | CsvSpans;

export const isRowError = (r: Cells | RowError | KeyedRow): r is RowError => (r as { kind?: unknown }).kind === 'error';
export const isKeyedRow = (r: Cells | RowError | KeyedRow): r is KeyedRow => (r as { kind?: unknown }).kind === 'keyed';

/**
 * Validated rows, column-wise: the valid rows' features packed row-major into one Float32Array
 * (the model's input), per-row data in typed arrays, and the rejected rows beside them. Keeping
 * rows out of per-row objects keeps a bulk upload's garbage young and its memory flat.
 */
export interface RowBlock {
  /** Items in input order, valid and rejected. */
  count: number;
  /** Per item: 1 for a valid row, 0 for a rejected one. */
  valid: Uint8Array;
  /** Valid rows, i.e. rows in `features`. */
  rows: number;
  nFeatures: number;
  /** rows × nFeatures, in model-card order (a string feature's slot is unused: NaN). */
  features: Float32Array;
  /** String features per row (the card's, in card order); 0 for a numeric model. */
  nStrings: number;
  /** rows × nStrings, row-major: the string features' values; null when the card has none. */
  strings: string[] | null;
  /** Per valid row: its row number. */
  rowIndex: Int32Array;
  /** Per valid row: the label when the upload has a target column, else NaN. */
  targets: Float64Array;
  /** Per valid row: a user-supplied `id` cell (feedback can refer to it); null without one. */
  ids: (string | null)[] | null;
  /** Per valid row: the input cells, kept only when the output echoes them (CSV). */
  cells: KeptCells[] | null;
  /** With cells kept, per valid row: its row in `cells[r]` when that is a span chunk, else -1. */
  spanRow: Int32Array | null;
  /** Per rejected item, in input order. */
  errors: RowError[];
}

export type Validated = Header | ({ kind: 'block' } & RowBlock);

/** Per-row results of a batch, parallel to the batch's valid rows. */
export interface BatchResults {
  probabilities: Float32Array;
  /** Time the batch waited for the model and ran in it. */
  queueMs: number;
  computeMs: number;
}

/** A micro-batch: up to N items in input order; its `features` are one model run's input. */
export interface Batch extends RowBlock {
  kind: 'batch';
  seq: number;
  results?: BatchResults;
  /** Prediction-log ids of the valid rows, once logged. */
  logIds?: { first: number; count: number };
}

export type Batched = Header | Batch;
