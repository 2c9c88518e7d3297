// The live window on string columns: rows pushed one by one, with evictions, categories the
// reference lacks coming and going, missing cells. At every checkpoint the snapshot of each
// string column equals a batch computation on the window's rows, made here from the raw
// strings with Evidently's rules (test by reference size and number of values, chi-square,
// Jensen-Shannon, z), independently of the engine. Sketches and profiles carry the categories.
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  buildProfile,
  DriftWindow,
  mergeSketches,
  OTHER_UNSEEN_LABEL,
  parseProfile,
  parseSketch,
  readProfile,
  snapshot,
  UNSEEN_CATEGORIES_CAP,
  writeProfile,
  type ColumnDrift,
  type ReferenceProfile,
} from '../src/drift/index.js';
import { profileId } from '../src/drift/reference/profile.js';
import { ROOT } from './helpers/shared.js';

let seed = 7;
const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const pick = <T>(xs: readonly T[], w: readonly number[]): T => {
  let u = rnd() * w.reduce((a, b) => a + b, 0);
  for (let i = 0; i < xs.length; i++) if ((u -= w[i]!) < 0) return xs[i]!;
  return xs[xs.length - 1]!;
};

const COLORS = ['red', 'green', 'blue'];
const FLAGS = ['yes', 'no'];
type Cell = string | null;
interface Row {
  amount: number;
  color: Cell;
  flag: Cell;
}

function referenceRows(n: number): Row[] {
  return Array.from({ length: n }, () => ({ amount: Math.round(rnd() * 1000), color: pick(COLORS, [5, 3, 2]), flag: pick(FLAGS, [7, 3]) }));
}

function profileOf(rows: readonly Row[]): ReferenceProfile {
  return buildProfile({
    features: [
      { name: 'amount', values: rows.map((r) => r.amount) },
      { name: 'color', strings: rows.map((r) => r.color) },
      { name: 'flag', strings: rows.map((r) => r.flag) },
    ],
  });
}

/** The current stream in phases: shifts, an unseen category, many unseen ones, missing cells. */
function currentRows(): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < 3000; i++) {
    const phase = Math.floor(i / 600);
    let color: Cell = pick(COLORS, phase === 1 ? [2, 3, 5] : [5, 3, 2]);
    let flag: Cell = pick(FLAGS, phase === 3 ? [3, 7] : [7, 3]);
    if (phase === 2 && rnd() < 0.1) color = 'purple';
    if (phase === 3 && rnd() < 0.2) color = `new-${Math.floor(rnd() * 40)}`;
    if (phase === 4 && rnd() < 0.05) flag = 'maybe';
    if (rnd() < 0.03) color = rnd() < 0.5 ? null : '';
    if (rnd() < 0.02) flag = null;
    out.push({ amount: Math.round(rnd() * 1100), color, flag });
  }
  return out;
}

function push(w: DriftWindow, r: Row): void {
  // The slots of string columns in `features` are ignored: fill them with junk to show it.
  w.push([r.amount, 12345, -1], 0, Number.NaN, Number.NaN, Date.now(), [r.color, r.flag]);
}

