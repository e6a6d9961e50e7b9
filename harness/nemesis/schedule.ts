/**
 * Fault schedules as DATA, drawn from fast-check arbitraries so a failing run's
 * schedule can be replayed from its seed and shrunk (fewer fault cycles, smaller
 * jitter, milder parameters). What one fault cycle of a kind looks like is the
 * kind's own (kinds/*.ts `cycle`); this file lays the cycles out in time.
 *
 * Per kind, Jepsen's flip-flop: start, stop, start, stop... one interval apart,
 * each time moved by a seeded jitter of at most ±interval/4 (so a kind's events
 * never swap order). Kinds are staggered by interval/K in the order given, so
 * with several kinds the faults overlap and interleave, and the first kind
 * listed starts first (e.g. clock, then partition: slow the leader's clock,
 * then cut it off). Every event is strictly before timeLimitMs;
 * the runner heals everything afterwards anyway.
 *
 * A run must bite (issue 20): a kind that has a biting cycle (one that cuts
 * the leader off a quorum, kills or stops it: NemesisKindSpec.bitingCycle)
 * gets it in one of its slots, the slot drawn, so every run of the default
 * mix hits the leader at least once whatever the other slots draw. It
 * shrinks like any slot (toward the first slot, or away with its cycle).
 */
import fc from 'fast-check';
import type { ClientLossDirection } from './kinds/client-loss.js';
import type { ClockFault } from './kinds/clock.js';
import type { DiskFault } from './kinds/disk.js';
import type { PartitionShape } from './kinds/partition.js';
import type { ReplayMode } from '../net/replay-stage.js';
import { kindSpecs, nemesisKinds, nemesisTable, type NemesisKind, type NemesisOp, type NemesisOps } from './registry.js';
import type { NodeTarget } from './targets.js';
import type { NemesisEvent } from './wire.js';

export type { NemesisEvent } from './wire.js';

export interface ScheduleOptions {
  /** Kinds in the order their first faults start (staggered by interval/K). */
  readonly kinds: readonly NemesisKind[];
  readonly timeLimitMs: number;
  readonly intervalMs: number;
  readonly nodeCount: number;
  /** Shapes partitions draw from (empty: all). */
  readonly partitionShapes: readonly PartitionShape[];
  /** Node specs kill, pause and clock faults draw from (default: one, leader, minority, majority). */
  readonly targets?: readonly NodeTarget[];
  /** Clock fault modes drawn from (default bump, rate). */
  readonly clockFaults?: readonly ClockFault[];
  /** Loss rates drawn from, in percent, inclusive (default 10–50). */
  readonly lossPct?: { readonly min: number; readonly max: number };
  /** Client-link loss rates drawn from, in percent, inclusive (default kinds/client-loss.ts defaultClientLossPct). */
  readonly clientLossPct?: { readonly min: number; readonly max: number };
  /** What client-loss faults drop, drawn from (default: replies). */
  readonly clientLossDirections?: readonly ClientLossDirection[];
  /** --pause-wake-alone: pauses cut the nodes off, and they stay cut off this long (ms, inclusive) after waking. */
  readonly pauseWakeAloneMs?: { readonly min: number; readonly max: number };
  /** Replay fault modes drawn from (default replay, hold). */
  readonly replayModes?: readonly ReplayMode[];
  /** Disk faults drawn from (default: disk.ts defaultDiskFaults). */
  readonly diskFaults?: readonly DiskFault[];
}

/** A scheduled op, typed. */
export interface TypedNemesisEvent {
  readonly atMs: number;
  readonly op: NemesisOp;
}

interface Cycle {
  ops: readonly [NemesisOp, NemesisOp];
  startJitterMs: number;
  stopJitterMs: number;
}

function validate(opts: ScheduleOptions): void {
  if (!Number.isInteger(opts.timeLimitMs) || opts.timeLimitMs <= 0)
    throw new Error(`timeLimitMs must be a positive integer, got ${opts.timeLimitMs}`);
  if (!Number.isInteger(opts.intervalMs) || opts.intervalMs < 4)
    throw new Error(`intervalMs must be an integer >= 4, got ${opts.intervalMs}`);
  if (!Number.isInteger(opts.nodeCount) || opts.nodeCount < 1 || opts.nodeCount > 9)
    throw new Error(`nodeCount must be 1..9, got ${opts.nodeCount}`);
  for (const k of opts.kinds)
    if (!nemesisKinds.includes(k)) throw new Error(`unknown nemesis kind "${k}" (known: ${nemesisKinds.join(', ')})`);
  for (const spec of kindSpecs) spec.validate?.(opts);
}

