// `driftline drift --json` against Evidently 0.4.15 on the categorical golden scenarios (string
// columns SEX, EDUCATION, MARRIAGE beside 8 numeric ones): the same test for every column, the
// same decisions and dataset share, every score within 2 % (0.002 absolute near zero), and the
// categorical scores to 1e-9. Then categories that only one side has, as Evidently treats them
// (the golden README, rules 3–7), on variants of the public files written to a temporary folder.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildProfile, DriftWindow, snapshot, type ColumnDrift, type DriftSnapshot } from '../src/drift/index.js';
import { readCsvColumns } from '../src/csv-columns.js';
import { runDrift } from '../src/cli/drift.js';
import { relErr } from './helpers/drift.js';
import { ROOT, sharedFile } from './helpers/shared.js';

const run = promisify(execFile);
const golden = sharedFile('golden/categorical/drift_golden_categorical.json');
const GOLDEN_DIR = path.dirname(golden.path);
const CATEGORICAL = ['SEX', 'EDUCATION', 'MARRIAGE'] as const;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dl-golden-cat-'));

interface Scenario {
  reference_csv: string;
  current_csv: string;
  n_current: number;
  dataset: {
    n_columns: number;
    n_drifted: number;
    share_drifted: number;
    drift_share_threshold: number;
    drift: boolean;
    drifted_columns: string[];
  };
  features: Record<string, { kind: string; evidently: { test: string; score: number; threshold: number; drift: boolean } }>;
}

const NO_MODEL = path.join(tmp, 'no-model');

/**
 * The command's own code in this process (a child process costs seconds of start-up each). No
 * model card: the data decide the types, as Evidently's inference would (strings are
 * categorical), or `categorical` states them, as the golden run's ColumnMapping did.
 */
function drift(reference: string, current: string, o: { columns?: string[]; categorical?: string[] } = {}): Promise<DriftSnapshot> {
  return runDrift({ reference, current, model: NO_MODEL, overrides: {}, ...o });
}

/** The command line itself, once: --categorical and --json. */
async function cliDrift(reference: string, current: string, extra: string[] = []): Promise<DriftSnapshot> {
  const env = { ...process.env, MODEL_DIR: NO_MODEL, DRIFT_OVERRIDES: '' };
  const { stdout } = await run(
    process.execPath,
    ['--import=tsx', 'src/cli/index.ts', 'drift', '--reference', reference, '--current', current, '--json', ...extra],
    {
      cwd: ROOT,
      env,
      maxBuffer: 64 << 20,
    },
  );
  return JSON.parse(stdout) as DriftSnapshot;
}

/** Within 2 %, or 0.002 absolute for a score below 0.1. */
function close(ours: number, theirs: number): boolean {
  return relErr(ours, theirs) <= 0.02 || (Math.abs(theirs) < 0.1 && Math.abs(ours - theirs) <= 0.002);
}

t.test('driftline drift --json matches Evidently on every public categorical scenario', { skip: golden.skip }, async (t) => {
  const scenarios = (JSON.parse(readFileSync(golden.path, 'utf8')) as { scenarios: Record<string, Scenario> }).scenarios;
  t.ok(Object.keys(scenarios).length >= 3, 'C1, C2 and C4 at least');
  for (const [id, sc] of Object.entries(scenarios)) {
    for (const how of ['types inferred', 'driftline drift --categorical SEX,EDUCATION,MARRIAGE']) {
      // The command line once (on the smallest scenario); the same code in process otherwise.
      if (how !== 'types inferred' && id !== 'C4') continue;
      await t.test(`${id}: ${how}`, async (t) => {
        const ref = path.join(GOLDEN_DIR, sc.reference_csv);
        const cur = path.join(GOLDEN_DIR, sc.current_csv);
        const s = how === 'types inferred' ? await drift(ref, cur) : await cliDrift(ref, cur, ['--categorical', CATEGORICAL.join(',')]);
        t.same(Object.keys(s.features), Object.keys(sc.features), 'every column, in file order');
        for (const [name, g] of Object.entries(sc.features)) {
          const e = g.evidently;
          const o = s.features[name]!;
          t.equal(o.column_type, g.kind === 'categorical' ? 'cat' : 'num', `${name}: column type`);
          t.equal(o.test, e.test, `${name}: test`);
          t.equal(o.threshold, e.threshold, `${name}: threshold`);
          t.equal(o.drift, e.drift, `${name}: drift`);
          t.ok(close(o.score!, e.score), `${name}: score ${o.score} vs Evidently ${e.score}`);
          // Categorical scores come from exact counts: only float rounding may differ.
          if (g.kind === 'categorical') t.ok(relErr(o.score!, e.score) < 1e-9, `${name}: ${o.score} exact to 1e-9`);
        }
        const { drifted_columns: drifted, ...dataset } = sc.dataset;
        t.same(s.dataset, dataset, 'dataset share and decision');
        t.same(
          Object.entries(s.features)
            .flatMap(([n, d]) => (d.drift ? [n] : []))
            .sort(),
          [...drifted].sort(),
          'the drifted columns',
        );
        t.equal(s.window_rows, sc.n_current);
      });
    }
  }
});

