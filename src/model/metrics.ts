// Binary classification metrics as pure functions over typed or plain arrays. Definitions
// follow scikit-learn (roc_auc_score, accuracy_score, precision/recall/f1_score with
// pos_label=1 and zero_division=0), so numbers here can be set beside scikit-learn's own (the
// tests compare them with its golden model baselines when those are present).

import { decision } from './card.js';

type Labels = ArrayLike<number>;

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

function sameLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: ${a.length} labels but ${b.length} values`);
}

/** Labels must be 0 or 1; anything else is a caller's bug worth failing on. */
function isPositive(v: number, i: number): boolean {
  if (v === 1) return true;
  if (v === 0) return false;
  throw new RangeError(`label at ${i} is ${v}; expected 0 or 1`);
}

/**
 * Area under the ROC curve, i.e. the probability that a random positive scores above a random
 * negative, ties counting one half (Mann–Whitney U with mid-ranks). NaN when one class is
 * absent: the AUC is then undefined (sklearn raises), and a monitor should say "unknown", not 0.5.
 */
export function rocAuc(labels: Labels, scores: ArrayLike<number>): number {
  sameLength(labels, scores, 'rocAuc');
  const n = labels.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n; i++) if (Number.isNaN(scores[i]!)) throw new RangeError(`score at ${i} is NaN`);
  idx.sort((a, b) => scores[a]! - scores[b]!);
  let nPos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    // Ranks i+1 … j+1 share their mean.
    const midRank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) {
      if (isPositive(labels[idx[k]!]!, idx[k]!)) {
        nPos++;
        rankSumPos += midRank;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export function confusion(labels: Labels, predicted: Labels): Confusion {
  sameLength(labels, predicted, 'confusion');
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < labels.length; i++) {
    const actual = isPositive(labels[i]!, i);
    const pred = isPositive(predicted[i]!, i);
    if (pred) {
      if (actual) c.tp++;
      else c.fp++;
    } else if (actual) c.fn++;
    else c.tn++;
  }
  return c;
}

/** Share of correct predictions; NaN for no rows. */
export function accuracy(c: Confusion): number {
  const n = c.tp + c.fp + c.tn + c.fn;
  return n === 0 ? Number.NaN : (c.tp + c.tn) / n;
}

/** tp / (tp + fp); 0 when nothing is predicted positive (sklearn's zero_division=0). */
export function precision(c: Confusion): number {
  return c.tp + c.fp === 0 ? 0 : c.tp / (c.tp + c.fp);
}

/** tp / (tp + fn); 0 when there are no positives. */
export function recall(c: Confusion): number {
  return c.tp + c.fn === 0 ? 0 : c.tp / (c.tp + c.fn);
}

/** Harmonic mean of precision and recall, 2tp / (2tp + fp + fn); 0 when that is 0/0. */
export function f1(c: Confusion): number {
  const d = 2 * c.tp + c.fp + c.fn;
  return d === 0 ? 0 : (2 * c.tp) / d;
}

/** The card's decision for each score, with `at` as the decision threshold. */
export function threshold(scores: ArrayLike<number>, at: number): Uint8Array {
  const rule = { decision_threshold: at };
  return Uint8Array.from({ length: scores.length }, (_, i) => decision(rule, scores[i]!));
}

/** Mean squared error of P(class 1) against the 0/1 labels (sklearn's brier_score_loss); NaN for no rows. */
export function brier(labels: Labels, scores: ArrayLike<number>): number {
  sameLength(labels, scores, 'brier');
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const d = scores[i]! - (isPositive(labels[i]!, i) ? 1 : 0);
    sum += d * d;
  }
  return labels.length === 0 ? Number.NaN : sum / labels.length;
}

export interface BinaryMetrics {
  roc_auc: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  rows: number;
  positives: number;
}

/** The metrics a model card reports, from labels and P(class 1). */
export function binaryMetrics(labels: Labels, scores: ArrayLike<number>, at = 0.5): BinaryMetrics {
  const c = confusion(labels, threshold(scores, at));
  return {
    roc_auc: rocAuc(labels, scores),
    accuracy: accuracy(c),
    precision: precision(c),
    recall: recall(c),
    f1: f1(c),
    rows: labels.length,
    positives: c.tp + c.fn,
  };
}
