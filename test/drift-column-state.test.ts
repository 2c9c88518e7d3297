// ColumnState finds a value's bin through a guide of equal-width cells; it must agree with a
// plain scan of the edges everywhere, above all at and next to the edges themselves, where the
// cell arithmetic rounds.
import t from 'tap';
import fc from 'fast-check';
import { ColumnState } from '../src/drift/window/column-state.js';
import type { ColumnProfile } from '../src/drift/types.js';

const column = (edges: number[], mode = 'quantile'): ColumnState => new ColumnState({ bins: { mode, edges } } as unknown as ColumnProfile);

/** The last edge ≤ x, by scanning. */
const scan = (edges: readonly number[], x: number): number => {
  let i = 0;
  while (i + 1 < edges.length && edges[i + 1]! <= x) i++;
  return i;
};

const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);
/** The next double up (dir 1) or down (dir -1) from x. */
function step(x: number, dir: 1 | -1): number {
  if (x === 0) return dir * Number.MIN_VALUE;
  f64[0] = x;
  i64[0]! += BigInt((x > 0 ? 1 : -1) * dir);
  return f64[0]!;
}

const edgesArb = fc
  .array(
    fc.oneof(
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc.integer({ min: -50, max: 50 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
    ),
    { minLength: 1, maxLength: 300 },
  )
  .map((xs) => [...new Set(xs.map((x) => (Object.is(x, -0) ? 0 : x)))].sort((a, b) => a - b));

t.test('the bin found is the last edge at or below the value, at, next to and between edges', async (t) => {
  fc.assert(
    fc.property(edgesArb, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 50 }), (edges, fractions) => {
      const cs = column(edges);
      const lo = edges[0]!;
      const hi = edges.at(-1)!;
      const probes = [
        ...edges,
        ...edges.map((e) => step(e, 1)),
        ...edges.map((e) => step(e, -1)),
        ...fractions.map((u) => lo + u * (hi - lo)),
      ];
      for (const x of probes) {
        if (!(x >= lo && x <= hi)) continue;
        if (cs.locate(x) !== scan(edges, x)) return false;
      }
      return true;
    }),
    { numRuns: 300, seed: 20261126 },
  );
  t.pass('agrees with a scan of the edges');
});

t.test('one edge, two close edges, and a wide heavy-tailed range', async (t) => {
  t.equal(column([5]).locate(5), 0);
  const close = [1, step(1, 1)];
  t.same(
    [close[0]!, close[1]!].map((x) => column(close).locate(x)),
    [0, 1],
  );
  const huge = [-Number.MAX_VALUE, -1, 0, 1, Number.MAX_VALUE];
  t.same(
    huge.map((x) => column(huge).locate(x)),
    [0, 1, 2, 3, 4],
    'a range too wide for a double',
  );
  const heavy = Array.from({ length: 2600 }, (_, i) => Math.round(Math.expm1(i / 150)) + i);
  const cs = column(heavy);
  const wrong: number[] = [];
  for (let x = 0; x <= heavy.at(-1)!; x += 997) if (cs.locate(x) !== scan(heavy, x)) wrong.push(x);
  t.same(wrong, [], 'a 2,600-edge heavy-tailed column');
});
