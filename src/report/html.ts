// The drift snapshot as one self-contained HTML file, in the manner of Evidently's HTML report:
// a summary, a per-column table and per-feature charts, readable without a server or a network.
// Pure: snapshot in, HTML string out; the caller hands over ECharts' browser bundle to inline.
//
// Safety: every value taken from data is escaped as text in the markup, and the chart data sit
// in a JSON block with `<` escaped, so no column name can close a tag. The CSP allows exactly
// the inline scripts and the style sheet this file contains (by hash) and nothing else: no
// network, no other script, no inline event handler.
import { createHash } from 'node:crypto';
import type { ColumnDrift, DriftSnapshot, Quantiles } from '../drift/index.js';
import { CHARTS_SCRIPT } from './charts-script.js';
import { REPORT_CSS } from './style.js';

export interface ReportInput {
  snapshot: DriftSnapshot;
  model?: { name: string; version: string } | null | undefined;
  generatedAt: Date;
  /** Where the two sides came from, e.g. file names, or "the live window". */
  sources?: { reference: string; current: string } | undefined;
  /** ECharts' browser bundle (echarts/dist/echarts.min.js), inlined as is. */
  echarts: string;
}

export interface RenderedReport {
  html: string;
  /** The policy in the file's <meta>; a server should send the same as a header. */
  csp: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (v: unknown): string => String(v).replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** JSON that is safe inside <script>: `<` never appears raw, so nothing can end the element. */
const scriptJson = (v: unknown): string =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

function num(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e5 || Number.isInteger(x)) return x.toLocaleString('en-US', { maximumFractionDigits: 2 });
  if (a < 1e-3) return x.toExponential(2);
  return Number(x.toPrecision(digits)).toString();
}

const badge = (drift: boolean): string => (drift ? '<span class="badge drift">Drift</span>' : '<span class="badge ok">No drift</span>');

function columnRow(name: string, d: ColumnDrift): string {
  const cells = [
    `<th scope="row">${escapeHtml(name)}</th>`,
    `<td>${escapeHtml(d.column_type)}</td>`,
    `<td>${escapeHtml(d.test_display_name)} <span class="muted">(${escapeHtml(d.test)})</span></td>`,
    `<td class="n">${num(d.score)}</td>`,
    `<td class="n">${num(d.threshold)}</td>`,
    `<td>${badge(d.drift)}</td>`,
    `<td class="n">${num(d.n_reference)}</td>`,
    `<td class="n">${num(d.n_current)}</td>`,
    `<td class="n">${num(d.stats.ks_stat)}</td>`,
    `<td class="n">${num(d.stats.wasserstein_normed)}</td>`,
    `<td class="n">${num(d.stats.psi)}</td>`,
    `<td class="n">${num(d.stats.jensenshannon)}</td>`,
  ];
  return `<tr${d.drift ? ' class="drifted"' : ''}>${cells.join('')}</tr>`;
}

function columnTable(caption: string, rows: [string, ColumnDrift][]): string {
  return `<table class="columns">
<caption>${escapeHtml(caption)}</caption>
<thead><tr><th scope="col">column</th><th scope="col">type</th><th scope="col">test</th><th scope="col">score</th><th scope="col">threshold</th><th scope="col">drift</th><th scope="col">reference rows</th><th scope="col">current rows</th><th scope="col">KS statistic</th><th scope="col">Wasserstein (normed)</th><th scope="col">PSI</th><th scope="col">Jensen-Shannon</th></tr></thead>
<tbody>
${rows.map(([n, d]) => columnRow(n, d)).join('\n')}
</tbody>
</table>`;
}

const Q_KEYS: (keyof Quantiles)[] = ['p5', 'p25', 'p50', 'p75', 'p95', 'mean'];

function quantileTable(d: ColumnDrift): string {
  const row = (k: keyof Quantiles): string =>
    `<tr><th scope="row">${k}</th><td class="n">${num(d.quantiles.reference[k])}</td><td class="n">${num(d.quantiles.current?.[k])}</td></tr>`;
  return `<table class="quantiles"><thead><tr><th scope="col"></th><th scope="col">reference</th><th scope="col">current</th></tr></thead><tbody>${Q_KEYS.map(row).join('')}</tbody></table>`;
}

