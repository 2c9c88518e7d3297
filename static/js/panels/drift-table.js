// Per-feature drift: test, score, threshold, verdict, the model's importance of the feature (from
// the card, when it has one) and a sparkline of drift strength over
// time. Clicking a row (or Enter on it) selects the feature for the distribution panel.
import { bus } from '../bus.js';
import { isNum, score, strength, strengthText } from '../format.js';
import { featureSeries, sparkline } from '../history.js';

export const SPARK_W = 120;
export const SPARK_H = 28;

export function driftTable() {
  let snap = null;
  let descriptions = {};

  return {
    rows: [],
    selected: null,
    sparkW: SPARK_W,
    sparkH: SPARK_H,
    viewBox: `0 0 ${SPARK_W} ${SPARK_H}`,

    init() {
      bus.on('card', (c) => {
        descriptions = Object.fromEntries((c.features ?? []).map((f) => [f.name, f.description ?? '']));
        this.build();
      });
      bus.on('snapshot', (s) => {
        snap = s;
        if (this.selected === null || !(this.selected in s.features)) {
          const first = Object.keys(s.features)[0] ?? null;
          if (first !== null) bus.emit('select', first);
        }
        this.build();
      });
      bus.on('select', (name) => {
        this.selected = name;
        this.build();
      });
      bus.on('series', () => this.build());
    },

    build() {
      if (snap === null) return;
      this.rows = Object.entries(snap.features).map(([name, f]) => {
        const s = strength(f.test, f.score, f.threshold, f.test_display_name);
        const spark = sparkline(featureSeries(name), SPARK_W, SPARK_H);
        const empty = f.score === null;
        const state = empty ? 'empty' : f.drift ? 'drift' : 'ok';
        return {
          name,
          description: descriptions[name] ?? '',
          test: f.test_display_name || f.test,
          score: score(f.score),
          threshold: score(f.threshold),
          strength: strengthText(s),
          importance: isNum(f.importance) ? score(f.importance) : '',
          state,
          badge: empty ? 'no data' : f.drift ? 'drifted' : 'ok',
          badgeCls: `badge-${state}`,
          cls: `drift-row state-${state}${name === this.selected ? ' selected' : ''}`,
          selected: name === this.selected ? 'true' : 'false',
          spark: spark.points,
          sparkThrY: spark.thresholdY,
          sparkLabel: spark.last === null ? 'no history yet' : `drift strength over time, now ${strengthText(spark.last[1])}`,
        };
      });
    },

    select(name) {
      bus.emit('select', name);
    },
  };
}
