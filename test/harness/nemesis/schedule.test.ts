import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { leaderCuttingShapes, partitionShapes, type PartitionShape } from '../../../harness/nemesis/kinds/partition.js';
import { kindOf, nemesisKinds, type NemesisKind } from '../../../harness/nemesis/registry.js';
import {
  drawNemesisSchedule,
  nemesisScheduleArbitrary,
  type NemesisEvent,
  type ScheduleOptions,
} from '../../../harness/nemesis/schedule.js';
import { parseOptions, type JepsenOptions } from '../../../harness/options.js';
import { nemesisSchedule } from '../../../harness/run/run-dir.js';

const optsArb: fc.Arbitrary<ScheduleOptions> = fc.record({
  kinds: fc.uniqueArray(fc.constantFrom(...nemesisKinds), { minLength: 1, maxLength: nemesisKinds.length }),
  timeLimitMs: fc.integer({ min: 1_000, max: 120_000 }),
  intervalMs: fc.integer({ min: 100, max: 15_000 }),
  nodeCount: fc.integer({ min: 1, max: 9 }),
  partitionShapes: fc.uniqueArray(fc.constantFrom(...partitionShapes), { maxLength: 6 }),
});

const startFs = new Set([
  'start-partition',
  'kill',
  'pause',
  'clock-bump',
  'clock-rate',
  'start-loss',
  'start-delay',
  'start-duplicate',
  'start-client-loss',
  'start-replay',
  'start-disk',
  'start-disk-full',
  'start-lease-restart',
  'start-relead',
  'start-membership',
  'start-resize',
  'start-rejoin',
  'start-change-race',
]);

