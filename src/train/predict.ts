import type { Ensemble } from './gbdt.js';
import { leafOf } from './tree.js';

// The trainer's own inference, written to give what onnxruntime's TreeEnsembleClassifier
// gives, not merely something close: onnxruntime sums leaf values in float32, tree by tree in
// order, adds base_values last, and applies a float32 logistic. Doing the same here keeps the
// two within one float32 ulp: on the 6,000 validation rows, with onnxruntime on one thread,
// max |ΔP| is 6.0e-8 for the 572-tree average of five boosters, against 5.5e-7 for a float64
// sum (scratch measurement), and 0 for the bundled 80-tree model (its card's onnx_check;
// pinned by test/train-onnx-parity.test.ts).

const f32 = Math.fround;

/** Raw scores (log-odds) of rows of float32 features, row-major [rows × nFeatures]. */
export function predictRaw(model: Ensemble, x: Float32Array, rows: number): Float32Array {
  const nf = model.nFeatures;
  if (x.length !== rows * nf) throw new RangeError(`expected ${rows} × ${nf} values, got ${x.length}`);
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const off = r * nf;
    let s = 0;
    for (const t of model.trees) s = f32(s + t.value[leafOf(t, x, off)]!);
    out[r] = f32(s + model.baseScore);
  }
  return out;
}

/** onnxruntime's ComputeLogistic, in float32. */
export function logistic32(z: number): number {
  const v = f32(1 / f32(1 + f32(Math.exp(-Math.abs(z)))));
  return z < 0 ? f32(1 - v) : v;
}

/** P(class 1) per row. */
export function predictProba(model: Ensemble, x: Float32Array, rows: number): Float32Array {
  const raw = predictRaw(model, x, rows);
  return raw.map(logistic32);
}

/** Class per row as the graph's `label` output: 1 when the raw score is positive. */
export function predictLabel(model: Ensemble, x: Float32Array, rows: number): Uint8Array {
  const raw = predictRaw(model, x, rows);
  return Uint8Array.from(raw, (z) => (z > 0 ? 1 : 0));
}
