// A whole small body, scored without streams: the same cores as the stream stages (parse,
// validate, batch, predict, log, sketch, format) called in turn. A five-row request through ten
// object-mode streams spends more time in stream machinery than in scoring; this path gives the
// same answer for a fraction of that cost (bench/sections/small.ts).
import { DriftlineError } from '../errors.js';
import type { ModelCard } from '../model/card.js';
import { notUtf8, SNIFF_BYTES } from '../stages/encoding.js';
import { Formatter, type OutputFormat, type Summary } from '../stages/format.js';
import { logBatch, type LogSink } from '../stages/log.js';
import { Batcher } from '../stages/micro-batch.js';
import { CsvParseCore } from '../stages/parse-csv.js';
import { RowGatherer } from '../stages/gather.js';
import { NdjsonLineParser } from '../stages/parse-ndjson.js';
import type { Predictor } from '../stages/predict.js';
import { sketchBatch, type SketchSink } from '../stages/sketch.js';
import type { Batch, InputFormat, Parsed } from '../stages/types.js';
import { ChunkValidator } from '../stages/validate.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';

/** Input formats whose parsers run synchronously over a buffer. */
export const BUFFERED_INPUTS: ReadonlySet<InputFormat> = new Set(['csv', 'ndjson']);

export interface BufferOptions {
  body: Buffer;
  input: InputFormat;
  output: OutputFormat;
  card: ModelCard;
  predictor: Predictor;
  requestId: string;
  batchRows: number;
  log?: LogSink | undefined;
  window?: SketchSink | undefined;
  limits?: Partial<Limits>;
  summaryExtra?: () => Record<string, unknown>;
  onBatch?: (batch: Batch) => void;
}

function parseWhole(input: InputFormat, body: Buffer, limits: Limits): Parsed[] {
  const out: Parsed[] = [];
  if (input === 'csv') {
    if (body.length > limits.maxFieldBytes) throw new DriftlineError('DL_ERR_INTERNAL', 'a buffered CSV body must fit MAX_FIELD_BYTES');
    new CsvParseCore({ maxRowBytes: limits.maxFieldBytes, maxColumns: limits.maxColumns }, (p) => out.push(p)).parseAll(body);
    return out;
  }
  if (input !== 'ndjson') throw new DriftlineError('DL_ERR_INTERNAL', `no buffered parser for ${input}`);
  const gather = new RowGatherer((p) => out.push(p));
  const core = new NdjsonLineParser(gather.emit, { maxLineBytes: limits.maxFieldBytes, maxColumns: limits.maxColumns });
  core.write(body);
  core.end();
  // Rows before the header (unparsable lines) and after it form one chunk, numbered from 0.
  gather.release(core.next);
  return out;
}

/** Scores a whole body; resolves with the response bytes and the counts. */
export async function scoreBuffer(o: BufferOptions): Promise<{ body: Buffer } & Summary> {
  const limits = { ...DEFAULT_LIMITS, ...o.limits };
  const problem = notUtf8(o.body.subarray(0, SNIFF_BYTES));
  if (problem !== undefined) throw new DriftlineError('DL_ERR_BAD_ENCODING', problem);
  const parsed = parseWhole(o.input, o.body, limits);
  const validator = new ChunkValidator(o.card, { maxRows: limits.maxRows, keepCells: o.output === 'csv' });
  const batcher = new Batcher(o.card.features.length, o.batchRows);
  const formatter = new Formatter(o.output, { card: o.card, requestId: o.requestId });
  const chunks: Buffer[] = [];
  const batches: Batch[] = [];
  for (const p of parsed) {
    if (p.kind === 'header') {
      validator.onHeader(p);
      chunks.push(formatter.write(p));
    } else {
      const block = validator.block(p);
      // A small body is usually one block that fits one batch: use it as is, no copy.
      if (batches.length === 0 && batcher.pending === 0 && block.count <= o.batchRows) batches.push({ kind: 'batch', seq: 0, ...block });
      else batches.push(...batcher.add(block));
    }
  }
  const last = batcher.flush();
  if (last !== undefined) batches.push(last);
  for (const b of batches) {
    b.results = b.rows === 0 ? { probabilities: new Float32Array(0), queueMs: 0, computeMs: 0 } : await o.predictor.predict(b.features, b.rows);
    if (o.log !== undefined) await logBatch({ log: o.log, requestId: o.requestId, modelVersion: o.card.version }, b);
    if (o.window !== undefined) sketchBatch(o.window, b);
    o.onBatch?.(b);
    chunks.push(formatter.write(b));
  }
  const body = Buffer.concat([Buffer.from(formatter.start()), ...chunks, Buffer.from(formatter.end(o.summaryExtra?.() ?? {}))]);
  return { body, ...formatter.counts };
}
