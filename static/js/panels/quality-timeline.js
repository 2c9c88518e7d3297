// Model quality over time: F1 and ROC AUC estimated from the calibrated probabilities (CBPE) with
// their ±3 SE band, realized on labelled rows when labels exist, against the card's validation
// values. History first, then live snapshots, from the series history.js keeps.
import { bus, perFrame } from '../bus.js';
import { baseOption, createChart, tooltipHtml } from '../charts.js';
import { DASH, clock, isNum } from '../format.js';
import { qualitySeries, qualityValidation } from '../history.js';

// Column of each value in a quality point (history.js): [t, f1, auc, f1 lo, f1 hi, auc lo, auc hi, real f1, real auc].
const METRICS = [
  { key: 'f1', label: 'F1', est: 1, lo: 3, hi: 4, real: 7 },
  { key: 'roc_auc', label: 'ROC AUC', est: 2, lo: 5, hi: 6, real: 8 },
];

const fmt = (v) => (isNum(v) ? v.toFixed(3) : DASH);

/**
 * The band as two stacked series: an invisible lower edge, then its width shaded on top, so the
 * area covers exactly lo…hi (ECharts has no "between two lines" area of its own).
 */
function bandSeries(m, points, color) {
  const stack = `band-${m.key}`;
  const lower = points.map((q) => [q[0], q[m.lo]]);
  const width = points.map((q) => [q[0], isNum(q[m.lo]) && isNum(q[m.hi]) ? q[m.hi] - q[m.lo] : null]);
  const common = {
    type: 'line',
    stack,
    showSymbol: false,
    silent: true,
    connectNulls: false,
    lineStyle: { width: 0 },
    emphasis: { disabled: true },
  };
  return [
    { ...common, name: `${m.label} band low`, data: lower, areaStyle: { opacity: 0 }, tooltip: { show: false } },
    { ...common, name: `${m.label} band`, data: width, areaStyle: { color, opacity: 0.15 }, tooltip: { show: false } },
  ];
}

function option(p, points, validation) {
  const colors = { f1: p.cur, roc_auc: p.warn };
  const floor = METRICS.map((m) => validation?.[m.key]).filter(isNum);
  const series = [];
  for (const m of METRICS) {
    const color = colors[m.key];
    series.push(...bandSeries(m, points, color));
    const base = validation?.[m.key];
    series.push({
      type: 'line',
      name: `estimated ${m.label}`,
      showSymbol: points.length < 3,
      data: points.map((q) => [q[0], q[m.est]]),
      lineStyle: { color, width: 2, type: 'dashed' },
      itemStyle: { color },
      markLine: isNum(base)
        ? {
            silent: true,
            symbol: 'none',
            lineStyle: { color, type: 'dotted', opacity: 0.8 },
            label: { color, formatter: `validation ${m.label} ${fmt(base)}`, position: 'insideEndTop' },
            data: [{ yAxis: base }],
          }
        : undefined,
    });
    series.push({
      type: 'line',
      name: `realized ${m.label}`,
      showSymbol: points.length < 3,
      data: points.map((q) => [q[0], q[m.real]]),
      lineStyle: { color, width: 2 },
      itemStyle: { color },
    });
  }
  return {
    ...baseOption(),
    legend: { top: 0, right: 0, data: METRICS.flatMap((m) => [`estimated ${m.label}`, `realized ${m.label}`]) },
    grid: { left: 8, right: 16, top: 28, bottom: 24, containLabel: true },
    tooltip: {
      ...baseOption().tooltip,
      trigger: 'axis',
      formatter: (params) => {
        const first = Array.isArray(params) ? params[0] : params;
        const q = points[first?.dataIndex ?? -1];
        if (q === undefined) return '';
        const rows = [];
        for (const m of METRICS) {
          const b = isNum(q[m.lo]) ? ` (${fmt(q[m.lo])}–${fmt(q[m.hi])})` : '';
          rows.push(
            [`estimated ${m.label}`, `${fmt(q[m.est])}${b}`, colors[m.key]],
            [`realized ${m.label}`, fmt(q[m.real]), colors[m.key]],
          );
        }
        return tooltipHtml(clock(q[0]), rows);
      },
    },
    // At least a minute wide, as the drift timeline: one point alone would span days.
    xAxis: {
      type: 'time',
      min: (v) => Math.min(v.min, v.max - 60_000),
      max: (v) => Math.max(v.max, v.min + 60_000),
      axisLabel: { hideOverlap: true },
    },
    // From a tenth below the lowest value (validation lines included, which ECharts leaves out
    // of the extent) up to 1, so a drop reads against a fixed top.
    yAxis: {
      type: 'value',
      min: (v) => Math.max(0, Math.floor(Math.min(isNum(v.min) ? v.min : 1, ...floor) * 10) / 10),
      max: 1,
      axisLabel: { formatter: (v) => v.toFixed(1) },
    },
    series,
  };
}

export function qualityTimeline() {
  let chart = null;
  // The card's own numbers stand in when no estimate carries them (a profile without a
  // calibration map), so realized lines still have their reference.
  let cardValidation = null;
  const draw = perFrame(() => chart?.replace(qualitySeries().slice(), qualityValidation() ?? cardValidation));
  return {
    empty: true,
    init() {
      chart = createChart(this.$refs.chart, option);
      bus.on('card', (c) => {
        cardValidation = c.metrics?.validation ?? null;
        draw();
      });
      bus.on('series', () => {
        this.empty = qualitySeries().length === 0;
        draw();
      });
    },
    destroy() {
      chart?.dispose();
    },
  };
}
