// Drift strength per feature on one axis where 1.0 is each test's threshold.
import { bus, perFrame } from '../bus.js';
import { baseOption, createChart, tooltipHtml } from '../charts.js';
import { isPValueTest, largestCategoryShift, pct, score, strength, strengthText } from '../format.js';

// Bars beyond 5× the threshold are cut at the axis edge (their label keeps the real value):
// one wildly drifted column would otherwise squash every other bar into a sliver.
const AXIS_CAP = 5;

function option(p, rows, selected) {
  const top = Math.min(AXIS_CAP, Math.max(2, ...rows.map((r) => (Number.isFinite(r.strength) ? Math.ceil(r.strength * 1.1) : AXIS_CAP))));
  return {
    ...baseOption(),
    grid: { left: 8, right: 56, top: 22, bottom: 8, containLabel: true },
    tooltip: {
      ...baseOption().tooltip,
      trigger: 'item',
      formatter: (params) => {
        const r = rows[params.dataIndex];
        if (r === undefined) return '';
        const rowsHtml = [
          [r.testName, score(r.score)],
          ['threshold', score(r.threshold)],
          ['strength', strengthText(r.strength)],
          ['status', r.score === null ? 'no data' : r.drift ? 'drifted' : 'ok'],
        ];
        // A string column names the category that moved most, as the distribution panel's x axis does.
        if (r.shift !== null)
          rowsHtml.push([`most changed: ${r.shift.label}`, `${pct(r.shift.reference, 1)} → ${pct(r.shift.current, 1)}`]);
        return tooltipHtml(r.name, rowsHtml);
      },
    },
    xAxis: { type: 'value', min: 0, max: top, splitNumber: top <= 2 ? 4 : top, axisLabel: { formatter: (v) => `${v}×` } },
    yAxis: { type: 'category', inverse: true, data: rows.map((r) => r.name), axisTick: { show: false } },
    series: [
      {
        type: 'bar',
        name: 'drift strength',
        barMaxWidth: 18,
        data: rows.map((r) => ({
          value: r.strength === null ? 0 : Math.min(r.strength, top),
          itemStyle: {
            color: r.score === null ? p.grid : r.drift ? p.bad : p.ok,
            borderColor: r.name === selected ? p.text : 'transparent',
            borderWidth: r.name === selected ? 2 : 0,
            borderRadius: 3,
          },
        })),
        label: {
          show: true,
          position: 'right',
          color: p.muted,
          formatter: (params) => {
            const r = rows[params.dataIndex];
            return r === undefined || r.score === null ? '–' : `${strengthText(r.strength)}${r.strength > top ? ' ▸' : ''}`;
          },
        },
        markLine: {
          silent: true,
          symbol: 'none',
          lineStyle: { color: p.warn, type: 'dashed', width: 1.5 },
          label: { formatter: 'threshold', color: p.warn, position: 'start' },
          data: [{ xAxis: 1 }],
        },
      },
    ],
  };
}

export function driftChart() {
  let chart = null;
  let rows = [];
  let selected = null;
  const draw = perFrame(() => chart?.update(rows, selected));

  return {
    hasPValue: false,

    init() {
      chart = createChart(this.$refs.chart, option);
      chart.on('click', (params) => {
        const r = rows[params.dataIndex];
        if (r !== undefined) bus.emit('select', r.name);
      });
      bus.on('snapshot', (snap) => {
        rows = Object.entries(snap.features).map(([name, f]) => ({
          name,
          testName: f.test_display_name || f.test,
          score: f.score,
          threshold: f.threshold,
          drift: f.drift,
          strength: strength(f.test, f.score, f.threshold, f.test_display_name),
          shift: f.n_current > 0 ? largestCategoryShift(f.reference_hist, f.current_hist) : null,
        }));
        this.hasPValue = Object.values(snap.features).some((f) => isPValueTest(f.test, f.test_display_name));
        // 26 px a bar: a model with 40 features gets a taller chart instead of hairline bars.
        this.$refs.chart.style.height = `${Math.max(260, rows.length * 26 + 40)}px`;
        draw();
      });
      bus.on('select', (name) => {
        selected = name;
        draw();
      });
    },

    get noPValue() {
      return !this.hasPValue;
    },

    destroy() {
      chart?.dispose();
    },
  };
}
