/**
 * A small seeded pseudo-random generator (splitmix32) for the Raft core's
 * election jitter (§5.2, §9.3) and for the deterministic simulator. The real
 * binary and the simulator use the same generator, so a simulation seed
 * reproduces exactly the timeouts a run drew.
 *
 * Pure: 32-bit integer arithmetic only, no `Math.random`, no clock.
 */
import { assert, assertionFailed } from '../util/assert.js';
import type { Prng } from './types.js';

const TWO_POW_32 = 0x1_0000_0000;

export class SplitMix32 implements Prng {
  private state: number;

  constructor(seed: number) {
    assert(Number.isInteger(seed), `prng seed must be an integer, got ${seed}`);
    // Fold any safe integer into 32 bits so seeds above 2^32 still differ.
    this.state = (seed ^ Math.floor(seed / TWO_POW_32)) | 0;
  }

  /** The next uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    this.state = (this.state + 0x9e3779b9) | 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return z >>> 0;
  }

  /** Uniform integer in [min, max], both inclusive; unbiased (rejection sampling). */
  nextInt(min: number, max: number): number {
    if (!(Number.isSafeInteger(min) && Number.isSafeInteger(max))) assertionFailed(`nextInt bounds must be integers: [${min}, ${max}]`);
    if (min > max) assertionFailed(`nextInt: min ${min} > max ${max}`);
    const range = max - min + 1;
    if (range > TWO_POW_32) assertionFailed(`nextInt: range ${range} exceeds 2^32`);
    // Largest multiple of `range` below 2^32: draws at or above it would bias the low values.
    const limit = TWO_POW_32 - (TWO_POW_32 % range);
    let draw = this.nextUint32();
    while (draw >= limit) draw = this.nextUint32();
    return min + (draw % range);
  }
}

export function createPrng(seed: number): Prng {
  return new SplitMix32(seed);
}
