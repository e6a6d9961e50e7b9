/**
 * Fault schedules as DATA, drawn from fast-check arbitraries so a failing run's
 * schedule can be replayed from its seed and shrunk (fewer fault cycles, smaller
 * jitter, milder parameters).
 *
 * Per kind, Jepsen's flip-flop: start, stop, start, stop... one interval apart,
 * each time moved by a seeded jitter of at most ±interval/4 (so a kind's events
 * never swap order). Kinds are staggered by interval/K in the order given, so
 * with several kinds the faults overlap and interleave, and the first kind
 * listed starts first (e.g. clock, then partition: slow the leader's clock,
 * then cut it off). Every event is strictly before timeLimitMs;
 * the runner heals everything afterwards anyway.
 */
import fc from 'fast-check';

export type NemesisKind = 'partition' | 'kill' | 'pause' | 'clock' | 'loss' | 'delay' | 'duplicate';
export type PartitionShape = 'one' | 'leader' | 'halves' | 'majorities-ring' | 'bridge';
/** Jepsen's node specs: which nodes a kill, pause or clock fault hits. */
/**
 * Which nodes a kill, pause or clock fault hits. `voter` is for kill only:
 * for the fault's duration, every node the wire monitor sees grant a vote is
 * crashed at once and restarted at once ("kill voters during elections"),
 * and the leader is killed when the fault starts so that there are elections.
 */
export type NodeTarget = 'one' | 'leader' | 'majority' | 'minority' | 'all' | 'voter';
/**
 * What a clock fault does: `bump` jumps the clock by ±2^e ms; `rate` runs it
 * at 0.5–3× (mild skew); `slow` at 0.1–0.5× (a stalled clock: timers, leases
 * and check-quorum of that node stretch up to 10× in real time); `fast` at
 * 3–10× (its timers fire early).
 */
/**
 * bump: jump the wall clock; rate: 0.5-3x; slow: 0.1-0.5x; fast: 3-10x;
 * drift: 0.85-1.15x, the drift a lease tolerates (a leader whose clock runs
 * at 0.85x sees its lease last 1/0.85 = 1.18x longer, inside the default
 * clockDriftBound of 1.2; slow is far outside it).
 */
export type ClockFault = 'bump' | 'rate' | 'slow' | 'fast' | 'drift';
export const clockFaults: readonly ClockFault[] = ['bump', 'rate', 'slow', 'fast', 'drift'];
export const defaultClockFaults: readonly ClockFault[] = ['bump', 'rate'];

export const nemesisKinds: readonly NemesisKind[] = ['partition', 'kill', 'pause', 'clock', 'loss', 'delay', 'duplicate'];
export const partitionShapes: readonly PartitionShape[] = ['one', 'leader', 'halves', 'majorities-ring', 'bridge'];

/** Values of the events, by `f`. */
export type NemesisOp =
  | { f: 'start-partition'; value: { shape: PartitionShape } }
  | { f: 'stop-partition'; value: null }
  | { f: 'kill'; value: { target: NodeTarget } }
  | { f: 'start'; value: { target: 'all' } }
  | { f: 'pause'; value: { target: NodeTarget } }
  | { f: 'resume'; value: { target: 'all' } }
  | { f: 'clock-bump'; value: { target: NodeTarget; deltaMs: number } }
  | { f: 'clock-rate'; value: { target: NodeTarget; rate: number } }
  | { f: 'reset-clock'; value: { target: 'all' } }
  | { f: 'start-loss'; value: { rate: number } }
  | { f: 'stop-loss'; value: null }
  | { f: 'start-delay'; value: { delayMs: number; jitterMs: number } }
  | { f: 'stop-delay'; value: null }
  | { f: 'start-duplicate'; value: { rate: number } }
  | { f: 'stop-duplicate'; value: null };

export interface NemesisEvent {
  atMs: number;
  f: string;
  value: unknown;
}

export interface TypedNemesisEvent {
  atMs: number;
  kind: NemesisKind;
  op: NemesisOp;
}

export interface ScheduleOptions {
  readonly kinds: readonly NemesisKind[];
  readonly timeLimitMs: number;
  readonly intervalMs: number;
  readonly nodeCount: number;
  readonly partitionShapes: readonly PartitionShape[];
  /** Node specs kill, pause and clock faults draw from (default: one, leader, minority, majority). */
  readonly targets?: readonly NodeTarget[];
  /** Clock fault modes drawn from (default bump, rate). */
  readonly clockFaults?: readonly ClockFault[];
  /** Loss rates drawn from, in percent, inclusive (default 10–50). */
  readonly lossPct?: { readonly min: number; readonly max: number };
}

