import { createRng, shuffleInPlace, type Rng } from './prng.js';

// Stratified sampling keeps the default rate (22%) the same in every part, as sklearn's
// train_test_split(stratify=y) and StratifiedKFold do; with ~2,400 holdout rows an unlucky
// unstratified draw would move the early-stopping loss noticeably.

/** Row indices of each class, in ascending order. */
function byClass(y: Uint8Array): [number[], number[]] {
  const out: [number[], number[]] = [[], []];
  for (let i = 0; i < y.length; i++) out[y[i] === 1 ? 1 : 0].push(i);
  return out;
}

/**
 * How many of each class go to a part of `total` rows: proportional, with the rounding
 * remainder given to the class with the larger fractional share (class 0 on a tie).
 */
function allocate(counts: readonly number[], total: number): number[] {
  const n = counts.reduce((a, b) => a + b, 0);
  const exact = counts.map((c) => (c * total) / n);
  const alloc = exact.map(Math.floor);
  let left = total - alloc.reduce((a, b) => a + b, 0);
  const order = exact.map((e, k) => ({ k, frac: e - Math.floor(e) })).sort((a, b) => b.frac - a.frac || a.k - b.k);
  for (const { k } of order) {
    if (left === 0) break;
    if (alloc[k]! < counts[k]!) {
      alloc[k]!++;
      left--;
    }
  }
  return alloc;
}

export interface Holdout {
  /** Rows to fit on, ascending. */
  fit: Uint32Array;
  /** Rows held out, ascending. */
  holdout: Uint32Array;
}

/** Holds out ceil(fraction × n) rows, stratified by label, chosen by the seeded generator. */
export function stratifiedHoldout(y: Uint8Array, fraction: number, rng: Rng): Holdout {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`holdout fraction must be in (0, 1), got ${fraction}`);
  const classes = byClass(y);
  const take = allocate(
    classes.map((c) => c.length),
    Math.ceil(fraction * y.length),
  );
  const inHoldout = new Uint8Array(y.length);
  classes.forEach((rows, k) => {
    const idx = Uint32Array.from(rows);
    shuffleInPlace(idx, rng);
    for (let i = 0; i < take[k]!; i++) inHoldout[idx[i]!] = 1;
  });
  return partition(inHoldout);
}

/** Stratified k-fold: fold f's holdout is every row assigned to f; folds differ in size by at most one row per class. */
export function stratifiedKFold(y: Uint8Array, k: number, seed: number): Holdout[] {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`k must be an integer ≥ 2, got ${k}`);
  const rng = createRng(seed);
  const fold = new Uint8Array(y.length);
  let next = 0;
  for (const rows of byClass(y)) {
    const idx = Uint32Array.from(rows);
    shuffleInPlace(idx, rng);
    // Dealing class by class, continuing the round-robin, keeps fold sizes within one row.
    for (const i of idx) fold[i] = next++ % k;
  }
  return Array.from({ length: k }, (_, f) => partition(fold.map((v) => (v === f ? 1 : 0))));
}

function partition(mask: Uint8Array): Holdout {
  let nOut = 0;
  for (const m of mask) nOut += m;
  const fit = new Uint32Array(mask.length - nOut);
  const holdout = new Uint32Array(nOut);
  let a = 0;
  let b = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 1) holdout[b++] = i;
    else fit[a++] = i;
  }
  return { fit, holdout };
}
