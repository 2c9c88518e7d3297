// The simulator's generator: rows the model card accepts, marginals that follow the reference
// profile (the drift tests find nothing), and drift scenarios that move exactly what they name.
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import t from 'tap';
import { DriftWindow, readProfile, snapshot } from '../src/drift/index.js';
import { readModelCard } from '../src/model/index.js';
import {
  applyScenarios,
  parseDuration,
  parseDurationRange,
  parseIntRange,
  parseScenarios,
  runTraffic,
  TrafficGenerator,
  featureNames,
} from '../src/sim/index.js';
import { createParseCsv } from '../src/stages/parse-csv.js';
import type { Validated } from '../src/stages/types.js';
import { createValidateRows } from '../src/stages/validate.js';
import { BUNDLED_MODEL } from './helpers/server.js';

const profile = readProfile(path.join(BUNDLED_MODEL, 'reference.json'));
const card = readModelCard(path.join(BUNDLED_MODEL, 'card.json'));
const names = card.features.map((f) => f.name);
const col = (rows: number[][], name: string): number[] => rows.map((r) => r[names.indexOf(name)]!);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Runs a CSV through the real parse and validate stages; returns [valid, rejected] rows. */
async function validate(csv: string): Promise<[number, number, string[]]> {
  let valid = 0;
  let rejected = 0;
  const messages: string[] = [];
  await pipeline(
    Readable.from([Buffer.from(csv)]),
    createParseCsv({ maxRowBytes: 1 << 20, maxColumns: 100 }),
    createValidateRows(card),
    new Writable({
      objectMode: true,
      write(rec: Validated, _enc, cb) {
        if (rec.kind !== 'header') {
          for (let i = 0; i < rec.count; i++) if (rec.valid[i] === 1) valid++;
          for (const e of rec.errors) {
            rejected++;
            messages.push(`${e.column}: ${e.message}`);
          }
        }
        cb();
      },
    }),
  );
  return [valid, rejected, messages];
}

t.test('every generated row passes the model card, drifted or not, even when drift pushes past a bound', async (t) => {
  for (const drift of ['', 'age+8', 'credit_limit*1.5', 'age+8@10m,pay_delay_sep+20,pay_amt_sep-1000000,bill_amt_sep*3']) {
    const gen = new TrafficGenerator(profile, card, { seed: 7, drift });
    const [valid, rejected, messages] = await validate(gen.csv(3000, 5 * 60_000));
    t.equal(rejected, 0, `drift "${drift}": no row rejected ${messages.slice(0, 3).join('; ')}`);
    t.equal(valid, 3000, `drift "${drift}": every row valid`);
  }
});

t.test('the same seed gives the same rows; another seed other rows', async (t) => {
  const a = new TrafficGenerator(profile, card, { seed: 42 }).csv(50);
  t.equal(new TrafficGenerator(profile, card, { seed: 42 }).csv(50), a);
  t.not(new TrafficGenerator(profile, card, { seed: 43 }).csv(50), a);
  t.match(a.split('\n')[0], names.join(','), "header: the card's column names in order");
});

t.test('undrifted rows follow the reference: no feature drifts over 5000 rows', async (t) => {
  const gen = new TrafficGenerator(profile, card, { seed: 3 });
  const window = new DriftWindow(profile, { capacity: 5000 });
  for (const r of gen.rows(5000)) window.push(r, 0, Number.NaN, Number.NaN);
  const snap = snapshot(profile, window);
  for (const n of names) {
    const f = snap.features[n]!;
    t.notOk(f.drift, `${n}: ${f.test} ${f.score?.toFixed(4)} vs threshold ${f.threshold}`);
    // Means within a tenth of a reference standard deviation.
    const ref = profile.features.find((c) => c.name === n)!;
    t.ok(Math.abs(f.quantiles.current!.mean - ref.mean) < 0.1 * ref.std, `${n}: mean ${f.quantiles.current!.mean} near ${ref.mean}`);
  }
  t.equal(snap.dataset.n_drifted, 0);
});

t.test('whole-number columns stay whole numbers', async (t) => {
  const rows = new TrafficGenerator(profile, card, { seed: 5 }).rows(2000);
  for (const n of names) t.ok(col(rows, n).every(Number.isInteger), `${n} is integral, as in the reference`);
});

t.test('a scenario moves only its feature, by exactly its amount', async (t) => {
  const base = new TrafficGenerator(profile, card, { seed: 11 }).rows(500);
  const plus = new TrafficGenerator(profile, card, { seed: 11, drift: 'age+8' }).rows(500);
  const times = new TrafficGenerator(profile, card, { seed: 11, drift: 'LIMIT_BAL*1.5' }).rows(500);
  for (const n of names) {
    if (n !== 'age') t.same(col(plus, n), col(base, n), `age+8 leaves ${n} alone`);
    if (n !== 'credit_limit') t.same(col(times, n), col(base, n), `credit_limit*1.5 leaves ${n} alone`);
  }
  // Reference ages end at 79, so +8 never reaches the card's maximum of 120: the shift is exact.
  t.same(
    col(plus, 'age'),
    col(base, 'age').map((a) => a + 8),
  );
  t.same(
    col(times, 'credit_limit'),
    col(base, 'credit_limit').map((c) => Math.round(c * 1.5)),
    'the alias LIMIT_BAL names credit_limit',
  );
});

