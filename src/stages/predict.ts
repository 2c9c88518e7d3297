import type { Transform } from 'node:stream';
import { createOrderedStage } from './ordered.js';
import type { Batch, Batched, BatchResults } from './types.js';

/** Whatever runs the model: the shared dynamic-batching scheduler, or an engine directly. */
export interface Predictor {
  /** `strings`: rows × the card's string features, for a model that has any. */
  predict(features: Float32Array, rows: number, strings?: string[]): Promise<BatchResults>;
}

export interface PredictOptions {
  predictor: Predictor;
  /** Batches of one stream in flight at once, so the next is queued while one runs. */
  concurrency?: number;
  onBatch?: (batch: Batch) => void;
}

/** Header, Batch … → the same, each batch with `results` (P(class 1) per valid row). */
export function createPredict(opts: PredictOptions): Transform {
  return createOrderedStage<Batched>(async (rec) => {
    if (rec.kind !== 'batch') return;
    rec.results =
      rec.rows === 0
        ? { probabilities: new Float32Array(0), queueMs: 0, computeMs: 0 }
        : await opts.predictor.predict(rec.features, rec.rows, rec.strings ?? undefined);
    opts.onBatch?.(rec);
  }, opts.concurrency ?? 3);
}