describe('nemesis schedules', () => {
  test.prop([optsArb, fc.integer()], { numRuns: 50 })(
    'well-formed: in [0, timeLimit), sorted, per kind start/stop alternating',
    (opts, seed) => {
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
    },
  );

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
    const opts = {
      kinds: ['partition', 'kill', 'clock'] as NemesisKind[],
      timeLimitMs: 30_000,
      intervalMs: 2_000,
      nodeCount: 5,
      partitionShapes: [],
    };
    const out = fc.check(
      fc.property(nemesisScheduleArbitrary(opts), (events) => !events.some((e) => e.f === 'kill')),
      { seed: 42 },
    );
    expect(out.failed).toBe(true);
    const counterexample = out.counterexample![0];
    expect(counterexample.map((e) => e.f)).toEqual(['kill', 'start']);
    // Shrunk toward zero jitter: kill exactly on one of its slots (offset interval + interval/3, period 2·interval),
    // start exactly one interval later, and toward the first target ('one').
    expect((counterexample[0]!.atMs - (2_000 + Math.floor(2_000 / 3))) % 4_000).toBe(0);
    expect(counterexample[1]!.atMs - counterexample[0]!.atMs).toBe(2_000);
    expect(counterexample[0]!.value).toEqual({ target: 'one' });
  });

  test('kinds start in the order given: clock first, then partition one stagger (interval/2) later', () => {
    const base = { timeLimitMs: 20_000, intervalMs: 2_000, nodeCount: 5, partitionShapes: ['leader'] as const };
    for (let seed = 1; seed <= 20; seed++) {
      const clockFirst = drawNemesisSchedule({ ...base, kinds: ['clock', 'partition'], seed });
      const firstClock = clockFirst.find((e) => kindOf(e.f) === 'clock')!;
      const firstPartition = clockFirst.find((e) => kindOf(e.f) === 'partition')!;
      // Slots 2000 and 3000 ms, each moved by at most ±500 ms: the clock never comes after.
      expect(firstClock.atMs, `seed ${seed}`).toBeLessThanOrEqual(firstPartition.atMs);
      const partitionFirst = drawNemesisSchedule({ ...base, kinds: ['partition', 'clock'], seed });
      expect(partitionFirst.find((e) => kindOf(e.f) === 'partition')!.atMs).toBeLessThanOrEqual(
        partitionFirst.find((e) => kindOf(e.f) === 'clock')!.atMs,
      );
    }
  });

  test.prop([fc.integer(), fc.subarray(['bump', 'rate', 'slow', 'fast', 'drift'] as const, { minLength: 1 })], { numRuns: 50 })(
    'clock fault modes: only the chosen ones, rates in their ranges',
    (seed, modes) => {
      const events = drawNemesisSchedule({
        kinds: ['clock'],
        timeLimitMs: 60_000,
        intervalMs: 1_000,
        nodeCount: 5,
        partitionShapes: [],
        clockFaults: modes,
        seed,
      });
      const ranges = { rate: [0.5, 3], slow: [0.1, 0.5], fast: [3, 10], drift: [0.85, 1.15] } as const;
      for (const e of events) {
        if (e.f === 'clock-bump') expect(modes).toContain('bump');
        if (e.f !== 'clock-rate') continue;
        const rate = (e.value as { rate: number }).rate;
        const fits = modes
          .filter((m): m is 'rate' | 'slow' | 'fast' | 'drift' => m !== 'bump')
          .some((m) => rate >= ranges[m][0] && rate <= ranges[m][1]);
        expect(fits, `rate ${rate} not in any of ${modes.join(',')}`).toBe(true);
      }
      if (modes.length === 1 && modes[0] === 'slow') {
        expect(events.filter((e) => e.f === 'clock-rate').length).toBeGreaterThan(0);
        expect(events.some((e) => e.f === 'clock-bump')).toBe(false);
      }
    },
  );

  test('the default clock faults draw exactly as before (bump or 0.5-3x), so old seeds replay', () => {
    const opts = { kinds: ['clock'] as NemesisKind[], timeLimitMs: 30_000, intervalMs: 1_000, nodeCount: 5, partitionShapes: [] };
    expect(drawNemesisSchedule({ ...opts, clockFaults: ['bump', 'rate'], seed: 9 })).toEqual(drawNemesisSchedule({ ...opts, seed: 9 }));
  });

  test.prop([fc.integer(), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 })], { numRuns: 30 })(
    'loss rates come from lossPct',
    (seed, a, b) => {
      const lossPct = { min: Math.min(a, b), max: Math.max(a, b) };
      const events = drawNemesisSchedule({
        kinds: ['loss'],
        timeLimitMs: 20_000,
        intervalMs: 500,
        nodeCount: 5,
        partitionShapes: [],
        lossPct,
        seed,
      });
      const rates = events.filter((e) => e.f === 'start-loss').map((e) => (e.value as { rate: number }).rate);
      expect(rates.length).toBeGreaterThan(0);
      for (const r of rates) {
        expect(r).toBeGreaterThanOrEqual(lossPct.min / 100);
        expect(r).toBeLessThanOrEqual(lossPct.max / 100);
      }
    },
  );

  test.prop([fc.integer()], { numRuns: 30 })(
    'the voter target is drawn for kill only; pause and clock draw from the other targets',
    (seed) => {
      const events = drawNemesisSchedule({
        kinds: ['kill', 'pause', 'clock'],
        timeLimitMs: 30_000,
        intervalMs: 500,
        nodeCount: 5,
        partitionShapes: [],
        targets: ['voter', 'one'],
        seed,
      });
      const targetOf = (e: NemesisEvent): unknown => (e.value as { target?: unknown } | null)?.target;
      const kills = events.filter((e) => e.f === 'kill').map(targetOf);
      const others = events.filter((e) => e.f === 'pause' || e.f === 'clock-bump' || e.f === 'clock-rate').map(targetOf);
      expect(kills.length).toBeGreaterThan(0);
      expect(others.length).toBeGreaterThan(0);
      for (const t of kills) expect(['voter', 'one']).toContain(t);
      for (const t of others) expect(t).toBe('one');
      const only = drawNemesisSchedule({
        kinds: ['pause'],
        timeLimitMs: 10_000,
        intervalMs: 500,
        nodeCount: 5,
        partitionShapes: [],
        targets: ['voter'],
        seed,
      });
      for (const e of only.filter((x) => x.f === 'pause')) expect(['one', 'leader', 'minority', 'majority']).toContain(targetOf(e));
    },
  );

  test('rejects bad options with a clear error', () => {
    expect(() =>
      drawNemesisSchedule({
        kinds: ['kill', 'bogus' as NemesisKind],
        timeLimitMs: 1000,
        intervalMs: 100,
        nodeCount: 3,
        partitionShapes: [],
        seed: 1,
      }),
    ).toThrow(/unknown nemesis kind "bogus"/);
    expect(() =>
      drawNemesisSchedule({ kinds: ['kill'], timeLimitMs: 0, intervalMs: 100, nodeCount: 3, partitionShapes: [], seed: 1 }),
    ).toThrow(/timeLimitMs/);
    expect(() =>
      drawNemesisSchedule({
        kinds: ['clock'],
        timeLimitMs: 1000,
        intervalMs: 100,
        nodeCount: 3,
        partitionShapes: [],
        clockFaults: ['warp' as 'slow'],
        seed: 1,
      }),
    ).toThrow(/unknown clock fault "warp"/);
    expect(() =>
      drawNemesisSchedule({
        kinds: ['loss'],
        timeLimitMs: 1000,
        intervalMs: 100,
        nodeCount: 3,
        partitionShapes: [],
        lossPct: { min: 60, max: 40 },
        seed: 1,
      }),
    ).toThrow(/lossPct/);
  });
});

