import { decodeBatch, type BatchRow as SqliteBatchRow, type DecodedBatch } from '../log-reader.js';
import pg from 'pg';

/** A committed batch as followers receive it: its place in the log and its decoded values. */
export interface CommittedBatch extends DecodedBatch {
  position: number;
}

export interface BatchRow extends SqliteBatchRow {
  position: number;
}

/** The uploaded labels only: labels sent later by feedback are not applied here. */
export function decode(b: BatchRow): CommittedBatch {
  return { ...decodeBatch(b), position: b.position };
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
