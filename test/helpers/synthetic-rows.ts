import type { ColumnProfile, ReferenceProfile } from '../../src/drift/types.js';

/** Small seeded PRNG (mulberry32): the same seed gives the same CSV on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Draw = (u: number, v: number) => number;

/**
 * Inverse-CDF sampling from a column's frozen reference bins: each edge value with its count,
 * and (quantile bins) a uniform value strictly inside each gap with its inner count. The rows
 * are synthetic; only the marginal distributions come from the profile.
 */
function sampler(c: ColumnProfile, integer: boolean): Draw {
  const { edges, counts, inner_counts: inner } = c.bins;
  const atoms: { lo: number; hi: number; w: number }[] = [];
  for (let i = 0; i < edges.length; i++) {
    if ((counts[i] ?? 0) > 0) atoms.push({ lo: edges[i]!, hi: edges[i]!, w: counts[i]! });
    if (inner !== undefined && (inner[i] ?? 0) > 0 && i + 1 < edges.length) atoms.push({ lo: edges[i]!, hi: edges[i + 1]!, w: inner[i]! });
  }
  const cum: number[] = [];
  let total = 0;
  for (const a of atoms) cum.push((total += a.w));
  return (u, v) => {
    const target = u * total;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    const a = atoms[lo]!;
    const x = a.lo === a.hi ? a.lo : a.lo + v * (a.hi - a.lo);
    return integer ? Math.round(x) : Math.round(x * 100) / 100;
  };
}

export interface SyntheticOptions {
  rows: number;
  seed: number;
  /** Integer-typed features are rounded (the model card rejects 33.4 years). */
  integer: ReadonlySet<string>;
  /** Adds a 0/1 label column with this name (P(1) = positiveRate). */
  label?: { name: string; positiveRate: number };
}

/** Rows drawn feature by feature from the reference profile, as arrays in profile order. */
export function referenceRows(profile: ReferenceProfile, opts: SyntheticOptions): number[][] {
  const r = rng(opts.seed);
  const draws = profile.features.map((f) => sampler(f, opts.integer.has(f.name)));
  const out: number[][] = [];
  for (let i = 0; i < opts.rows; i++) {
    const row = draws.map((d) => d(r(), r()));
    if (opts.label !== undefined) row.push(r() < opts.label.positiveRate ? 1 : 0);
    out.push(row);
  }
  return out;
}

export function toCsv(header: readonly string[], rows: readonly (readonly (number | string)[])[]): string {
  return `${header.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
}

/** The same rows with some columns moved: `shift` adds, `scale` multiplies (by column name). */
export function shifted(header: readonly string[], rows: readonly number[][], change: { shift?: Record<string, number>; scale?: Record<string, number> }): number[][] {
  const idx = (n: string): number => {
    const i = header.indexOf(n);
    if (i === -1) throw new Error(`no column ${n}`);
    return i;
  };
  const ops = [
    ...Object.entries(change.shift ?? {}).map(([n, d]) => [idx(n), (x: number) => x + d] as const),
    ...Object.entries(change.scale ?? {}).map(([n, k]) => [idx(n), (x: number) => Math.round(x * k * 100) / 100] as const),
  ];
  return rows.map((row) => {
    const copy = row.slice();
    for (const [i, f] of ops) copy[i] = f(copy[i]!);
    return copy;
  });
}
