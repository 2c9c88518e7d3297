// Data quality over the rolling window: shares of missing, invalid and unseen values per
// feature, kept incrementally (one ring of per-row flags beside the drift window) and checked
// here against a direct count over the last rows that arrived, computed from the raw cells with
// the card's rules, after many evictions, on several random sequences. Rows go through the real
// validator and the sketch stage, so rejected rows reach the monitor in their input order.
import t from 'tap';
import { buildProfile, type ReferenceProfile } from '../src/drift/index.js';
import { DriftMonitor } from '../src/monitor/index.js';
import { sketchBatch } from '../src/stages/sketch.js';
import type { Batch } from '../src/stages/types.js';
import { ChunkValidator } from '../src/stages/validate.js';
import { FEATURES, testCard } from './helpers/fixtures.js';

const card = testCard();

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

function validRow(r: () => number): string[] {
  return [
    String(10_000 * (1 + Math.floor(r() * 50))),
    String(21 + Math.floor(r() * 50)),
    String(Math.floor(r() * 5) - 2),
    String(Math.floor(r() * 5) - 2),
    String(Math.floor(r() * 200_000) - 1000),
    String(Math.floor(r() * 200_000)),
    String(Math.floor(r() * 20_000)),
    String(Math.floor(r() * 20_000)),
  ];
}

const BAD: ((j: number) => string)[] = [
  () => '',
  () => '  ',
  () => 'n/a',
  () => '0x1f',
  (j) => (j === 1 ? '17' : j === 0 ? '-5' : 'abc'),
  (j) => (j === 1 ? '30.5' : '1e999'),
];

/** A stream of rows where about `rate` of the cells are broken, some rows in several places. */
function rows(seed: number, n: number, rate: number): string[][] {
  const r = rng(seed);
  return Array.from({ length: n }, () => validRow(r).map((cell, j) => (r() < rate ? BAD[Math.floor(r() * BAD.length)]!(j) : cell)));
}

/** The card's rule for one cell, written out: missing when blank, invalid when not a plain in-range number. */
function cellKind(j: number, cell: string): 'missing' | 'invalid' | null {
  if (cell.trim() === '') return 'missing';
  if (!/^-?\d+(\.\d+)?$/.test(cell)) return 'invalid';
  const v = Number(cell);
  const f = card.features[j]!;
  if (f.min !== undefined && v < f.min) return 'invalid';
  if (f.max !== undefined && v > f.max) return 'invalid';
  if (f.type === 'integer' && !Number.isInteger(v)) return 'invalid';
  return null;
}

/** Every share straight from the last `capacity` rows: a rejected row counts against its first bad cell. */
function direct(
  all: readonly string[][],
  capacity: number,
): Record<string, { missing_share: number | null; invalid_share: number | null; unseen_share: number | null }> {
  const last = all.slice(-capacity);
  const counts = FEATURES.map(() => ({ missing: 0, invalid: 0 }));
  for (const row of last) {
    for (let j = 0; j < row.length; j++) {
      const k = cellKind(j, row[j]!);
      if (k !== null) {
        counts[j]![k]++;
        break;
      }
    }
  }
  const n = last.length;
  return Object.fromEntries(
    FEATURES.map((f, j) => [
      f,
      {
        missing_share: n === 0 ? null : counts[j]!.missing / n,
        invalid_share: n === 0 ? null : counts[j]!.invalid / n,
        unseen_share: null,
      },
    ]),
  );
}

function numericProfile(): ReferenceProfile {
  const r = rng(99);
  const ref = Array.from({ length: 500 }, () => validRow(r).map(Number));
  return buildProfile({ features: FEATURES.map((name, j) => ({ name, values: ref.map((row) => row[j]!) })) });
}

const profile = numericProfile();

function monitor(capacity: number, p: ReferenceProfile = profile): DriftMonitor {
  return new DriftMonitor({ profile: p, capacity, overrides: {}, driftShareThreshold: 0.5, historyMs: 1e9, card });
}

