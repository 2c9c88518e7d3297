// Property: a window that has evicted rows holds exactly the sketch of a window built from the
// rows it still has; labelling rows after the fact equals pushing them labelled.
import t from 'tap';
import fc from 'fast-check';
import { buildProfile, DriftWindow, snapshot } from '../src/drift/index.js';
import { sketchDiff } from './helpers/drift-sketch.js';

// One column binned per value (0..9), one by quantiles (3000 distinct values in 0..100).
const profile = buildProfile({
  features: [
    { name: 'small', values: Array.from({ length: 3000 }, (_, i) => i % 10) },
    { name: 'wide', values: Array.from({ length: 3000 }, (_, i) => (i * 100) / 2999) },
  ],
  prediction: Array.from({ length: 3000 }, (_, i) => (i % 97) / 97),
  target: Array.from({ length: 3000 }, (_, i) => i % 2),
});

const value = fc.oneof(fc.integer({ min: -3, max: 13 }), fc.double({ min: -20, max: 120, noNaN: true }), fc.constant(Number.NaN));
const row = fc.tuple(
  value,
  value,
  fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(Number.NaN)),
  fc.constantFrom(0, 1, Number.NaN),
);

function fill(capacity: number, rows: readonly (readonly number[])[], withTarget: boolean): DriftWindow {
  const w = new DriftWindow(profile, { capacity });
  for (const [a, b, p, y] of rows) w.push([a!, b!], 0, p!, withTarget ? y! : Number.NaN, 0);
  return w;
}

t.test('evicting rows leaves the sketch of the remaining rows', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.array(row, { maxLength: 150 }), (capacity, rows) => {
      const rolled = fill(capacity, rows, true);
      const fresh = fill(capacity, rows.slice(Math.max(0, rows.length - capacity)), true);
      const diff = sketchDiff(rolled.sketch(), fresh.sketch());
      if (diff !== null) throw new Error(diff);
      const a = snapshot(profile, rolled, { at: 0 });
      const b = snapshot(profile, fresh, { at: 0 });
      for (const name of ['small', 'wide']) {
        const [x, y] = [a.features[name]!.score, b.features[name]!.score];
        if (x !== y && Math.abs(x! - y!) > 1e-9 * Math.abs(y!)) throw new Error(`${name}: score ${x} ≠ ${y}`);
      }
    }),
    { numRuns: 300 },
  );
  t.pass('300 random windows');
});

t.test('label(seq) on rows still in the window equals pushing them labelled', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 30 }), fc.array(row, { maxLength: 80 }), (capacity, rows) => {
      const w = new DriftWindow(profile, { capacity });
      const seqs = rows.map(([a, b, p]) => w.push([a!, b!], 0, p!, Number.NaN, 0));
      seqs.forEach((seq, i) => {
        const kept = i >= rows.length - capacity;
        if (w.label(seq, rows[i]![3]!) !== kept) throw new Error(`label(${seq}) should be ${kept}`);
      });
      const diff = sketchDiff(w.sketch(), fill(capacity, rows.slice(Math.max(0, rows.length - capacity)), true).sketch());
      if (diff !== null) throw new Error(diff);
    }),
    { numRuns: 200 },
  );
  t.pass('200 random windows');
});

t.test('beyond the exact-count cap, bins and totals still match', async (t) => {
  // 600 distinct new values in the per-value column overflow the 512 exactly counted ones.
  const rows = Array.from({ length: 1500 }, (_, i) => [0.5 + ((i * 7919) % 1500) / 1000, 50, 0.5, 1]);
  const rolled = fill(600, rows, true).sketch().features.small!;
  const fresh = fill(600, rows.slice(-600), true).sketch().features.small!;
  t.same(
    rolled.bins.map((b) => b.slice(0, 3)),
    fresh.bins.map((b) => b.slice(0, 3)),
  );
  t.equal(rolled.n, fresh.n);
  const total = (s: typeof rolled): number => s.untracked + s.extras.reduce((a, [, c]) => a + c, 0);
  t.equal(total(rolled), total(fresh), 'exactly counted + untracked rows agree');
  t.ok(rolled.untracked > 0, 'the cap was reached');
});
