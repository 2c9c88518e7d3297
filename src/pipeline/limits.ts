/** Bounds on one upload, from the service's configuration (MAX_FIELD_BYTES, MAX_COLUMNS, MAX_ROWS_PER_REQUEST). */
export interface Limits {
  /** Largest CSV row / JSON value / NDJSON line, in bytes. */
  maxFieldBytes: number;
  maxColumns: number;
  maxRows: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxFieldBytes: 64 * 1024 * 1024,
  maxColumns: 100_000,
  maxRows: Number.MAX_SAFE_INTEGER,
};
