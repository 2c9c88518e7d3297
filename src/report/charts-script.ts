// The report's own browser script, inlined after ECharts. Plain ES2017 in a string: it runs in
// the browser, not in Node, and its exact text is hashed into the report's CSP.
//
// Everything it draws comes from the JSON data block; nothing is ever written as HTML (the
// tooltip renders as rich text on the canvas), so a hostile value stays inert text.
export const CHARTS_SCRIPT = `(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var REF = '#8c96a8', CUR = '#2f6fde', DRIFT = '#d9485f';
  function fmt(x) {
    if (x === null || x === undefined || !isFinite(x)) return '—';
    var a = Math.abs(x);
    if (a >= 1e6) return (x / 1e6).toFixed(a >= 1e7 ? 0 : 1) + 'M';
    if (a >= 1e4) return (x / 1e3).toFixed(a >= 1e5 ? 0 : 1) + 'k';
    if (a >= 100 || Number.isInteger(x)) return String(Math.round(x));
    return x.toPrecision(3);
  }
  function pct(x) { return (100 * x).toFixed(1) + '%'; }
  function labels(h) {
    if (h.labels && h.labels.length === h.x.length) return h.labels.map(String);
    if (h.kind === 'values') return h.x.map(fmt);
    var out = [];
    for (var i = 0; i + 1 < h.x.length; i++) out.push(fmt(h.x[i]) + '–' + fmt(h.x[i + 1]));
    return out;
  }
  var charts = [];
  data.features.forEach(function (f, i) {
    var color = f.drift ? DRIFT : CUR;
    var hist = document.getElementById('hist-' + i);
    if (hist) {
      var c = echarts.init(hist, null, { renderer: 'canvas' });
      var series = [{ name: 'reference', type: 'bar', data: f.reference_hist.shares, itemStyle: { color: REF }, barGap: '0%' }];
      if (f.n_current > 0) series.push({ name: 'current', type: 'bar', data: f.current_hist.shares, itemStyle: { color: color } });
      c.setOption({
        animation: false,
        grid: { left: 48, right: 12, top: 30, bottom: 48 },
        legend: { top: 0, data: series.map(function (s) { return s.name; }) },
        tooltip: { trigger: 'axis', renderMode: 'richText', valueFormatter: pct },
        xAxis: { type: 'category', data: labels(f.reference_hist), axisLabel: { rotate: 30, fontSize: 10 } },
        yAxis: { type: 'value', name: 'share of rows', nameTextStyle: { fontSize: 10 }, axisLabel: { formatter: function (v) { return pct(v); } } },
        series: series
      });
      charts.push(c);
    }
    var quant = document.getElementById('quant-' + i);
    if (quant) {
      var q = f.quantiles, rows = [['reference', q.reference]];
      if (q.current) rows.push(['current', q.current]);
      var c2 = echarts.init(quant, null, { renderer: 'canvas' });
      c2.setOption({
        animation: false,
        grid: { left: 80, right: 16, top: 16, bottom: 28 },
        tooltip: { trigger: 'item', renderMode: 'richText' },
        yAxis: { type: 'category', data: rows.map(function (r) { return r[0]; }) },
        xAxis: { type: 'value', scale: true, axisLabel: { formatter: fmt } },
        series: [
          { name: 'p5 · p25 · p50 · p75 · p95', type: 'boxplot', data: rows.map(function (r, k) {
              return { value: [r[1].p5, r[1].p25, r[1].p50, r[1].p75, r[1].p95], itemStyle: { color: k === 0 ? '#e6e9ef' : '#dce7fb', borderColor: k === 0 ? REF : color } };
            }) },
          { name: 'mean', type: 'scatter', symbol: 'diamond', symbolSize: 10, data: rows.map(function (r) { return [r[1].mean, r[0]]; }), itemStyle: { color: '#1f2430' } }
        ]
      });
      charts.push(c2);
    }
  });
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
})();
`;
