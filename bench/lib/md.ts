// Markdown tables and number formats shared by the sections and the report.

/** Columns whose header ends with '<' are left-aligned; the rest are numbers, right-aligned. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const align = headers.map((h) => (h.endsWith('<') ? '---' : '---:'));
  const head = headers.map((h) => h.replace(/<$/, ''));
  return [`| ${head.join(' | ')} |`, `| ${align.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export const int = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString('en') : '–');
export const fixed =
  (d: number) =>
  (v: number): string =>
    Number.isFinite(v) ? v.toFixed(d) : '–';
export const pct = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(0)} %` : '–');
export const ratio = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '–');
export const mb = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(1)} MB` : '–');
export const ms = (v: number): string => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(1) : Math.round(v)} ms` : '–');
/** autocannon keeps latencies in whole milliseconds. */
export const wholeMs = (v: number): string => (!Number.isFinite(v) ? '–' : v < 1 ? '< 1 ms' : `${Math.round(v)} ms`);