export const defaultLossPct = { min: 10, max: 50 } as const;

export const defaultTargets: readonly NodeTarget[] = ['one', 'leader', 'minority', 'majority'];

/** One start/stop pair of a kind: its two ops. */
function cycleOpsArb(kind: NemesisKind, opts: ScheduleOptions): fc.Arbitrary<[NemesisOp, NemesisOp]> {
  const targets = opts.targets !== undefined && opts.targets.length > 0 ? opts.targets : defaultTargets;
  const killTargetArb: fc.Arbitrary<NodeTarget> = fc.constantFrom<NodeTarget>(...targets);
  // `voter` only means something for kill; pause and clock faults draw from the rest.
  const others = targets.filter((t) => t !== 'voter');
  const targetArb: fc.Arbitrary<NodeTarget> = fc.constantFrom<NodeTarget>(...(others.length > 0 ? others : defaultTargets));
  switch (kind) {
    case 'partition': {
      const shapes = opts.partitionShapes.length > 0 ? opts.partitionShapes : partitionShapes;
      return fc.constantFrom(...shapes).map((shape) => [{ f: 'start-partition', value: { shape } }, { f: 'stop-partition', value: null }]);
    }
    case 'kill':
      return killTargetArb.map((target) => [{ f: 'kill', value: { target } }, { f: 'start', value: { target: 'all' } }]);
    case 'pause':
      return targetArb.map((target) => [{ f: 'pause', value: { target } }, { f: 'resume', value: { target: 'all' } }]);
    case 'clock': {
      // Bumps like Jepsen's: ±2^e ms, e in [3, 17] (8 ms … 131 s); exponent shrinks toward small bumps.
      const bump = fc.record({ target: targetArb, exp: fc.integer({ min: 3, max: 17 }), negative: fc.boolean() })
        .map(({ target, exp, negative }): NemesisOp => ({ f: 'clock-bump', value: { target, deltaMs: (negative ? -1 : 1) * 2 ** exp } }));
      // Rates in percent, each shrinking toward its mildest value.
      const rateArb = (min: number, max: number, shrinkTo: number): fc.Arbitrary<NemesisOp> =>
        fc.record({ target: targetArb, pct: fc.integer({ min: min - shrinkTo, max: max - shrinkTo }) })
          // (shrinkTo + pct) / 100 is the closest double to the percentage; 'rate' keeps its original 1 + pct / 100 so old seeds replay.
          .map(({ target, pct }): NemesisOp => ({ f: 'clock-rate', value: { target, rate: shrinkTo === 100 ? 1 + pct / 100 : (shrinkTo + pct) / 100 } }));
      const modes = opts.clockFaults !== undefined && opts.clockFaults.length > 0 ? opts.clockFaults : defaultClockFaults;
      const arbs = modes.map((mode): fc.Arbitrary<NemesisOp> => {
        switch (mode) {
          case 'bump': return bump;
          case 'rate': return rateArb(50, 300, 100); // 0.5–3, shrinking toward 1 (a normal clock)
          case 'slow': return rateArb(10, 50, 50); // 0.1–0.5, shrinking toward 0.5
          case 'fast': return rateArb(300, 1000, 300); // 3–10, shrinking toward 3
          case 'drift': return rateArb(85, 115, 100); // 0.85–1.15, shrinking toward 1
        }
      });
      return fc.oneof(...arbs).map((op) => [op, { f: 'reset-clock', value: { target: 'all' } }]);
    }
    case 'loss':
      return fc.integer(opts.lossPct ?? defaultLossPct).map((pct) => [{ f: 'start-loss', value: { rate: pct / 100 } }, { f: 'stop-loss', value: null }]);
    case 'delay':
      return fc.record({ delayMs: fc.integer({ min: 5, max: 100 }), jitterMs: fc.integer({ min: 0, max: 50 }) })
        .map((value) => [{ f: 'start-delay', value }, { f: 'stop-delay', value: null }]);
    case 'duplicate':
      return fc.integer({ min: 5, max: 50 }).map((pct) => [{ f: 'start-duplicate', value: { rate: pct / 100 } }, { f: 'stop-duplicate', value: null }]);
  }
}

