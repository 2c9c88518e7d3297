// The `z` test: two-proportion z-test of the smallest value against the rest; drift when p < threshold.
import t from 'tap';
import { buildProfile, DriftWindow, snapshot } from '../src/drift/index.js';
import { columns, golden, readGolden, relErr } from './helpers/drift.js';

function run(ref: ArrayLike<number>, cur: ArrayLike<number>, categorical = true) {
  const profile = buildProfile({ features: [{ name: 'x', values: ref, categorical }] });
  const w = new DriftWindow(profile, { capacity: cur.length });
  for (let i = 0; i < cur.length; i++) w.push([cur[i]!], 0, Number.NaN, Number.NaN);
  return snapshot(profile, w).features.x!;
}

t.test('golden: the target of S9 (1000 reference rows, two classes) against Evidently', { skip: golden.skip }, async (t) => {
  const sc = readGolden().S9!;
  const ref = await columns(sc.reference_csv, ['target']);
  const cur = await columns(sc.current_csv, ['target']);
  const f = run(ref.get('target')!, cur.get('target')!);
  const g = sc.dataset_with_target.target;
  t.equal(f.test, 'z');
  t.ok(relErr(f.score!, g.score) < 1e-12, `p = ${f.score}, Evidently ${g.score}`);
  t.equal(f.drift, g.drift);
});

t.test('hand-computed: equal proportions give p = 1; one shared single value gives p = 1', async (t) => {
  t.equal(run([0, 0, 1, 1], [0, 1]).score, 1);
  const same = run([7, 7, 7], [7, 7]);
  t.equal(same.test, 'z');
  t.equal(same.score, 1);
  // A numerical column with two values and a small reference also gets z.
  t.equal(run([0, 1, 1], [1, 1], false).test, 'z');
});

t.test('symmetric in the choice of the smallest value, and drifts on a clear change', async (t) => {
  const a = run([...new Array(80).fill(0), ...new Array(20).fill(1)], [...new Array(20).fill(0), ...new Array(30).fill(1)]);
  const b = run([...new Array(80).fill(1), ...new Array(20).fill(0)], [...new Array(20).fill(1), ...new Array(30).fill(0)]);
  t.ok(Math.abs(a.score! - b.score!) < 1e-15);
  t.ok(a.score! < 1e-6 && a.drift);
});
