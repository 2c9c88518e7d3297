// `driftline profile`: the reference profile of a model, from its training data. Also the
// CSV and model helpers that `driftline drift` shares.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { buildProfile, writeProfile, type ReferenceProfile } from '../drift/index.js';
import { DriftlineError } from '../errors.js';
import { readCsvColumns, type ColumnRequest } from '../csv-columns.js';
import { CARD_FILE, loadModel, readModelCard, type InferenceEngine, type ModelCard } from '../model/index.js';

/** Rows per inference call: large enough to amortise the worker round trip. */
const PREDICT_BATCH = 8192;
export const REFERENCE_FILE = 'reference.json';

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch !== '"') cell += ch;
      else if (line[i + 1] === '"') {
        cell += '"';
        i++;
      } else quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  out.push(cell.trim());
  return out;
}

/** The header of a CSV file (first line; quoted names allowed). */
export function readCsvHeader(file: string): string[] {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new DriftlineError('DL_ERR_BAD_INPUT', `Cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const buf = Buffer.alloc(1 << 20);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const line = buf.toString('utf8', 0, n).replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
    if (line.trim() === '') throw new DriftlineError('DL_ERR_EMPTY_BODY', `${file} has no header`);
    return splitCsvLine(line);
  } finally {
    closeSync(fd);
  }
}

/** The model card in `dir`, or null when the directory has none (an invalid card throws). */
export function cardIfAny(dir: string): ModelCard | null {
  const file = path.join(dir, CARD_FILE);
  return existsSync(file) ? readModelCard(file) : null;
}

export function featureRequests(card: ModelCard): ColumnRequest[] {
  return card.features.map((f) => ({ name: f.name, aliases: f.aliases }));
}

/** The target column of a card (or the usual names), optional in the file. */
export function targetRequest(card: ModelCard | null): ColumnRequest {
  const t = card?.target;
  return t === undefined
    ? { name: 'target', aliases: ['default.payment.next.month'], optional: true }
    : { name: t.name, aliases: t.aliases, optional: true };
}

/** P(class 1) for every row, in batches; the engine stays open. */
export async function predictColumns(engine: InferenceEngine, columns: readonly Float64Array[], rows: number): Promise<Float64Array> {
  const nf = columns.length;
  const out = new Float64Array(rows);
  for (let start = 0; start < rows; start += PREDICT_BATCH) {
    const n = Math.min(PREDICT_BATCH, rows - start);
    // A fresh buffer per batch: run() transfers it to the worker.
    const batch = new Float32Array(n * nf);
    for (let i = 0; i < n; i++) for (let j = 0; j < nf; j++) batch[i * nf + j] = columns[j]![start + i]!;
    const { probabilities } = await engine.run(batch, n);
    out.set(probabilities, start);
  }
  return out;
}

export interface ModelProfileOptions {
  dataPath: string;
  modelDir: string;
  /** Use only the first N rows of the file. Default: all. */
  rows?: number;
  /** Where to write; default `<modelDir>/reference.json`. Pass null to skip writing. */
  out?: string | null;
}

/**
 * Builds a model's reference profile: its features (card names or aliases) and target when
 * present, and the model's probabilities on those rows. The training command calls this.
 */
export async function buildModelProfile(opts: ModelProfileOptions): Promise<{ profile: ReferenceProfile; file: string | null }> {
  const model = await loadModel(opts.modelDir);
  try {
    const { card } = model;
    const limit = opts.rows === undefined ? {} : { limit: opts.rows };
    const data = await readCsvColumns(opts.dataPath, [...featureRequests(card), targetRequest(card)], limit);
    const columns = card.features.map((f) => data.columns.get(f.name)!);
    const prediction = await predictColumns(model.engine, columns, data.rows);
    const target = data.columns.get(targetRequest(card).name);
    const profile = buildProfile({
      features: card.features.map((f, j) => ({ name: f.name, values: columns[j]!, categorical: f.categorical })),
      prediction,
      ...(target === undefined ? {} : { target, targetName: targetRequest(card).name }),
      source: `${path.basename(opts.dataPath)}, first ${data.rows} rows, model ${card.name} ${card.version}`,
    });
    const file = opts.out === null ? null : (opts.out ?? path.join(opts.modelDir, REFERENCE_FILE));
    if (file !== null) writeProfile(file, profile);
    return { profile, file };
  } finally {
    await model.engine.close();
  }
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new DriftlineError('DL_ERR_BAD_INPUT', `--rows must be a positive integer, not ${v}`);
  return n;
}

export function registerProfile(program: Command): void {
  program
    .command('profile')
    .description("build a model's reference profile (reference.json) from its training data")
    .requiredOption('--data <csv>', 'training data (feature columns by card name or alias)')
    .option('--model <dir>', 'model directory (card.json, model.onnx); default: MODEL_DIR')
    .option('--rows <n>', 'use only the first n rows', positiveInt)
    .option('--out <file>', 'where to write the profile; default: <model>/reference.json')
    .action(async (o: { data: string; model?: string; rows?: number; out?: string }) => {
      const modelDir = o.model ?? loadConfig().MODEL_DIR;
      const { profile, file } = await buildModelProfile({ dataPath: o.data, modelDir, ...(o.rows === undefined ? {} : { rows: o.rows }), ...(o.out === undefined ? {} : { out: o.out }) });
      process.stdout.write(
        `reference profile: ${profile.rows} rows, ${profile.features.length} features` +
          `${profile.target === null ? '' : ', target'}, prediction mean ${profile.prediction?.mean.toFixed(4)} → ${file}\n`,
      );
    });
}
