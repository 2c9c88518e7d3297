import type { Statement } from 'better-sqlite3';
import { decision, riskLevel, type ModelCard } from '../model/card.js';
import { openDatabase, type Db } from './db.js';
import * as sql from './log-sql.js';

/** One prediction as logged. */
export interface LoggedRow {
  id: number;
  ts: number;
  request_id: string;
  row: number;
  model_version: string;
  features: number[];
  probability: number;
  prediction: number;
  risk_level: string;
  /** The label: from feedback if any arrived, else from the upload's target column, else null. */
  target: number | null;
  ext_id: string | null;
}

/** A row as the drift window needs it when rebuilt from the log at start-up. */
export interface WindowRow {
  id: number;
  ts: number;
  features: Float32Array;
  probability: number;
  target: number;
  /** The row's string features (card order), when its model has any. */
  strings?: string[] | undefined;
}

/** One logged batch as the database returns it (the PostgreSQL log's rows add a position). */
export interface BatchRow {
  first_id: number;
  rows: number;
  ts: number;
  request_id: string;
  model_version: string;
  n_features: number;
  decision_threshold: number;
  risk_high: number;
  risk_medium: number;
  row_index: Buffer;
  features: Buffer;
  probabilities: Buffer;
  targets: Buffer;
  ext_ids: string | null;
  /** Absent before the migration that added it; NULL for a numeric model. */
  strings?: string | null;
}

/** A typed view of a BLOB. better-sqlite3's Buffers may sit unaligned in a pool, so copy. */
function view<T extends Float32Array | Float64Array | Int32Array>(b: Buffer, Ctor: { new (buf: ArrayBuffer): T }): T {
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Ctor(copy.buffer);
}

/** A logged batch, decoded: what either store reads rows from. */
export interface DecodedBatch {
  /** Row ids first … first + rows − 1. */
  first: number;
  rows: number;
  ts: number;
  requestId: string;
  modelVersion: string;
  nFeatures: number;
  /** The thresholds logged with the batch, in the card's shape: a row is read with the rules of its time. */
  rules: Pick<ModelCard, 'decision_threshold' | 'risk_levels'>;
  rowIndex: Int32Array;
  features: Float32Array;
  probabilities: Float32Array;
  /** The uploaded labels (NaN if none), with feedback labels applied where a reader read them. */
  targets: Float64Array;
  extIds: (string | null)[] | null;
  /** rows × the card's string features, row-major; null (or absent) for a numeric model. */
  strings?: string[] | null;
}

/** Row `r` of a decoded batch as the API shows a logged prediction (one home for both stores). */
export function loggedRow(d: DecodedBatch, r: number): LoggedRow {
  const p = d.probabilities[r]!;
  const t = d.targets[r]!;
  const f = d.nFeatures;
  return {
    id: d.first + r,
    ts: d.ts,
    request_id: d.requestId,
    row: d.rowIndex[r]!,
    model_version: d.modelVersion,
    features: Array.from(d.features.subarray(r * f, (r + 1) * f)),
    probability: p,
    prediction: decision(d.rules, p),
    risk_level: riskLevel(d.rules, p),
    target: Number.isNaN(t) ? null : t,
    ext_id: d.extIds?.[r] ?? null,
  };
}

/** Row `r` of a decoded batch as the drift window takes it back (one home for both stores). */
export function windowRow(d: DecodedBatch, r: number): WindowRow {
  const f = d.nFeatures;
  const row: WindowRow = {
    id: d.first + r,
    ts: d.ts,
    features: d.features.subarray(r * f, (r + 1) * f),
    probability: d.probabilities[r]!,
    target: d.targets[r]!,
  };
  const s = d.strings;
  if (s !== undefined && s !== null) {
    const ns = s.length / d.rows;
    row.strings = s.slice(r * ns, (r + 1) * ns);
  }
  return row;
}

/** A batch's columns decoded from their packed bytes (shared by both stores). */
export function decodeBatch(b: BatchRow): DecodedBatch {
  return {
    first: b.first_id,
    rows: b.rows,
    ts: b.ts,
    requestId: b.request_id,
    modelVersion: b.model_version,
    nFeatures: b.n_features,
    rules: { decision_threshold: b.decision_threshold, risk_levels: { high: b.risk_high, medium: b.risk_medium } },
    rowIndex: view(b.row_index, Int32Array),
    features: view(b.features, Float32Array),
    probabilities: view(b.probabilities, Float32Array),
    targets: view(b.targets, Float64Array),
    extIds: b.ext_ids === null ? null : (JSON.parse(b.ext_ids) as (string | null)[]),
    strings: b.strings === undefined || b.strings === null ? null : (JSON.parse(b.strings) as string[]),
  };
}

