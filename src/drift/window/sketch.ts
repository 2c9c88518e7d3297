// A window's state as plain JSON, so that replicas can ship theirs and a monitor can merge
// them: merging adds counts and sums bin by bin, which gives the sketch of the union of the
// windows (up to float rounding of the sums, and the cap on exactly counted new values).
import { z } from 'zod';
import { DriftlineError } from '../../errors.js';
import { CategoryState, columnState, UNSEEN_CATEGORIES_CAP } from './categories.js';
import { ColumnState, EXTRA_VALUES_CAP, type ColumnView } from './column-state.js';
import type { ColumnProfile, ReferenceProfile } from '../types.js';

export interface ColumnSketch {
  n: number;
  /** Non-empty bins: [bin index, rows on its left edge, rows inside, Σ (x − edge) inside]. */
  bins: [number, number, number, number][];
  /** [rows below the reference minimum, Σ (min − x)]. */
  under: [number, number];
  /** [rows above the reference maximum, Σ (x − max)]. */
  over: [number, number];
  /** Values the reference lacks, counted exactly: [value, rows], ascending. */
  extras: [number, number][];
  /** New values beyond the exact-count cap, known only by bin. */
  untracked: number;
  /** Lowest value below the reference minimum (a bound when untracked > 0), or null. */
  lo: number | null;
  hi: number | null;
  /**
   * A string column: rows per category the reference lacks, by name (null: the rows past the
   * cap on distinct unseen categories). Their window-local codes are not shipped, so `extras`
   * and `over` stay empty; `bins` hold the reference categories.
   */
  unseen?: [string | null, number][];
}

export interface WindowSketch {
  format: 'driftline-window-sketch';
  version: 1;
  /** The reference profile's id: sketches on other bins do not merge. */
  profile_id: string;
  rows: number;
  features: Record<string, ColumnSketch>;
  prediction: ColumnSketch | null;
  target: ColumnSketch | null;
}

/** What the statistics read: one view per profile column. */
export interface WindowViews {
  rows: number;
  features: ColumnView[];
  prediction: ColumnView | null;
  target: ColumnView | null;
}

const num = z.number().finite();
const columnSketchSchema = z.object({
  n: z.number().int().nonnegative(),
  bins: z.array(z.tuple([z.number().int().nonnegative(), num, num, num])),
  under: z.tuple([num, num]),
  over: z.tuple([num, num]),
  extras: z.array(z.tuple([num, z.number().int().positive()])),
  untracked: z.number().int().nonnegative(),
  lo: num.nullable(),
  hi: num.nullable(),
  unseen: z.array(z.tuple([z.string().min(1).nullable(), z.number().int().positive()])).optional(),
});
const sketchSchema = z.object({
  format: z.literal('driftline-window-sketch'),
  version: z.literal(1),
  profile_id: z.string().min(1),
  rows: z.number().int().nonnegative(),
  features: z.record(z.string(), columnSketchSchema),
  prediction: columnSketchSchema.nullable(),
  target: columnSketchSchema.nullable(),
});

export function parseSketch(raw: unknown): WindowSketch {
  const r = sketchSchema.safeParse(raw);
  if (!r.success) {
    const problems = r.error.issues.slice(0, 20).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new DriftlineError('DL_ERR_BAD_INPUT', `Invalid window sketch:\n  - ${problems.join('\n  - ')}`, { details: { problems } });
  }
  return r.data;
}

export function columnSketch(s: ColumnView): ColumnSketch {
  const bins: [number, number, number, number][] = [];
  for (let i = 0; i < s.point.length; i++) {
    if (s.point[i] !== 0 || s.inner[i] !== 0) bins.push([i, s.point[i]!, s.inner[i]!, s.innerSum[i]!]);
  }
  if (s instanceof CategoryState) {
    return { n: s.n, bins, under: [0, 0], over: [0, 0], extras: [], untracked: 0, lo: null, hi: null, unseen: s.unseenRows() };
  }
  const extras = [...s.extras].sort((a, b) => a[0] - b[0]);
  // With every new value counted, the extremes are exact; otherwise keep the running bound.
  let lo: number | null = s.underN > 0 ? s.lo : null;
  let hi: number | null = s.overN > 0 ? s.hi : null;
  if (s.untracked === 0) {
    const first = extras[0]?.[0];
    const last = extras[extras.length - 1]?.[0];
    lo = s.underN > 0 && first !== undefined ? first : null;
    hi = s.overN > 0 && last !== undefined ? last : null;
  }
  return { n: s.n, bins, under: [s.underN, s.underSum], over: [s.overN, s.overSum], extras, untracked: s.untracked, lo, hi };
}

