// Model quality on the labelled rows of the window and estimated on all of them before labels
// (CBPE, with its ±3 SE band), next to the card's validation numbers, and the concept-drift
// detector (Page-Hinkley on the error stream).
import { bus } from '../bus.js';
import { DASH, clock, int, isNum, score } from '../format.js';

const METRICS = [
  ['accuracy', 'Accuracy'],
  ['precision', 'Precision'],
  ['recall', 'Recall'],
  ['f1', 'F1'],
  ['roc_auc', 'ROC AUC'],
];

const fmt = (v) => (isNum(v) ? v.toFixed(3) : DASH);

export function modelQuality() {
  let validation = {};
  let perf = null;
  let est = null;

  return {
    labelled: 0,
    labelledText: '0',
    hasLabels: false,
    metrics: [],
    concept: DASH,
    conceptState: 'ok',
    conceptDetail: '',

    init() {
      bus.on('card', (c) => {
        validation = c.metrics?.validation ?? {};
        this.build();
      });
      bus.on('snapshot', (s) => {
        perf = s.performance ?? null;
        est = s.performance_estimate ?? null;
        this.build();
        const c = s.concept;
        if (c === undefined || c === null) return;
        const detected = c.detected_at !== null;
        this.conceptState = detected ? 'drift' : 'ok';
        this.concept = detected ? `change detected at ${clock(c.detected_at)}` : 'no change detected';
        this.conceptDetail = `Page-Hinkley statistic ${score(c.statistic)} of ${score(c.threshold)} over ${int(c.samples)} labelled rows${detected && c.since_detection !== null ? `; ${int(c.since_detection)} since` : ''}`;
      });
    },

    get noLabels() {
      return !this.hasLabels;
    },
    get conceptCls() {
      return `state-${this.conceptState}`;
    },

    build() {
      const n = perf?.n_labelled ?? 0;
      this.labelled = n;
      this.labelledText = int(n);
      this.hasLabels = n > 0;
      this.metrics = METRICS.map(([key, label]) => {
        const now = perf?.[key];
        const base = validation[key];
        const guess = est?.[key];
        const band = est?.bands?.[key];
        const delta = isNum(now) && isNum(base) ? now - base : null;
        return {
          key,
          label,
          value: fmt(now),
          validation: isNum(base) ? `validation ${fmt(base)}` : '',
          estimated: isNum(guess) ? `estimated ${fmt(guess)}${Array.isArray(band) ? ` (${fmt(band[0])}–${fmt(band[1])})` : ''}` : '',
          delta: delta === null ? '' : `${delta >= 0 ? '+' : '−'}${Math.abs(delta).toFixed(3)}`,
          deltaCls: delta === null ? 'delta' : delta < -0.05 ? 'delta worse' : delta > 0.05 ? 'delta better' : 'delta',
        };
      });
    },
  };
}
