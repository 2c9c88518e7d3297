// Drift engine cost: per-row window update and snapshot, at windows of 1k, 5k, 100k and 1M
// rows, raced against a baseline that re-scans the window (sort + exact Wasserstein per
// feature, as a batch tool does). The snapshot should stay flat while the baseline grows.
//
//   node --import=tsx bench/drift.bench.ts            (about 20 s on a 2-core machine)
//   node --import=tsx bench/drift.bench.ts --quick --json out.json   (windows 1k and 100k, fewer reps)
//
// Data: a synthetic reference of 21,000 rows shaped like the 8 credit features (few-valued
// columns, per-value bins; heavy-tailed amounts, quantile bins), and a drifted current.
import os from 'node:os';
import { buildProfile, DriftWindow, snapshot, type ReferenceProfile } from '../src/drift/index.js';
import { arg, flag, writeJson } from './util.js';

const FEATURES = 8;
const REFERENCE_ROWS = 21_000;
const QUICK = flag('quick');
const WINDOWS = QUICK ? [1_000, 100_000] : [1_000, 5_000, 100_000, 1_000_000];
// Pushes and snapshots timed per window size, each in 20 batches; the median batch is shown,
// as colleagues share the 2 cores and a single mean swings with their load.
const TIMED_PUSHES = QUICK ? 40_000 : 200_000;
const SNAPSHOTS = QUICK ? 60 : 200;

let seed = 42;
const uniform = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) + 0.5) / 2 ** 32;
const normal = (): number => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());

/** One row of credit-like features; `shift` drifts it. */
function row(out: Float64Array, at: number, shift: number): void {
  out[at] = Math.round(Math.exp(11.8 + 0.7 * normal() + shift) / 10_000) * 10_000; // credit_limit
  out[at + 1] = Math.min(79, Math.max(21, Math.round(35 + 9 * normal() + 8 * shift))); // age
  out[at + 2] = Math.min(8, Math.max(-2, Math.round(normal() * 1.1))); // pay_delay_sep
  out[at + 3] = Math.min(8, Math.max(-2, Math.round(normal() * 1.2))); // pay_delay_aug
  out[at + 4] = Math.round(Math.exp(10 + 1.5 * normal() + shift) - 2000); // bill_amt_sep
  out[at + 5] = Math.round(Math.exp(10 + 1.5 * normal() + shift) - 2000); // bill_amt_aug
  out[at + 6] = uniform() < 0.2 ? 0 : Math.round(Math.exp(7.5 + 1.3 * normal())); // pay_amt_sep
  out[at + 7] = uniform() < 0.2 ? 0 : Math.round(Math.exp(7.5 + 1.3 * normal())); // pay_amt_aug
}

function rows(n: number, shift: number): Float64Array {
  const out = new Float64Array(n * FEATURES);
  for (let i = 0; i < n; i++) row(out, i * FEATURES, shift);
  return out;
}

function referenceProfile(): { profile: ReferenceProfile; sorted: Float64Array[]; std: number[] } {
  const data = rows(REFERENCE_ROWS, 0);
  const cols = Array.from({ length: FEATURES }, (_, j) => Float64Array.from({ length: REFERENCE_ROWS }, (_, i) => data[i * FEATURES + j]!));
  const profile = buildProfile({ features: cols.map((values, j) => ({ name: `f${j}`, values })) });
  return { profile, sorted: cols.map((c) => c.slice().sort()), std: profile.features.map((f) => f.std) };
}

/** Baseline: exact normed W1 of every feature by sorting the raw window. */
function rescan(ring: Float64Array, n: number, ref: Float64Array[], std: number[]): number {
  let total = 0;
  const col = new Float64Array(n);
  for (let j = 0; j < FEATURES; j++) {
    for (let i = 0; i < n; i++) col[i] = ring[i * FEATURES + j]!;
    col.sort();
    const a = ref[j]!;
    let ia = 0;
    let ib = 0;
    let w = 0;
    let x = Math.min(a[0]!, col[0]!);
    while (ia < a.length || ib < n) {
      const next = ib >= n || (ia < a.length && a[ia]! <= col[ib]!) ? a[ia]! : col[ib]!;
      w += Math.abs(ia / a.length - ib / n) * (next - x);
      x = next;
      while (ia < a.length && a[ia] === next) ia++;
      while (ib < n && col[ib] === next) ib++;
    }
    total += w / std[j]!;
  }
  return total;
}

/** Median over batches of the mean time per call, in ms: robust to a busy shared machine. */
function ms(fn: () => void, reps: number, batches = 1): number {
  const times: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let k = 0; k < reps; k++) fn();
    times.push((performance.now() - t0) / reps);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

const { profile, sorted, std } = referenceProfile();
const current = rows(TIMED_PUSHES, 0.1);
console.log(
  `drift bench: ${FEATURES} features, reference ${REFERENCE_ROWS} rows, node ${process.version}, ${os.cpus().length} CPUs, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(`bins per feature: ${profile.features.map((f) => f.bins.edges.length).join(' ')}\n`);
// Warm-up: compile the push and snapshot paths before anything is timed.
{
  const w = new DriftWindow(profile, { capacity: 2_000 });
  for (let i = 0; i < (QUICK ? 20_000 : 50_000); i++) w.push(current, (i % TIMED_PUSHES) * FEATURES, Number.NaN, Number.NaN, i);
  for (let k = 0; k < 300; k++) snapshot(profile, w);
}
const results: Record<string, number>[] = [];
console.log('| window rows | update ns/row | ns/row/feature | snapshot ms | rescan baseline ms | rescan / snapshot |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const n of WINDOWS) {
  const w = new DriftWindow(profile, { capacity: n });
  const ring = new Float64Array(n * FEATURES);
  for (let i = 0; i < n; i++) {
    const k = (i % TIMED_PUSHES) * FEATURES;
    w.push(current, k, Number.NaN, Number.NaN, 0);
    ring.set(current.subarray(k, k + FEATURES), i * FEATURES);
  }
  // Every timed push also evicts a row: 20 batches of 10,000, median.
  let next = 0;
  const perRow = ms(() => w.push(current, (next++ % TIMED_PUSHES) * FEATURES, Number.NaN, Number.NaN, next), TIMED_PUSHES / 20, 20) * 1e6;
  const snap = ms(() => snapshot(profile, w), SNAPSHOTS / 20, 20);
  const base = ms(() => rescan(ring, n, sorted, std), 1, n >= 1_000_000 ? 1 : n >= 100_000 ? 3 : 11);
  console.log(
    `| ${n.toLocaleString('en')} | ${perRow.toFixed(0)} | ${(perRow / FEATURES).toFixed(0)} | ${snap.toFixed(3)} | ${base.toFixed(2)} | ${(base / snap).toFixed(1)}× |`,
  );
  results.push({
    window_rows: n,
    update_ns_per_row: perRow,
    update_ns_per_row_feature: perRow / FEATURES,
    snapshot_ms: snap,
    rescan_ms: base,
    rescan_over_snapshot: base / snap,
  });
}
const out = arg('json');
if (out !== undefined)
  writeJson(out, {
    bench: 'drift',
    at: new Date().toISOString(),
    features: FEATURES,
    reference_rows: REFERENCE_ROWS,
    quick: QUICK,
    results,
  });
