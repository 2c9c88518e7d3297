import { readFileSync } from 'node:fs';
import { DriftlineError } from '../errors.js';
import { readCsvColumns } from '../csv-columns.js';
import { CREDIT_FEATURES, CREDIT_TARGET, ID_COLUMN, type FeatureDef } from './features.js';

/** A labelled table held column by column, in float32 as the ONNX model will see it. */
export interface Dataset {
  featureNames: readonly string[];
  /** One array per feature, `rows` long. */
  columns: Float32Array[];
  /** Labels, 0 or 1. */
  y: Uint8Array;
  /** Row keys used by the split: the ID column, or 1-based row numbers when there is none. */
  ids: Float64Array;
  rows: number;
}

export interface ReadResult {
  dataset: Dataset;
  /** 'column' when the file has an ID column; 'row-number' when IDs are 1-based row numbers. */
  idSource: 'column' | 'row-number';
}

/**
 * Reads the UCI file (raw names) or a file in the original service's format (credit_limit, …,
 * target). Cells are rounded to float32 here, once: the trainer bins, and the exported graph
 * compares, the very same values.
 */
export async function readDataset(file: string, features: readonly FeatureDef[] = CREDIT_FEATURES): Promise<ReadResult> {
  const wanted = [
    { name: ID_COLUMN, optional: true },
    ...features.map((f) => ({ name: f.name, aliases: [f.alias] })),
    { name: CREDIT_TARGET.name, aliases: [CREDIT_TARGET.alias] },
  ];
  const { columns, rows } = await readCsvColumns(file, wanted);
  if (rows === 0) throw new DriftlineError('DL_ERR_BAD_INPUT', `${file} holds no data rows`);

  const target = columns.get(CREDIT_TARGET.name)!;
  const y = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const v = target[i]!;
    if (v !== 0 && v !== 1) {
      throw new DriftlineError(
        'DL_ERR_BAD_INPUT',
        `${file}: row ${i + 1}, column ${CREDIT_TARGET.name}: the target must be 0 or 1, got ${v}`,
      );
    }
    y[i] = v;
  }
  const cols = features.map((f) => Float32Array.from(columns.get(f.name)!));
  checkDomain(file, features, cols);

  const idCol = columns.get(ID_COLUMN);
  const ids = idCol ?? Float64Array.from({ length: rows }, (_, i) => i + 1);
  checkUniqueIds(file, ids);
  return {
    dataset: { featureNames: features.map((f) => f.name), columns: cols, y, ids, rows },
    idSource: idCol === undefined ? 'row-number' : 'column',
  };
}

// The service rejects rows outside the card's domain, so a model trained on such rows would
// be judged on data it can never receive: refuse early, naming the first offender.
function checkDomain(file: string, features: readonly FeatureDef[], cols: Float32Array[]): void {
  features.forEach((f, j) => {
    const col = cols[j]!;
    for (let i = 0; i < col.length; i++) {
      const v = col[i]!;
      if (v < f.min || v > f.max || (f.type === 'integer' && !Number.isInteger(v))) {
        throw new DriftlineError(
          'DL_ERR_BAD_INPUT',
          `${file}: row ${i + 1}, column ${f.name}: ${v} is outside the model's domain (${f.type} in [${f.min}, ${f.max}])`,
        );
      }
    }
  });
}

function checkUniqueIds(file: string, ids: Float64Array): void {
  const seen = new Set<number>();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (seen.has(id)) throw new DriftlineError('DL_ERR_BAD_INPUT', `${file}: row ${i + 1}: ID ${id} appears twice`);
    seen.add(id);
  }
}

/** The rows at `index`, in that order. */
export function subset(ds: Dataset, index: ArrayLike<number>): Dataset {
  const n = index.length;
  const columns = ds.columns.map((c) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = c[index[i]!]!;
    return out;
  });
  const y = new Uint8Array(n);
  const ids = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = ds.y[index[i]!]!;
    ids[i] = ds.ids[index[i]!]!;
  }
  return { featureNames: ds.featureNames, columns, y, ids, rows: n };
}

/** Row-major [rows × features] copy: the layout of the ONNX input tensor. */
export function toRowMajor(ds: { columns: readonly Float32Array[]; rows: number }): Float32Array {
  const f = ds.columns.length;
  const out = new Float32Array(ds.rows * f);
  ds.columns.forEach((c, j) => {
    for (let i = 0; i < ds.rows; i++) out[i * f + j] = c[i]!;
  });
  return out;
}

export interface IdSplit {
  train: Dataset;
  validation: Dataset;
  /** Listed IDs that no row carries (e.g. when training on part of the file). */
  missingIds: number;
}

/** Validation = the rows whose ID is listed; training = every other row. Row order is kept. */
export function splitByIds(ds: Dataset, validationIds: readonly number[]): IdSplit {
  const wanted = new Set(validationIds);
  const train: number[] = [];
  const validation: number[] = [];
  for (let i = 0; i < ds.rows; i++) (wanted.has(ds.ids[i]!) ? validation : train).push(i);
  return { train: subset(ds, train), validation: subset(ds, validation), missingIds: wanted.size - validation.length };
}

/** Reads a split file: `{"ids": [...]}` (as data/validation_ids.json) or a bare array of IDs. */
export function readSplitIds(file: string): number[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DriftlineError('DL_ERR_BAD_INPUT', `Cannot read split file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const ids = Array.isArray(raw) ? raw : typeof raw === 'object' && raw !== null && 'ids' in raw ? raw.ids : undefined;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((v): v is number => typeof v === 'number' && Number.isFinite(v))) {
    throw new DriftlineError('DL_ERR_BAD_INPUT', `Split file ${file} must hold a non-empty array of numeric IDs, or {"ids": [...]}`);
  }
  if (new Set(ids).size !== ids.length) throw new DriftlineError('DL_ERR_BAD_INPUT', `Split file ${file} lists an ID twice`);
  return ids;
}
