// The request lifecycle, one Transform per step:
//
//   bytes ─▶ parse ─▶ validate ─▶ batch ─▶ predict ─▶ log ─▶ sketch ─▶ format ─▶ sink
//            csv      header       N rows    model      SQLite  drift     json |
//            json     checked      or T ms   (worker,   (writer window    ndjson |
//            ndjson   once; rows   → one     shared     thread, O(1)/row  csv
//                     → floats or  Float32   dynamic    one tx
//                     inline error Array     batching)  per batch)
//
// Before parse, the first KiB is checked to be UTF-8 text (a UTF-16 file → 400, whatever the
// format), and each parser bounds its field, row and column sizes (Limits).
//
// Composed with pipeline() from node:stream/promises: backpressure runs end to end (a slow
// reader pauses the upload), any stage's error tears every stage down through one path, and an
// AbortSignal does the same from outside. The log commits whole batches only, so an abort
// leaves it consistent: a batch is in it entirely or not at all.
//
// The order is STAGE_SEQUENCE (sequence.ts), which scoreBuffer (buffer.ts) follows too.
import { Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DriftlineError, toDriftlineError } from '../errors.js';
import { stringFeatures, type ModelCard } from '../model/card.js';
import { createRequireUtf8 } from '../stages/encoding.js';
import { createFormat, type OutputFormat, type Summary } from '../stages/format.js';
import { createLogPredictions, type LogSink } from '../stages/log.js';
import { createMicroBatch } from '../stages/micro-batch.js';
import { createParseCsv } from '../stages/parse-csv.js';
import { createParseJson } from '../stages/parse-json.js';
import { createParseNdjson } from '../stages/parse-ndjson.js';
import { createPredict, type Predictor } from '../stages/predict.js';
import { createUpdateSketches, type SketchSink } from '../stages/sketch.js';
import { CHUNKS_BUFFERED, type Batch, type Batched, type InputFormat } from '../stages/types.js';
import { createValidateRows } from '../stages/validate.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { inSequence } from './sequence.js';
import { PipelineStats, timed } from './stats.js';

export { PipelineStats } from './stats.js';
export { BatchScheduler } from './scheduler.js';
export { DEFAULT_LIMITS } from './limits.js';
export { STAGE_SEQUENCE } from './sequence.js';
export type { StageName } from './sequence.js';
export type { Limits } from './limits.js';
export { scoreBuffer, BUFFERED_INPUTS } from './buffer.js';
export type { BufferOptions } from './buffer.js';
export type { SchedulerOptions, RunInfo } from './scheduler.js';
// What the server and the CLI need of the stages, so that they never import a stage file: the
// formats a request names, the batch a live feed reads, the parsed records the feedback route
// reads with the same parsers, the trailer a failed stream ends with, and the row schema the
// OpenAPI document shows.
export type { Batch, Header, InputFormat, Parsed } from '../stages/types.js';
export type { SketchSink } from '../stages/sketch.js';
export { isKeyedRow, isRowError } from '../stages/types.js';
export type { OutputFormat } from '../stages/format.js';
export { failureTrailer } from '../stages/format.js';
export { createRequireUtf8 } from '../stages/encoding.js';
export { rowSchema } from '../stages/validate.js';

export interface PipelineOptions {
  source: Readable;
  input: InputFormat;
  output: OutputFormat;
  sink: Writable;
  card: ModelCard;
  predictor: Predictor;
  requestId: string;
  batch: { maxRows: number; maxWaitMs: number };
  /** The prediction log; absent means nothing is logged (e.g. `driftline score` without --log). */
  log?: LogSink | undefined;
  /** The drift window; absent means no sketch is updated. */
  window?: SketchSink | undefined;
  limits?: Partial<Limits>;
  signal?: AbortSignal | undefined;
  stats?: PipelineStats;
  /** Fields added to the JSON body / NDJSON summary at the end (e.g. timings). */
  summaryExtra?: () => Record<string, unknown>;
  /** Called for every batch once it has passed all stages (metrics, live push). */
  onBatch?: (batch: Batch) => void;
}

export interface PipelineResult extends Summary {
  stats: PipelineStats;
}

/**
 * The parse stage for a format. With `spans`, CSV's quote-free lines come as CsvSpans, which only
 * validation reads; other readers (feedback) get csv-parser's rows.
 */
export function createParse(input: InputFormat, limits: Limits, opts: { spans?: boolean } = {}): Transform {
  switch (input) {
    case 'csv':
      return createParseCsv({ maxRowBytes: limits.maxFieldBytes, maxColumns: limits.maxColumns, spans: opts.spans === true });
    case 'json':
      return createParseJson({ maxFieldBytes: limits.maxFieldBytes, maxColumns: limits.maxColumns });
    case 'ndjson':
      return createParseNdjson({ maxLineBytes: limits.maxFieldBytes, maxColumns: limits.maxColumns });
  }
}

/** Runs one upload through every stage into `sink`; rejects with a DriftlineError. */
export async function runPipeline(opts: PipelineOptions): Promise<PipelineResult> {
  const stats = opts.stats ?? new PipelineStats();
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const nFeatures = opts.card.features.length;
  let rows = 0;
  let rejected = 0;

  const format = createFormat(opts.output, { card: opts.card, requestId: opts.requestId }, () => ({
    ...(opts.summaryExtra?.() ?? {}),
  }));
  // Batches are counted once they have passed every stage but formatting.
  const count = new Transform({
    objectMode: true,
    highWaterMark: CHUNKS_BUFFERED,
    transform(rec: Batched, _enc, cb: TransformCallback) {
      if (rec.kind === 'batch') {
        stats.batches++;
        rows += rec.rows;
        rejected += rec.count - rec.rows;
        stats.rowsIn += rec.count;
        stats.rowsPredicted += rec.rows;
        stats.rowsRejected += rec.count - rec.rows;
        opts.onBatch?.(rec);
      }
      cb(null, rec);
    },
  });
  const stages = inSequence<Transform[]>({
    parse: [createRequireUtf8(), timed(createParse(opts.input, limits, { spans: true }), 'parse', stats)],
    validate: [timed(createValidateRows(opts.card, { maxRows: limits.maxRows, keepCells: opts.output === 'csv' }), 'validate', stats)],
    batch: [
      timed(
        createMicroBatch({
          nFeatures,
          nStrings: stringFeatures(opts.card).length,
          maxRows: opts.batch.maxRows,
          maxWaitMs: opts.batch.maxWaitMs,
        }),
        'batch',
        stats,
      ),
    ],
    predict: [
      createPredict({
        predictor: opts.predictor,
        onBatch: (b) => {
          stats.queueMs += b.results?.queueMs ?? 0;
          stats.computeMs += b.results?.computeMs ?? 0;
        },
      }),
    ],
    log:
      opts.log === undefined ? [] : [createLogPredictions({ log: opts.log, requestId: opts.requestId, modelVersion: opts.card.version })],
    sketch: opts.window === undefined ? [] : [timed(createUpdateSketches(opts.window), 'sketch', stats)],
    format: [count, timed(format, 'format', stats)],
  }).flat();

  try {
    const streams: (NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream)[] = [opts.source, ...stages, opts.sink];
    await pipeline(streams, opts.signal === undefined ? {} : { signal: opts.signal });
  } catch (err) {
    if (opts.signal?.aborted === true && !(err instanceof DriftlineError)) {
      throw new DriftlineError('DL_ERR_ABORTED', 'The upload was aborted', { cause: err });
    }
    throw toDriftlineError(err);
  }
  return { n_rows: rows, n_rejected: rejected, stats };
}