const counts = (xs: readonly string[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
};

/** erfc, Numerical Recipes' erfcc (fractional error below 1.2e-7 everywhere). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const u = 1 / (1 + 0.5 * z);
  const r =
    u *
    Math.exp(
      -z * z -
        1.26551223 +
        u *
          (1.00002368 +
            u *
              (0.37409196 +
                u *
                  (0.09678418 +
                    u * (-0.18628806 + u * (0.27886807 + u * (-1.13520398 + u * (1.48851587 + u * (-0.82215223 + u * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Evidently's default test and score for one categorical column, from raw strings. */
function batch(ref: readonly Cell[], cur: readonly Cell[]): { test: string; score: number; n: number; shares: Map<string, number> } {
  const r = ref.filter((x): x is string => x !== null && x !== '');
  const c = cur.filter((x): x is string => x !== null && x !== '');
  const rc = counts(r);
  const cc = counts(c);
  const union = [...new Set([...rc.keys(), ...cc.keys()])].sort();
  const shares = new Map(union.map((k) => [k, (cc.get(k) ?? 0) / c.length]));
  if (r.length > 1000) {
    let d = 0;
    for (const k of union) {
      const p = (rc.get(k) ?? 0) / r.length;
      const q = (cc.get(k) ?? 0) / c.length;
      const m = (p + q) / 2;
      if (p > 0) d += p * Math.log(p / m);
      if (q > 0) d += q * Math.log(q / m);
    }
    return { test: 'jensenshannon', score: Math.sqrt(d / 2), n: c.length, shares };
  }
  if (union.length > 2) {
    let stat = 0;
    for (const k of union) {
      const exp = ((rc.get(k) ?? 0) * c.length) / r.length;
      stat += exp === 0 ? Number.POSITIVE_INFINITY : ((cc.get(k) ?? 0) - exp) ** 2 / exp;
    }
    // The reference columns here have 3 categories: with none unseen, 2 degrees of freedom.
    if (stat !== Number.POSITIVE_INFINITY && union.length !== 3) throw new Error('the check knows only 2 degrees of freedom');
    return { test: 'chisquare', score: Math.exp(-stat / 2), n: c.length, shares };
  }
  const k0 = union[0]!;
  const p1 = r.filter((x) => x !== k0).length / r.length;
  const p2 = c.filter((x) => x !== k0).length / c.length;
  const pooled = (p1 * r.length + p2 * c.length) / (r.length + c.length);
  const z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / r.length + 1 / c.length));
  return { test: 'z', score: erfc(Math.abs(z) / Math.SQRT2), n: c.length, shares };
}

function checkColumn(t: Test, what: string, d: ColumnDrift, ref: readonly Cell[], cur: readonly Cell[]): void {
  const b = batch(ref, cur);
  t.equal(d.test, b.test, `${what}: test`);
  t.equal(d.n_current, b.n, `${what}: rows counted (missing left out)`);
  const tol = b.test === 'z' ? 1e-6 : 1e-9;
  const ok = b.score === 0 ? d.score === 0 : Math.abs(d.score! - b.score) <= tol * Math.max(b.score, 1e-12);
  t.ok(ok, `${what}: score ${d.score} vs batch ${b.score}`);
  // Display: per category by name, the 30 largest when there are more.
  const h = d.current_hist;
  t.equal(h.labels!.length, Math.min(30, b.shares.size), `${what}: categories shown`);
  t.same(h.labels, [...h.labels!].sort(), `${what}: shown by name`);
  t.ok(
    // Past the cap, new categories are shown together; the cap test checks their rows.
    h.labels!.every((l, i) => l === OTHER_UNSEEN_LABEL || Math.abs(h.shares[i]! - (b.shares.get(l) ?? 0)) < 1e-12),
    `${what}: current shares shown`,
  );
}

for (const [size, label] of [
  [3000, 'large reference (Jensen-Shannon)'],
  [800, 'small reference (chi-square, z)'],
] as const) {
  t.test(`window snapshots of string columns equal a batch computation on the window's rows: ${label}`, async (t) => {
    const refRows = referenceRows(size);
    const profile = profileOf(refRows);
    const capacity = 500;
    const w = new DriftWindow(profile, { capacity });
    t.same(w.stringColumns, ['color', 'flag'], 'the order push takes strings in');
    const stream = currentRows();
    let checks = 0;
    for (let i = 0; i < stream.length; i++) {
      push(w, stream[i]!);
      if ((i + 1) % 150 !== 0) continue;
      const rows = stream.slice(Math.max(0, i + 1 - capacity), i + 1);
      const s = snapshot(profile, w, { at: 0 });
      for (const col of ['color', 'flag'] as const) {
        checkColumn(
          t,
          `row ${i + 1}, ${col}`,
          s.features[col]!,
          refRows.map((r) => r[col]),
          rows.map((r) => r[col]),
        );
      }
      // A sketch read back gives the same snapshot.
      const back = snapshot(profile, parseSketch(JSON.parse(JSON.stringify(w.sketch()))), { at: 0 });
      t.same(back, s, `row ${i + 1}: the sketch gives the same snapshot`);
      checks++;
    }
    t.equal(checks, 20);
  });
}

t.test("merged sketches of two windows equal a batch computation on both windows' rows", async (t) => {
  const refRows = referenceRows(3000);
  const profile = profileOf(refRows);
  const stream = currentRows();
  const a = new DriftWindow(profile, { capacity: 700 });
  const b = new DriftWindow(profile, { capacity: 700 });
  // Phase 2 (purple) in one window, phase 3 (40 new categories) in the other.
  const rowsA = stream.slice(1100, 1800);
  const rowsB = stream.slice(1800, 2500);
  for (const r of rowsA) push(a, r);
  for (const r of rowsB) push(b, r);
  const s = snapshot(profile, mergeSketches(a.sketch(), b.sketch()), { at: 0 });
  for (const col of ['color', 'flag'] as const) {
    checkColumn(
      t,
      col,
      s.features[col]!,
      refRows.map((r) => r[col]),
      [...rowsA, ...rowsB].map((r) => r[col]),
    );
  }
});

