// A whole small body, scored without streams: the same cores as the stream stages, taken in
// the one STAGE_SEQUENCE (sequence.ts). A five-row request through ten
// object-mode streams spends more time in stream machinery than in scoring; this path gives the
// same answer for a fraction of that cost (bench/sections/small.ts).
import { DriftlineError } from '../errors.js';
import { stringFeatures, type ModelCard } from '../model/card.js';
import { notUtf8, SNIFF_BYTES } from '../stages/encoding.js';
import { Formatter, type OutputFormat, type Summary } from '../stages/format.js';
import { logBatch, type LogSink } from '../stages/log.js';
import { Batcher } from '../stages/micro-batch.js';
import { CsvParseCore } from '../stages/parse-csv.js';
import { RowGatherer } from '../stages/gather.js';
import { NdjsonLineParser } from '../stages/parse-ndjson.js';
import type { Predictor } from '../stages/predict.js';
import { sketchBatch, type SketchSink } from '../stages/sketch.js';
import type { Batch, Batched, InputFormat, ParsedOrSpans, Validated } from '../stages/types.js';
import { ChunkValidator } from '../stages/validate.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { inSequence } from './sequence.js';

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

function parseWhole(input: InputFormat, body: Buffer, limits: Limits): ParsedOrSpans[] {
  const out: ParsedOrSpans[] = [];
  if (input === 'csv') {
    if (body.length > limits.maxFieldBytes) throw new DriftlineError('DL_ERR_INTERNAL', 'a buffered CSV body must fit MAX_FIELD_BYTES');
    new CsvParseCore({ maxRowBytes: limits.maxFieldBytes, maxColumns: limits.maxColumns, spans: true }, (p) => out.push(p)).parseAll(body);
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

/**
 * A buffered stage: the first stages take the whole body's records at once (synchronous, so a
 * body that fails validation fails before any row is predicted or logged); from prediction on,
 * each record goes through every remaining stage before the next, as a batch does in the stream.
 */
type BufferStage = { all: (recs: unknown[]) => unknown[] } | { each: (rec: Batched) => Promise<void> | void };

/** Scores a whole body; resolves with the response bytes and the counts. */
export async function scoreBuffer(o: BufferOptions): Promise<{ body: Buffer } & Summary> {
  const limits = { ...DEFAULT_LIMITS, ...o.limits };
  const validator = new ChunkValidator(o.card, { maxRows: limits.maxRows, keepCells: o.output === 'csv' });
  const batcher = new Batcher(o.card.features.length, o.batchRows, stringFeatures(o.card).length);
  const formatter = new Formatter(o.output, { card: o.card, requestId: o.requestId });
  const chunks: Buffer[] = [];
  const stages = inSequence<BufferStage>({
    parse: {
      all: ([body]) => {
        const problem = notUtf8((body as Buffer).subarray(0, SNIFF_BYTES));
        if (problem !== undefined) throw new DriftlineError('DL_ERR_BAD_ENCODING', problem);
        return parseWhole(o.input, body as Buffer, limits);
      },
    },
    validate: {
      all: (recs) =>
        (recs as ParsedOrSpans[]).map((p): Validated => {
          if (p.kind === 'header') {
            validator.onHeader(p);
            return p;
          }
          return { kind: 'block', ...validator.block(p) };
        }),
    },
    batch: {
      all: (recs) => {
        const out: Batched[] = [];
        let batches = 0;
        for (const v of recs as Validated[]) {
          if (v.kind === 'header') out.push(v);
          // A small body is usually one block that fits one batch: use it as is, no copy.
          else if (batches === 0 && batcher.pending === 0 && v.count <= o.batchRows) {
            out.push({ ...v, kind: 'batch', seq: 0 });
            batches++;
          } else {
            const done = batcher.add(v);
            out.push(...done);
            batches += done.length;
          }
        }
        const last = batcher.flush();
        if (last !== undefined) out.push(last);
        return out;
      },
    },
    predict: {
      each: async (b) => {
        if (b.kind === 'batch')
          b.results =
            b.rows === 0
              ? { probabilities: new Float32Array(0), queueMs: 0, computeMs: 0 }
              : await o.predictor.predict(b.features, b.rows, b.strings ?? undefined);
      },
    },
    log: {
      each: async (b) => {
        if (o.log !== undefined && b.kind === 'batch')
          await logBatch({ log: o.log, requestId: o.requestId, modelVersion: o.card.version }, b);
      },
    },
    sketch: {
      each: (b) => {
        if (o.window !== undefined && b.kind === 'batch') sketchBatch(o.window, b);
      },
    },
    format: {
      each: (b) => {
        if (b.kind === 'batch') o.onBatch?.(b);
        chunks.push(formatter.write(b));
      },
    },
  });
  let recs: unknown[] = [o.body];
  let i = 0;
  for (; i < stages.length; i++) {
    const st = stages[i]!;
    if (!('all' in st)) break;
    recs = st.all(recs);
  }
  const each = stages.slice(i).map((st) => {
    if (!('each' in st)) throw new DriftlineError('DL_ERR_INTERNAL', 'a whole-body stage after a per-record one');
    return st.each;
  });
  for (const rec of recs as Batched[]) for (const step of each) await step(rec);
  const body = Buffer.concat([Buffer.from(formatter.start()), ...chunks, Buffer.from(formatter.end(o.summaryExtra?.() ?? {}))]);
  return { body, ...formatter.counts };
}
