import { decision, type ModelCard } from '../model/card.js';

/** Classification quality over the labelled rows of the window, or null before any label. */
export interface Performance {
  n_labelled: number;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  roc_auc: number | null;
}

// ROC-AUC from per-class histograms of P(class 1): 1000 bins put the AUC within ~0.001 of the
// exact rank statistic (ties inside a bin count half), at O(bins) per snapshot and O(1) per row.
const AUC_BINS = 1000;

/**
 * Confusion counts and per-class probability histograms of the labelled rows in the window,
 * kept up to date as rows enter, leave, or receive a label: no pass over the window.
 */
export class RollingPerformance {
  private tp = 0;
  private fp = 0;
  private tn = 0;
  private fn = 0;
  private readonly hist = [new Float64Array(AUC_BINS), new Float64Array(AUC_BINS)] as const;

  private readonly rule: Pick<ModelCard, 'decision_threshold'>;

  /** `threshold`: the card's decision threshold. */
  constructor(threshold: number) {
    this.rule = { decision_threshold: threshold };
  }

  add(probability: number, target: number): void {
    this.update(probability, target, 1);
  }

  remove(probability: number, target: number): void {
    this.update(probability, target, -1);
  }

  private update(p: number, t: number, d: 1 | -1): void {
    if (t !== 0 && t !== 1) return;
    const predicted = decision(this.rule, p);
    if (t === 1 && predicted === 1) this.tp += d;
    else if (t === 1) this.fn += d;
    else if (predicted === 1) this.fp += d;
    else this.tn += d;
    const bin = Math.min(AUC_BINS - 1, Math.max(0, Math.floor(p * AUC_BINS)));
    this.hist[t]![bin]! += d;
  }

  clear(): void {
    this.tp = this.fp = this.tn = this.fn = 0;
    this.hist[0].fill(0);
    this.hist[1].fill(0);
  }

  metrics(): Performance {
    const { tp, fp, tn, fn } = this;
    const n = tp + fp + tn + fn;
    if (n === 0) return { n_labelled: 0, accuracy: null, precision: null, recall: null, f1: null, roc_auc: null };
    const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
    const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
    return {
      n_labelled: n,
      accuracy: (tp + tn) / n,
      precision,
      recall,
      f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
      roc_auc: this.auc(),
    };
  }

  private auc(): number | null {
    const [neg, pos] = this.hist;
    let negBelow = 0;
    let sum = 0;
    let nPos = 0;
    for (let b = 0; b < AUC_BINS; b++) {
      sum += pos[b]! * (negBelow + 0.5 * neg[b]!);
      negBelow += neg[b]!;
      nPos += pos[b]!;
    }
    return nPos === 0 || negBelow === 0 ? null : sum / (nPos * negBelow);
  }
}
