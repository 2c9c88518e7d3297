import { existsSync, readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { DriftlineError } from '../errors.js';
import type { ModelCard } from './card.js';

export interface SessionSpec {
  modelPath: string;
  inputName: string;
  nFeatures: number;
  outputName: string;
  /** Column of P(class 1) in a [N, k] output; undefined for [N] or [N, 1]. */
  outputIndex: number | undefined;
  threads: number;
}

export function sessionSpec(card: ModelCard, modelPath: string, threads: number): SessionSpec {
  return {
    modelPath,
    inputName: card.input_name,
    nFeatures: card.features.length,
    outputName: card.output.name,
    outputIndex: card.output.index,
    threads,
  };
}

/** Dimension sizes as declared by the graph; symbolic (dynamic) ones come back as strings. */
type Dims = readonly (number | string)[];

function dimsOf(meta: ort.InferenceSession.ValueMetadata): Dims | undefined {
  return meta.isTensor ? (meta.shape as Dims) : undefined;
}

const fixed = (d: number | string | undefined): number | undefined => (typeof d === 'number' && d > 0 ? d : undefined);

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
  const nonTensor = session.outputMetadata.filter((m) => !m.isTensor).map((m) => m.name);
  if (nonTensor.length > 0) {
    throw new DriftlineError(
      'DL_ERR_MODEL_OUTPUT',
      `Model ${spec.modelPath} has non-tensor output(s) ${nonTensor.map((n) => `"${n}"`).join(', ')} ` +
        '(e.g. a skl2onnx ZipMap); onnxruntime-node cannot return them. Re-export with zipmap=False ' +
        '(skl2onnx: options={id(model): {"zipmap": False}}).',
      { details: { outputs: nonTensor } },
    );
  }
  const input = session.inputMetadata.find((m) => m.name === spec.inputName);
  if (input === undefined) {
    throw new DriftlineError(
      'DL_ERR_MODEL_LOAD',
      `Model ${spec.modelPath} has no input "${spec.inputName}" (inputs: ${session.inputNames.join(', ')})`,
    );
  }
  if (session.inputNames.length !== 1) {
    throw new DriftlineError('DL_ERR_MODEL_LOAD', `Model ${spec.modelPath} has ${session.inputNames.length} inputs; one [N, features] input is supported`);
  }
  if (!input.isTensor || input.type !== 'float32') {
    throw new DriftlineError('DL_ERR_MODEL_LOAD', `Model input "${spec.inputName}" must be a float32 tensor`);
  }
  const inDims = dimsOf(input) ?? [];
  const width = fixed(inDims[1]);
  if (inDims.length !== 2 || (width !== undefined && width !== spec.nFeatures)) {
    throw new DriftlineError(
      'DL_ERR_MODEL_LOAD',
      `Model input "${spec.inputName}" has shape [${inDims.join(', ')}] but the card lists ${spec.nFeatures} features (expected [N, ${spec.nFeatures}])`,
      { details: { shape: inDims, features: spec.nFeatures } },
    );
  }
  const output = session.outputMetadata.find((m) => m.name === spec.outputName);
  if (output === undefined) {
    throw new DriftlineError(
      'DL_ERR_MODEL_OUTPUT',
      `Model ${spec.modelPath} has no output "${spec.outputName}" (outputs: ${session.outputNames.join(', ')})`,
    );
  }
  if (!output.isTensor || output.type !== 'float32') {
    throw new DriftlineError('DL_ERR_MODEL_OUTPUT', `Model output "${spec.outputName}" must be a float32 tensor`);
  }
  const outDims = dimsOf(output) ?? [];
  const cols = outDims.length === 1 ? 1 : fixed(outDims[1]);
  const idx = spec.outputIndex ?? 0;
  if (outDims.length > 2 || (cols !== undefined && idx >= cols) || (spec.outputIndex === undefined && cols !== undefined && cols !== 1)) {
    throw new DriftlineError(
      'DL_ERR_MODEL_OUTPUT',
      `Model output "${spec.outputName}" has shape [${outDims.join(', ')}], which does not hold P(class 1) at index ${spec.outputIndex ?? '(none)'}`,
    );
  }
}

/** Runs one batch; the caller owns `data` ([rows × nFeatures], row-major). */
export async function runSession(
  session: ort.InferenceSession,
  spec: SessionSpec,
  data: Float32Array,
  rows: number,
): Promise<Float32Array> {
  const feeds = { [spec.inputName]: new ort.Tensor('float32', data, [rows, spec.nFeatures]) };
  const out = await session.run(feeds, [spec.outputName]);
  const t = out[spec.outputName];
  if (t === undefined || !(t.data instanceof Float32Array)) {
    throw new DriftlineError('DL_ERR_INFERENCE', `Model returned no float32 "${spec.outputName}"`);
  }
  const cols = t.dims.length === 2 ? Number(t.dims[1]) : 1;
  if (cols === 1) return t.data.slice(0, rows);
  const idx = spec.outputIndex ?? 0;
  const p = new Float32Array(rows);
  for (let i = 0; i < rows; i++) p[i] = t.data[i * cols + idx]!;
  return p;
}