function featureSection(name: string, d: ColumnDrift, i: number): string {
  const verdict =
    d.score === null
      ? 'no current values yet'
      : `${escapeHtml(d.test_display_name)}: ${num(d.score)} against a threshold of ${num(d.threshold)}`;
  // A string column is drawn per category, by name; its quantiles would be those of the
  // category codes, so it has none to show.
  const categories = d.reference_hist.labels !== undefined;
  const quantiles = categories
    ? ''
    : `<figure><div class="chart quant" id="quant-${i}" role="img" aria-label="reference and current quantiles"></div><figcaption>Quantiles: p5–p95 box, mean ◆</figcaption></figure>
${quantileTable(d)}`;
  return `<article class="feature${d.drift ? ' drifted' : ''}">
<h3><span class="name">${escapeHtml(name)}</span> ${badge(d.drift)}</h3>
<p class="verdict">${verdict}</p>
<div class="charts">
<figure><div class="chart hist" id="hist-${i}" role="img" aria-label="reference and current histograms"></div><figcaption>Distribution: share of rows per ${categories ? 'category' : 'bin'}</figcaption></figure>
${quantiles}
</div>
</article>`;
}

export function renderReport(input: ReportInput): RenderedReport {
  const s = input.snapshot;
  if (/<\/script|<!--/i.test(input.echarts))
    throw new Error('The ECharts bundle contains "</script" or "<!--" and cannot be inlined safely');
  const features = Object.entries(s.features);
  const others: [string, ColumnDrift][] = [];
  if (s.prediction !== null) others.push(['prediction', s.prediction]);
  if (s.target !== null) others.push(['target', s.target]);

  const chartData = {
    features: features.map(([, d]) => ({
      drift: d.drift,
      n_current: d.n_current,
      reference_hist: d.reference_hist,
      current_hist: d.current_hist,
      quantiles: d.quantiles,
    })),
  };
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(input.echarts)} ${sha256(CHARTS_SCRIPT)}`,
    `style-src ${sha256(REPORT_CSS)}`,
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');

  const ds = s.dataset;
  const m = input.model ?? null;
  const model = m === null ? 'no model card' : `${m.name} ${m.version}`;
  const title = `Data drift report${m === null ? '' : ` — ${m.name} ${m.version}`}`;
  const summary: [string, string][] = [
    ['Dataset drift', ds.drift ? '<strong class="drift">Detected</strong>' : '<strong class="ok">Not detected</strong>'],
    ['Drifted features', `${ds.n_drifted} of ${ds.n_columns} (share ${num(ds.share_drifted, 3)})`],
    ['Drift share threshold', `${num(ds.drift_share_threshold)} <span class="muted">(dataset drifts when the share reaches it)</span>`],
    ['Current rows', num(s.window_rows)],
    ['Model', escapeHtml(model)],
    ['Snapshot taken', `<time datetime="${escapeHtml(s.at)}">${escapeHtml(s.at)}</time>`],
    ['Report generated', `<time datetime="${input.generatedAt.toISOString()}">${input.generatedAt.toISOString()}</time>`],
  ];
  if (input.sources !== undefined)
    summary.push(['Reference', escapeHtml(input.sources.reference)], ['Current', escapeHtml(input.sources.current)]);

  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="driftline">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p class="lead">Drift is ${ds.drift ? '' : 'not '}detected for the dataset: ${ds.n_drifted} of ${ds.n_columns} features drifted (${num(100 * ds.share_drifted, 3)} %).</p>
</header>
<main>
<section class="summary" aria-label="summary">
<dl>
${summary.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join('\n')}
</dl>
</section>
<section>
<h2>Features</h2>
${columnTable('Per-feature drift', features)}
${others.length > 0 ? columnTable('Model output and labels (not counted in the dataset share)', others) : ''}
</section>
<section>
<h2>Distributions</h2>
${features.map(([n, d], i) => featureSection(n, d, i)).join('\n')}
</section>
</main>
<footer><p>Generated by driftline. Bins are frozen from the reference profile; tests and thresholds follow Evidently's defaults unless overridden.</p></footer>
<script type="application/json" id="report-data">${scriptJson(chartData)}</script>
<script>${input.echarts}</script>
<script>${CHARTS_SCRIPT}</script>
</body>
</html>
`;
  return { html, csp };
}
