// What every bench section gets and gives back, and the targets they are judged by.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { monotonicUs, summariseProfile, type ProfileSummary } from './cpuprofile.js';
import { startDriftline, type ServerBuild, type ServerHandle } from './server.js';

export interface Ctx {
  quick: boolean;
  /** Seconds of each measured load step. */
  seconds: number;
  /** Seconds of load before each measured step, discarded. */
  warmup: number;
  build: ServerBuild;
  profile: 'missed' | 'always' | 'never';
  tmp: string;
  /** Where raw .cpuprofile files are kept (reports/bench/profiles/<run>). */
  profilesDir: string;
  log(line: string): void;
}

export interface Check {
  name: string;
  target: string;
  measured: string;
  ok: boolean;
  /** How far off, when missed ("short by 35 points, at 12 % of the target"). */
  miss?: string;
}

export interface ProfileRun {
  /** What load ran while the profile was taken. */
  during: string;
  summaries: ProfileSummary[];
}

export interface SectionResult {
  name: string;
  data: unknown;
  checks: Check[];
  /** The section's part of latest.md. */
  markdown: string;
  profile?: ProfileRun;
}

/**
 * value ≥ limit (or ≤): a miss is said in the target's unit (`diff` formats the gap, e.g. as
 * percentage points) and relative to the target.
 */
export function check(
  name: string,
  value: number,
  op: '>=' | '<=',
  limit: number,
  fmt: (v: number) => string,
  diff: (v: number) => string = fmt,
): Check {
  const ok = Number.isFinite(value) && (op === '>=' ? value >= limit : value <= limit);
  const c: Check = { name, target: `${op === '>=' ? '≥' : '≤'} ${fmt(limit)}`, measured: fmt(value), ok };
  if (!ok) {
    if (!Number.isFinite(value)) c.miss = 'not measured';
    else if (op === '>=') c.miss = `short by ${diff(limit - value)}, at ${((100 * value) / limit).toFixed(0)} % of the target`;
    else c.miss = `over by ${diff(value - limit)}, ${((100 * value) / limit).toFixed(0)} % of the limit`;
  }
  return c;
}

/** For targets that are themselves percentages: the gap is in points. */
export const percent = (v: number): string => `${v.toFixed(v < 10 && v > -10 ? 1 : 0)} %`;
export const points = (v: number): string => `${v.toFixed(v < 10 ? 1 : 0)} points`;

/** Thread profiles with less busy time than this are noise (an idle log writer, say). */
const MIN_BUSY_MS = 50;

/**
 * Repeats a section's load on a fresh server under --cpu-prof, when a target was missed (or
 * always, with --profile always). A separate run, so the profiler never skews the numbers.
 */
export interface Window {
  /** Call when the measured load starts and ends; only samples in between are summarised. */
  start(): void;
  stop(): void;
}

export async function profileIfMissed(
  ctx: Ctx,
  section: string,
  checks: readonly Check[],
  during: string,
  env: Record<string, string>,
  load: (server: ServerHandle, window: Window) => Promise<unknown>,
): Promise<ProfileRun | undefined> {
  if (ctx.profile === 'never' || (ctx.profile === 'missed' && checks.every((c) => c.ok))) return undefined;
  const dir = mkdtempSync(path.join(ctx.tmp, 'prof-'));
  ctx.log(`  profiling the server: ${during}`);
  const server = await startDriftline(ctx.build, { env, profileDir: dir, name: 'driftline (profiled)' });
  const span: [number, number] = [0, Number.POSITIVE_INFINITY];
  try {
    await load(server, { start: () => (span[0] = monotonicUs()), stop: () => (span[1] = monotonicUs()) });
  } finally {
    await server.stop();
  }
  return { during, summaries: keepProfiles(ctx, section, dir, span) };
}

/**
 * Summarises every thread's profile in dir and moves the files to ctx.profilesDir (ignored by
 * git), so the full call trees can still be opened in DevTools.
 */
export function keepProfiles(ctx: Ctx, section: string, dir: string, window?: [number, number]): ProfileSummary[] {
  mkdirSync(ctx.profilesDir, { recursive: true });
  const out: ProfileSummary[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.cpuprofile')) continue;
    const kept = path.join(ctx.profilesDir, `${section}-${f}`);
    renameOrCopy(path.join(dir, f), kept);
    const s = summariseProfile(kept, window);
    if (s.busyMs >= MIN_BUSY_MS) out.push(s);
  }
  rmSync(dir, { recursive: true, force: true });
  return out.sort((a, b) => (a.thread === 'main thread' ? -1 : b.thread === 'main thread' ? 1 : b.busyMs - a.busyMs));
}

function renameOrCopy(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch {
    copyFileSync(from, to); // across file systems (/tmp on tmpfs)
  }
}
