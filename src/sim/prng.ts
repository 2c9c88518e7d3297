// mulberry32: one 32-bit word of state, exact integer arithmetic (Math.imul, >>> 0), so a seed
// gives the same traffic on every engine. Statistical quality is ample for synthetic rows; the
// trainer's xoshiro128** (src/train/prng.ts) is kept apart so the two rooms stay independent.

export type Random = () => number;

/** Uniform floats in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integer in [lo, hi], both inclusive. */
export const intBetween = (rand: Random, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

/** Uniform float in [lo, hi). */
export const between = (rand: Random, lo: number, hi: number): number => lo + rand() * (hi - lo);
