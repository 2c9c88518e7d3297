// The reference profile of a model (reference.json): its features, target and its own
// predictions on the training rows. `driftline profile`, `driftline train` and `driftline init`
// all build it here, so a profile means the same whichever command wrote it.
import path from 'node:path';
import { buildProfile, writeProfile, type ReferenceProfile } from '../drift/index.js';
import { readCsvColumns, type ColumnRequest } from '../csv-columns.js';
import { loadModel, type InferenceEngine, type ModelCard } from '../model/index.js';
import type { FeatureColumn } from '../model/importance.js';

/** Rows per inference call: large enough to amortise the worker round trip. */
const PREDICT_BATCH = 8192;
export const REFERENCE_FILE = 'reference.json';

export function featureRequests(card: ModelCard): ColumnRequest[] {
  return card.features.map((f) => ({ name: f.name, aliases: f.aliases, ...(f.type === 'string' ? { text: true } : {}) }));
}

/** A card feature's column as read by readCsvColumns (text for a string feature). */
export function featureColumn(
  data: { columns: Map<string, Float64Array>; text: Map<string, string[]> },
  f: ModelCard['features'][number],
): FeatureColumn {
  return f.type === 'string' ? data.text.get(f.name)! : data.columns.get(f.name)!;
}

/** The target column of a card (or the usual names), optional in the file. */
export function targetRequest(card: ModelCard | null): ColumnRequest {
  const t = card?.target;
  return t === undefined
    ? { name: 'target', aliases: ['default.payment.next.month'], optional: true }
    : { name: t.name, aliases: t.aliases, optional: true };
}

/** P(class 1) for every row, in batches; the engine stays open. */
export async function predictColumns(engine: InferenceEngine, columns: readonly FeatureColumn[], rows: number): Promise<Float64Array> {
  const nf = columns.length;
  const out = new Float64Array(rows);
  const strs = columns.flatMap((c, j) => (Array.isArray(c) ? [j] : []));
  const ns = strs.length;
  for (let start = 0; start < rows; start += PREDICT_BATCH) {
    const n = Math.min(PREDICT_BATCH, rows - start);
    // A fresh buffer per batch: run() transfers it to the worker.
    const batch = new Float32Array(n * nf);
    for (let j = 0; j < nf; j++) {
      const c = columns[j]!;
      if (Array.isArray(c)) continue;
      for (let i = 0; i < n; i++) batch[i * nf + j] = c[start + i]!;
    }
    let strings: string[] | undefined;
    if (ns > 0) {
      strings = new Array<string>(n * ns);
      for (let s = 0; s < ns; s++) {
        const c = columns[strs[s]!] as string[];
        for (let i = 0; i < n; i++) strings[i * ns + s] = c[start + i]!;
      }
    }
    const { probabilities } = await engine.run(batch, n, strings);
    out.set(probabilities, start);
  }
  return out;
}

/** Rows in memory, in card feature order, with the model's predictions on them. */
export interface ProfileRows {
  card: ModelCard;
  /** One column per card feature, in card order. */
  columns: readonly FeatureColumn[];
  prediction: Float64Array;
  target?: Float64Array | undefined;
  source: string;
}

/** The profile of rows already read and scored. */
export function profileOfRows(r: ProfileRows): ReferenceProfile {
  const targetName = targetRequest(r.card).name;
  return buildProfile({
    features: r.card.features.map((f, j) => {
      const c = r.columns[j]!;
      return Array.isArray(c) ? { name: f.name, strings: c } : { name: f.name, values: c, categorical: f.categorical };
    }),
    prediction: r.prediction,
    ...(r.target === undefined ? {} : { target: r.target, targetName }),
    source: r.source,
  });
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
 * Builds a model's reference profile from a CSV file: its features (card names or aliases) and
 * target when present, and the model's probabilities on those rows.
 */
export async function buildModelProfile(opts: ModelProfileOptions): Promise<{ profile: ReferenceProfile; file: string | null }> {
  const model = await loadModel(opts.modelDir);
  try {
    const { card } = model;
    const limit = opts.rows === undefined ? {} : { limit: opts.rows };
    const data = await readCsvColumns(opts.dataPath, [...featureRequests(card), targetRequest(card)], limit);
    const columns = card.features.map((f) => featureColumn(data, f));
    const prediction = await predictColumns(model.engine, columns, data.rows);
    const profile = profileOfRows({
      card,
      columns,
      prediction,
      target: data.columns.get(targetRequest(card).name),
      source: `${path.basename(opts.dataPath)}, first ${data.rows} rows, model ${card.name} ${card.version}`,
    });
    const file = opts.out === null ? null : (opts.out ?? path.join(opts.modelDir, REFERENCE_FILE));
    if (file !== null) writeProfile(file, profile);
    return { profile, file };
  } finally {
    await model.engine.close();
  }
}