t.test('shares match a direct count over the last rows after evictions (validator → sketch stage → monitor)', async (t) => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const r = rng(seed * 7919);
    const capacity = 20 + Math.floor(r() * 200);
    const all = rows(seed, 1500, 0.01 + r() * 0.08);
    const m = monitor(capacity);
    const v = new ChunkValidator(card);
    v.onHeader({ kind: 'header', format: 'csv', columns: [...FEATURES] });
    let at = 0;
    let seq = 0;
    const mismatches: string[] = [];
    let checks = 0;
    let rejected = 0;
    while (at < all.length) {
      const size = 1 + Math.floor(r() * 90);
      const chunk = all.slice(at, at + size);
      const block = v.block({ kind: 'rows', first: at, rows: chunk.map((row) => ({ ...row })) });
      rejected += block.errors.length;
      const batch: Batch = {
        kind: 'batch',
        seq: seq++,
        ...block,
        results: { probabilities: new Float32Array(block.rows).fill(0.25), queueMs: 0, computeMs: 0 },
      };
      sketchBatch(m, batch);
      at += chunk.length;
      const s = m.current();
      checks++;
      const want = direct(all.slice(0, at), capacity);
      if (s.data_quality_rows !== Math.min(at, capacity))
        mismatches.push(`after ${at} rows: ${s.data_quality_rows} rows in the quality window`);
      if (JSON.stringify(s.data_quality) !== JSON.stringify(want))
        mismatches.push(`after ${at} rows: ${JSON.stringify(s.data_quality)} != ${JSON.stringify(want)}`);
    }
    t.ok(rejected > 50 && at > capacity * 5, `seed ${seed}: ${rejected} rejected rows, ${at} rows through a window of ${capacity}`);
    t.same(mismatches.slice(0, 3), [], `seed ${seed}: ${checks} checkpoints agree`);
    const worst = Object.values(m.current().data_quality).some((q) => (q.missing_share ?? 0) + (q.invalid_share ?? 0) > 0);
    t.ok(worst, `seed ${seed}: the final window does hold bad rows`);
  }
});

t.test('a rejected row changes the snapshot even though the drift window does not move', async (t) => {
  const m = monitor(10);
  const before = m.current();
  m.reject({ code: 'DL_ERR_ROW_EMPTY_VALUE', feature: 1 });
  const after = m.current();
  t.not(after, before, 'a fresh snapshot');
  t.equal(after.window_rows, 0, 'the drift window is still empty');
  t.equal(after.data_quality.age!.missing_share, 1);
  t.equal(after.data_quality.credit_limit!.missing_share, 0);
  m.reject({ code: 'DL_ERR_ROW_WRONG_CELL_COUNT' });
  t.equal(m.current().data_quality.age!.missing_share, 0.5, 'a row rejected for no feature counts in the denominator only');
});

