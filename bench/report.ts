// reports/bench/latest.md (committed) and its chart, from one run's section results.
import path from 'node:path';
import { profileMarkdown } from './lib/cpuprofile.js';
import type { Check, SectionResult } from './lib/context.js';
import { table } from './lib/md.js';
import type { SmallRow } from './sections/small.js';

export interface RunMeta {
  command: string;
  startedAt: string;
  seconds: number;
  node: string;
  cpu: string;
  cores: number;
  memGB: number;
  loadStart: number[];
  loadEnd: number[];
  commit: string;
  server: string;
  json: string;
}

const TITLES: Record<string, string> = {
  small: 'Small requests',
  bulk: 'Bulk uploads',
  batching: 'Dynamic batching',
  live: 'Live subscribers',
  drift: 'Drift engine',
  pipeline: 'Scoring pipeline, in one process',
};

function checkRow(c: Check): string[] {
  return [c.name, c.measured, c.target, c.ok ? 'met' : `**missed**: ${c.miss ?? ''}`];
}

export function renderMarkdown(
  meta: RunMeta,
  sections: SectionResult[],
  failed: { name: string; error: string }[],
  chart: string | undefined,
): string {
  const checks = sections.flatMap((s) => s.checks);
  const load = (l: number[]): string => l.map((x) => x.toFixed(1)).join(' ');
  const out: string[] = [
    '# driftline benchmarks',
    '',
    `\`${meta.command}\`, started ${meta.startedAt.replace('T', ' ').slice(0, 19)} UTC, ${Math.round(meta.seconds)} s in all. Node ${meta.node}, ${meta.cpu} × ${meta.cores}, ${meta.memGB.toFixed(0)} GB; load average ${load(meta.loadStart)} at the start, ${load(meta.loadEnd)} at the end. Commit ${meta.commit}; server from ${meta.server}. Full numbers: \`${meta.json}\` (not committed).`,
    '',
    'Every figure is raced against a baseline measured in the same run on the same machine; compare ratios across machines, not absolute numbers. The server under test is a child process (`serve` on 127.0.0.1, a temporary DATA_DIR, LOG_LEVEL=warn, default settings otherwise); the load generator is the bench process. Server CPU is utime+stime of all its threads from /proc (100 % = one core).',
    '',
  ];
  if (failed.length > 0) {
    out.push('**Sections that failed in this run:**', '', ...failed.map((f) => `- ${f.name}: ${f.error.split('\n')[0]}`), '');
  }
  if (checks.length > 0) {
    out.push('## Targets', '', table(['target<', 'measured', 'goal', 'result<'], checks.map(checkRow)), '');
  }
  for (const s of sections) {
    out.push(`## ${TITLES[s.name] ?? s.name}`, '');
    if (s.name === 'small' && chart !== undefined)
      out.push(`![req/s per connection level, driftline beside the bare uWS baseline](${chart})`, '');
    out.push(s.markdown, '');
  }
  const profiled = sections.filter((s) => s.profile !== undefined);
  if (profiled.length > 0) {
    out.push(
      '## Where the time goes',
      '',
      'For each section with a missed target, the same load was repeated on a fresh server started with `node --cpu-prof` (a separate run, so the profiler does not touch the numbers above) and stopped with SIGTERM. Top functions by self time, per thread, counting only samples taken during the measured load (start-up and warm-up excluded: the bench and V8 share the monotonic clock); `(program)` is native code outside JS (uWS, onnxruntime, SQLite), `(garbage collector)` is GC. "Busy" is sampled wall time outside `(idle)`: on a loaded machine it includes time spent waiting for a core, so compare it with the server CPU of the same section. The raw `.cpuprofile` files are kept under `reports/bench/profiles/` for DevTools.',
      '',
    );
    for (const s of profiled) {
      const p = s.profile!;
      out.push(`### ${TITLES[s.name] ?? s.name}: ${p.during}`, '');
      if (p.summaries.length === 0) out.push('No profile was written (did the server exit cleanly on SIGTERM?).', '');
      for (const sum of p.summaries) out.push(profileMarkdown(sum), '');
    }
  }
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

/** Grouped bars of req/s per connection level; a dash on each driftline bar marks the target share of its baseline. */
export function renderChart(rows: SmallRow[], targetRatio: number): string {
  const levels = [...new Set(rows.map((r) => r.connections))];
  const kinds = [...new Set(rows.map((r) => r.body))];
  const series = kinds.flatMap((k) => [
    { label: `bare uWS (${k})`, kind: k, of: 'baseline' as const, color: k === 'text/csv' ? '#9ca3af' : '#d1d5db' },
    { label: `driftline (${k})`, kind: k, of: 'driftline' as const, color: k === 'text/csv' ? '#2563eb' : '#60a5fa' },
  ]);
  const W = 760;
  const H = 380;
  const left = 70;
  const right = 20;
  const top = 40;
  const bottom = 80;
  const max = Math.max(...rows.map((r) => Math.max(r.baseline.rps, r.driftline.rps)));
  const step = niceStep(max);
  const ticks = Math.max(1, Math.ceil(max / step));
  const nice = ticks * step;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const groupW = plotW / levels.length;
  const barW = Math.min(36, (groupW * 0.8) / series.length);
  const y = (v: number): number => top + plotH - (v / nice) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${left}" y="22" font-size="14" font-weight="600">POST /predict, 5-row bodies: 2xx req/s by concurrent connections</text>`,
  ];
  for (let i = 0; i <= ticks; i++) {
    const v = step * i;
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#374151">${Math.round(v).toLocaleString('en')}</text>`);
  }
  levels.forEach((c, g) => {
    const x0 = left + g * groupW + (groupW - barW * series.length) / 2;
    series.forEach((s, i) => {
      const r = rows.find((x) => x.connections === c && x.body === s.kind);
      if (r === undefined) return;
      const v = r[s.of].rps;
      const x = x0 + i * barW;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${s.color}"><title>${s.label}, ${c} connections: ${Math.round(v)} req/s</title></rect>`,
      );
      if (s.of === 'driftline') {
        const t = y(r.baseline.rps * targetRatio);
        parts.push(
          `<line x1="${(x - 2).toFixed(1)}" x2="${(x + barW).toFixed(1)}" y1="${t.toFixed(1)}" y2="${t.toFixed(1)}" stroke="#dc2626" stroke-width="2" stroke-dasharray="4 2"/>`,
        );
        parts.push(
          `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(Math.min(y(v), t) - 5).toFixed(1)}" text-anchor="middle" font-size="10" fill="#111827">${Math.round(100 * r.ratio)}%</text>`,
        );
      }
    });
    parts.push(
      `<text x="${(left + g * groupW + groupW / 2).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle" fill="#374151">${c} conn${c === 1 ? '' : 's'}</text>`,
    );
  });
  // Legend entries flow left to right and wrap; ~6.2 px per character at 12 px.
  const legend = [
    ...series.map((s) => ({ label: s.label, mark: `<rect x="0" y="-10" width="12" height="12" fill="${s.color}"/>` })),
    {
      label: `target: ${Math.round(targetRatio * 100)}% of bare`,
      mark: '<line x1="0" x2="12" y1="-4" y2="-4" stroke="#dc2626" stroke-width="2" stroke-dasharray="4 2"/>',
    },
  ];
  let lx = left;
  let ly = top + plotH + 40;
  for (const e of legend) {
    const w = 24 + e.label.length * 6.2;
    if (lx + w > W - right) {
      lx = left;
      ly += 18;
    }
    parts.push(`<g transform="translate(${lx.toFixed(0)} ${ly})">${e.mark}<text x="16" y="0" fill="#374151">${e.label}</text></g>`);
    lx += w;
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** A round gridline step (1, 2, 2.5 or 5 × 10^k) giving at most 6 steps up to v. */
function niceStep(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v / 6));
  for (const m of [1, 2, 2.5, 5, 10]) if (v / (m * p) <= 6) return m * p;
  return 10 * p;
}

export const chartName = (mdFile: string): string => path.join(path.dirname(mdFile), 'latest.svg');
