// The selected feature: reference vs current histogram, quantiles (p5 … p95) and the per-minute
// quantile trend (fetched when a feature is chosen; the histogram itself follows the live pushes).
import { bus, perFrame } from '../bus.js';
import { baseOption, createChart, tooltipHtml } from '../charts.js';
import { DASH, clock, compact, histLabels, isCategoryHist, isNum, pct, score, strength, strengthText } from '../format.js';

export function histOption(p, ref, cur, title) {
  const labels = histLabels(ref);
  return {
    ...baseOption(),
    legend: { top: 0, right: 0, data: ['reference', 'current'] },
    grid: { left: 8, right: 8, top: 28, bottom: 8, containLabel: true },
    tooltip: {
      ...baseOption().tooltip,
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (params) => {
        const list = Array.isArray(params) ? params : [params];
        const i = list[0]?.dataIndex ?? 0;
        return tooltipHtml(`${title}: ${labels[i] ?? ''}`, [
          ['reference', pct(ref.shares[i], 1), p.ref],
          ['current', cur === null ? DASH : pct(cur.shares[i], 1), p.cur],
        ]);
      },
    },
    // Category names are all shown (at most 30 come in a snapshot), slanted when long.
    xAxis: isCategoryHist(ref)
      ? {
          type: 'category',
          data: labels,
          axisLabel: { interval: 0, rotate: labels.length > 8 || labels.some((l) => l.length > 10) ? 30 : 0 },
        }
      : { type: 'category', data: labels, axisLabel: { hideOverlap: true, rotate: labels.length > 8 ? 30 : 0 } },
    yAxis: { type: 'value', axisLabel: { formatter: (v) => pct(v) } },
    series: [
      {
        type: 'bar',
        name: 'reference',
        data: ref.shares,
        itemStyle: { color: p.ref, opacity: 0.55 },
        barGap: '-100%',
        barCategoryGap: '8%',
      },
      {
        type: 'bar',
        name: 'current',
        data: cur === null ? [] : cur.shares,
        itemStyle: { color: 'transparent', borderColor: p.cur, borderWidth: 2 },
        barCategoryGap: '8%',
      },
    ],
  };
}

const QUANTILES = ['p5', 'p25', 'p50', 'p75', 'p95'];

function boxOption(p, q, title) {
  const item = (x, color) => ({
    value: x === null ? [] : QUANTILES.map((k) => x[k]),
    itemStyle: { color, borderColor: color, opacity: 0.6 },
  });
  return {
    ...baseOption(),
    grid: { left: 8, right: 16, top: 4, bottom: 4, containLabel: true },
    tooltip: {
      ...baseOption().tooltip,
      trigger: 'item',
      formatter: (params) => {
        const which = params.dataIndex === 0 ? 'reference' : 'current';
        const x = q[which];
        if (x === null) return '';
        return tooltipHtml(
          `${title} · ${which}`,
          QUANTILES.map((k) => [k, compact(x[k])]),
        );
      },
    },
    xAxis: { type: 'value', scale: true, axisLabel: { formatter: (v) => compact(v), hideOverlap: true } },
    yAxis: { type: 'category', data: ['reference', 'current'], inverse: true, axisTick: { show: false } },
    series: [{ type: 'boxplot', name: 'quantiles p5–p95', boxWidth: [8, 16], data: [item(q.reference, p.ref), item(q.current, p.cur)] }],
  };
}

