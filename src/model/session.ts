import { existsSync, readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { DriftlineError } from '../errors.js';
import { cardInputs, type InputType, type ModelCard } from './card.js';
import { checkInputs, describeGraph, probabilityOutput } from './graph.js';

/** One ONNX input: its name, element type, and the feature indices (card order) that fill it. */
export interface InputFeed {
  name: string;
  type: InputType;
  features: number[];
}

export interface SessionSpec {
  modelPath: string;
  inputs: InputFeed[];
  nFeatures: number;
  outputName: string;
  /** Column of P(class 1) in a [N, k] output; undefined for [N] or [N, 1]. */
  outputIndex: number | undefined;
  threads: number;
}

export function sessionSpec(card: ModelCard, modelPath: string, threads: number): SessionSpec {
  const at = new Map(card.features.map((f, i) => [f.name, i]));
  return {
    modelPath,
    inputs: cardInputs(card).map((i) => ({ name: i.name, type: i.type, features: i.columns.map((c) => at.get(c)!) })),
    nFeatures: card.features.length,
    outputName: card.output.name,
    outputIndex: card.output.index,
    threads,
  };
}

/**
 * Opens the ONNX graph and checks it against the card before any row reaches it, so that a
 * wrong model fails at start-up with a message rather than at the first request.
 */
export async function openSession(spec: SessionSpec): Promise<ort.InferenceSession> {
  if (!existsSync(spec.modelPath)) {
    throw new DriftlineError('DL_ERR_MODEL_LOAD', `Model file not found: ${spec.modelPath}`);
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(readFileSync(spec.modelPath), {
      // One intra-op thread: the main thread parses and validates on the other core. In
      // bench/inference.bench.ts (2 cores) a second thread halved throughput at every batch
      // size — 290k → 145k rows/s at 1024 rows with the main thread idle, 158k → 76k with it busy.
      intraOpNumThreads: spec.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new DriftlineError('DL_ERR_MODEL_LOAD', `Cannot load model ${spec.modelPath}: ${(err as Error).message}`, { cause: err });
  }
  try {
    checkSession(session, spec);
  } catch (err) {
    await session.release();
    throw err;
  }
  return session;
}

function checkSession(session: ort.InferenceSession, spec: SessionSpec): void {
  const g = describeGraph(session, spec.modelPath);
  probabilityOutput(g, { name: spec.outputName, index: spec.outputIndex });
  checkInputs(
    g,
    spec.inputs.map((i) => ({ name: i.name, type: i.type, columns: i.features.map(String) })),
  );
}

/** The columns of `data` ([rows × nFeatures], row-major) that feed one input, as its tensor. */
function inputTensor(feed: InputFeed, data: Float32Array, rows: number, nFeatures: number): ort.Tensor {
  const k = feed.features.length;
  const dims = [rows, k];
  // The common case, one float32 input taking every feature in order, is the batch itself.
  if (feed.type === 'float32' && k === nFeatures && feed.features.every((f, j) => f === j)) {
    return new ort.Tensor('float32', data.length === rows * k ? data : data.subarray(0, rows * k), dims);
  }
  const n = rows * k;
  if (feed.type === 'int64') {
    const out = new BigInt64Array(n);
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < k; j++) out[i * k + j] = BigInt(Math.round(data[i * nFeatures + feed.features[j]!]!));
    return new ort.Tensor('int64', out, dims);
  }
  const out = feed.type === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) out[i * k + j] = data[i * nFeatures + feed.features[j]!]!;
  return feed.type === 'float64' ? new ort.Tensor('float64', out, dims) : new ort.Tensor('float32', out, dims);
}

/** Runs one batch; the caller owns `data` ([rows × nFeatures], row-major). */
export async function runSession(
  session: ort.InferenceSession,
  spec: SessionSpec,
  data: Float32Array,
  rows: number,
): Promise<Float32Array> {
  const feeds = Object.fromEntries(spec.inputs.map((f) => [f.name, inputTensor(f, data, rows, spec.nFeatures)]));
  const out = await session.run(feeds, [spec.outputName]);
  const t = out[spec.outputName];
  if (t === undefined || !(t.data instanceof Float32Array)) {
    throw new DriftlineError('DL_ERR_INFERENCE', `Model returned no float32 "${spec.outputName}"`);
  }
  const cols = t.dims.length === 2 ? Number(t.dims[1]) : 1;
  // A dynamic class dimension passes the load-time check; the first batch tells.
  if (cols > 2)
    throw new DriftlineError(
      'DL_ERR_MODEL_OUTPUT',
      `Model output "${spec.outputName}" holds ${cols} classes; only binary classifiers are served`,
    );
  if (cols === 1) return t.data.slice(0, rows);
  const idx = spec.outputIndex ?? 0;
  const p = new Float32Array(rows);
  for (let i = 0; i < rows; i++) p[i] = t.data[i * cols + idx]!;
  return p;
}
