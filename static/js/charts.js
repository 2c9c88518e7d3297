// ECharts set-up shared by the panels: a theme per colour scheme built from the page's CSS
// variables (so charts and page never disagree), live switching when the system scheme changes,
// resizing with the container, and tooltips that only ever show escaped text.
import * as echarts from '/vendor/echarts.js';
import { esc } from './format.js';

const dark = window.matchMedia('(prefers-color-scheme: dark)');
const charts = new Set();

export function palette() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return {
    text: v('--text'),
    muted: v('--muted'),
    border: v('--border'),
    grid: v('--grid'),
    panel: v('--panel'),
    ref: v('--ref'),
    cur: v('--cur'),
    ok: v('--ok'),
    warn: v('--warn'),
    bad: v('--bad'),
    accent: v('--accent'),
  };
}

function themeFrom(p) {
  const axis = {
    axisLine: { lineStyle: { color: p.border } },
    axisTick: { lineStyle: { color: p.border } },
    axisLabel: { color: p.muted },
    splitLine: { lineStyle: { color: p.grid } },
    nameTextStyle: { color: p.muted },
  };
  return {
    color: [p.cur, p.ref, p.warn, p.bad, p.ok],
    backgroundColor: 'transparent',
    textStyle: { color: p.text, fontFamily: 'inherit' },
    legend: { textStyle: { color: p.muted } },
    tooltip: { backgroundColor: p.panel, borderColor: p.border, textStyle: { color: p.text } },
    categoryAxis: axis,
    valueAxis: axis,
    timeAxis: axis,
    logAxis: axis,
  };
}

const themeName = () => (dark.matches ? 'dl-dark' : 'dl-light');

function registerThemes() {
  echarts.registerTheme(themeName(), themeFrom(palette()));
}
registerThemes();

dark.addEventListener('change', () => {
  registerThemes();
  for (const c of charts) c.retheme();
});

/**
 * A chart bound to a container. `render(palette)` returns the full option; it is called again
 * after a theme switch, because series colours are taken from the palette too.
 */
export function createChart(el, render) {
  let chart = echarts.init(el, themeName(), { renderer: 'canvas' });
  let lastArgs = null;
  const ro = new ResizeObserver(() => chart.resize());
  ro.observe(el);
  const handle = {
    chart: () => chart,
    update(...args) {
      lastArgs = args;
      chart.setOption(render(palette(), ...args), { notMerge: false, lazyUpdate: true });
    },
    replace(...args) {
      lastArgs = args;
      chart.setOption(render(palette(), ...args), { notMerge: true, lazyUpdate: true });
    },
    retheme() {
      chart.setTheme(themeName());
      if (lastArgs !== null) chart.setOption(render(palette(), ...lastArgs), { notMerge: true });
    },
    on(event, fn) {
      chart.on(event, fn);
    },
    dispose() {
      ro.disconnect();
      charts.delete(handle);
      chart.dispose();
      chart = null;
    },
  };
  charts.add(handle);
  return handle;
}

/** A tooltip block from label/value pairs; every piece is escaped here, once. */
export function tooltipHtml(title, rows) {
  const body = rows.map(([k, v, color]) => {
    const dot = color ? `<span class="tt-dot" style="background:${esc(color)}"></span>` : '';
    return `<div class="tt-row">${dot}<span>${esc(k)}</span><b>${esc(v)}</b></div>`;
  });
  return `<div class="tt"><div class="tt-title">${esc(title)}</div>${body.join('')}</div>`;
}

export const baseOption = () => ({
  animationDuration: 300,
  animationDurationUpdate: 250,
  aria: { enabled: true },
  tooltip: { confine: true, appendTo: 'body', className: 'dl-tooltip' },
});
