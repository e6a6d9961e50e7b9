import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpGenerator, Stagger, opDrawArbitrary, seededDraws, type OpDraw, type PlannedOp } from '../../harness/generator.js';

function take(g: OpGenerator, n: number): PlannedOp[] {
  return Array.from({ length: n }, () => g.next());
}

/** A generator fed from a fixed list of draws (fast-check generates and shrinks the list). */
function fromDraws(draws: readonly OpDraw[], keys: number, opsPerKey: number): { g: OpGenerator; ops: PlannedOp[] } {
  let i = 0;
  const g = new OpGenerator({ seed: 0, keys, opsPerKey }, () => draws[i++]!);
  return { g, ops: take(g, draws.length) };
}

const configArb = fc
  .record({ keys: fc.integer({ min: 1, max: 6 }), opsPerKey: fc.integer({ min: 1, max: 30 }) })
  .chain(({ keys, opsPerKey }) =>
    fc.record({ keys: fc.constant(keys), opsPerKey: fc.constant(opsPerKey), draws: fc.array(opDrawArbitrary(keys), { maxLength: 400 }) }),
  );

function writtenValue(op: PlannedOp): number | null {
  if (op.f === 'write') return op.value;
  if (op.f === 'cas') return op.value[1];
  return null;
}

describe('OpGenerator', () => {
  it('same seed, same op sequence (property over seeds and settings)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 200 }),
        (seed, keys, opsPerKey) => {
          const a = take(new OpGenerator({ seed, keys, opsPerKey }), 700); // more than one block of draws
          const b = take(new OpGenerator({ seed, keys, opsPerKey }), 700);
          expect(b).toEqual(a);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('different seeds give different sequences (seeds 1 and 2)', () => {
    const a = take(new OpGenerator({ seed: 1, keys: 5, opsPerKey: 100 }), 100);
    const b = take(new OpGenerator({ seed: 2, keys: 5, opsPerKey: 100 }), 100);
    expect(b).not.toEqual(a);
  });

  it('the seeded draw stream is deterministic across block boundaries', () => {
    const a = seededDraws(77, 3);
    const b = seededDraws(77, 3);
    for (let i = 0; i < 1500; i++) expect(b()).toEqual(a());
  });

  it('written values are unique per key', () => {
    fc.assert(
      fc.property(configArb, ({ keys, opsPerKey, draws }) => {
        const { ops } = fromDraws(draws, keys, opsPerKey);
        const seen = new Map<string, Set<number>>();
        for (const op of ops) {
          const v = writtenValue(op);
          if (v === null) continue;
          const set = seen.get(op.key) ?? new Set<number>();
          expect(set.has(v), `value ${v} written twice to ${op.key}`).toBe(false);
          set.add(v);
          seen.set(op.key, set);
        }
      }),
    );
  });

  it('keys rotate after ops-per-key ops; always `keys` keys live', () => {
    fc.assert(
      fc.property(configArb, ({ keys, opsPerKey, draws }) => {
        const { g, ops } = fromDraws(draws, keys, opsPerKey);
        const perKey = new Map<string, number>();
        for (const op of ops) perKey.set(op.key, (perKey.get(op.key) ?? 0) + 1);
        for (const [key, n] of perKey) expect(n, `${key} got ${n} ops`).toBeLessThanOrEqual(opsPerKey);
        const retired = [...perKey.values()].filter((n) => n === opsPerKey).length;
        // Every retirement brings exactly one fresh key: keys handed out = initial + retired.
        expect(g.keysUsed().length).toBe(keys + retired);
        expect(new Set(g.keysUsed()).size).toBe(g.keysUsed().length);
        for (const key of perKey.keys()) expect(g.keysUsed()).toContain(key);
        // Once a key has had its ops it never appears again.
        const countSoFar = new Map<string, number>();
        for (const op of ops) {
          expect(countSoFar.get(op.key) ?? 0).toBeLessThan(opsPerKey);
          countSoFar.set(op.key, (countSoFar.get(op.key) ?? 0) + 1);
        }
      }),
    );
  });

  it("cas expects null on a fresh key, else one of the key's latest issued values", () => {
    fc.assert(
      fc.property(configArb, ({ keys, opsPerKey, draws }) => {
        const { ops } = fromDraws(draws, keys, opsPerKey);
        const issued = new Map<string, number[]>();
        for (const op of ops) {
          if (op.f === 'cas') {
            const before = issued.get(op.key) ?? [];
            if (before.length === 0) expect(op.value[0]).toBeNull();
            else expect(before.slice(-3)).toContain(op.value[0]);
          }
          const v = writtenValue(op);
          if (v !== null) issued.set(op.key, [...(issued.get(op.key) ?? []), v]);
        }
      }),
    );
  });

  it('keys are named k0, k1, ... and reads carry null', () => {
    const ops = take(new OpGenerator({ seed: 5, keys: 2, opsPerKey: 3 }), 50);
    for (const op of ops) {
      expect(op.key).toMatch(/^k\d+$/);
      if (op.f === 'read') expect(op.value).toBeNull();
    }
  });

  it('follows the mix: about 45% read, 35% write, 20% cas (seed 2024, 20,000 ops)', () => {
    const ops = take(new OpGenerator({ seed: 2024, keys: 5, opsPerKey: 100 }), 20_000);
    const frac = (f: string): number => ops.filter((o) => o.f === f).length / ops.length;
    expect(frac('read')).toBeGreaterThan(0.42);
    expect(frac('read')).toBeLessThan(0.48);
    expect(frac('write')).toBeGreaterThan(0.32);
    expect(frac('write')).toBeLessThan(0.38);
    expect(frac('cas')).toBeGreaterThan(0.17);
    expect(frac('cas')).toBeLessThan(0.23);
  });

  it('rejects bad settings', () => {
    expect(() => new OpGenerator({ seed: 1, keys: 0, opsPerKey: 1 })).toThrow(/keys/);
    expect(() => new OpGenerator({ seed: 1, keys: 1, opsPerKey: 0 })).toThrow(/opsPerKey/);
    expect(() => new OpGenerator({ seed: 1, keys: 1, opsPerKey: 1, mix: { read: 50, write: 50, cas: 10 } })).toThrow(/mix/);
  });
});

describe('Stagger', () => {
  it('spaces ops 0..2/rate apart, mean 1/rate (seed 9, rate 100/s)', () => {
    const s = new Stagger(100, 9);
    let now = 0;
    const gaps: number[] = [];
    let last = now + s.reserve(now);
    for (let i = 0; i < 5000; i++) {
      const at = now + s.reserve(now);
      gaps.push(at - last);
      last = at;
      now = at; // a worker ready exactly at its slot
    }
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(0);
      expect(g).toBeLessThanOrEqual(20);
    }
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(mean).toBeGreaterThan(9);
    expect(mean).toBeLessThan(11);
  });

  it('does not bank missed slots: after idling, the next op may start at once', () => {
    const s = new Stagger(10, 3);
    s.reserve(0);
    expect(s.reserve(60_000)).toBe(0);
  });

  it('many reservations at the same instant queue up in the future', () => {
    const s = new Stagger(1000, 4);
    const waits = Array.from({ length: 100 }, () => s.reserve(0));
    for (let i = 1; i < waits.length; i++) expect(waits[i]!).toBeGreaterThanOrEqual(waits[i - 1]!);
    expect(waits[99]!).toBeGreaterThan(50);
  });
});
