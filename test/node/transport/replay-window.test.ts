import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../node/raft/prng.js';
import { ReplayWindow } from '../../../node/transport/replay-window.js';

describe('ReplayWindow', () => {
  it('accepts each counter once, refuses duplicates, and refuses what fell below the window', () => {
    const w = new ReplayWindow(64);
    expect(w.accept(1)).toBe('accept');
    expect(w.accept(1)).toBe('duplicate');
    expect(w.accept(3)).toBe('accept');
    expect(w.accept(2)).toBe('accept'); // reordered, inside the window
    expect(w.accept(2)).toBe('duplicate');
    expect(w.accept(100)).toBe('accept');
    expect(w.highest).toBe(100);
    expect(w.accept(36)).toBe('too_old'); // 100 - 64 = 36: the window holds 37..100
    expect(w.accept(37)).toBe('accept');
    expect(w.accept(37)).toBe('duplicate');
    expect(w.accept(0)).toBe('too_old');
    expect(w.accept(-1)).toBe('too_old');
    expect(w.accept(1.5)).toBe('too_old');
    expect(w.check(99)).toBe('accept');
    expect(w.check(99)).toBe('accept'); // check alone records nothing
    w.reset();
    expect(w.highest).toBe(0);
    expect(w.accept(1)).toBe('accept');
  });

  it('a jump of more than the window forgets every bit (a counter reused at the same position is new)', () => {
    const w = new ReplayWindow(32);
    for (let c = 1; c <= 32; c++) expect(w.accept(c)).toBe('accept');
    expect(w.accept(32 + 32 * 5)).toBe('accept');
    // 192 - 32 = 160: counters 161..191 are inside the window and were never seen.
    for (let c = 161; c <= 191; c++) expect(w.accept(c)).toBe('accept');
    expect(w.accept(160)).toBe('too_old');
  });

  it('refuses sizes that are not positive multiples of 32', () => {
    expect(() => new ReplayWindow(0)).toThrow();
    expect(() => new ReplayWindow(33)).toThrow();
    expect(() => new ReplayWindow(-32)).toThrow();
  });

  // A reference model: the set of accepted counters and the highest one.
  const arbArrivals = fc.record({
    size: fc.constantFrom(32, 64, 1024),
    arrivals: fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 600 }),
  });

  it('property: in any arrival order each counter is accepted at most once, and never once it is below the window', () => {
    fc.assert(
      fc.property(arbArrivals, ({ size, arrivals }) => {
        const w = new ReplayWindow(size);
        const accepted = new Set<number>();
        let highest = 0;
        const wrong: string[] = [];
        for (const c of arrivals) {
          const verdict = w.accept(c);
          const expected = c <= highest - size ? 'too_old' : accepted.has(c) ? 'duplicate' : 'accept';
          if (verdict !== expected) wrong.push(`${c}: ${verdict}, expected ${expected}`);
          if (expected === 'accept') {
            accepted.add(c);
            highest = Math.max(highest, c);
          }
          if (w.highest !== highest) wrong.push(`after ${c}: highest ${w.highest}, expected ${highest}`);
        }
        expect(wrong).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('property: datagrams reordered by less than the window are all accepted exactly once; a replay of any of them is refused', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(32, 64, 1024),
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (size, n, seed) => {
          // Each counter is delayed by less than half the window (in positions): no arrival trails the highest by `size`.
          const prng = createPrng(seed);
          const order = Array.from({ length: n }, (_, i) => ({ c: i + 1, key: i + 1 + prng.nextInt(0, size / 2 - 1) })).sort(
            (a, b) => a.key - b.key || a.c - b.c,
          );
          const w = new ReplayWindow(size);
          // (One comparison per phase: an expect per counter would dominate the run time.)
          expect(order.filter(({ c }) => w.accept(c) !== 'accept')).toEqual([]);
          expect(order.filter(({ c }) => w.accept(c) === 'accept')).toEqual([]);
          const recent = Array.from({ length: Math.min(n, size) }, (_, i) => n - i);
          expect(recent.filter((c) => w.accept(c) !== 'duplicate')).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });
});
