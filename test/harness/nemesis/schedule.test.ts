import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  drawNemesisSchedule, kindOf, nemesisKinds, nemesisScheduleArbitrary, partitionShapes,
  type NemesisKind, type ScheduleOptions,
} from '../../../harness/nemesis/schedule.js';

const optsArb: fc.Arbitrary<ScheduleOptions> = fc.record({
  kinds: fc.uniqueArray(fc.constantFrom(...nemesisKinds), { minLength: 1, maxLength: 7 }),
  timeLimitMs: fc.integer({ min: 1_000, max: 120_000 }),
  intervalMs: fc.integer({ min: 100, max: 15_000 }),
  nodeCount: fc.integer({ min: 1, max: 9 }),
  partitionShapes: fc.uniqueArray(fc.constantFrom(...partitionShapes), { maxLength: 5 }),
});

const startFs = new Set(['start-partition', 'kill', 'pause', 'clock-bump', 'clock-rate', 'start-loss', 'start-delay', 'start-duplicate']);

describe('nemesis schedules', () => {
  test.prop([optsArb, fc.integer()], { numRuns: 50 })('well-formed: in [0, timeLimit), sorted, per kind start/stop alternating', (opts, seed) => {
    const events = drawNemesisSchedule({ ...opts, seed });
    for (let i = 1; i < events.length; i++) expect(events[i]!.atMs).toBeGreaterThanOrEqual(events[i - 1]!.atMs);
    for (const e of events) {
      expect(e.atMs).toBeGreaterThanOrEqual(0);
      expect(e.atMs).toBeLessThan(opts.timeLimitMs);
      const kind = kindOf(e.f);
      expect(kind).not.toBeNull();
      expect(opts.kinds).toContain(kind);
    }
    for (const kind of opts.kinds) {
      const own = events.filter((e) => kindOf(e.f) === kind);
      expect(own.length % 2).toBe(0);
      own.forEach((e, i) => expect(startFs.has(e.f)).toBe(i % 2 === 0));
    }
    for (const e of events) {
      if (e.f === 'start-partition' && opts.partitionShapes.length > 0) {
        expect(opts.partitionShapes).toContain((e.value as { shape: string }).shape);
      }
      if (e.f === 'start-loss') expect((e.value as { rate: number }).rate).toBeGreaterThanOrEqual(0.1);
      if (e.f === 'clock-rate') {
        const rate = (e.value as { rate: number }).rate;
        expect(rate).toBeGreaterThanOrEqual(0.5);
        expect(rate).toBeLessThanOrEqual(3);
      }
    }
  });

  test.prop([optsArb, fc.integer()])('same seed, same schedule', (opts, seed) => {
    expect(drawNemesisSchedule({ ...opts, seed })).toEqual(drawNemesisSchedule({ ...opts, seed }));
  });

  test('a long run with every kind is full: each kind flips every interval; seeds differ', () => {
    const opts = { kinds: nemesisKinds, timeLimitMs: 60_000, intervalMs: 5_000, nodeCount: 5, partitionShapes: [] };
    const a = drawNemesisSchedule({ ...opts, seed: 1 });
    const b = drawNemesisSchedule({ ...opts, seed: 2 });
    expect(a).not.toEqual(b);
    for (const kind of nemesisKinds) {
      // First start at 5 s + stagger, period 10 s, stop +5 s ± 1.25 s; < 60 s: 5 cycles.
      expect(a.filter((e) => kindOf(e.f) === kind).length).toBeGreaterThanOrEqual(8);
    }
    // Overlap: some fault of another kind starts while a partition is active.
    const firstStop = a.find((e) => e.f === 'stop-partition')!;
    const firstStart = a.find((e) => e.f === 'start-partition')!;
    expect(a.some((e) => e.atMs > firstStart.atMs && e.atMs < firstStop.atMs && kindOf(e.f) !== 'partition')).toBe(true);
  });

  test('shrinks to one fault cycle with mild parameters', () => {
    const opts = { kinds: ['partition', 'kill', 'clock'] as NemesisKind[], timeLimitMs: 30_000, intervalMs: 2_000, nodeCount: 5, partitionShapes: [] };
    const out = fc.check(fc.property(nemesisScheduleArbitrary(opts), (events) => !events.some((e) => e.f === 'kill')), { seed: 42 });
    expect(out.failed).toBe(true);
    const counterexample = out.counterexample![0];
    expect(counterexample.map((e) => e.f)).toEqual(['kill', 'start']);
    // Shrunk toward zero jitter: kill exactly on one of its slots (offset interval + interval/3, period 2·interval),
    // start exactly one interval later, and toward the first target ('one').
    expect((counterexample[0]!.atMs - (2_000 + Math.floor(2_000 / 3))) % 4_000).toBe(0);
    expect(counterexample[1]!.atMs - counterexample[0]!.atMs).toBe(2_000);
    expect(counterexample[0]!.value).toEqual({ target: 'one' });
  });

  test('rejects bad options with a clear error', () => {
    expect(() => drawNemesisSchedule({ kinds: ['kill', 'bogus' as NemesisKind], timeLimitMs: 1000, intervalMs: 100, nodeCount: 3, partitionShapes: [], seed: 1 })).toThrow(/unknown nemesis kind "bogus"/);
    expect(() => drawNemesisSchedule({ kinds: ['kill'], timeLimitMs: 0, intervalMs: 100, nodeCount: 3, partitionShapes: [], seed: 1 })).toThrow(/timeLimitMs/);
  });
});
