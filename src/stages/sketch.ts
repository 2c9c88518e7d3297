import { Transform, type TransformCallback } from 'node:stream';
import { CHUNKS_BUFFERED, type Batch, type Batched, type RowError } from './types.js';

/** What the sketch stage feeds: the drift window (src/drift's DriftWindow). */
export interface SketchSink {
  /** `logId` is the row's id in the prediction log, when it was logged. */
  /** `strings[stringOffset …]`: the row's string features, for a card that has any. */
  push(
    features: ArrayLike<number>,
    offset: number,
    probability: number,
    target: number,
    at?: number,
    logId?: number,
    strings?: ArrayLike<string>,
    stringOffset?: number,
  ): number;
  /** A row validation rejected, in its place among the pushed rows (data quality counts it). */
  reject?(error: RowError): void;
}

/**
 * Header, Batch … → the same, after adding each predicted row to the drift window. The window
 * update is O(1) per row (src/drift), so this stays on the main thread.
 */
export function createUpdateSketches(window: SketchSink, onBatch?: (rows: number) => void): Transform {
  return new Transform({
    objectMode: true,
    highWaterMark: CHUNKS_BUFFERED,
    transform(rec: Batched, _enc, cb: TransformCallback) {
      if (rec.kind === 'batch' && sketchBatch(window, rec) > 0) onBatch?.(rec.rows);
      cb(null, rec);
    },
  });
}

/** Adds a predicted batch's rows to the window, and its rejected rows to `reject`; returns how many were predicted. */
export function sketchBatch(window: SketchSink, rec: Batch): number {
  if (rec.results === undefined || rec.count === 0) return 0;
  const now = Date.now();
  const f = rec.nFeatures;
  const p = rec.results.probabilities;
  const first = rec.logIds?.first ?? -1;
  const logId = (r: number): number => (first === -1 ? -1 : first + r);
  const strings = rec.strings;
  const ns = rec.nStrings;
  if (window.reject === undefined || rec.errors.length === 0) {
    if (strings === null) for (let r = 0; r < rec.rows; r++) window.push(rec.features, r * f, p[r]!, rec.targets[r]!, now, logId(r));
    else for (let r = 0; r < rec.rows; r++) window.push(rec.features, r * f, p[r]!, rec.targets[r]!, now, logId(r), strings, r * ns);
    return rec.rows;
  }
  // Rejected rows go in their input order among the accepted ones, so the sink's rolling order
  // is the order rows arrived in.
  let r = 0;
  let e = 0;
  for (let i = 0; i < rec.count; i++) {
    if (rec.valid[i] === 1) {
      if (strings === null) window.push(rec.features, r * f, p[r]!, rec.targets[r]!, now, logId(r));
      else window.push(rec.features, r * f, p[r]!, rec.targets[r]!, now, logId(r), strings, r * ns);
      r++;
    } else window.reject(rec.errors[e++]!);
  }
  return rec.rows;
}