t.test('a ramped scenario grows linearly to its full amount and stays there', async (t) => {
  const [s] = parseScenarios('age+8@10m', featureNames(card));
  t.same(s, { feature: 'age', op: '+', amount: 8, rampMs: 600_000 });
  t.equal(applyScenarios(30, [s!], 0), 30);
  t.equal(applyScenarios(30, [s!], 300_000), 34);
  t.equal(applyScenarios(30, [s!], 600_000), 38);
  t.equal(applyScenarios(30, [s!], 3_600_000), 38);
  const [m] = parseScenarios('credit_limit*1.5@20m', featureNames(card));
  t.equal(applyScenarios(100_000, [m!], 600_000), 125_000, 'half-way through the ramp: ×1.25');
  // Through the generator: the same draws, a quarter of the shift at a quarter of the ramp.
  const base = new TrafficGenerator(profile, card, { seed: 9 }).rows(200, 150_000);
  const ramped = new TrafficGenerator(profile, card, { seed: 9, drift: 'age+8@10m' }).rows(200, 150_000);
  t.same(
    col(ramped, 'age'),
    col(base, 'age').map((a) => a + 2),
  );
});

t.test('scenario syntax', async (t) => {
  const f = featureNames(card);
  t.same(parseScenarios('age-3', f), [{ feature: 'age', op: '+', amount: -3, rampMs: 0 }]);
  t.same(parseScenarios(' AGE + 8 , pay_amt_aug*2@90s ', f), [
    { feature: 'age', op: '+', amount: 8, rampMs: 0 },
    { feature: 'pay_amt_aug', op: '*', amount: 2, rampMs: 90_000 },
  ]);
  t.same(parseScenarios('age+8@2', f)[0]?.rampMs, 120_000, 'a bare ramp is in minutes');
  t.same(parseScenarios('', f), []);
  t.throws(() => parseScenarios('height+3', f), { code: 'DL_ERR_CONFIG', message: /features: credit_limit, age/ });
  t.throws(() => parseScenarios('age/2', f), { code: 'DL_ERR_CONFIG' });
  t.throws(() => parseScenarios('age+8@soon', f), { code: 'DL_ERR_CONFIG', message: /duration/ });
});

t.test('range and duration options', async (t) => {
  t.same(parseIntRange('1-5', 'x'), [1, 5]);
  t.same(parseIntRange('3', 'x'), [3, 3]);
  t.throws(() => parseIntRange('5-1', 'x'), { code: 'DL_ERR_CONFIG' });
  t.throws(() => parseIntRange('0', 'x'), { code: 'DL_ERR_CONFIG' });
  t.same(parseDurationRange('2-8s', 'x'), [2000, 8000]);
  t.same(parseDurationRange('2-8', 'x'), [2000, 8000]);
  t.same(parseDurationRange('500ms-2s', 'x'), [500, 2000]);
  t.same(parseDurationRange('0', 'x'), [0, 0]);
  t.same(parseDurationRange('1m', 'x'), [60_000, 60_000]);
  t.throws(() => parseDurationRange('8-2s', 'x'), { code: 'DL_ERR_CONFIG' });
  t.equal(parseDuration('10m'), 600_000);
});

t.test('the loop: rows per request within the range, stops at the request count, passes the elapsed time', async (t) => {
  const gen = new TrafficGenerator(profile, card, { seed: 1, drift: 'age+8@1m' });
  const sizes: number[] = [];
  let clock = 0;
  const ages: number[] = [];
  const totals = await runTraffic({
    generator: gen,
    rowsPerRequest: [1, 5],
    intervalMs: [0, 0],
    maxRequests: 200,
    now: () => clock,
    send: async (csv, rows) => {
      const lines = csv.trim().split('\n').slice(1);
      sizes.push(lines.length);
      if (lines.length !== rows) t.fail(`a request of ${rows} rows carried ${lines.length}`);
      ages.push(...lines.map((l) => Number(l.split(',')[1])));
      clock += 1000;
      return { status: 200, n_rows: rows, n_rejected: 0 };
    },
  });
  t.equal(totals.requests, 200);
  t.equal(
    totals.rows_sent,
    sizes.reduce((a, b) => a + b, 0),
  );
  t.equal(totals.rows_predicted, totals.rows_sent);
  t.equal(Math.min(...sizes), 1);
  t.equal(Math.max(...sizes), 5);
  // Ramp over a minute; a request per second: the last 100 requests carry the full shift.
  const late = ages.slice(-200);
  t.ok(mean(late) > profile.features[1]!.mean + 6, `late mean age ${mean(late)} shows the full +8 shift`);
});

t.test('the loop: a duration ends it, failures are counted, an abort stops a pause at once', async (t) => {
  const gen = new TrafficGenerator(profile, card, { seed: 2 });
  let clock = 0;
  const totals = await runTraffic({
    generator: gen,
    rowsPerRequest: [2, 2],
    intervalMs: [0, 0],
    durationMs: 10_000,
    now: () => clock,
    send: async () => {
      clock += 1000;
      if (clock % 3000 === 0) throw new Error('connection refused');
      return { status: 200, n_rows: 2, n_rejected: 0 };
    },
  });
  t.equal(totals.requests, 10);
  t.equal(totals.failures, 3);
  const ac = new AbortController();
  const t0 = Date.now();
  setTimeout(() => ac.abort(), 50);
  const aborted = await runTraffic({
    generator: gen,
    rowsPerRequest: [1, 1],
    intervalMs: [60_000, 60_000],
    signal: ac.signal,
    send: async () => ({ status: 200, n_rows: 1, n_rejected: 0 }),
  });
  t.equal(aborted.requests, 1);
  t.ok(Date.now() - t0 < 5000, 'the minute-long pause ended with the abort');
});