function trendOption(p, trend, title) {
  const line = (key, width) => ({
    type: 'line',
    name: `current ${key}`,
    showSymbol: trend.buckets.length < 3,
    data: trend.buckets.map((b) => [b.start, b[key]]),
    lineStyle: { color: p.cur, width },
    itemStyle: { color: p.cur },
  });
  const ref = trend.reference ?? {};
  const mark = (key) => (isNum(ref[key]) ? { yAxis: ref[key], name: `reference ${key}` } : null);
  const series = [line('p50', 2.5), line('p5', 1), line('p95', 1)];
  series[0].markLine = {
    silent: true,
    symbol: 'none',
    lineStyle: { color: p.ref, type: 'dashed' },
    label: { color: p.muted, formatter: (m) => m.name.replace('reference ', 'ref ') },
    data: ['p5', 'p50', 'p95'].map(mark).filter((m) => m !== null),
  };
  return {
    ...baseOption(),
    grid: { left: 8, right: 44, top: 12, bottom: 8, containLabel: true },
    tooltip: {
      ...baseOption().tooltip,
      trigger: 'axis',
      formatter: (params) => {
        const list = Array.isArray(params) ? params : [params];
        const b = trend.buckets[list[0]?.dataIndex ?? 0];
        if (b === undefined) return '';
        return tooltipHtml(`${title} · ${clock(b.start)}`, [
          ['rows', compact(b.count)],
          ['p5', compact(b.p5)],
          ['p50', compact(b.p50)],
          ['p95', compact(b.p95)],
        ]);
      },
    },
    // Padding of one bucket either side: a single minute would otherwise be stretched over days.
    xAxis: { type: 'time', min: (v) => v.min - trend.bucketMs, max: (v) => v.max + trend.bucketMs, axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', scale: true, axisLabel: { formatter: (v) => compact(v) } },
    series,
  };
}

export function featureDist() {
  let hist = null;
  let box = null;
  let trendChart = null;
  let snap = null;
  let trendToken = 0;
  let draw = () => {};

  return {
    name: null,
    description: '',
    test: DASH,
    score: DASH,
    threshold: DASH,
    strength: DASH,
    state: 'empty',
    badge: 'no data',
    counts: '',
    quantiles: [],
    trendState: 'idle',
    trendNote: '',
    categorical: false,
    descriptions: {},

    init() {
      draw = perFrame(() => this.render());
      hist = createChart(this.$refs.hist, histOption);
      box = createChart(this.$refs.box, boxOption);
      trendChart = createChart(this.$refs.trend, trendOption);
      bus.on('card', (c) => {
        this.descriptions = Object.fromEntries((c.features ?? []).map((f) => [f.name, f.description ?? '']));
        this.description = this.descriptions[this.name] ?? '';
      });
      bus.on('snapshot', (s) => {
        snap = s;
        draw();
      });
      bus.on('select', (name) => {
        const changed = name !== this.name;
        this.name = name;
        this.description = this.descriptions[name] ?? '';
        draw();
        if (changed) this.loadTrend();
      });
    },

    destroy() {
      for (const c of [hist, box, trendChart]) c?.dispose();
    },

    render() {
      const f = snap?.features?.[this.name];
      if (f === undefined) return;
      const s = strength(f.test, f.score, f.threshold, f.test_display_name);
      this.test = f.test_display_name || f.test;
      this.score = score(f.score);
      this.threshold = score(f.threshold);
      this.strength = strengthText(s);
      this.state = f.score === null ? 'empty' : f.drift ? 'drift' : 'ok';
      this.badge = f.score === null ? 'no data' : f.drift ? 'drifted' : 'ok';
      this.counts = `${compact(f.n_current)} current rows vs ${compact(f.n_reference)} reference rows`;
      hist.replace(f.reference_hist, f.n_current > 0 ? f.current_hist : null, this.name);
      // A string column's quantiles would be those of its category codes: nothing to read there.
      this.categorical = isCategoryHist(f.reference_hist);
      if (this.categorical) {
        this.quantiles = [];
        return;
      }
      const q = f.quantiles;
      this.quantiles = ['p5', 'p50', 'p95', 'mean'].map((k) => ({
        key: k,
        reference: compact(q.reference[k]),
        current: q.current === null ? DASH : compact(q.current[k]),
      }));
      box.replace(q, this.name);
    },

    async loadTrend() {
      const name = this.name;
      if (name === null) return;
      const token = ++trendToken;
      if (isCategoryHist(snap?.features?.[name]?.reference_hist)) {
        this.trendState = 'idle';
        this.trendNote = '';
        return;
      }
      this.trendState = 'loading';
      try {
        const r = await fetch(`/api/drift/trend?column=${encodeURIComponent(name)}`);
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        const t = await r.json();
        if (token !== trendToken) return;
        const buckets = Array.isArray(t.buckets) ? t.buckets : [];
        this.trendState = buckets.length === 0 ? 'empty' : 'ready';
        this.trendNote = `as of ${clock(Date.now())}`;
        trendChart.replace({ buckets, reference: t.reference ?? null, bucketMs: isNum(t.bucket_ms) ? t.bucket_ms : 60_000 }, name);
      } catch (err) {
        if (token !== trendToken) return;
        this.trendState = 'error';
        this.trendNote = `could not load the trend (${err instanceof Error ? err.message : 'error'})`;
      }
    },

    get badgeCls() {
      return `badge-${this.state}`;
    },
    get trendReady() {
      return this.trendState === 'ready';
    },
    get hasQuantiles() {
      return !this.categorical;
    },
    get trendEmpty() {
      return this.trendState === 'empty';
    },

    refreshTrend() {
      this.loadTrend();
    },
  };
}
