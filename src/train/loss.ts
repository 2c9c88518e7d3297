// Binary log-loss on raw scores (log-odds), the objective of sklearn's
// HistGradientBoostingClassifier for two classes and of LightGBM's `binary`. Targets may be
// soft (a probability in [0, 1], as a teacher's predictions are in distillation): the loss is
// then the cross-entropy against that probability, with the same gradient and hessian forms.

/** Labels 0/1, or soft targets in [0, 1]. */
export type Targets = Uint8Array | Float64Array;

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Mean log-loss of targets y given raw scores; log(1 + e^z) − y·z, computed without overflow. */
export function meanLogLoss(y: Targets, raw: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const z = raw[i]!;
    const softplus = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
    s += softplus - y[i]! * z;
  }
  return s / y.length;
}

/** Gradient p − y and hessian p(1 − p) of the loss with respect to the raw score. */
export function gradients(y: Targets, raw: Float64Array, grad: Float64Array, hess: Float64Array): void {
  for (let i = 0; i < y.length; i++) {
    const p = sigmoid(raw[i]!);
    grad[i] = p - y[i]!;
    hess[i] = p * (1 - p);
  }
}

/**
 * The constant raw score that minimises the loss: the log-odds of the positive rate. Starting
 * from it (sklearn's and LightGBM's "boost_from_average") saves the first trees the work of
 * learning the base rate.
 */
export function baselineScore(y: Targets): number {
  let pos = 0;
  for (const v of y) pos += v;
  const p = pos / y.length;
  if (!(pos > 0 && pos < y.length)) throw new RangeError('the training rows hold a single class; a classifier needs both');
  return Math.log(p / (1 - p));
}