t.test('categories unseen in the reference are freed when their rows leave the window', async (t) => {
  const refRows = referenceRows(3000);
  const profile = profileOf(refRows);
  const w = new DriftWindow(profile, { capacity: 100 });
  const all: Row[] = [];
  // Far more distinct new categories than the cap, never more than 100 at once.
  for (let i = 0; i < 4 * UNSEEN_CATEGORIES_CAP; i++) {
    const r = { amount: 1, color: i % 2 === 0 ? `one-off-${i}` : 'red', flag: 'yes' };
    all.push(r);
    push(w, r);
  }
  const live = all.slice(-100);
  const unseen = w.sketch().features.color!.unseen!;
  t.same(
    unseen.map(([name]) => name).sort(),
    live.flatMap((r) => (r.color !== 'red' ? [r.color] : [])).sort(),
    'each live new category by name; none lumped together',
  );
  const d = snapshot(profile, w).features.color!;
  checkColumn(
    t,
    'color',
    d,
    refRows.map((r) => r.color),
    live.map((r) => r.color),
  );
  t.notOk(d.current_hist.labels?.includes(OTHER_UNSEEN_LABEL));
});

t.test('past the cap, further new categories share one code and the defaults stay exact', async (t) => {
  const refRows = referenceRows(3000);
  const profile = profileOf(refRows);
  const n = UNSEEN_CATEGORIES_CAP + 200;
  const w = new DriftWindow(profile, { capacity: 2 * n });
  const rows: Row[] = [];
  for (let i = 0; i < 2 * n; i++) rows.push({ amount: 1, color: i % 2 === 0 ? `new-${i}` : 'blue', flag: 'no' });
  for (const r of rows) push(w, r);
  const sk = w.sketch().features.color!.unseen!;
  t.equal(sk.filter(([name]) => name !== null).length, UNSEEN_CATEGORIES_CAP);
  t.same(
    sk.find(([name]) => name === null),
    [null, n - UNSEEN_CATEGORIES_CAP],
  );
  // Jensen-Shannon adds ln 2 · (the share of unseen rows) however they are split.
  checkColumn(
    t,
    'color',
    snapshot(profile, w).features.color!,
    refRows.map((r) => r.color),
    rows.map((r) => r.color),
  );
});

t.test('reference.json keeps the categories; profiles without them load unchanged', async (t) => {
  const profile = profileOf(referenceRows(1200));
  const color = profile.features[1]!;
  t.same(color.categories, ['blue', 'green', 'red'], 'sorted');
  t.match(color, { type: 'cat', n_unique: 3, bins: { mode: 'values', edges: [0, 1, 2] } });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dl-cat-profile-'));
  writeProfile(path.join(dir, 'reference.json'), profile);
  t.same(readProfile(path.join(dir, 'reference.json')), profile);
  const bad = structuredClone(profile);
  bad.features[1]!.categories = ['red', 'blue', 'green'];
  t.throws(() => parseProfile(bad), { code: 'DL_ERR_REFERENCE', message: /categories must be sorted and distinct/ });
  bad.features[1]!.categories = ['blue', 'green'];
  t.throws(() => parseProfile(bad), { code: 'DL_ERR_REFERENCE', message: /one bin per code/ });
  // Every bundled reference.json (written before string columns) still loads, with its id.
  const models = path.join(ROOT, 'models');
  let seen = 0;
  for (const name of readdirSync(models, { recursive: true, encoding: 'utf8' })) {
    if (!name.endsWith('reference.json')) continue;
    const raw = JSON.parse(readFileSync(path.join(models, name), 'utf8')) as ReferenceProfile;
    const p = parseProfile(raw);
    t.same(p, raw, `${name} loads unchanged`);
    t.equal(profileId([...p.features, p.prediction, p.target]), p.id, `${name}: numeric columns hash as before`);
    seen++;
  }
  t.ok(seen > 0, 'a bundled reference.json was checked');
});
