// The report's style sheet, inlined; its hash goes into the report's CSP, so it lives in one
// constant and the HTML never carries a style attribute.
export const REPORT_CSS = `
:root { color-scheme: light; --fg: #1f2430; --muted: #6b7280; --line: #e3e6ec; --bg: #f7f8fa; --drift: #c0344a; --ok: #1d7a46; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; }
h3 { font-size: 15px; margin: 0 0 4px; display: flex; gap: 8px; align-items: center; }
.lead { margin: 0 0 16px; color: var(--muted); }
.muted { color: var(--muted); font-weight: normal; }
.summary dl { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 10px; margin: 0; }
.summary dl > div { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.summary dt { color: var(--muted); font-size: 12px; }
.summary dd { margin: 2px 0 0; font-size: 15px; overflow-wrap: anywhere; }
strong.drift { color: var(--drift); }
strong.ok { color: var(--ok); }
table { border-collapse: collapse; background: #fff; }
table.columns { width: 100%; border: 1px solid var(--line); margin-bottom: 14px; }
caption { text-align: left; color: var(--muted); padding: 4px 0; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { font-size: 12px; color: var(--muted); font-weight: 600; }
tbody th { overflow-wrap: break-word; max-width: 260px; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.drifted th { color: var(--drift); }
.badge { display: inline-block; white-space: nowrap; font-size: 11px; font-weight: 600; padding: 1px 8px; border-radius: 999px; }
.badge.drift { background: #fbe4e8; color: var(--drift); }
.badge.ok { background: #e2f4ea; color: var(--ok); }
.feature { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--ok); border-radius: 8px; padding: 14px 16px; margin-bottom: 14px; }
.feature.drifted { border-left-color: var(--drift); }
.feature .name { overflow-wrap: anywhere; min-width: 0; }
.verdict { margin: 0 0 8px; color: var(--muted); }
.charts { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr) auto; gap: 12px; align-items: start; }
figure { margin: 0; }
figcaption { font-size: 12px; color: var(--muted); }
.chart { width: 100%; }
.chart.hist { height: 260px; }
.chart.quant { height: 160px; }
table.quantiles td, table.quantiles th { padding: 3px 8px; font-size: 12px; }
footer { color: var(--muted); font-size: 12px; padding-bottom: 24px; }
@media (max-width: 900px) { .charts { grid-template-columns: 1fr; } }
@media print { body { background: #fff; } .feature { break-inside: avoid; } }
`;
