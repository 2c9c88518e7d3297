// Reference and current side by side on one sorted grid of positions, the common input of
// every statistic. At each position: rows exactly there (ref, cur); in the gap up to the next
// position: rows strictly inside, with their count and Σ (x − position). When bins are per
// reference value and every new value is counted (the usual case), there is no gap mass at
// all and every statistic computed from the pieces is exact.
import type { ColumnView } from '../window/column-state.js';
import type { ColumnProfile } from '../types.js';

export interface Pieces {
  len: number;
  pos: Float64Array;
  r: Float64Array;
  c: Float64Array;
  rIn: Float64Array;
  rSum: Float64Array;
  cIn: Float64Array;
  cSum: Float64Array;
  n1: number;
  n2: number;
  /** No gap mass anywhere: both samples are known value by value. */
  exact: boolean;
}

// One scratch set of arrays, reused by every call: a snapshot handles one column at a time,
// and allocating 8 arrays of ~3000 numbers per column per snapshot showed up as GC time.
let scratch: Pieces | undefined;

/** The returned pieces are valid until the next call of buildPieces or referencePieces. */
function alloc(size: number, n1: number, n2: number): Pieces {
  if (scratch === undefined || scratch.pos.length < size) {
    const cap = Math.max(size, 1024);
    scratch = {
      len: 0,
      pos: new Float64Array(cap),
      r: new Float64Array(cap),
      c: new Float64Array(cap),
      rIn: new Float64Array(cap),
      rSum: new Float64Array(cap),
      cIn: new Float64Array(cap),
      cSum: new Float64Array(cap),
      n1,
      n2,
      exact: true,
    };
  }
  scratch.len = 0;
  scratch.n1 = n1;
  scratch.n2 = n2;
  scratch.exact = true;
  return scratch;
}

interface FrozenBins {
  edges: Float64Array;
  counts: Float64Array;
  innerCounts: Float64Array;
  innerSums: Float64Array;
  values: boolean;
}

// Typed copies of a profile column's bins, made once: reading the JSON arrays in the sweep
// cost about twice as much as typed arrays.
const frozen = new WeakMap<ColumnProfile, FrozenBins>();
function binsOf(ref: ColumnProfile): FrozenBins {
  let f = frozen.get(ref);
  if (f === undefined) {
    const b = ref.bins;
    const k = b.edges.length;
    f = {
      edges: Float64Array.from(b.edges),
      counts: Float64Array.from(b.counts),
      innerCounts: b.inner_counts === undefined ? new Float64Array(k) : Float64Array.from(b.inner_counts),
      innerSums: b.inner_sums === undefined ? new Float64Array(k) : Float64Array.from(b.inner_sums),
      values: b.mode === 'values',
    };
    frozen.set(ref, f);
  }
  return f;
}

// Writes every field: the scratch arrays are reused without clearing.
function atom(p: Pieces, x: number, r: number, c: number): void {
  const i = p.len++;
  p.pos[i] = x;
  p.r[i] = r;
  p.c[i] = c;
  p.rIn[i] = 0;
  p.rSum[i] = 0;
  p.cIn[i] = 0;
  p.cSum[i] = 0;
}

function sortedKeys(m: ReadonlyMap<number, number>): Float64Array {
  const keys = new Float64Array(m.size);
  let i = 0;
  for (const k of m.keys()) keys[i++] = k;
  return keys.sort();
}

/** Pieces of the reference alone (the current side empty). */
export function referencePieces(ref: ColumnProfile): Pieces {
  const b = binsOf(ref);
  const k = b.edges.length;
  const p = alloc(k, ref.count, 0);
  for (let i = 0; i < k; i++) {
    atom(p, b.edges[i]!, b.counts[i]!, 0);
    if (b.innerCounts[i]! > 0) {
      p.rIn[i] = b.innerCounts[i]!;
      p.rSum[i] = b.innerSums[i]!;
      p.exact = false;
    }
  }
  return p;
}

export function buildPieces(ref: ColumnProfile, cur: ColumnView): Pieces {
  const b = binsOf(ref);
  const { edges, counts, innerCounts, innerSums } = b;
  const k = edges.length;
  const keys = sortedKeys(cur.extras);
  const p = alloc(k + keys.length + 2, ref.count, cur.n);
  const keysExact = cur.untracked === 0;
  const exactValues = b.values && keysExact;
  const min = edges[0]!;
  const max = edges[k - 1]!;
  let e = 0;
  // Below the reference minimum.
  if (keysExact) {
    while (e < keys.length && keys[e]! < min) atom(p, keys[e]!, 0, cur.extras.get(keys[e++]!)!);
  } else if (cur.underN > 0) {
    const i = p.len;
    atom(p, cur.lo, 0, 0);
    p.cIn[i] = cur.underN;
    // Σ (x − lo) from Σ (min − x).
    p.cSum[i] = cur.underN * (min - cur.lo) - cur.underSum;
    p.exact = false;
  }
  if (exactValues) {
    for (let i = 0; i < k; i++) {
      atom(p, edges[i]!, counts[i]!, cur.point[i]!);
      const next = i + 1 < k ? edges[i + 1]! : Number.POSITIVE_INFINITY;
      while (e < keys.length && keys[e]! < next) atom(p, keys[e]!, 0, cur.extras.get(keys[e++]!)!);
    }
    return p;
  }
  const { point, inner, innerSum } = cur;
  for (let i = 0; i < k; i++) {
    const rIn = innerCounts[i]!;
    const cIn = inner[i]!;
    // An edge with no row on it, between two empty gaps, only splits empty space: skip it.
    // In heavy tails most split edges are such (about half of the ~2800 per golden column).
    if (counts[i] === 0 && point[i] === 0 && rIn === 0 && cIn === 0 && p.len > 0 && i < k - 1) {
      const last = p.len - 1;
      if (p.rIn[last] === 0 && p.cIn[last] === 0) continue;
    }
    const at = p.len;
    atom(p, edges[i]!, counts[i]!, point[i]!);
    if (rIn > 0 || cIn > 0) {
      p.rIn[at] = rIn;
      p.rSum[at] = innerSums[i]!;
      p.cIn[at] = cIn;
      p.cSum[at] = innerSum[i]!;
      p.exact = false;
    }
  }
  // Above the reference maximum.
  if (keysExact) {
    for (; e < keys.length; e++) if (keys[e]! > max) atom(p, keys[e]!, 0, cur.extras.get(keys[e]!)!);
  } else if (cur.overN > 0) {
    const last = p.len - 1;
    p.cIn[last] = cur.overN;
    p.cSum[last] = cur.overSum;
    atom(p, cur.hi, 0, 0);
    p.exact = false;
  }
  return p;
}

/** Smallest and largest position holding any row of either sample. */
export function unionRange(p: Pieces): [number, number] {
  let first = 0;
  while (first < p.len - 1 && p.r[first]! + p.c[first]! + p.rIn[first]! + p.cIn[first]! === 0) first++;
  let last = p.len - 1;
  while (last > 0 && p.r[last]! + p.c[last]! + p.rIn[last - 1]! + p.cIn[last - 1]! === 0) last--;
  return [p.pos[first]!, p.pos[last]!];
}

/**
 * Distinct values of ref ∪ cur (pandas nunique of the concatenation): every reference value,
 * plus the new values counted exactly. Exact while no new value is untracked; otherwise a lower
 * bound that already exceeds every threshold of the default rules (5 values).
 */
export function distinctValues(ref: ColumnProfile, cur: ColumnView): number {
  return ref.n_unique + cur.extras.size + (cur.untracked > 0 ? 1 : 0);
}
