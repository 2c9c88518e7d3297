// Estimated performance (CBPE) against realized performance on the UCI validation rows, for the
// calibration maps the service could fit: monotone binning (the service's) on the reference rows
// (what `driftline profile` sees) or the training rows only, isotonic regression, plain
// histograms, and none. The choice of
// calibration in src/model/calibration.ts rests on this.
//
//   node --import=tsx bench/cbpe.ts [--trials 200] [--data ../shared/data/UCI_Credit_Card.csv]
//
// Under a minute; a measurement script, not a timed test.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { featureRequests, predictColumns } from '../src/cli/profile.js';
import { readCsvColumns } from '../src/csv-columns.js';
import { fitCalibration, type Calibration } from '../src/drift/index.js';
import { CARD_FILE, loadModel, readModelCard } from '../src/model/index.js';
import { RollingPerformance } from '../src/monitor/performance.js';
import { EstimatedPerformance } from '../src/monitor/estimated-performance.js';
import { arg, quantile } from './util.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const MODEL = path.join(ROOT, 'models', 'credit-default', 'v1');
const data = arg('data') ?? path.resolve(ROOT, '..', 'shared', 'data', 'UCI_Credit_Card.csv');
const idsFile = arg('ids') ?? path.resolve(ROOT, '..', 'shared', 'golden', 'validation_ids.json');
const trials = Number(arg('trials') ?? 200);

const card = readModelCard(path.join(MODEL, CARD_FILE));
const { columns, rows } = await readCsvColumns(data, [
  ...featureRequests(card),
  { name: 'target', aliases: ['default.payment.next.month'] },
  { name: 'ID' },
]);
const model = await loadModel(MODEL, { threads: 1 });
const prob = await predictColumns(
  model.engine,
  card.features.map((f) => columns.get(f.name)!),
  rows,
);
await model.engine.close();
const target = columns.get('target')!;
const ids = columns.get('ID')!;
const validationIds = new Set<number>((JSON.parse(readFileSync(idsFile, 'utf8')) as { ids: number[] }).ids);
const all = Array.from({ length: rows }, (_, i) => i);
const validation = all.filter((i) => validationIds.has(ids[i]!));
const training = all.filter((i) => !validationIds.has(ids[i]!));
const reference = all.slice(0, 21000);
const pick = (idx: number[]) => ({ p: idx.map((i) => prob[i]!), y: idx.map((i) => target[i]!) });

// Isotonic regression on every distinct probability (pool-adjacent-violators), for comparison.
function isotonic(idx: number[]): Calibration {
  const { p, y } = pick(idx);
  const order = p.map((_, i) => i).sort((a, b) => p[a]! - p[b]!);
  const blocks: [number, number, number, number][] = [];
  for (const i of order) {
    blocks.push([p[i]!, p[i]!, y[i]!, 1]);
    while (
      blocks.length > 1 &&
      blocks[blocks.length - 2]![2] / blocks[blocks.length - 2]![3] >= blocks[blocks.length - 1]![2] / blocks[blocks.length - 1]![3]
    ) {
      const b = blocks.pop()!;
      const a = blocks.pop()!;
      blocks.push([a[0], b[1], a[2] + b[2], a[3] + b[3]]);
    }
  }
  const x: number[] = [];
  const v: number[] = [];
  for (const [lo, hi, s, w] of blocks) {
    x.push(lo);
    v.push(s / w);
    if (hi !== lo) {
      x.push(hi);
      v.push(s / w);
    }
  }
  return { method: 'binned', x, y: v, rows: idx.length };
}

function histogram(idx: number[], bins: number): Calibration {
  const { p, y } = pick(idx);
  const order = p.map((_, i) => i).sort((a, b) => p[a]! - p[b]!);
  const x: number[] = [];
  const v: number[] = [];
  for (let b = 0; b < bins; b++) {
    const part = order.slice(Math.floor((b * order.length) / bins), Math.floor(((b + 1) * order.length) / bins));
    x.push(part.reduce((s, i) => s + p[i]!, 0) / part.length);
    v.push(part.reduce((s, i) => s + y[i]!, 0) / part.length);
  }
  return { method: 'binned', x, y: v, rows: idx.length };
}

const maps: Record<string, Calibration> = {
  'binned (the service), reference rows': fitCalibration(pick(reference).p, pick(reference).y),
  'binned (the service), training rows only': fitCalibration(pick(training).p, pick(training).y),
  'isotonic, reference rows': isotonic(reference),
  'histogram 10, not monotone, reference rows': histogram(reference, 10),
  'histogram 40, not monotone, reference rows': histogram(reference, 40),
  none: { method: 'binned', x: [0, 1], y: [0, 1], rows: 1 },
};

let seed = 11;
const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
function sample(from: number[], n: number): number[] {
  const a = [...from];
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (a.length - i));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, n);
}
const windows = Array.from({ length: trials }, () => sample(validation, 5000));
const feature = (name: string) => columns.get(name)!;
const shifted: Record<string, number[]> = {
  'pay_delay_sep >= 1': validation.filter((i) => feature('pay_delay_sep')[i]! >= 1),
  'credit_limit < 50000': validation.filter((i) => feature('credit_limit')[i]! < 50000),
  'age >= 45': validation.filter((i) => feature('age')[i]! >= 45),
};

function measure(c: Calibration, idx: number[]) {
  const est = new EstimatedPerformance(c, card.decision_threshold);
  const real = new RollingPerformance(card.decision_threshold);
  for (const i of idx) {
    est.add(prob[i]!);
    real.add(prob[i]!, target[i]!);
  }
  return { est: est.estimate(), real: real.metrics() };
}
const covers = (band: [number, number] | null, v: number | null) => band !== null && v !== null && band[0] <= v && v <= band[1];

const v = card.metrics!.validation;
console.log(`${trials} random 5000-row windows of ${validation.length} validation rows; card: roc_auc ${v.roc_auc}, f1 ${v.f1}`);
for (const [name, c] of Object.entries(maps)) {
  const dAuc: number[] = [];
  const dF1: number[] = [];
  let coverAuc = 0;
  let coverF1 = 0;
  for (const w of windows) {
    const { est, real } = measure(c, w);
    dAuc.push(Math.abs(est.roc_auc! - real.roc_auc!));
    dF1.push(Math.abs(est.f1! - real.f1!));
    if (covers(est.bands.roc_auc, real.roc_auc)) coverAuc++;
    if (covers(est.bands.f1, real.f1)) coverF1++;
  }
  console.log(`\n${name} (${c.x.length} knots)`);
  console.log(
    `  |est - realized| roc_auc median ${quantile(dAuc, 0.5).toFixed(4)} max ${Math.max(...dAuc).toFixed(4)}; f1 median ${quantile(dF1, 0.5).toFixed(4)} max ${Math.max(...dF1).toFixed(4)}`,
  );
  console.log(`  band covers realized: roc_auc ${((100 * coverAuc) / trials).toFixed(0)} %, f1 ${((100 * coverF1) / trials).toFixed(0)} %`);
  for (const [label, idx] of Object.entries(shifted)) {
    const { est, real } = measure(c, idx);
    console.log(
      `  ${label.padEnd(22)} ${String(idx.length).padStart(5)} rows: roc_auc est ${est.roc_auc!.toFixed(4)} real ${real.roc_auc!.toFixed(4)} card ${v.roc_auc}; f1 est ${est.f1!.toFixed(4)} real ${real.f1!.toFixed(4)} card ${v.f1}`,
    );
  }
}
