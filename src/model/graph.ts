// What an ONNX graph takes and returns, and whether the service can serve it. One set of checks
// for the two callers that meet a graph: `driftline init`, which has no card yet and infers one
// from the graph, and the loader, which holds the graph to its card. A model refused by one is
// refused by the other, with the same message and fix.
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { DriftlineError } from '../errors.js';
import { INPUT_TYPES, type CardInput, type InputType } from './card.js';

/** Dimension sizes as declared by the graph; symbolic (dynamic) ones come back as strings. */
export type Dims = readonly (number | string)[];

export interface ValueInfo {
  name: string;
  isTensor: boolean;
  /** onnxruntime's element type name ('float32', 'int64', 'string' …); undefined for non-tensors. */
  type: string | undefined;
  dims: Dims;
}

export interface GraphInfo {
  file: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

export interface ProbabilityOutput {
  name: string;
  /** Column of P(class 1) in a [N, 2] output; undefined for [N] or [N, 1]. */
  index: number | undefined;
}

const valueInfo = (m: ort.InferenceSession.ValueMetadata): ValueInfo =>
  m.isTensor
    ? { name: m.name, isTensor: true, type: m.type, dims: m.shape as Dims }
    : { name: m.name, isTensor: false, type: undefined, dims: [] };

export function describeGraph(session: ort.InferenceSession, file: string): GraphInfo {
  return { file, inputs: session.inputMetadata.map(valueInfo), outputs: session.outputMetadata.map(valueInfo) };
}

/** A shape for messages: a dynamic dimension reads as its symbol, or N when it has none. */
export const shapeText = (dims: Dims): string =>
  `[${dims.map((d) => (typeof d === 'number' && d > 0 ? String(d) : d === '' || typeof d === 'number' ? 'N' : d)).join(', ')}]`;

/** A size fixed by the graph, or undefined for a dynamic one. */
export const fixedDim = (d: number | string | undefined): number | undefined => (typeof d === 'number' && d > 0 ? d : undefined);

/** Opens an ONNX file, reads its inputs and outputs, and closes it. An unreadable file is DL_ERR_MODEL_LOAD. */
export async function readGraph(file: string): Promise<GraphInfo> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(readFileSync(file));
  } catch (err) {
    throw new DriftlineError('DL_ERR_MODEL_LOAD', `Cannot load model ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return describeGraph(session, file);
  } finally {
    await session.release();
  }
}

const ZIPMAP_FIX = 'Re-export with zipmap=False (skl2onnx: options={id(model): {"zipmap": False}}).';

function twoClasses(g: GraphInfo, o: ValueInfo, cols: number | undefined): void {
  if (cols !== undefined && cols > 2) {
    throw new DriftlineError(
      'DL_ERR_MODEL_OUTPUT',
      `Model ${g.file}: output "${o.name}" has shape ${shapeText(o.dims)}, ${cols} classes; only binary classifiers (two classes) are served. Train on a 0/1 target.`,
      { details: { output: o.name, classes: cols } },
    );
  }
}

/**
 * The output that holds P(class 1), checked. With `want` (a card's `output`) that output is
 * checked; without, it is inferred: a float32 [N, 2] tensor (class 1 at index 1), preferring a
 * name with "prob" in it, else a float32 [N] or [N, 1] tensor whose name says "prob".
 * Refused, each with its fix: a non-tensor output (a skl2onnx ZipMap), more than two classes,
 * no probability output.
 */
export function probabilityOutput(g: GraphInfo, want?: { name: string; index?: number | undefined }): ProbabilityOutput {
  const nonTensor = g.outputs.filter((o) => !o.isTensor).map((o) => o.name);
  if (nonTensor.length > 0) {
    throw new DriftlineError(
      'DL_ERR_MODEL_OUTPUT',
      `Model ${g.file} has non-tensor output(s) ${nonTensor.map((n) => `"${n}"`).join(', ')} ` +
        `(e.g. a skl2onnx ZipMap); onnxruntime-node cannot return them. ${ZIPMAP_FIX}`,
      { details: { outputs: nonTensor } },
    );
  }
  if (want !== undefined) {
    const o = g.outputs.find((m) => m.name === want.name);
    if (o === undefined) {
      throw new DriftlineError(
        'DL_ERR_MODEL_OUTPUT',
        `Model ${g.file} has no output "${want.name}" (outputs: ${g.outputs.map((m) => m.name).join(', ')})`,
      );
    }
    if (o.type !== 'float32') throw new DriftlineError('DL_ERR_MODEL_OUTPUT', `Model output "${want.name}" must be a float32 tensor`);
    const cols = o.dims.length === 1 ? 1 : fixedDim(o.dims[1]);
    twoClasses(g, o, cols);
    const idx = want.index ?? 0;
    if (o.dims.length > 2 || (cols !== undefined && idx >= cols) || (want.index === undefined && cols !== undefined && cols !== 1)) {
      throw new DriftlineError(
        'DL_ERR_MODEL_OUTPUT',
        `Model output "${want.name}" has shape ${shapeText(o.dims)}, which does not hold P(class 1) at index ${want.index ?? '(none)'}`,
      );
    }
    return { name: o.name, index: want.index };
  }
  const floats = g.outputs.filter((o) => o.type === 'float32' && (o.dims.length === 1 || o.dims.length === 2));
  for (const o of floats) if (o.dims.length === 2) twoClasses(g, o, fixedDim(o.dims[1]));
  const prob = (o: ValueInfo): boolean => /prob/i.test(o.name);
  const pairs = floats.filter((o) => o.dims.length === 2 && fixedDim(o.dims[1]) === 2);
  const pair = pairs.find(prob) ?? (pairs.length === 1 ? pairs[0] : undefined);
  if (pair !== undefined) return { name: pair.name, index: 1 };
  const single = floats.find((o) => prob(o) && (o.dims.length === 1 || fixedDim(o.dims[1]) === 1));
  if (single !== undefined) return { name: single.name, index: undefined };
  throw new DriftlineError(
    'DL_ERR_MODEL_OUTPUT',
    `Model ${g.file} has no probability output: expected a float32 [N, 2] tensor of class probabilities ` +
      `(outputs: ${g.outputs.map((o) => `${o.name} ${o.type ?? 'non-tensor'} ${shapeText(o.dims)}`).join('; ')}). ` +
      'Export the classifier with its probabilities (skl2onnx does by default; for a regressor or a raw score, add a sigmoid).',
  );
}

/**
 * The element type of a graph input the service can feed, or a refusal: string inputs
 * (categorical columns) are not served yet, and inputs must be [N, k] tensors.
 */
export function servedInputType(g: GraphInfo, input: ValueInfo): InputType {
  if (!input.isTensor) throw new DriftlineError('DL_ERR_MODEL_INPUT', `Model ${g.file}: input "${input.name}" is not a tensor`);
  if (input.type === 'string') {
    throw new DriftlineError(
      'DL_ERR_MODEL_INPUT',
      `Model ${g.file}: input "${input.name}" is a string tensor (a categorical column); string inputs are not yet supported. ` +
        'Encode the column to numbers before export, or wait for categorical support.',
      { details: { input: input.name, type: input.type } },
    );
  }
  const type = INPUT_TYPES.find((t) => t === input.type);
  if (type === undefined) {
    throw new DriftlineError(
      'DL_ERR_MODEL_INPUT',
      `Model ${g.file}: input "${input.name}" has element type ${input.type}; the service feeds ${INPUT_TYPES.join(', ')}`,
    );
  }
  if (input.dims.length !== 2) {
    throw new DriftlineError(
      'DL_ERR_MODEL_INPUT',
      `Model ${g.file}: input "${input.name}" has shape ${shapeText(input.dims)}; the service feeds [N, k] inputs`,
    );
  }
  return type;
}

/** Checks that the card's input mapping covers the graph's inputs, with matching types and widths. */
export function checkInputs(g: GraphInfo, inputs: readonly CardInput[]): void {
  const names = inputs.map((i) => i.name);
  for (const want of inputs) {
    const input = g.inputs.find((m) => m.name === want.name);
    if (input === undefined) {
      const code = g.inputs.length === 1 && inputs.length === 1 ? 'DL_ERR_MODEL_LOAD' : 'DL_ERR_MODEL_INPUT';
      throw new DriftlineError(code, `Model ${g.file} has no input "${want.name}" (inputs: ${g.inputs.map((m) => m.name).join(', ')})`);
    }
    const type = servedInputType(g, input);
    if (type !== want.type) {
      throw new DriftlineError('DL_ERR_MODEL_INPUT', `Model input "${want.name}" is ${type}, but the card feeds it ${want.type}`);
    }
    const width = fixedDim(input.dims[1]);
    if (width !== undefined && width !== want.columns.length) {
      throw new DriftlineError(
        'DL_ERR_MODEL_LOAD',
        `Model input "${want.name}" has shape ${shapeText(input.dims)} but the card lists ${want.columns.length} features (expected [N, ${want.columns.length}])`,
        { details: { shape: input.dims, features: want.columns.length } },
      );
    }
  }
  const unfed = g.inputs.filter((m) => !names.includes(m.name)).map((m) => m.name);
  if (unfed.length > 0) {
    throw new DriftlineError('DL_ERR_MODEL_INPUT', `Model ${g.file} has input(s) ${unfed.join(', ')} that the card does not feed`, {
      details: { inputs: unfed },
    });
  }
}
