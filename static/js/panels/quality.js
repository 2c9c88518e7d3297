// Model quality on the labelled rows of the window and estimated on all of them before labels
// (CBPE, with its ±3 SE band), next to the card's validation numbers, and the concept-drift
// detector (Page-Hinkley on the error stream). Below them, data quality: per feature, the
// shares of missing, invalid and unseen values over the rows received, rejected ones included.
import { bus } from '../bus.js';
import { DASH, clock, int, isNum, pct, score } from '../format.js';

// Emphasis only, matching the data_quality rule's default thresholds; the rule itself (and its
// configured thresholds) decides alerts.
const DQ_EMPHASIS = 0.05;
const KINDS = ['missing', 'invalid', 'unseen'];

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
    dq: [],
    dqRowsText: '0',
    hasDq: false,

    init() {
      bus.on('card', (c) => {
        validation = c.metrics?.validation ?? {};
        this.build();
      });
      bus.on('snapshot', (s) => {
        perf = s.performance ?? null;
        est = s.performance_estimate ?? null;
        this.build();
        this.buildQuality(s.data_quality, s.data_quality_rows);
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

    buildQuality(q, rows) {
      this.hasDq = q !== undefined && q !== null && Object.keys(q).length > 0;
      this.dqRowsText = int(rows ?? 0);
      if (!this.hasDq) return;
      this.dq = Object.entries(q).map(([name, f]) => {
        const cell = (kind) => {
          const v = f[`${kind}_share`];
          return { text: isNum(v) ? pct(v, 1) : DASH, cls: !isNum(v) || v === 0 ? 'num muted' : v > DQ_EMPHASIS ? 'num dq-bad' : 'num' };
        };
        const [missing, invalid, unseen] = KINDS.map(cell);
        const worst = Math.max(...KINDS.map((k) => (isNum(f[`${k}_share`]) ? f[`${k}_share`] : 0)));
        return { name, missing, invalid, unseen, state: worst > DQ_EMPHASIS ? 'bad' : worst > 0 ? 'some' : 'ok' };
      });
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
