/**
 * Seeded pseudo-random numbers for the generator: sfc32 (a small, fast, well-tested 32-bit
 * generator, PractRand-clean to 2^40+ bytes) seeded through splitmix32, plus Vose alias tables for
 * O(1) weighted choices. Never `Math.random`: the same seed must give byte-identical output.
 */
/* eslint-disable no-bitwise -- a PRNG is 32-bit integer arithmetic; this file is the one place for it */

/** splitmix32 step: turns a 32-bit state into a well-mixed 32-bit value. */
function splitmix32(state: number): number {
  let mixed = (state + 0x9e3779b9) | 0;
  mixed = Math.imul(mixed ^ (mixed >>> 16), 0x21f0aaad);
  mixed = Math.imul(mixed ^ (mixed >>> 15), 0x735a2d97);
  return (mixed ^ (mixed >>> 15)) >>> 0;
}

const TWO_POW_32 = 4_294_967_296;

export class SeededRandom {
  /**
   * A generator for one named stream of a seed: streams with different numbers are independent,
   * so e.g. each week can draw its own numbers regardless of how many the previous week drew.
   */
  static forStream(seed: number, stream: number): SeededRandom {
    const low = seed >>> 0;
    const high = Math.floor(seed / TWO_POW_32) >>> 0;
    let state = splitmix32(low ^ splitmix32(high ^ splitmix32(stream >>> 0)));
    const words: number[] = [];
    for (let index = 0; index < 4; index++) {
      state = splitmix32(state + index);
      words.push(state);
    }
    return new SeededRandom(words[0], words[1], words[2], words[3]);
  }

  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  private constructor(a: number, b: number, c: number, d: number) {
    this.a = a | 0;
    this.b = b | 0;
    this.c = c | 0;
    this.d = d | 1;
    // warm up: the first outputs of sfc32 from a fresh state are weakly mixed
    for (let round = 0; round < 12; round++) this.nextUint32();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** A uniform integer in [0, bound), bound ≤ 2^32. */
  nextInt(bound: number): number {
    return Math.floor(this.nextFloat() * bound);
  }

  /** True with probability `probability`. */
  chance(probability: number): boolean {
    return this.nextFloat() < probability;
  }

  /** A standard normal deviate (Box–Muller, both values used). */
  nextNormal(): number {
    if (this.spareNormal !== undefined) {
      const spare = this.spareNormal;
      this.spareNormal = undefined;
      return spare;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - this.nextFloat()));
    const angle = 2 * Math.PI * this.nextFloat();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** exp(N(log(median), sigma²)): a positive, right-skewed value with the given median. */
  nextLogNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.nextNormal());
  }

  /** Shuffles in place (Fisher–Yates). */
  shuffle<T>(items: T[]): T[] {
    for (let index = items.length - 1; index > 0; index--) {
      const other = this.nextInt(index + 1);
      const kept = items[index];
      items[index] = items[other];
      items[other] = kept;
    }
    return items;
  }
}

/**
 * A fixed discrete distribution sampled in O(1) (Vose's alias method). Weights need not sum to 1;
 * zero weights are never drawn. `pick` returns the chosen index, or `outcomes[index]` when given.
 */
export class WeightedChoice {
  private readonly probability: Float64Array;
  private readonly alias: Int32Array;
  private readonly outcomes: readonly number[] | undefined;

  constructor(weights: readonly number[], outcomes?: readonly number[]) {
    if (outcomes !== undefined && outcomes.length !== weights.length) throw new RangeError('WeightedChoice needs one outcome per weight');
    this.outcomes = outcomes;
    const count = weights.length;
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    if (count === 0 || !(total > 0) || weights.some((weight) => !(weight >= 0))) {
      throw new RangeError('WeightedChoice needs at least one positive weight and no negative ones');
    }
    this.probability = new Float64Array(count);
    this.alias = new Int32Array(count);
    const scaled = weights.map((weight) => (weight * count) / total);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((value, index) => (value < 1 ? small : large).push(index));
    while (small.length > 0 && large.length > 0) {
      const less = small.pop()!;
      const more = large.pop()!;
      this.probability[less] = scaled[less];
      this.alias[less] = more;
      scaled[more] = scaled[more] + scaled[less] - 1;
      (scaled[more] < 1 ? small : large).push(more);
    }
    for (const index of [...large, ...small]) {
      this.probability[index] = 1;
      this.alias[index] = index;
    }
  }

  /** Number of outcomes. */
  get size(): number {
    return this.probability.length;
  }

  /** An outcome: an index in [0, size), or the outcome at that index. */
  pick(random: SeededRandom): number {
    const scaled = random.nextFloat() * this.probability.length;
    const slot = Math.floor(scaled);
    const index = scaled - slot < this.probability[slot] ? slot : this.alias[slot];
    return this.outcomes === undefined ? index : this.outcomes[index];
  }
}