t.test("every categorical test, forced by DRIFT_OVERRIDES, matches Evidently's forced StatTest", { skip: golden.skip }, async (t) => {
  type Forced = Record<string, { evidently_score: number; threshold: number; drift: boolean }>;
  const scenarios = (
    JSON.parse(readFileSync(golden.path, 'utf8')) as {
      scenarios: Record<string, Scenario & { features: Record<string, { all_tests?: Forced }> }>;
    }
  ).scenarios;
  for (const [id, sc] of Object.entries(scenarios)) {
    const ref = await readStrings(path.join(GOLDEN_DIR, sc.reference_csv));
    const cur = await readStrings(path.join(GOLDEN_DIR, sc.current_csv));
    const profile = buildProfile({ features: CATEGORICAL.map((name) => ({ name, strings: ref.get(name)! })) });
    const window = new DriftWindow(profile, { capacity: cur.get('SEX')!.length });
    const none = new Float64Array(CATEGORICAL.length);
    for (let i = 0; i < window.capacity; i++)
      window.push(
        none,
        0,
        Number.NaN,
        Number.NaN,
        0,
        CATEGORICAL.map((c) => cur.get(c)![i]),
      );
    for (const c of CATEGORICAL) {
      // z only where Evidently allows it: two values.
      for (const [test, e] of Object.entries(sc.features[c]!.all_tests!)) {
        const o = snapshot(profile, window, { overrides: { [c]: { test } }, at: 0, columns: [c] }).features[c]!;
        t.ok(
          relErr(o.score!, e.evidently_score) < 1e-9 || o.score === e.evidently_score,
          `${id} ${c} ${test}: ${o.score} vs ${e.evidently_score}`,
        );
        t.equal(o.threshold, e.threshold, `${id} ${c} ${test}: threshold`);
        t.equal(o.drift, e.drift, `${id} ${c} ${test}: drift`);
      }
    }
  }
});

// Variants of the public files with categories on one side only, written beside the test (never
// committed), and the scores computed here from raw category counts with the formulas of the
// README (rules 5–7), independently of the engine.

type Rows = Map<string, string[]>;

async function readStrings(file: string): Promise<Rows> {
  return (
    await readCsvColumns(
      file,
      CATEGORICAL.map((name) => ({ name, text: true })),
    )
  ).text;
}

