import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../config.js';
import { DriftlineError } from '../errors.js';
import { loadModel, type InferenceEngine } from '../model/index.js';
import { BatchScheduler, runPipeline, type Batch, type InputFormat, type OutputFormat } from '../pipeline/index.js';
import { PredictionLog } from '../store/index.js';
import { databaseFile } from '../store/paths.js';

export interface ScoreOptions {
  model?: string;
  format: OutputFormat;
  inputFormat?: InputFormat;
  output?: string;
  log: boolean;
  /** Rows per micro-batch and model run; SCORE_BATCH_ROWS unless given. */
  batchRows?: number;
}

/**
 * A file is scored for throughput, with no client waiting on its first rows, so batches are
 * four times the service's default (BATCH_MAX_ROWS): a quarter of the model hand-offs and of the
 * batches through the stages. bench/pipeline.bench.ts at 1M rows, in alternating runs: ratio to
 * csv-parser 0.47 and 0.52 at 1,024 rows, 0.66 and 0.57 at 4,096.
 */
export const SCORE_BATCH_ROWS = 4096;

const EXTENSIONS: Record<string, InputFormat> = { '.csv': 'csv', '.json': 'json', '.ndjson': 'ndjson', '.jsonl': 'ndjson' };

/** Input format from the file name, else from the first non-blank byte (`[` JSON, `{` NDJSON). */
async function detectFormat(source: Readable, file: string): Promise<{ format: InputFormat; source: Readable }> {
  const byName = EXTENSIONS[path.extname(file).toLowerCase()];
  if (byName !== undefined) return { format: byName, source };
  const it = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let first: number | undefined;
  while (first === undefined) {
    const next = (await it.next()) as IteratorResult<Buffer>;
    if (next.done === true) break;
    head.push(next.value);
    const text = next.value
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart();
    if (text.length > 0) first = text.charCodeAt(0);
  }
  const format: InputFormat = first === 0x5b ? 'json' : first === 0x7b ? 'ndjson' : 'csv';
  const replay = new PassThrough();
  void (async () => {
    for (const b of head) replay.write(b);
    try {
      for (let n = (await it.next()) as IteratorResult<Buffer>; n.done !== true; n = (await it.next()) as IteratorResult<Buffer>) {
        if (!replay.write(n.value)) await new Promise((r) => replay.once('drain', r));
      }
      replay.end();
    } catch (err) {
      replay.destroy(err as Error);
    }
  })();
  return { format, source: replay };
}

/**
 * One stream, so nothing to wait for: each batch goes to the model as soon as it is built. Two
 * runs are handed over at once so that the worker starts the next the moment one ends, rather
 * than when the main thread next gets to its reply (bench/pipeline.bench.ts: ~15 % more rows/s).
 */
export function scoreScheduler(engine: InferenceEngine, batchRows = SCORE_BATCH_ROWS): BatchScheduler {
  return new BatchScheduler(engine, { maxRows: batchRows, maxWaitMs: 0, maxInflight: 2 });
}

/** Runs the scoring pipeline over a file (or stdin) without HTTP. Returns the process exit code. */
export async function score(
  file: string,
  opts: ScoreOptions,
  io: { stdin: Readable; stdout: Writable; stderr: NodeJS.WriteStream | Writable } = process,
): Promise<number> {
  const config = loadConfig();
  const model = await loadModel(opts.model ?? config.MODEL_DIR, { threads: config.INFERENCE_THREADS });
  const log = opts.log
    ? await PredictionLog.open({
        file: databaseFile(config.DATA_DIR),
        retentionRows: config.LOG_RETENTION_ROWS,
        decisionThreshold: model.card.decision_threshold,
        risk: model.card.risk_levels,
      })
    : undefined;
  const sink = opts.output === undefined || opts.output === '-' ? io.stdout : createWriteStream(opts.output);
  const raw = file === '-' ? io.stdin : createReadStream(file);
  const total = file === '-' ? 0 : statSync(file).size;

  const tty = 'isTTY' in io.stderr && io.stderr.isTTY === true;
  // A MultiBar can print lines (row errors) above the bar without garbling it.
  const bars = tty
    ? new cliProgress.MultiBar(
        {
          stream: io.stderr as NodeJS.WriteStream,
          format: 'scoring [{bar}] {percentage}% | {rows} rows | {eta_formatted} left',
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const bar = bars?.create(Math.max(total, 1), 0, { rows: 0 });
  const say = (line: string): void => {
    if (bars !== undefined) bars.log(line);
    else io.stderr.write(line);
  };
  let bytes = 0;
  let rows = 0;
  raw.on('data', (b: Buffer) => {
    bytes += b.length;
    bar?.update(bytes, { rows });
  });

  const batchRows = opts.batchRows ?? SCORE_BATCH_ROWS;
  const scheduler = scoreScheduler(model.engine, batchRows);
  const onBatch = (b: Batch): void => {
    rows += b.rows;
    for (const e of b.errors) say(`row ${e.index}${e.column === null ? '' : `, column ${e.column}`}: ${e.message}\n`);
  };
  try {
    const { format, source } = opts.inputFormat !== undefined ? { format: opts.inputFormat, source: raw } : await detectFormat(raw, file);
    const result = await runPipeline({
      source,
      input: format,
      output: opts.format,
      sink,
      card: model.card,
      predictor: scheduler,
      requestId: `cli-${randomUUID()}`,
      batch: { maxRows: batchRows, maxWaitMs: config.BATCH_MAX_WAIT_MS },
      log,
      limits: { maxFieldBytes: config.MAX_FIELD_BYTES, maxColumns: config.MAX_COLUMNS },
      onBatch,
    });
    bar?.update(Math.max(total, bytes), { rows });
    bars?.stop();
    io.stderr.write(`scored ${result.n_rows} rows, rejected ${result.n_rejected}${log === undefined ? '' : ` (logged to ${log.file})`}\n`);
    return result.n_rows > 0 ? 0 : 1;
  } finally {
    bars?.stop();
    await model.engine.close();
    await log?.close();
  }
}

function batchRowsArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new InvalidArgumentError('an integer from 1 to 1000000');
  return n;
}

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('score a CSV, JSON array or NDJSON file (or - for stdin) through the same pipeline as the service')
    .argument('<file>', 'input file, or - for standard input')
    .option('--model <dir>', 'model directory (default: MODEL_DIR)')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'ndjson', 'json']).default('csv'))
    .addOption(
      new Option('--input-format <format>', 'input format (default: from the file name, else sniffed)').choices(['csv', 'json', 'ndjson']),
    )
    .option('-o, --output <file>', 'write results here instead of standard output')
    .option('--log', 'also append the predictions to the prediction log (DATA_DIR)', false)
    .addOption(new Option('--batch-rows <n>', 'rows per micro-batch and model run').default(SCORE_BATCH_ROWS).argParser(batchRowsArg))
    .action(async (file: string, o: ScoreOptions) => {
      const code = await score(file, o);
      if (code !== 0) {
        throw new DriftlineError('DL_ERR_BAD_INPUT', 'no row could be scored');
      }
    });
}