t.test('string columns: missing and unseen categories over the window, numeric features have no unseen share', async (t) => {
  const known = ['red', 'green', 'blue'];
  const r = rng(5);
  const ref = Array.from({ length: 400 }, () => ({ amount: r() * 100, color: known[Math.floor(r() * 3)]! }));
  const p = buildProfile({
    features: [
      { name: 'amount', values: ref.map((x) => x.amount) },
      { name: 'color', strings: ref.map((x) => x.color) },
    ],
  });
  for (const seed of [11, 12, 13]) {
    const g = rng(seed);
    const capacity = 30 + Math.floor(g() * 100);
    const m = monitor(capacity, p);
    // Per arrival: [kind of amount, color cell] — a rejected amount, or an accepted row whose
    // color may be missing, known, or one of many unseen categories (more than the window's
    // per-category codes would need, so codes are freed and reused as rows leave).
    const arrivals: { rejected: boolean; color: string | null }[] = [];
    const mismatches: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const u = g();
      if (u < 0.05) {
        m.reject({ code: 'DL_ERR_ROW_NOT_A_NUMBER', feature: 0 });
        arrivals.push({ rejected: true, color: null });
      } else {
        const w = g();
        const color = w < 0.1 ? (g() < 0.5 ? null : '') : w < 0.25 ? `new-${Math.floor(g() * 40)}` : known[Math.floor(g() * 3)]!;
        m.push([g() * 100, 0], 0, 0.3, Number.NaN, undefined, -1, [color]);
        arrivals.push({ rejected: false, color });
      }
      if (i % 37 !== 0) continue;
      const last = arrivals.slice(-capacity);
      const n = last.length;
      const count = (f: (a: (typeof last)[number]) => boolean): number => last.filter(f).length / n;
      const want = {
        amount: { missing_share: 0, invalid_share: count((a) => a.rejected), unseen_share: null },
        color: {
          missing_share: count((a) => !a.rejected && (a.color === null || a.color === '')),
          invalid_share: 0,
          unseen_share: count((a) => !a.rejected && a.color !== null && a.color !== '' && !known.includes(a.color)),
        },
      };
      const got = m.current().data_quality;
      if (JSON.stringify(got) !== JSON.stringify(want))
        mismatches.push(`after ${i + 1}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
    }
    t.same(mismatches.slice(0, 3), [], `seed ${seed}, window ${capacity}: every checkpoint agrees`);
  }
});

t.test('rebuild from the log: the shares restart from the accepted rows only', async (t) => {
  const m = monitor(50);
  for (let i = 0; i < 10; i++) m.reject({ code: 'DL_ERR_ROW_OUT_OF_RANGE', feature: 1 });
  t.equal(m.current().data_quality.age!.invalid_share, 1);
  const features = new Float32Array(FEATURES.length).fill(30);
  m.rebuild(Array.from({ length: 20 }, (_, i) => ({ id: i + 1, ts: Date.now(), features, probability: 0.2, target: Number.NaN })));
  const s = m.current();
  t.equal(s.data_quality_rows, 20);
  t.equal(s.data_quality.age!.invalid_share, 0);
});

t.test("JSON rows: a feature under an alias, or with no key at all, counts against the card's feature", async (t) => {
  const m = monitor(10);
  const v = new ChunkValidator(card);
  const good = Object.fromEntries(FEATURES.map((f, j) => [f, Number(validRow(rng(1))[j])]));
  v.onHeader({ kind: 'header', format: 'json', columns: Object.keys(good) });
  const keyed = (o: Record<string, unknown>) => ({ kind: 'keyed' as const, keys: Object.keys(o), values: Object.values(o) });
  const { age: _age, ...noAge } = good;
  const { credit_limit: _limit, ...rest } = good;
  const block = v.block({
    kind: 'rows',
    first: 0,
    rows: [keyed(noAge), keyed({ ...rest, LIMIT_BAL: 'lots' }), Object.values(good), keyed({ ...rest, LIMIT_BAL: null })],
  });
  t.same(
    block.errors.map((e) => [e.column, e.code]),
    [
      ['age', 'DL_ERR_ROW_MISSING_VALUE'],
      ['credit_limit', 'DL_ERR_ROW_NOT_A_NUMBER'],
      ['credit_limit', 'DL_ERR_ROW_EMPTY_VALUE'],
    ],
  );
  sketchBatch(m, {
    kind: 'batch',
    seq: 0,
    ...block,
    results: { probabilities: new Float32Array(block.rows).fill(0.5), queueMs: 0, computeMs: 0 },
  });
  const q = m.current().data_quality;
  t.same(
    [q.age, q.credit_limit],
    [
      { missing_share: 0.25, invalid_share: 0, unseen_share: null },
      { missing_share: 0.25, invalid_share: 0.25, unseen_share: null },
    ],
  );
});