/** One fault cycle of `kind`, as ops of the union. */
function cycleOf<K extends NemesisKind>(kind: K, opts: ScheduleOptions): fc.Arbitrary<readonly [NemesisOps[K], NemesisOps[K]]> {
  return nemesisTable[kind].cycle(opts);
}

/** The kind's biting cycle, or null (see NemesisKindSpec.bitingCycle). */
function bitingCycleOf<K extends NemesisKind>(
  kind: K,
  opts: ScheduleOptions,
): fc.Arbitrary<readonly [NemesisOps[K], NemesisOps[K]]> | null {
  return nemesisTable[kind].bitingCycle?.(opts) ?? null;
}

/** How many fault cycles of one kind fit: cycle c starts at offset + 2c·I and stops one interval later (± I/4), before the limit. */
export function cyclesThatFit(offsetMs: number, intervalMs: number, timeLimitMs: number): number {
  const quarter = Math.floor(intervalMs / 4);
  let cycles = 0;
  while (offsetMs + (2 * cycles + 1) * intervalMs + quarter < timeLimitMs) cycles++;
  return cycles;
}

/** The typed schedule (what the runner executes). */
export function typedScheduleArbitrary(opts: ScheduleOptions): fc.Arbitrary<TypedNemesisEvent[]> {
  validate(opts);
  const kinds = [...new Set(opts.kinds)];
  const interval = opts.intervalMs;
  const quarter = Math.floor(interval / 4);
  const perKind = kinds.map((kind, k) => {
    // The first start comes one interval in (the cluster settles first), kinds staggered by interval/K.
    const offset = interval + Math.floor((k * interval) / kinds.length);
    // Cycle c: start at offset + 2c·I, stop at offset + (2c+1)·I, each ± I/4; all < timeLimitMs.
    const cycles = cyclesThatFit(offset, interval, opts.timeLimitMs);
    const cycle: fc.Arbitrary<Cycle> = fc.record({
      ops: cycleOf(kind, opts),
      startJitterMs: fc.integer({ min: -quarter, max: quarter }),
      stopJitterMs: fc.integer({ min: -quarter, max: quarter }),
    });
    const biting = bitingCycleOf(kind, opts);
    // Fixed length; each cycle is almost always present when generated, but
    // shrinks to null first: shrinking removes whole fault cycles. The biting
    // cycle replaces the ops of the drawn slot (when that slot is present).
    return fc
      .record({
        slots: fc.tuple(...Array.from({ length: cycles }, () => fc.option(cycle, { nil: null, freq: 1_000_000 }))),
        bite:
          biting === null || cycles === 0 ? fc.constant(null) : fc.record({ slot: fc.integer({ min: 0, max: cycles - 1 }), ops: biting }),
      })
      .map(({ slots, bite }) => {
        const events: TypedNemesisEvent[] = [];
        slots.forEach((slot, c) => {
          if (slot === null) return;
          const ops = bite !== null && bite.slot === c ? bite.ops : slot.ops;
          events.push({ atMs: offset + 2 * c * interval + slot.startJitterMs, op: ops[0] });
          events.push({ atMs: offset + (2 * c + 1) * interval + slot.stopJitterMs, op: ops[1] });
        });
        return events;
      });
  });
  return fc.tuple(...perKind).map((lists) => lists.flat().sort((a, b) => a.atMs - b.atMs));
}

/** The wire form of a scheduled op (test.json, the history): its f and value, without the kind. */
export function toNemesisEvent(e: TypedNemesisEvent): NemesisEvent {
  return { atMs: e.atMs, f: e.op.f, value: e.op.value };
}

export function nemesisScheduleArbitrary(opts: ScheduleOptions): fc.Arbitrary<NemesisEvent[]> {
  return typedScheduleArbitrary(opts).map((events) => events.map(toNemesisEvent));
}

/** Same seed, same schedule. */
export function drawNemesisSchedule(opts: ScheduleOptions & { readonly seed: number }): NemesisEvent[] {
  const [schedule] = fc.sample(nemesisScheduleArbitrary(opts), { seed: opts.seed, numRuns: 1, unbiased: true });
  if (schedule === undefined) throw new Error('drawNemesisSchedule: fast-check produced no sample');
  return schedule;
}