/**
 * Issue 20: the main job must bite. The default schedules as `npm run
 * jepsen -- --nemesis K` draws them (30 s, default interval), over 100 seeds:
 * at least 3 fault cycles, and at least one of them hits the leader (a
 * partition shape that cuts it off a quorum; kill and pause aimed at it).
 */
describe('default schedules bite (100 seeds each)', () => {
  const seeds = Array.from({ length: 100 }, (_, i) => i + 1);
  const targetOf = (e: NemesisEvent): unknown => (e.value as { target?: unknown } | null)?.target;

  test('partition: every run has >= 3 cycles and cuts the leader off a quorum at least once', () => {
    let cutting = 0;
    const cyclesPerRun = new Set<number>();
    for (const seed of seeds) {
      const { options } = parsed(['--nemesis', 'partition', '--seed', String(seed)]);
      const starts = nemesisSchedule(options, seed).filter((e) => e.f === 'start-partition');
      cyclesPerRun.add(starts.length);
      expect(starts.length, `seed ${seed}`).toBeGreaterThanOrEqual(3);
      const shapes = starts.map((e) => (e.value as { shape: PartitionShape }).shape);
      if (shapes.some((s) => leaderCuttingShapes.includes(s))) cutting++;
    }
    expect(cutting).toBe(seeds.length);
    expect([...cyclesPerRun]).toEqual([3]);
  });

  test.each(['kill', 'pause'] as const)('%s: every run has >= 3 cycles and aims at the leader at least once', (kind) => {
    for (const seed of seeds) {
      const { options } = parsed(['--nemesis', kind, '--seed', String(seed)]);
      const starts = nemesisSchedule(options, seed).filter((e) => e.f === kind);
      expect(starts.length, `seed ${seed}`).toBeGreaterThanOrEqual(3);
      expect(
        starts.some((e) => targetOf(e) === 'leader'),
        `seed ${seed}: ${starts.map(targetOf).join(',')}`,
      ).toBe(true);
    }
  });

  test('without a leader-cutting shape or target to draw from, nothing is forced', () => {
    for (const seed of seeds.slice(0, 20)) {
      const one = drawNemesisSchedule({
        kinds: ['partition', 'kill'],
        timeLimitMs: 30_000,
        intervalMs: 4_000,
        nodeCount: 5,
        partitionShapes: ['one'],
        targets: ['one'],
        seed,
      });
      for (const e of one) {
        if (e.f === 'start-partition') expect(e.value).toEqual({ shape: 'one' });
        if (e.f === 'kill') expect(targetOf(e)).toBe('one');
      }
    }
  });

  test('the biting cycle shrinks like any other: to one cycle on its slot, the first biting shape, no jitter', () => {
    const opts = { kinds: ['partition'] as NemesisKind[], timeLimitMs: 30_000, intervalMs: 4_000, nodeCount: 5, partitionShapes: [] };
    const out = fc.check(
      fc.property(
        nemesisScheduleArbitrary(opts),
        (events) =>
          !events.some((e) => e.f === 'start-partition' && leaderCuttingShapes.includes((e.value as { shape: PartitionShape }).shape)),
      ),
      { seed: 7 },
    );
    expect(out.failed).toBe(true);
    const counterexample = out.counterexample![0];
    expect(counterexample.map((e) => e.f)).toEqual(['start-partition', 'stop-partition']);
    expect(counterexample[0]!.value).toEqual({ shape: 'leader' });
    expect((counterexample[0]!.atMs - 4_000) % 8_000).toBe(0);
    expect(counterexample[1]!.atMs - counterexample[0]!.atMs).toBe(4_000);
  });
});

function parsed(argv: string[]): { options: JepsenOptions } {
  const r = parseOptions(argv);
  if (r.kind !== 'run') throw new Error('expected a run');
  return { options: r.options };
}
