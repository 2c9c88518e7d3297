import { calibrate, type Calibration } from '../drift/index.js';
import { decision } from '../model/card.js';

/** A metric's sampling-error band: the estimate ± 3 standard errors, clipped to [0, 1]. */
export type Band = [number, number];

export interface PerformanceEstimate {
  n_rows: number;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  roc_auc: number | null;
  bands: { accuracy: Band | null; precision: Band | null; recall: Band | null; f1: Band | null; roc_auc: Band | null };
}

// The same score bins as the realized ROC-AUC (performance.ts), so the two are read alike.
const AUC_BINS = 1000;
// Sums are kept in fixed point: an add and its remove cancel exactly, so a window that turns
// over millions of times drifts by nothing. 2^24 steps per unit, and 5M rows × 2^24 < 2^53.
const SCALE = 2 ** 24;
const fixed = (v: number): number => Math.round(v * SCALE);
const BAND_SE = 3;

/**
 * Confidence-based performance estimation (NannyML's CBPE), live: each row adds its calibrated
 * probability q to the expected confusion matrix (a predicted positive adds q to TP and 1 − q to
 * FP; a predicted negative, q to FN and 1 − q to TN) and to per-score-bin expected positives and
 * negatives for ROC-AUC. Rows leave by the same arithmetic, so nothing re-reads the window.
 *
 * The bands are the spread of the realized metric if labels were drawn from the calibrated
 * probabilities (each row Bernoulli(q), independently): exact variances for accuracy and
 * precision, the delta method for recall and F1, Hanley & McNeil's for ROC-AUC.
 */
export class EstimatedPerformance {
  private n = 0;
  /** Predicted positives. */
  private k = 0;
  /** Σ q over predicted positives (expected TP) and negatives (expected FN), fixed point. */
  private qPos = 0;
  private qNeg = 0;
  /** Σ q(1 − q) over predicted positives and negatives, fixed point. */
  private vPos = 0;
  private vNeg = 0;
  private readonly pos = new Float64Array(AUC_BINS);
  private readonly neg = new Float64Array(AUC_BINS);
  private readonly rule: { decision_threshold: number };

  constructor(
    private readonly calibration: Pick<Calibration, 'x' | 'y'>,
    threshold: number,
  ) {
    this.rule = { decision_threshold: threshold };
  }

  add(probability: number): void {
    this.update(probability, 1);
  }

  remove(probability: number): void {
    this.update(probability, -1);
  }

  clear(): void {
    this.n = this.k = this.qPos = this.qNeg = this.vPos = this.vNeg = 0;
    this.pos.fill(0);
    this.neg.fill(0);
  }

  private update(p: number, d: 1 | -1): void {
    if (!Number.isFinite(p)) return;
    const q = fixed(calibrate(this.calibration, p));
    const v = fixed((q / SCALE) * (1 - q / SCALE));
    this.n += d;
    if (decision(this.rule, p) === 1) {
      this.k += d;
      this.qPos += d * q;
      this.vPos += d * v;
    } else {
      this.qNeg += d * q;
      this.vNeg += d * v;
    }
    const bin = Math.min(AUC_BINS - 1, Math.max(0, Math.floor(p * AUC_BINS)));
    this.pos[bin]! += d * q;
    this.neg[bin]! += d * (SCALE - q);
  }

  estimate(): PerformanceEstimate {
    const { n, k } = this;
    const none = { accuracy: null, precision: null, recall: null, f1: null, roc_auc: null };
    if (n === 0) return { n_rows: 0, ...none, bands: { ...none } };
    const tp = this.qPos / SCALE;
    const fn = this.qNeg / SCALE;
    const varTp = this.vPos / SCALE;
    const varFn = this.vNeg / SCALE;
    // Expected TN; FP (k − TP) enters only through the precision's denominator k.
    const tn = n - k - fn;
    const accuracy = (tp + tn) / n;
    // Correct-or-not is Bernoulli(q) or Bernoulli(1 − q): variance q(1 − q) either way.
    const accuracySe = Math.sqrt(varTp + varFn) / n;
    const precision = k === 0 ? null : tp / k;
    const precisionSe = k === 0 ? 0 : Math.sqrt(varTp) / k;
    const positives = tp + fn;
    const recall = positives === 0 ? null : tp / positives;
    // recall = A / (A + B), A = TP, B = FN independent sums: the delta method.
    const recallSe = positives === 0 ? 0 : Math.sqrt(fn * fn * varTp + tp * tp * varFn) / (positives * positives);
    // F1 = 2A / (k + A + B).
    const f1Den = k + positives;
    const f1 = f1Den === 0 ? null : (2 * tp) / f1Den;
    const f1Se = f1Den === 0 ? 0 : Math.sqrt(4 * (k + fn) ** 2 * varTp + 4 * tp * tp * varFn) / (f1Den * f1Den);
    const auc = this.auc();
    const band = (v: number | null, se: number): Band | null =>
      v === null ? null : [Math.max(0, v - BAND_SE * se), Math.min(1, v + BAND_SE * se)];
    return {
      n_rows: n,
      accuracy,
      precision,
      recall,
      f1,
      roc_auc: auc?.value ?? null,
      bands: {
        accuracy: band(accuracy, accuracySe),
        precision: band(precision, precisionSe),
        recall: band(recall, recallSe),
        f1: band(f1, f1Se),
        roc_auc: auc === null ? null : band(auc.value, auc.se),
      },
    };
  }

  private auc(): { value: number; se: number } | null {
    let negBelow = 0;
    let sum = 0;
    let nPos = 0;
    for (let b = 0; b < AUC_BINS; b++) {
      const pb = this.pos[b]! / SCALE;
      const nb = this.neg[b]! / SCALE;
      sum += pb * (negBelow + 0.5 * nb);
      negBelow += nb;
      nPos += pb;
    }
    if (nPos <= 0 || negBelow <= 0) return null;
    const a = sum / (nPos * negBelow);
    // Hanley & McNeil (1982), with the expected class counts.
    const q1 = a / (2 - a);
    const q2 = (2 * a * a) / (1 + a);
    const variance = (a * (1 - a) + (nPos - 1) * (q1 - a * a) + (negBelow - 1) * (q2 - a * a)) / (nPos * negBelow);
    return { value: a, se: Math.sqrt(Math.max(0, variance)) };
  }
}
