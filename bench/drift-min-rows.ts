// How often `feature_drift` fires on data that has not drifted, by window size: random samples
// of the UCI data the bundled model was built from, against its reference profile. The drift
// rules' default `min_rows` (src/alerts/rules.ts, DRIFT_MIN_ROWS) rests on this.
//
//   node --import=tsx bench/drift-min-rows.ts [--trials 100] [--data ../shared/data/UCI_Credit_Card.csv]
//
// A few seconds; a measurement script, not a timed test.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DriftWindow, readProfile, snapshot } from '../src/drift/index.js';
import { CARD_FILE, readModelCard } from '../src/model/index.js';
import { arg, quantile } from './util.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const MODEL = path.join(ROOT, 'models', 'credit-default', 'v1');
const data = arg('data') ?? path.resolve(ROOT, '..', 'shared', 'data', 'UCI_Credit_Card.csv');
const trials = Number(arg('trials') ?? 100);

const card = readModelCard(path.join(MODEL, CARD_FILE));
const profile = readProfile(path.join(MODEL, 'reference.json'));
const lines = readFileSync(data, 'utf8').trim().split('\n');
const header = lines[0]!.split(',').map((h) => h.replace(/"/g, '').trim());
const columns = card.features.map((f) => {
  const i = [f.name, ...(f.aliases ?? [])].map((n) => header.indexOf(n)).find((j) => j >= 0);
  if (i === undefined) throw new Error(`${data} has no column ${f.name}`);
  return i;
});
const rows = lines.slice(1).map((l) => {
  const cells = l.split(',');
  return Float64Array.from(columns.map((i) => Number(cells[i])));
});

// A fixed seed: the same samples on every run.
let seed = 7;
const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

console.log(`${trials} random samples per size from ${rows.length} rows of ${path.basename(data)}`);
console.log('rows  feature_drift fired  largest score/threshold (median, p95)');
for (const n of [100, 200, 500, 1000, 2000]) {
  let fired = 0;
  const worst: number[] = [];
  for (let k = 0; k < trials; k++) {
    const w = new DriftWindow(profile, { capacity: n });
    for (let i = 0; i < n; i++) w.push(rows[Math.floor(random() * rows.length)]!, 0, Number.NaN, Number.NaN);
    const features = Object.values(snapshot(profile, w).features);
    if (features.some((f) => f.drift)) fired++;
    worst.push(Math.max(...features.map((f) => (f.score ?? 0) / f.threshold)));
  }
  console.log(
    `${String(n).padStart(4)}  ${String(fired).padStart(3)} of ${trials}            ${quantile(worst, 0.5).toFixed(2)}, ${quantile(worst, 0.95).toFixed(2)}`,
  );
}