/**
 * Reads the prediction log (one SQLite row per batch, values packed in BLOBs) as rows. Reads
 * page through batches rather than hold a cursor open, which would keep a shared connection
 * busy between awaits.
 */
export class LogReader {
  private readonly st: Record<'bounds' | 'newest' | 'holding' | 'after' | 'byRequest' | 'byExt' | 'labels', Statement>;

  constructor(private readonly db: Db) {
    this.st = {
      bounds: db.prepare(sql.BOUNDS),
      newest: db.prepare(sql.BEFORE),
      holding: db.prepare(sql.HOLDING),
      after: db.prepare(sql.AFTER),
      byRequest: db.prepare(sql.BY_REQUEST),
      byExt: db.prepare(sql.BY_EXT_ID).pluck(),
      labels: db.prepare(sql.LABELS_IN),
    };
  }

  static open(file: string): LogReader {
    return new LogReader(openDatabase(file, { readonly: true }));
  }

  close(): void {
    this.db.close();
  }

  /** Rows in the log: ids are contiguous, so no scan. */
  count(): number {
    const b = this.st.bounds.get() as { lo: number | null; hi: number | null };
    return b.lo === null || b.hi === null ? 0 : b.hi - b.lo;
  }

  private decode(batch: BatchRow): DecodedBatch {
    const d = decodeBatch(batch);
    for (const l of this.st.labels.all(batch.first_id, batch.first_id + batch.rows) as { id: number; target: number }[]) {
      d.targets[l.id - batch.first_id] = l.target;
    }
    return d;
  }

  /** Batches from the newest back, until `limit` rows are covered. */
  private *backwards(limit: number): Generator<DecodedBatch> {
    let before = Number.MAX_SAFE_INTEGER;
    for (let got = 0; got < limit;) {
      const batch = this.st.newest.get(before) as BatchRow | undefined;
      if (batch === undefined) return;
      got += batch.rows;
      before = batch.first_id;
      yield this.decode(batch);
    }
  }

  /** The newest rows, newest first. */
  recent(limit: number): LoggedRow[] {
    const out: LoggedRow[] = [];
    for (const d of this.backwards(limit)) {
      for (let r = d.rows - 1; r >= 0 && out.length < limit; r--) out.push(loggedRow(d, r));
    }
    return out;
  }

  /** The last `n` rows, oldest first: what the drift window held before a restart. */
  tail(n: number): WindowRow[] {
    const out: WindowRow[] = [];
    for (const d of this.backwards(n)) {
      for (let r = d.rows - 1; r >= 0 && out.length < n; r--) out.push(windowRow(d, r));
    }
    return out.reverse();
  }

  /** Up to `limit` rows with ids after `afterId`, in id order. */
  page(afterId: number, limit: number): LoggedRow[] {
    const out: LoggedRow[] = [];
    let after = afterId;
    while (out.length < limit) {
      let batch = this.st.holding.get(after + 1) as BatchRow | undefined;
      if (batch === undefined || batch.first_id + batch.rows <= after + 1) batch = this.st.after.get(after) as BatchRow | undefined;
      if (batch === undefined) break;
      const d = this.decode(batch);
      for (let r = Math.max(0, after + 1 - batch.first_id); r < batch.rows && out.length < limit; r++) out.push(loggedRow(d, r));
      after = batch.first_id + batch.rows - 1;
    }
    return out;
  }

  /** Log ids for (request_id, row) pairs; pairs not logged are absent from the map. */
  findByRequestRow(pairs: readonly { requestId: string; row: number }[]): Map<string, number> {
    const out = new Map<string, number>();
    const byRequest = new Map<string, Set<number>>();
    for (const p of pairs) {
      let rows = byRequest.get(p.requestId);
      if (rows === undefined) byRequest.set(p.requestId, (rows = new Set()));
      rows.add(p.row);
    }
    for (const [requestId, rows] of byRequest) {
      for (const b of this.st.byRequest.all(requestId) as Pick<BatchRow, 'first_id' | 'rows' | 'row_index'>[]) {
        const index = view(b.row_index, Int32Array);
        for (let r = 0; r < b.rows; r++) if (rows.has(index[r]!)) out.set(`${requestId}#${index[r]}`, b.first_id + r);
      }
    }
    return out;
  }

  /** Log ids for user-supplied `id` values (the newest row when an id was sent twice). */
  findByExtId(ids: readonly string[]): Map<string, number> {
    const out = new Map<string, number>();
    for (const id of ids) {
      const found = this.st.byExt.get(id) as number | null;
      if (found !== null) out.set(id, found);
    }
    return out;
  }
}
