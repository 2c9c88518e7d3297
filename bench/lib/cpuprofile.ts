// Where the server's time went: self time per function from V8 .cpuprofile files (one per
// thread with --cpu-prof), as DevTools' "Bottom-Up" view would show it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './server.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  fn: string;
  where: string;
  selfMs: number;
  /** Share of the thread's busy time (everything but "(idle)"). */
  pct: number;
}

export interface ProfileSummary {
  file: string;
  thread: string;
  wallMs: number;
  busyMs: number;
  top: ProfileRow[];
  /** Self time per source (file, package or node module), the coarser picture. */
  bySource: { source: string; pct: number }[];
}

function where(f: CallFrame): string {
  if (f.url === '') return '';
  const p = f.url.startsWith('file://') ? path.relative(ROOT, new URL(f.url).pathname) : f.url;
  // Under tsx, positions are in esbuild's output, not the .ts source: a line would mislead.
  return p.endsWith('.ts') ? p : `${p}:${f.lineNumber + 1}`;
}

/** node:internal/streams/readable → node:internal/streams; node_modules/x/… → x; dist files as they are. */
function source(f: CallFrame): string {
  if (f.url === '') return f.functionName;
  if (f.url.startsWith('node:')) return f.url.split('/').slice(0, 2).join('/');
  const p = f.url.startsWith('file://') ? path.relative(ROOT, new URL(f.url).pathname) : f.url;
  const nm = p.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const parts = p.slice(nm + 13).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return p;
}

function threadName(file: string, p: CpuProfile): string {
  const urls = p.nodes.map((n) => n.callFrame.url);
  if (urls.some((u) => u.includes('inference-worker'))) return 'inference worker';
  if (urls.some((u) => u.includes('log-writer-worker'))) return 'log writer worker';
  // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: thread 0 is the main thread.
  const tid = path.basename(file).split('.')[4];
  return tid === '0' ? 'main thread' : `worker thread ${tid ?? '?'}`;
}

/** Monotonic clock in µs: V8 stamps profiles with the same CLOCK_MONOTONIC as process.hrtime. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * Self time per function; with `window` ([from, to] in monotonicUs() of any process on this
 * machine) only samples inside it count, so start-up and warm-up stay out of the picture.
 */
export function summariseProfile(file: string, window?: [number, number], top = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  // Sample i lasts until sample i+1 (DevTools' reading of timeDeltas); the last until endTime.
  const self = new Map<string, { f: CallFrame; us: number }>();
  let t = p.startTime;
  const stamps = p.timeDeltas.map((d) => (t += d));
  const from = Math.max(p.startTime, window?.[0] ?? p.startTime);
  const to = Math.min(p.endTime, window?.[1] ?? p.endTime);
  let idle = 0;
  for (let i = 0; i < p.samples.length; i++) {
    if (stamps[i]! < from || stamps[i]! >= to) continue;
    const us = (i + 1 < stamps.length ? stamps[i + 1]! : p.endTime) - stamps[i]!;
    const f = byId.get(p.samples[i]!)!;
    if (f.functionName === '(idle)') idle += us;
    const key = `${f.functionName}\u0000${f.url}\u0000${f.lineNumber}`;
    const e = self.get(key);
    if (e === undefined) self.set(key, { f, us });
    else e.us += us;
  }
  const wall = Math.max(0, to - from);
  const busy = Math.max(1, wall - idle);
  const sources = new Map<string, number>();
  for (const e of self.values()) {
    if (e.f.functionName === '(idle)') continue;
    const k = source(e.f);
    sources.set(k, (sources.get(k) ?? 0) + e.us);
  }
  const bySource = [...sources]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([k, us]) => ({ source: k, pct: (100 * us) / busy }))
    .filter((b) => b.pct >= 1);
  const rows = [...self.values()]
    .filter((e) => e.f.functionName !== '(idle)')
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ fn: e.f.functionName || '(anonymous)', where: where(e.f), selfMs: e.us / 1000, pct: (100 * e.us) / busy }));
  return { file, thread: threadName(file, p), wallMs: wall / 1000, busyMs: busy / 1000, top: rows, bySource };
}

export function profileMarkdown(s: ProfileSummary): string {
  const head = `**${s.thread}**: busy ${(s.busyMs / 1000).toFixed(1)} s of ${(s.wallMs / 1000).toFixed(1)} s of load (\`${path.basename(s.file)}\`). By source: ${s.bySource.map((b) => `${b.source} ${b.pct.toFixed(0)} %`).join(', ')}.\n\n`;
  const table = ['| self ms | % of busy | function | where |', '| ---: | ---: | --- | --- |']
    .concat(
      s.top.map(
        (r) =>
          `| ${r.selfMs.toFixed(0)} | ${r.pct.toFixed(1)} | \`${r.fn.replace(/\|/g, '\\|')}\` | ${r.where === '' ? '' : `\`${r.where}\``} |`,
      ),
    )
    .join('\n');
  return head + table;
}
