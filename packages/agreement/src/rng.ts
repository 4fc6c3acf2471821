// Bound once: inside a vm context (jest runs test modules in one) every lookup of the global
// `Math` is slow, hundreds of times slower than a module constant in a loop of 10^8 draws.
const { imul, floor } = Math;

/** A source of uniform floats in [0, 1). */
export type Rng = () => number;

/** Seeded mulberry32 generator (32 bits of state): deterministic for a seed, unlike Math.random. */
export function createRng(seed: number): Rng {
  const generator = new Mulberry32(seed);
  return () => generator.next();
}

/**
 * mulberry32 with its state in a field, and the bootstrap's hot loop written out with the state
 * in a local integer (a closure's uint32 state is boxed on every call, several times slower).
 */
export class Mulberry32 {
  private state: number;

  constructor(seed: number) {
    this.state = seed | 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    const state = (this.state + 0x6d2b79f5) | 0;
    this.state = state;
    let t = imul(state ^ (state >>> 15), state | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /**
   * A bootstrap resample of `patternOf.length` units drawn uniformly with replacement, as the
   * number of draws of each pattern: `tally` is reset, then `tally[patternOf[i]]++` for each
   * draw i. The same draws as `patternOf[floor(next() * n)]` n times.
   */
  tallyResample(patternOf: Int32Array, tally: Float64Array): Float64Array {
    tally.fill(0);
    const n = patternOf.length;
    const scale = n / 4294967296;
    let state = this.state;
    for (let d = 0; d < n; d++) {
      state = (state + 0x6d2b79f5) | 0;
      let t = imul(state ^ (state >>> 15), state | 1);
      t ^= t + imul(t ^ (t >>> 7), t | 61);
      tally[patternOf[floor(((t ^ (t >>> 14)) >>> 0) * scale)]]++;
    }
    this.state = state;
    return tally;
  }
}

/** murmur3's 32-bit finaliser (unsigned result). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** FNV-1a over the UTF-16 code units of `text`. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The seed of one named random stream: every coefficient group (the pooled coefficients, each
 * annotator pair) draws from its own stream, so its interval depends only on its own data and
 * the seed, not on which other annotators or pairs happen to be in the report.
 */
export function streamSeed(seed: number, stream: string): number {
  return fmix32((seed >>> 0) ^ imul(hashString(stream), 0x9e3779b1));
}
