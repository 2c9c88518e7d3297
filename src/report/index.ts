// The self-contained HTML drift report: pure rendering (snapshot → HTML) plus the one file it
// inlines from node_modules.
export { renderReport, escapeHtml } from './html.js';
export type { ReportInput, RenderedReport } from './html.js';
export { echartsSource, ECHARTS_BUNDLE } from './echarts.js';
