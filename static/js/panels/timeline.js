// Share of drifted columns over time (persisted history, then live) against the dataset threshold.
import { bus, perFrame } from '../bus.js';
import { baseOption, createChart, tooltipHtml } from '../charts.js';
import { clock, pct } from '../format.js';
import { datasetSeries, datasetThreshold } from '../history.js';

function option(p, points, threshold) {
  return {
    ...baseOption(),
    grid: { left: 8, right: 16, top: 16, bottom: 24, containLabel: true },
    tooltip: {
      ...baseOption().tooltip,
      trigger: 'axis',
      formatter: (params) => {
        const first = Array.isArray(params) ? params[0] : params;
        if (first === undefined) return '';
        const [t, share, drift] = first.data;
        return tooltipHtml(clock(t), [
          ['drifted columns', pct(share)],
          ['dataset', drift ? 'drifted' : 'ok'],
        ]);
      },
    },
    // At least a minute wide: one point alone would otherwise get an axis spanning days.
    xAxis: {
      type: 'time',
      min: (v) => Math.min(v.min, v.max - 60_000),
      max: (v) => Math.max(v.max, v.min + 60_000),
      axisLabel: { hideOverlap: true },
    },
    yAxis: { type: 'value', min: 0, max: 1, axisLabel: { formatter: (v) => pct(v) } },
    series: [
      {
        type: 'line',
        name: 'share of drifted columns',
        step: 'end',
        showSymbol: points.length < 3,
        data: points,
        lineStyle: { color: p.accent, width: 2 },
        itemStyle: { color: p.accent },
        areaStyle: { color: p.accent, opacity: 0.12 },
        markLine:
          threshold === null
            ? undefined
            : {
                silent: true,
                symbol: 'none',
                lineStyle: { color: p.warn, type: 'dashed' },
                label: { formatter: `dataset drift ≥ ${pct(threshold)}`, color: p.warn, position: 'insideEndTop' },
                data: [{ yAxis: threshold }],
              },
      },
    ],
  };
}

export function driftTimeline() {
  let chart = null;
  const draw = perFrame(() => {
    const points = datasetSeries();
    chart?.replace(points.slice(), datasetThreshold());
  });
  return {
    empty: true,
    init() {
      chart = createChart(this.$refs.chart, option);
      bus.on('series', () => {
        this.empty = datasetSeries().length === 0;
        draw();
      });
    },
    destroy() {
      chart?.dispose();
    },
  };
}
