// A seeded generator so that a training run is a pure function of (data, parameters, seed):
// Math.random cannot be seeded, and byte-identical models for a seed are a tested promise.
//
// xoshiro128** (Blackman & Vigna) seeded through splitmix32: 32-bit state words keep every
// step in exact integer arithmetic (Math.imul, >>> 0), so results do not depend on the engine.

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export interface Rng {
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform integer in [0, n), without modulo bias. */
  nextInt(n: number): number;
}

export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  // Fold the high bits in so that seeds differing above 2^32 still differ.
  const sm = splitmix32((seed >>> 0) ^ Math.floor(seed / 2 ** 32));
  let a = sm();
  let b = sm();
  let c = sm();
  let d = sm();
  if ((a | b | c | d) === 0) a = 1;
  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d >>> 0, 11);
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    return result;
  };
  const nextInt = (n: number): number => {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new RangeError(`nextInt bound must be in 1..2^32, got ${n}`);
    // Rejection sampling: draws that fall in the incomplete last block are redrawn.
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = nextUint32();
      if (x < limit) return x % n;
    }
  };
  return { nextUint32, nextInt };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Fisher–Yates shuffle in place. */
export function shuffleInPlace(a: Uint32Array | number[], rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

/**
 * A seed for the k-th independent stream of a run (k = 0 gives `seed` back). Hashing keeps
 * runs with neighbouring seeds from sharing streams, as `seed + k` would.
 */
export function deriveSeed(seed: number, k: number): number {
  if (k === 0) return seed;
  const sm = splitmix32((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(k, 0x85ebca77)) >>> 0);
  return sm();
}
