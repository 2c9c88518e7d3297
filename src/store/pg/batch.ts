import type { BatchRow as SqliteBatchRow } from '../log-reader.js';
import pg from 'pg';
import type { ModelCard } from '../../model/card.js';

/** A committed batch as followers receive it: its place in the log and its decoded values. */
export interface CommittedBatch {
  position: number;
  /** Row ids first … first + rows − 1. */
  first: number;
  rows: number;
  ts: number;
  requestId: string;
  modelVersion: string;
  nFeatures: number;
  /** The cut-offs logged with the batch: a row is read with the rules of its time. */
  rules: Pick<ModelCard, 'decision_threshold' | 'risk_levels'>;
  rowIndex: Int32Array;
  features: Float32Array;
  probabilities: Float32Array;
  /** The uploaded labels (NaN if none); labels sent later by feedback are not applied here. */
  targets: Float64Array;
  extIds: (string | null)[] | null;
}

export interface BatchRow extends Omit<SqliteBatchRow, 'strings'> {
  position: number;
}

/** A typed copy of a bytea: node-postgres's Buffers may sit unaligned. */
function view<T extends Float32Array | Float64Array | Int32Array>(b: Buffer, Ctor: { new (buf: ArrayBuffer): T }): T {
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Ctor(copy.buffer);
}

export function decode(b: BatchRow): CommittedBatch {
  return {
    position: b.position,
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
  };
}

const INT8 = 20;
/**
 * BIGINT columns as numbers: positions and row ids stay far below 2^53 (a million rows a
 * second for 285 years), and every other part of driftline counts rows in numbers.
 */
export const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary'
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};
