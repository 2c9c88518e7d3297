// Every error the service reports carries a stable code and an HTTP status. Codes are part of
// the public contract (clients match on them), so they are listed once here and documented in
// docs/errors.md; test/errors-docs.test.ts keeps the two in step.

export const ERROR_CODES = {
  DL_ERR_CONFIG: { status: 500, summary: 'A configuration value is invalid; start-up stops and lists every problem.' },
  DL_ERR_MODEL_LOAD: { status: 500, summary: 'The model file is missing, corrupt, or does not match its model card.' },
  DL_ERR_MODEL_CARD: { status: 500, summary: 'The model card (card.json) is missing or fails validation.' },
  DL_ERR_MODEL_OUTPUT: {
    status: 500,
    summary: 'The model has an output that is not a tensor (e.g. a skl2onnx ZipMap), or the probability output has the wrong shape.',
  },
  DL_ERR_MODEL_INPUT: {
    status: 500,
    summary:
      'The model has an input the service cannot feed: a string (categorical) input, not yet supported; an element type other than float32, float64 or int64; a shape other than [N, k]; or an input the card does not map.',
  },
  DL_ERR_INIT_TARGET: {
    status: 400,
    summary: '`driftline init`: the target column is not in the data, or holds anything but the two classes 0 and 1.',
  },
  DL_ERR_INIT_COLUMNS: {
    status: 400,
    summary:
      "`driftline init`: a feature (from --features, or an ONNX input of the same name) has no column in the data, or the number of features differs from the ONNX input's width.",
  },
  DL_ERR_INIT_OUT_EXISTS: {
    status: 409,
    summary: '`driftline init`: the output directory already holds a model (model.onnx or card.json); pass --force to replace it.',
  },
  DL_ERR_INFERENCE: { status: 500, summary: 'The inference worker failed while running a batch, or was closed.' },
  DL_ERR_UWS_FALLBACK: {
    status: 500,
    summary: 'uWebSockets.js fell back to its JavaScript implementation and ALLOW_UWS_FALLBACK is not set.',
  },
  DL_ERR_SCHEMA_MISSING_COLUMNS: { status: 400, summary: 'The upload lacks one or more feature columns of the model card.' },
  DL_ERR_BAD_INPUT: { status: 400, summary: 'The body cannot be parsed in the declared format (malformed CSV, JSON or NDJSON).' },
  DL_ERR_BAD_ENCODING: {
    status: 400,
    summary: 'The body is not UTF-8 text: it starts with a UTF-16 or UTF-32 byte-order mark, or has NUL bytes in its first KiB.',
  },
  DL_ERR_EMPTY_BODY: { status: 400, summary: 'The request body is empty or holds no header.' },
  DL_ERR_NO_FILE: { status: 400, summary: 'A multipart upload has no `file` field (or more than one).' },
  DL_ERR_MULTIPART_LIMIT: {
    status: 413,
    summary:
      'A multipart upload has more parts (128) or non-file fields (64) than are read before its `file` field; the response names the limit.',
  },
  DL_ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    summary: 'The Content-Type is not one of multipart/form-data, text/csv, application/json, application/x-ndjson.',
  },
  DL_ERR_BAD_FRAMING: {
    status: 400,
    summary:
      'The request body is framed ambiguously: more than one Content-Length, Content-Length with Transfer-Encoding, or a Transfer-Encoding other than one `chunked`; the connection is closed.',
  },
  DL_ERR_NOT_ACCEPTABLE: { status: 406, summary: 'The Accept header names no format the route can produce.' },
  DL_ERR_PAYLOAD_TOO_LARGE: { status: 413, summary: 'The body (or the multipart file) exceeds MAX_UPLOAD_BYTES.' },
  DL_ERR_FIELD_TOO_LARGE: {
    status: 413,
    summary: 'A CSV row, an NDJSON line or a single JSON value (string, number or key) exceeds MAX_FIELD_BYTES.',
  },
  DL_ERR_TOO_MANY_COLUMNS: { status: 413, summary: 'The CSV header, or a JSON/NDJSON row, has more columns than MAX_COLUMNS.' },
  DL_ERR_TOO_MANY_ROWS: { status: 413, summary: 'The upload has more rows than MAX_ROWS_PER_REQUEST.' },
  DL_ERR_TOO_MANY_REQUESTS: {
    status: 429,
    summary: 'More uploads are in flight than MAX_CONCURRENT_UPLOADS; retry after the Retry-After delay.',
  },
  DL_ERR_TIMEOUT: {
    status: 408,
    summary:
      'An upload made no progress for longer than REQUEST_IDLE_TIMEOUT_MS (the client sent no body data and read none of the response), or its body arrived slower than REQUEST_MIN_RECEIVE_RATE over REQUEST_RECEIVE_WINDOW_MS.',
  },
  DL_ERR_ORIGIN_NOT_ALLOWED: { status: 403, summary: 'A WebSocket upgrade comes from an Origin that WS_ALLOWED_ORIGINS does not list.' },
  DL_ERR_UNAUTHORIZED: { status: 401, summary: 'API_KEY is set and the request has no valid `Authorization: Bearer <key>`.' },
  DL_ERR_NOT_FOUND: { status: 404, summary: 'No route, or no such resource.' },
  DL_ERR_METHOD_NOT_ALLOWED: { status: 405, summary: 'The route exists but not for this method.' },
  DL_ERR_NOT_READY: { status: 503, summary: 'The model or the store is still loading, or the service is shutting down.' },
  DL_ERR_FEEDBACK_UNKNOWN_IDS: { status: 404, summary: 'Feedback names predictions that are not in the log (the ids are listed).' },
  DL_ERR_ABORTED: { status: 499, summary: 'The client went away or the operation was aborted before it finished.' },
  DL_ERR_DRIFT_UNKNOWN_TEST: { status: 500, summary: 'A drift configuration names a statistical test that is not registered.' },
  DL_ERR_REFERENCE: { status: 500, summary: 'The reference profile is missing, invalid, or does not match the model card.' },
  DL_ERR_STORE_CORRUPT: {
    status: 500,
    summary:
      'SQLite reports the database file damaged (SQLITE_CORRUPT or SQLITE_NOTADB): the failure is logged at error level, /ready answers 503; stop the service and run PRAGMA integrity_check on the file.',
  },
  DL_ERR_STORE_UNAVAILABLE: {
    status: 503,
    summary:
      'The shared prediction log (PostgreSQL, DATABASE_URL) cannot be reached, so nothing can be committed or read: nothing of the request was acknowledged; retry after the Retry-After delay. /ready answers 503 meanwhile.',
  },
  DL_ERR_INTERNAL: { status: 500, summary: 'An unexpected failure; the log holds the details.' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Codes of row errors. A rejected row does not fail its request: it is listed in the 200's
 * `errors` (or an NDJSON error line) as `{row, column, code, message}`, so these carry no HTTP
 * status. Documented in docs/errors.md beside the request codes.
 */
export const ROW_ERROR_CODES = {
  DL_ERR_ROW_MISSING_VALUE: 'A JSON or NDJSON row has no key for a feature column (under its name or any alias).',
  DL_ERR_ROW_EMPTY_VALUE: 'A feature cell is empty, blank or null.',
  DL_ERR_ROW_NOT_A_NUMBER: 'A feature cell is not a decimal number (text, hex, a boolean, NaN, Infinity…).',
  DL_ERR_ROW_NOT_A_STRING: 'A string (categorical) feature cell is neither text nor a number (a JSON object, array or boolean).',
  DL_ERR_ROW_OUT_OF_RANGE: "A feature value is outside the model card's range, or does not fit a float32.",
  DL_ERR_ROW_NOT_AN_INTEGER: 'An integer feature holds a fraction.',
  DL_ERR_ROW_BAD_LABEL: 'The target column holds something other than 0, 1 or nothing.',
  DL_ERR_ROW_WRONG_CELL_COUNT: 'A CSV row has more or fewer cells than the header.',
  DL_ERR_ROW_DUPLICATE_COLUMN:
    'A JSON or NDJSON row gives one feature twice, under two of its names (e.g. `credit_limit` and `LIMIT_BAL`).',
  DL_ERR_ROW_MALFORMED:
    'An NDJSON line is not a JSON object, a JSON array element is not a row object, or a cell holds a nested object or array.',
} as const satisfies Record<string, string>;

export type RowErrorCode = keyof typeof ROW_ERROR_CODES;

export class DriftlineError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Structured, client-safe details (never secrets). */
  readonly details: Record<string, unknown> | undefined;
  /** Seconds after which a retry may succeed; an HTTP answer carries it as Retry-After. */
  readonly retryAfterS: number | undefined;

  constructor(code: ErrorCode, message: string, options?: { details?: Record<string, unknown>; cause?: unknown; retryAfterS?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DriftlineError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = options?.details;
    this.retryAfterS = options?.retryAfterS;
  }

  toJSON(): { code: ErrorCode; detail: string } & Record<string, unknown> {
    return { detail: this.message, code: this.code, ...(this.details ?? {}) };
  }
}

export function isDriftlineError(err: unknown): err is DriftlineError {
  return err instanceof DriftlineError;
}

/** Wraps anything thrown into a DriftlineError, keeping typed errors as they are. */
export function toDriftlineError(err: unknown, fallback: ErrorCode = 'DL_ERR_INTERNAL'): DriftlineError {
  if (err instanceof DriftlineError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new DriftlineError(fallback, message, { cause: err });
}
