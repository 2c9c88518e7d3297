import type { Transform } from 'node:stream';
import type { AppendInput } from '../store/prediction-log.js';
import { createOrderedStage } from './ordered.js';
import type { Batch, Batched } from './types.js';

export interface LogSink {
  append(input: AppendInput): Promise<{ first: number; count: number }>;
}

export interface LogOptions {
  log: LogSink;
  requestId: string;
  modelVersion: string;
  /** Batches being written at once; each is its own transaction, committed in order. */
  concurrency?: number;
}

/**
 * Header, Batch … → the same, each batch passed on only once its rows are committed to the
 * prediction log: a client never receives a result the log could lose.
 */
export function createLogPredictions(opts: LogOptions): Transform {
  return createOrderedStage<Batched>(async (rec) => {
    if (rec.kind === 'batch') await logBatch(opts, rec);
  }, opts.concurrency ?? 2);
}

/** Appends a predicted batch to the log and records its log ids on it. */
export async function logBatch(opts: Pick<LogOptions, 'log' | 'requestId' | 'modelVersion'>, rec: Batch): Promise<void> {
  if (rec.rows === 0 || rec.results === undefined) return;
  rec.logIds = await opts.log.append({
    ts: Date.now(),
    requestId: opts.requestId,
    modelVersion: opts.modelVersion,
    nFeatures: rec.nFeatures,
    rows: rec.rows,
    features: rec.features,
    probabilities: rec.results.probabilities,
    rowIndex: rec.rowIndex,
    targets: rec.targets,
    extIds: rec.ids,
    ...(rec.strings === null ? {} : { strings: rec.strings }),
  });
}
