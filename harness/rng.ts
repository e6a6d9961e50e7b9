/**
 * Seeded randomness for the harness (relay faults, nemesis targets, partition
 * shapes), on top of the node's splitmix32 so a run seed reproduces them.
 */
import { SplitMix32 } from '../node/raft/prng.js';

const TWO_POW_32 = 0x1_0000_0000;

export class Rng {
  private readonly inner: SplitMix32;

  constructor(readonly seed: number) {
    this.inner = new SplitMix32(seed);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.inner.nextUint32() / TWO_POW_32;
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return this.inner.nextInt(min, max);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty list');
    return items[this.int(0, items.length - 1)]!;
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}
