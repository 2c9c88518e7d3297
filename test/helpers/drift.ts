// Helpers for the drift tests: the golden file, CSV columns, and Evidently's binning computed
// directly from raw values (independently of the engine's sketches).
import { readFileSync } from 'node:fs';
import { buildProfile, DriftWindow, type ReferenceProfile } from '../../src/drift/index.js';
import { readCsvColumns } from '../../src/csv-columns.js';
import { sharedFile } from './shared.js';

// The bundled model's features, as the fixtures name them.
export { FEATURES } from './fixtures.js';

export interface GoldenFeature {
  evidently: { test: string; score: number; threshold: number; drift: boolean; column_type: string };
  ks_stat: number;
  ks_p: number;
  wasserstein_normed: number;
  psi_evidently_bins: number;
  js_evidently_bins: number;
  kl_div_evidently_bins: number;
  evidently_binning: { mode: string; n_bins: number };
  ref_unique: number;
  n_unique_ref_plus_cur: number;
}

export interface GoldenScenario {
  reference_csv: string;
  current_csv: string;
  n_reference: number;
  n_current: number;
  features: Record<string, GoldenFeature>;
  dataset: { n_columns: number; n_drifted: number; share_drifted: number; drift_share_threshold: number; drift: boolean };
  dataset_with_target: { target: { test: string; score: number; threshold: number; drift: boolean } };
}

export const golden = sharedFile('golden/drift_golden.json');

export function readGolden(): Record<string, GoldenScenario> {
  return (JSON.parse(readFileSync(golden.path, 'utf8')) as { scenarios: Record<string, GoldenScenario> }).scenarios;
}

export async function columns(file: string, names: readonly string[]): Promise<Map<string, Float64Array>> {
  return (
    await readCsvColumns(
      sharedFile(`golden/${file}`).path,
      names.map((name) => ({ name })),
    )
  ).columns;
}

/** A profile of the given reference columns and a window holding all current rows. */
export function profileAndWindow(
  ref: Map<string, Float64Array>,
  cur: Map<string, Float64Array>,
  names: readonly string[],
): { profile: ReferenceProfile; window: DriftWindow } {
  const profile = buildProfile({ features: names.map((n) => ({ name: n, values: ref.get(n)! })) });
  const rows = cur.get(names[0]!)!.length;
  const window = new DriftWindow(profile, { capacity: rows });
  const row = new Float64Array(names.length);
  for (let i = 0; i < rows; i++) {
    names.forEach((n, j) => (row[j] = cur.get(n)![i]!));
    window.push(row, 0, Number.NaN, Number.NaN);
  }
  return { profile, window };
}

export function relErr(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.abs(expected);
}

/**
 * Evidently 0.4.15 get_binned_data from raw values: Sturges bins over ref ∪ cur when the
 * reference has more than 20 distinct values, else one bin per distinct value of ref ∪ cur.
 * Shares, without zero-fill.
 */
export function evidentlyBinsRaw(ref: ArrayLike<number>, cur: ArrayLike<number>): { p: number[]; q: number[] } {
  const r = Array.from(ref);
  const c = Array.from(cur);
  if (new Set(r).size > 20) {
    const all = [...r, ...c];
    const first = Math.min(...all);
    const last = Math.max(...all);
    const width = (last - first) / (Math.log2(all.length) + 1);
    const nb = Math.ceil((last - first) / width);
    const step = (last - first) / nb;
    const edges = Array.from({ length: nb + 1 }, (_, i) => (i === nb ? last : i * step + first));
    const hist = (xs: number[]): number[] => {
      const h = new Array<number>(nb).fill(0);
      for (const x of xs) {
        let b = edges.findIndex((e, i) => i < nb && x >= e && (x < edges[i + 1]! || i === nb - 1));
        if (b < 0) b = nb - 1;
        h[b]!++;
      }
      return h;
    };
    return { p: hist(r).map((v) => v / r.length), q: hist(c).map((v) => v / c.length) };
  }
  const keys = [...new Set([...r, ...c])];
  const count = (xs: number[], k: number): number => xs.filter((x) => x === k).length;
  return { p: keys.map((k) => count(r, k) / r.length), q: keys.map((k) => count(c, k) / c.length) };
}

export function zeroFill(a: number[]): number[] {
  const nz = a.filter((v) => v !== 0);
  const min = Math.min(...nz);
  const fill = min <= 1e-4 ? min / 1e6 : 1e-4;
  return a.map((v) => (v === 0 ? fill : v));
}
