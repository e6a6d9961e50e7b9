import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { AssertionError } from '../../../node/util/assert.js';
import { SplitMix32, createPrng } from '../../../node/raft/prng.js';

describe('prng (splitmix32)', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const draw = (seed: number) =>
      Array.from(
        { length: 20 },
        (
          (prng) => () =>
            prng.nextInt(0, 1_000_000)
        )(createPrng(seed)),
      );
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
  });

  it('pinned output for seed 0: a change here changes every simulator replay', () => {
    const prng = new SplitMix32(0);
    expect([prng.nextUint32(), prng.nextUint32(), prng.nextUint32()]).toEqual([2462723854, 1020716019, 454327756]);
  });

  test.prop([fc.integer(), fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 0, max: 1000 })])(
    'nextInt stays within [min, max]',
    (seed, min, span) => {
      const prng = createPrng(seed);
      for (let i = 0; i < 20; i++) {
        const value = prng.nextInt(min, min + span);
        expect(Number.isInteger(value) && value >= min && value <= min + span).toBe(true);
      }
    },
  );

  it('is roughly uniform: every value of [10, 19] within 20% of its expected count (seed 99)', () => {
    const prng = createPrng(99);
    const counts = new Map<number, number>();
    for (let i = 0; i < 100_000; i++) {
      const v = prng.nextInt(10, 19);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    for (let v = 10; v <= 19; v++) expect(Math.abs((counts.get(v) ?? 0) - 10_000)).toBeLessThan(2_000);
  });

  it('rejects bad bounds loudly', () => {
    expect(() => createPrng(1).nextInt(5, 4)).toThrow(AssertionError);
    expect(() => createPrng(1).nextInt(0.5, 4)).toThrow(AssertionError);
    expect(() => createPrng(1.5)).toThrow(AssertionError);
  });
});
