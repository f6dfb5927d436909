/* eslint-disable no-bitwise -- a 32-bit pseudo-random generator is made of shifts, rotations and xors */
/**
 * The seeded pseudo-random source of the tree trainers (xoshiro128**, seeded through splitmix32).
 * Every random choice a trainer makes (bin sampling, bootstrap draws, row and column subsampling)
 * comes from one of these, so a seed fixes the trained model bit for bit.
 */
export class SeededRandom {
  private state0: number;
  private state1: number;
  private state2: number;
  private state3: number;

  /**
   * @param seed any integer (only its low 32 bits matter)
   * @param stream an independent sub-sequence of the same seed, e.g. the index of a tree, so that a
   *   tree's draws do not depend on how many draws the trees before it made
   */
  constructor(seed: number, stream = 0) {
    let mixer = (Math.trunc(seed) ^ Math.imul(Math.trunc(stream) + 1, 0x9e3779b9)) >>> 0;
    const next = (): number => {
      mixer = (mixer + 0x9e3779b9) >>> 0;
      let value = mixer;
      value = Math.imul(value ^ (value >>> 16), 0x85ebca6b);
      value = Math.imul(value ^ (value >>> 13), 0xc2b2ae35);
      return (value ^ (value >>> 16)) >>> 0;
    };
    this.state0 = next();
    this.state1 = next();
    this.state2 = next();
    this.state3 = next();
    if ((this.state0 | this.state1 | this.state2 | this.state3) === 0) this.state0 = 1;
  }

  /** A uniform unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.state1, 5), 7), 9) >>> 0;
    const shifted = this.state1 << 9;
    this.state2 ^= this.state0;
    this.state3 ^= this.state1;
    this.state1 ^= this.state2;
    this.state0 ^= this.state3;
    this.state2 ^= shifted;
    this.state3 = rotateLeft(this.state3, 11);
    return result;
  }

  /** A uniform number in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [0, bound) for 0 < bound ≤ 2^32. */
  nextInt(bound: number): number {
    return Math.floor(this.nextFloat() * bound);
  }

  /**
   * `count` distinct values of `from`, chosen uniformly, returned in ascending order (a partial
   * Fisher–Yates shuffle of a copy). `count` ≥ from.length returns a sorted copy of all of them.
   */
  sampleSorted(from: Int32Array, count: number): Int32Array {
    const pool = Int32Array.from(from);
    const take = Math.min(count, pool.length);
    for (let index = 0; index < take; index++) {
      const pick = index + this.nextInt(pool.length - index);
      const swap = pool[index];
      pool[index] = pool[pick];
      pool[pick] = swap;
    }
    return pool.subarray(0, take).sort();
  }
}

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}
