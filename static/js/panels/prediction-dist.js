// The model's output: P(positive) histogram of the reference vs the window, its drift test, and
// the risk-level split of the predictions this page has received.
import { bus, perFrame } from '../bus.js';
import { baseOption, createChart, tooltipHtml } from '../charts.js';
import { DASH, compact, int, pct, score } from '../format.js';

// The risk split counts the rows the page was sent on connect (the newest logged) and those
// pushed on `predictions` since (the server samples at most 100 per 100 ms under load), so it
// describes recent traffic, not the whole window.
const RISK_MEMORY = 1000;
const RISKS = ['Low', 'Medium', 'High'];

/** Bins as a step line on a real probability axis, so threshold lines sit where they belong. */
function steps(h) {
  if (h === null) return [];
  if (h.kind === 'values') return h.x.map((x, i) => [x, h.shares[i]]);
  const pts = h.shares.map((s, i) => [h.x[i], s]);
  pts.push([h.x.at(-1), h.shares.at(-1) ?? 0]);
  return pts;
}

function option(p, ref, cur, card) {
  const marks = [];
  if (card?.decision_threshold !== undefined) marks.push({ xAxis: card.decision_threshold, name: `decision ${card.decision_threshold}` });
  if (card?.risk_levels?.high !== undefined && card.risk_levels.high !== card.decision_threshold)
    marks.push({ xAxis: card.risk_levels.high, name: `high risk ${card.risk_levels.high}` });
  const series = (name, h, color, fill) => ({
    type: 'line',
    name,
    step: 'end',
    showSymbol: false,
    data: steps(h),
    lineStyle: { color, width: 2 },
    itemStyle: { color },
    areaStyle: fill ? { color, opacity: 0.25 } : undefined,
  });
  const ref_ = series('reference', ref, p.ref, true);
  ref_.markLine = {
    silent: true,
    symbol: 'none',
    lineStyle: { color: p.warn, type: 'dashed' },
    label: { color: p.warn, formatter: (m) => m.name, position: 'insideEndTop' },
    data: marks,
  };
  return {
    ...baseOption(),
    legend: { top: 0, right: 0, data: ['reference', 'current'] },
    grid: { left: 8, right: 12, top: 28, bottom: 8, containLabel: true },
    tooltip: {
      ...baseOption().tooltip,
      trigger: 'axis',
      formatter: (params) => {
        const list = Array.isArray(params) ? params : [params];
        const x = list[0]?.data?.[0];
        return tooltipHtml(
          `P(${card?.labels?.[1] ?? 'positive'}) ≥ ${score(x)}`,
          list.map((l) => [l.seriesName, pct(l.data?.[1], 1), l.color]),
        );
      },
    },
    xAxis: { type: 'value', min: 0, max: 1 },
    yAxis: { type: 'value', axisLabel: { formatter: (v) => pct(v) } },
    series: [ref_, series('current', cur, p.cur, false)],
  };
}

export function predictionDist() {
  let chart = null;
  let snap = null;
  let card = null;
  const risks = [];
  const draw = perFrame(() => {
    const f = snap?.prediction;
    if (!f || chart === null) return;
    chart.replace(f.reference_hist, f.n_current > 0 ? f.current_hist : null, card);
  });

  return {
    available: true,
    label: 'positive',
    test: DASH,
    score: DASH,
    threshold: DASH,
    state: 'empty',
    badge: 'no data',
    segments: [],
    riskNote: 'no predictions received yet',

    init() {
      chart = createChart(this.$refs.chart, option);
      bus.on('card', (c) => {
        card = c;
        this.label = c.labels?.[1] ?? 'positive';
        draw();
      });
      bus.on('snapshot', (s) => {
        snap = s;
        const f = s.prediction;
        this.available = f !== null && f !== undefined;
        if (!this.available) return;
        this.test = f.test_display_name || f.test;
        this.score = score(f.score);
        this.threshold = score(f.threshold);
        this.state = f.score === null ? 'empty' : f.drift ? 'drift' : 'ok';
        this.badge = f.score === null ? 'no data' : f.drift ? 'drifted' : 'ok';
        draw();
      });
      bus.on('recent', (rows) => {
        risks.length = 0;
        for (const r of rows) risks.push(r.risk_level);
        this.split();
      });
      bus.on('predictions', (m) => {
        for (const r of m.rows ?? []) risks.push(r.risk_level);
        if (risks.length > RISK_MEMORY) risks.splice(0, risks.length - RISK_MEMORY);
        this.split();
      });
    },

    destroy() {
      chart?.dispose();
    },

    get hasRisk() {
      return this.segments.some((s) => s.shown);
    },
    get badgeCls() {
      return `badge-${this.state}`;
    },

    split() {
      const n = risks.length;
      const counts = new Map(RISKS.map((k) => [k, 0]));
      for (const r of risks) counts.set(r, (counts.get(r) ?? 0) + 1);
      this.segments = [...counts.entries()].map(([k, c]) => ({
        key: k,
        cls: `seg risk-${String(k).toLowerCase()}`,
        keyCls: `key risk-${String(k).toLowerCase()}`,
        style: `flex-grow: ${c}`,
        share: n === 0 ? DASH : pct(c / n),
        label: `${k}: ${int(c)} (${n === 0 ? DASH : pct(c / n)})`,
        shown: c > 0,
      }));
      this.riskNote = `last ${compact(n)} predictions received`;
    },
  };
}
