/** A seeded PRNG (mulberry32): the same seed gives the same run. */
export type Rng = {
  /** In [0, 1). */
  next: () => number;
  /** An integer in [lo, hi]. */
  int: (lo: number, hi: number) => number;
  chance: (p: number) => boolean;
  pick: <T>(items: readonly T[]) => T;
};

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  return { next, int, chance: (p) => next() < p, pick: (items) => items[int(0, items.length - 1)]! };
}

/** Seeds to run: SIMSEED=n replays one; otherwise 1..SIMSEEDS (default `count`). */
export function seedsFromEnv(count: number): number[] {
  if (process.env.SIMSEED !== undefined) return [Number(process.env.SIMSEED)];
  const n = Number(process.env.SIMSEEDS ?? count);
  return Array.from({ length: n }, (_, i) => i + 1);
}