export function stateFromSketch(profile: ColumnProfile, j: ColumnSketch): ColumnState {
  const s = columnState(profile);
  const k = s.point.length;
  for (const [i, point, inner, sum] of j.bins) {
    if (i >= k) throw new DriftlineError('DL_ERR_REFERENCE', `Sketch of ${profile.name} has bin ${i}; the profile has ${k}`);
    s.point[i] = point;
    s.inner[i] = inner;
    s.innerSum[i] = sum;
  }
  s.n = j.n;
  [s.underN, s.underSum] = j.under;
  [s.overN, s.overSum] = j.over;
  for (const [v, c] of j.extras.slice(0, EXTRA_VALUES_CAP)) s.extras.set(v, c);
  s.untracked = j.untracked + j.extras.slice(EXTRA_VALUES_CAP).reduce((a, [, c]) => a + c, 0);
  s.lo = j.lo ?? Number.POSITIVE_INFINITY;
  s.hi = j.hi ?? Number.NEGATIVE_INFINITY;
  if (s instanceof CategoryState && j.unseen !== undefined) {
    // addRows counts the rows into n again.
    for (const [name, rows] of j.unseen) {
      s.n -= rows;
      s.addRows(name, rows);
    }
  }
  return s;
}

export function viewsFromSketch(profile: ReferenceProfile, sketch: WindowSketch): WindowViews {
  if (sketch.profile_id !== profile.id) {
    throw new DriftlineError('DL_ERR_REFERENCE', `Window sketch was built on profile ${sketch.profile_id}, not ${profile.id}`);
  }
  const col = (p: ColumnProfile, j: ColumnSketch | null | undefined): ColumnState | null => (j == null ? null : stateFromSketch(p, j));
  return {
    rows: sketch.rows,
    features: profile.features.map((f) => col(f, sketch.features[f.name]) ?? columnState(f)),
    prediction: profile.prediction === null ? null : col(profile.prediction, sketch.prediction),
    target: profile.target === null ? null : col(profile.target, sketch.target),
  };
}

/** Unseen categories of two sketches by name; past the cap (by name order) they share null. */
function mergeUnseen(a: readonly [string | null, number][], b: readonly [string | null, number][]): [string | null, number][] {
  const rows = new Map<string | null, number>();
  for (const [name, n] of [...a, ...b]) rows.set(name, (rows.get(name) ?? 0) + n);
  const named = [...rows].filter((e): e is [string, number] => e[0] !== null).sort((x, y) => (x[0] < y[0] ? -1 : 1));
  const other = (rows.get(null) ?? 0) + named.slice(UNSEEN_CATEGORIES_CAP).reduce((s, [, n]) => s + n, 0);
  const out: [string | null, number][] = named.slice(0, UNSEEN_CATEGORIES_CAP);
  if (other > 0) out.push([null, other]);
  return out;
}

function mergeColumns(a: ColumnSketch, b: ColumnSketch): ColumnSketch {
  const bins = new Map<number, [number, number, number, number]>();
  for (const [i, p, n, s] of [...a.bins, ...b.bins]) {
    const cur = bins.get(i);
    bins.set(i, cur === undefined ? [i, p, n, s] : [i, cur[1] + p, cur[2] + n, cur[3] + s]);
  }
  const extras = new Map<number, number>();
  for (const [v, c] of [...a.extras, ...b.extras]) extras.set(v, (extras.get(v) ?? 0) + c);
  const sorted = [...extras].sort((x, y) => x[0] - y[0]);
  // Over the cap, keep the smallest values (order-independent) and count the rest by bin only.
  const dropped = sorted.slice(EXTRA_VALUES_CAP).reduce((s, [, c]) => s + c, 0);
  const pick = (x: number | null, y: number | null, f: (p: number, q: number) => number): number | null =>
    x === null ? y : y === null ? x : f(x, y);
  return {
    ...(a.unseen === undefined && b.unseen === undefined ? {} : { unseen: mergeUnseen(a.unseen ?? [], b.unseen ?? []) }),
    n: a.n + b.n,
    bins: [...bins.values()].sort((x, y) => x[0] - y[0]),
    under: [a.under[0] + b.under[0], a.under[1] + b.under[1]],
    over: [a.over[0] + b.over[0], a.over[1] + b.over[1]],
    extras: sorted.slice(0, EXTRA_VALUES_CAP),
    untracked: a.untracked + b.untracked + dropped,
    lo: pick(a.lo, b.lo, Math.min),
    hi: pick(a.hi, b.hi, Math.max),
  };
}

/** The sketch of the union of the two windows. */
export function mergeSketches(a: WindowSketch, b: WindowSketch): WindowSketch {
  if (a.profile_id !== b.profile_id) {
    throw new DriftlineError('DL_ERR_REFERENCE', `Cannot merge sketches of different profiles (${a.profile_id}, ${b.profile_id})`);
  }
  const maybe = (x: ColumnSketch | null, y: ColumnSketch | null): ColumnSketch | null =>
    x === null ? y : y === null ? x : mergeColumns(x, y);
  const features: Record<string, ColumnSketch> = {};
  for (const name of new Set([...Object.keys(a.features), ...Object.keys(b.features)])) {
    features[name] = maybe(a.features[name] ?? null, b.features[name] ?? null)!;
  }
  return {
    format: 'driftline-window-sketch',
    version: 1,
    profile_id: a.profile_id,
    rows: a.rows + b.rows,
    features,
    prediction: maybe(a.prediction, b.prediction),
    target: maybe(a.target, b.target),
  };
}
