// Property: merging two windows' sketches gives the sketch of one window holding both.
import t from 'tap';
import fc from 'fast-check';
import { buildProfile, DriftWindow, mergeSketches, parseSketch, snapshot } from '../src/drift/index.js';
import { sketchDiff } from './helpers/drift-sketch.js';

const profile = buildProfile({
  features: [
    { name: 'small', values: Array.from({ length: 3000 }, (_, i) => i % 10) },
    { name: 'wide', values: Array.from({ length: 3000 }, (_, i) => Math.sqrt(i) * 2) },
  ],
  prediction: Array.from({ length: 3000 }, (_, i) => (i % 89) / 89),
  target: Array.from({ length: 3000 }, (_, i) => i % 2),
});

const value = fc.oneof(fc.integer({ min: -3, max: 13 }), fc.double({ min: -20, max: 140, noNaN: true }), fc.constant(Number.NaN));
const row = fc.tuple(value, value, fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1, Number.NaN));
type Row = [number, number, number, number];

function window(capacity: number, rows: readonly Row[]): DriftWindow {
  const w = new DriftWindow(profile, { capacity });
  for (const [a, b, p, y] of rows) w.push([a, b], 0, p, y, 0);
  return w;
}

t.test('merge(sketch A, sketch B) = sketch of A ∪ B', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 30 }),
      fc.array(row, { maxLength: 60 }),
      fc.integer({ min: 1, max: 30 }),
      fc.array(row, { maxLength: 60 }),
      (ca, ra, cb, rb) => {
        const a = window(ca, ra as Row[]);
        const b = window(cb, rb as Row[]);
        const keptA = (ra as Row[]).slice(Math.max(0, ra.length - ca));
        const keptB = (rb as Row[]).slice(Math.max(0, rb.length - cb));
        const union = window(Math.max(1, keptA.length + keptB.length), [...keptA, ...keptB]);
        // Through JSON, as replicas would ship them.
        const merged = mergeSketches(parseSketch(JSON.parse(JSON.stringify(a.sketch()))), b.sketch());
        const diff = sketchDiff(merged, union.sketch());
        if (diff !== null) throw new Error(diff);
        if (sketchDiff(mergeSketches(b.sketch(), a.sketch()), merged) !== null) throw new Error('merge is not symmetric');
        const x = snapshot(profile, merged, { at: 0 });
        const y = snapshot(profile, union, { at: 0 });
        for (const name of ['small', 'wide']) {
          const [p, q] = [x.features[name]!.score, y.features[name]!.score];
          if (p !== q && Math.abs(p! - q!) > 1e-9 * Math.abs(q!)) throw new Error(`${name}: ${p} ≠ ${q}`);
        }
      },
    ),
    { numRuns: 300 },
  );
  t.pass('300 random pairs');
});

t.test('sketches of different profiles do not merge', async (t) => {
  const other = buildProfile({ features: [{ name: 'small', values: [1, 2, 3] }] });
  const a = new DriftWindow(profile, { capacity: 2 }).sketch();
  const b = new DriftWindow(other, { capacity: 2 }).sketch();
  t.throws(() => mergeSketches(a, b), { code: 'DL_ERR_REFERENCE' });
  t.throws(() => snapshot(other, a), { code: 'DL_ERR_REFERENCE' });
});