function writeCsv(name: string, rows: Rows): string {
  const file = path.join(tmp, name);
  const cols = [...rows.keys()];
  const n = rows.get(cols[0]!)!.length;
  const lines = [cols.join(',')];
  for (let i = 0; i < n; i++) lines.push(cols.map((c) => rows.get(c)![i]!).join(','));
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function counts(xs: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/** scipy.spatial.distance.jensenshannon over the union of categories, no zero-fill. */
function jsDistance(ref: readonly string[], cur: readonly string[]): number {
  const r = counts(ref);
  const c = counts(cur);
  let d = 0;
  for (const k of new Set([...r.keys(), ...c.keys()])) {
    const p = (r.get(k) ?? 0) / ref.length;
    const q = (c.get(k) ?? 0) / cur.length;
    const m = (p + q) / 2;
    if (p > 0) d += p * Math.log(p / m);
    if (q > 0) d += q * Math.log(q / m);
  }
  return Math.sqrt(d / 2);
}

/** Pearson statistic of current counts against the reference scaled to the current size. */
function chiStatistic(ref: readonly string[], cur: readonly string[]): { stat: number; dof: number } {
  const r = counts(ref);
  const c = counts(cur);
  const keys = new Set([...r.keys(), ...c.keys()]);
  let stat = 0;
  for (const k of keys) {
    const exp = ((r.get(k) ?? 0) * cur.length) / ref.length;
    const obs = c.get(k) ?? 0;
    stat += exp === 0 ? Number.POSITIVE_INFINITY : (obs - exp) ** 2 / exp;
  }
  return { stat, dof: keys.size - 1 };
}

function only(d: ColumnDrift | undefined): ColumnDrift {
  if (d === undefined) throw new Error('column missing from the snapshot');
  return d;
}

t.test('categories on one side only, as Evidently treats them', { skip: golden.skip }, async (t) => {
  const small = path.join(GOLDEN_DIR, 'reference_1000.csv');
  const large = path.join(GOLDEN_DIR, 'reference_21000.csv');
  const refSmall = await readStrings(small);
  const refLarge = await readStrings(large);
  const c4 = await readStrings(path.join(GOLDEN_DIR, 'C4_current.csv'));
  const c1 = await readStrings(path.join(GOLDEN_DIR, 'C1_current.csv'));
  const cols = { columns: [...CATEGORICAL] };

  await t.test('small reference: one row of an unseen category makes chi-square p exactly 0', async (t) => {
    const cur = new Map(c4);
    cur.set(
      'EDUCATION',
      c4.get('EDUCATION')!.map((v, i) => (i === 17 ? 'doctorate' : v)),
    );
    const s = await drift(small, writeCsv('c4-doctorate.csv', cur), cols);
    const d = only(s.features.EDUCATION);
    t.equal(d.test, 'chisquare');
    t.equal(d.score, 0, 'statistic inf, p = 0');
    t.equal(d.drift, true);
    t.ok(d.current_hist.labels?.includes('doctorate'), 'the new category is shown by name');
  });

  await t.test('small reference: a binary column gaining a third value switches from z to chi-square', async (t) => {
    const cur = new Map(c4);
    cur.set(
      'SEX',
      c4.get('SEX')!.map((v, i) => (i % 150 === 3 ? 'unknown' : v)),
    );
    const s = await drift(small, writeCsv('c4-sex-unknown.csv', cur), cols);
    const d = only(s.features.SEX);
    t.equal(d.test, 'chisquare', 'n_values counts the current side: 3 values');
    t.equal(d.score, 0);
    t.equal(d.drift, true);
  });

  await t.test('small reference: a category absent from the current adds its expected count', async (t) => {
    const keep = c4.get('MARRIAGE')!.map((v) => v !== 'other');
    const cur: Rows = new Map([...c4].map(([k, v]) => [k, v.filter((_, i) => keep[i])]));
    t.ok(cur.get('MARRIAGE')!.length < c4.get('MARRIAGE')!.length, 'the current had "other" rows to drop');
    const s = await drift(small, writeCsv('c4-no-other.csv', cur), cols);
    const d = only(s.features.MARRIAGE);
    const { stat, dof } = chiStatistic(refSmall.get('MARRIAGE')!, cur.get('MARRIAGE')!);
    t.equal(dof, 2, 'married, single and other (reference only)');
    // Chi-square survival with 2 degrees of freedom: exp(−x/2).
    const p = Math.exp(-stat / 2);
    t.equal(d.test, 'chisquare');
    t.ok(relErr(d.score!, p) < 1e-9, `p ${d.score} vs ${p}`);
    t.equal(d.drift, p < 0.05);
  });

  await t.test('large reference: an unseen category adds Jensen-Shannon mass smoothly, no infinity', async (t) => {
    const cur = new Map(c1);
    cur.set(
      'MARRIAGE',
      c1.get('MARRIAGE')!.map((v, i) => (i % 10 === 0 ? 'widowed' : i % 97 === 1 ? 'divorced' : v)),
    );
    const s = await drift(large, writeCsv('c1-widowed.csv', cur), cols);
    const d = only(s.features.MARRIAGE);
    const js = jsDistance(refLarge.get('MARRIAGE')!, cur.get('MARRIAGE')!);
    t.equal(d.test, 'jensenshannon');
    t.ok(relErr(d.score!, js) < 1e-9, `distance ${d.score} vs ${js}`);
    t.equal(d.drift, js >= 0.1);
    t.ok(js < Math.sqrt(Math.LN2));
  });

  await t.test('large reference: a category absent from the current has share 0 there', async (t) => {
    const keep = c1.get('EDUCATION')!.map((v) => v !== 'other');
    const cur: Rows = new Map([...c1].map(([k, v]) => [k, v.filter((_, i) => keep[i])]));
    const s = await drift(large, writeCsv('c1-no-other.csv', cur), cols);
    const d = only(s.features.EDUCATION);
    const js = jsDistance(refLarge.get('EDUCATION')!, cur.get('EDUCATION')!);
    t.equal(d.test, 'jensenshannon');
    t.ok(relErr(d.score!, js) < 1e-9, `distance ${d.score} vs ${js}`);
  });
});