interface Cycle {
  ops: [NemesisOp, NemesisOp];
  startJitterMs: number;
  stopJitterMs: number;
}

function validate(opts: ScheduleOptions): void {
  if (!Number.isInteger(opts.timeLimitMs) || opts.timeLimitMs <= 0) throw new Error(`timeLimitMs must be a positive integer, got ${opts.timeLimitMs}`);
  if (!Number.isInteger(opts.intervalMs) || opts.intervalMs < 4) throw new Error(`intervalMs must be an integer >= 4, got ${opts.intervalMs}`);
  if (!Number.isInteger(opts.nodeCount) || opts.nodeCount < 1 || opts.nodeCount > 9) throw new Error(`nodeCount must be 1..9, got ${opts.nodeCount}`);
  for (const k of opts.kinds) if (!nemesisKinds.includes(k)) throw new Error(`unknown nemesis kind "${k}" (known: ${nemesisKinds.join(', ')})`);
  for (const s of opts.partitionShapes) if (!partitionShapes.includes(s)) throw new Error(`unknown partition shape "${s}" (known: ${partitionShapes.join(', ')})`);
  const loss = opts.lossPct;
  if (loss !== undefined && !(Number.isInteger(loss.min) && Number.isInteger(loss.max) && loss.min >= 0 && loss.min <= loss.max && loss.max <= 100)) {
    throw new Error(`lossPct must be integers 0 <= min <= max <= 100, got ${JSON.stringify(loss)}`);
  }
  for (const c of opts.clockFaults ?? []) if (!clockFaults.includes(c)) throw new Error(`unknown clock fault "${c}" (known: ${clockFaults.join(', ')})`);
}

/** The kind-tagged schedule (what the runner executes). */
export function typedScheduleArbitrary(opts: ScheduleOptions): fc.Arbitrary<TypedNemesisEvent[]> {
  validate(opts);
  const kinds = [...new Set(opts.kinds)];
  const interval = opts.intervalMs;
  const quarter = Math.floor(interval / 4);
  const perKind = kinds.map((kind, k) => {
    // The first start comes one interval in (the cluster settles first), kinds staggered by interval/K.
    const offset = interval + Math.floor((k * interval) / kinds.length);
    // Cycle c: start at offset + 2c·I, stop at offset + (2c+1)·I, each ± I/4; all < timeLimitMs.
    let cycles = 0;
    while (offset + (2 * cycles + 1) * interval + quarter < opts.timeLimitMs) cycles++;
    const cycle: fc.Arbitrary<Cycle> = fc.record({
      ops: cycleOpsArb(kind, opts),
      startJitterMs: fc.integer({ min: -quarter, max: quarter }),
      stopJitterMs: fc.integer({ min: -quarter, max: quarter }),
    });
    // Fixed length; each cycle is almost always present when generated, but
    // shrinks to null first: shrinking removes whole fault cycles.
    return fc.tuple(...Array.from({ length: cycles }, () => fc.option(cycle, { nil: null, freq: 1_000_000 })))
      .map((slots) => {
        const events: TypedNemesisEvent[] = [];
        slots.forEach((slot, c) => {
          if (slot === null) return;
          events.push({ atMs: offset + 2 * c * interval + slot.startJitterMs, kind, op: slot.ops[0] });
          events.push({ atMs: offset + (2 * c + 1) * interval + slot.stopJitterMs, kind, op: slot.ops[1] });
        });
        return events;
      });
  });
  return fc.tuple(...perKind).map((lists) => lists.flat().sort((a, b) => a.atMs - b.atMs));
}

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

/** Which kind an event belongs to (from its `f`), or null for an unknown f. */
export function kindOf(f: string): NemesisKind | null {
  switch (f) {
    case 'start-partition': case 'stop-partition': return 'partition';
    case 'kill': case 'start': return 'kill';
    case 'pause': case 'resume': return 'pause';
    case 'clock-bump': case 'clock-rate': case 'reset-clock': return 'clock';
    case 'start-loss': case 'stop-loss': return 'loss';
    case 'start-delay': case 'stop-delay': return 'delay';
    case 'start-duplicate': case 'stop-duplicate': return 'duplicate';
    default: return null;
  }
}
