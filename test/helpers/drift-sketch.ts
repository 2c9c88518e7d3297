// Comparing window sketches: counts exactly, float sums within a tight tolerance.
import type { ColumnSketch, WindowSketch } from '../../src/drift/index.js';

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

function columnDiff(name: string, a: ColumnSketch | null, b: ColumnSketch | null): string | null {
  if (a === null || b === null) return a === b ? null : `${name}: one side missing`;
  if (a.n !== b.n) return `${name}: n ${a.n} ≠ ${b.n}`;
  if (a.bins.length !== b.bins.length) return `${name}: ${a.bins.length} non-empty bins ≠ ${b.bins.length}`;
  for (let i = 0; i < a.bins.length; i++) {
    const [x, y] = [a.bins[i]!, b.bins[i]!];
    if (x[0] !== y[0] || x[1] !== y[1] || x[2] !== y[2]) return `${name}: bin ${JSON.stringify(x)} ≠ ${JSON.stringify(y)}`;
    if (!close(x[3], y[3])) return `${name}: bin ${x[0]} sum ${x[3]} ≠ ${y[3]}`;
  }
  for (const k of ['under', 'over'] as const) {
    if (a[k][0] !== b[k][0] || !close(a[k][1], b[k][1])) return `${name}: ${k} ${JSON.stringify(a[k])} ≠ ${JSON.stringify(b[k])}`;
  }
  if (JSON.stringify(a.extras) !== JSON.stringify(b.extras)) return `${name}: extras differ`;
  if (a.untracked !== b.untracked) return `${name}: untracked ${a.untracked} ≠ ${b.untracked}`;
  if (a.lo !== b.lo || a.hi !== b.hi) return `${name}: lo/hi ${a.lo},${a.hi} ≠ ${b.lo},${b.hi}`;
  return null;
}

/** The first difference between two sketches, or null when they are equal. */
export function sketchDiff(a: WindowSketch, b: WindowSketch): string | null {
  if (a.profile_id !== b.profile_id || a.rows !== b.rows) return `rows ${a.rows} ≠ ${b.rows}`;
  for (const name of Object.keys(a.features)) {
    const d = columnDiff(name, a.features[name] ?? null, b.features[name] ?? null);
    if (d !== null) return d;
  }
  return columnDiff('prediction', a.prediction, b.prediction) ?? columnDiff('target', a.target, b.target);
}
