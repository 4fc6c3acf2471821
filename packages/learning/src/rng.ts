/** A source of uniform floats in [0, 1); every random choice in this package takes one. */
export type Rng = () => number;

/**
 * Seeded mulberry32 generator: 32 bits of state is plenty for shuffles and initialisation, and
 * being seedable is what makes training and sampling reproducible (Math.random is not).
 */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates shuffle in place, driven by `rng`; returns the same array. */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(items: T, rng: Rng): T {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}

/** 0, 1, ..., n-1 in a seeded random order. */
export function permutation(n: number, rng: Rng): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return shuffleInPlace(order, rng);
}

/** A standard normal draw (Box-Muller), for weight initialisation. */
export function normal(rng: Rng): number {
  const u = 1 - rng(); // in (0, 1], so log(u) is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/**
 * A uniform [0, 1) key for one item, fixed by (seed, id): sorting a pool by it gives a random
 * order that does not reshuffle when the pool changes (an item keeps its place in line while
 * others are labelled or added). Random sampling takes the lowest keys first; auto's random
 * share draws from the same order, so against random at the same seed the two differ only
 * where auto chose otherwise. fmix32 over the seed-mixed id.
 */
export function drawKey(seed: number, id: number): number {
  return fmix32(Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(id >>> 0, 0x85ebca6b) ^ Math.floor(id / 4294967296)) / 4294967296;
}

/** murmur3's 32-bit finaliser: spreads every input bit over the output (unsigned). */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
