/**
 * fast-check arbitraries for simulation scenarios. Fault schedules and
 * workloads are data, so a failing run shrinks to a minimal schedule:
 * fast-check drops faults and ops and lowers times and parameters, and the
 * per-concern random streams (streams.ts) keep the rest of the run stable
 * while it does. The seed is `noShrink`: changing it changes everything.
 */
import fc from 'fast-check';
import { assertNever } from '../node/util/assert.js';
import { networkProfiles, type NetworkProfileName } from './network.js';
import {
  ioErrorCodes,
  ioErrorOps,
  type Fault,
  type FaultKind,
  type Scenario,
  type SimOptions,
  type TimedFault,
  type WorkloadOp,
} from './scenario.js';

const allNetworkProfiles = Object.keys(networkProfiles) as NetworkProfileName[];

export interface ScenarioShape {
  /** Fault count bounds (fast-check draws counts near the low end more often, and shrinks towards it). */
  readonly minFaults?: number;
  readonly maxFaults: number;
  readonly minClients: number;
  readonly clients: number;
  readonly minOpsPerClient: number;
  readonly maxOpsPerClient: number;
  readonly maxThinkMs: number;
  /** The first this-many client slots only read (they stay with whichever node serves them: stale-read bait). */
  readonly readOnlyClients: number;
  /** Fault kinds to draw, with weights; absent kinds are never drawn. */
  readonly faultWeights: Partial<Record<FaultKind, number>>;
  /** Clock rates a `clock` fault picks from. */
  readonly clockRates: readonly number[];
  /** Most messages one `replay` fault re-sends (default replayCountMax). */
  readonly replayCountMax?: number;
  /** Longest a `reboot` keeps its node down (default rebootDownMsRange.max; a supervisor that restarts at once is quicker). */
  readonly rebootDownMsMax?: number;
  /** Network profiles a `network` fault picks from (default: all of them). */
  readonly networkProfiles?: readonly NetworkProfileName[];
  /** `membership` faults remove whoever leads (node null): every cycle starts with a hand-over (§3.10). */
  readonly membershipLeaderOnly?: boolean;
}

/**
 * The default mix. Besides crashes, partitions, clocks and lossy networks it
 * holds the rare faults a real deployment meets and that issue 15's defects
 * needed (each costs a run nothing when it is not drawn): process pauses,
 * datagrams held for seconds and re-sent across terms, slowed leader clocks,
 * bit rot on disk (anywhere in a log, and in the last durable frame before a
 * restart), a follower whose disk loses its tail (only entries every other
 * disk holds, so a correct node stays safe: sim/simulator.ts
 * tailHeldElsewhere), the leader cut off with a minority (random halves) or
 * from one peer (non-transitive partitions), and quick reboots.
 */
export const defaultFaultWeights: Partial<Record<FaultKind, number>> = {
  crash: 3,
  crash_leader: 3,
  restart: 3,
  restart_all: 2,
  partition: 3,
  isolate: 2,
  isolate_leader: 3,
  heal: 3,
  clock: 1,
  clock_leader: 2,
  network: 2,
  corrupt: 1,
  hold: 1,
  hold_leader: 2,
  hold_across: 1,
  replay: 2,
  pause: 1,
  pause_leader: 2,
  split_leader: 2,
  cut_leader: 1,
  reboot: 1,
  corrupt_last_frame: 1,
  lose_tail: 1,
  membership: 2,
};

/** A hold keeps a datagram this long: from one election timeout to many (defaultTimings: 150-300 ms), across terms. */
export const holdMsRange = { min: 300, max: 5000 } as const;
/** How long a hold keeps catching datagrams. */
export const holdForMsRange = { min: 50, max: 1500 } as const;
export const holdRates: readonly number[] = [0.25, 0.5, 1];
/** A replay re-sends messages at least this old. */
export const replayMinAgeMsRange = { min: 300, max: 3000 } as const;
export const replayCountMax = 8;
/** How long a rebooted node stays down: from a supervisor's immediate restart to a slow one. */
export const rebootDownMsRange = { min: 1, max: 1000 } as const;
/** How long a membership cycle keeps its node out before adding it back: from at once to most of the fault window. */
export const membershipOutMsRange = { min: 0, max: 2000 } as const;
/** A process pause: from a long GC pause to a SIGSTOP of seconds. */
export const pauseMsRange = { min: 100, max: 3000 } as const;

export const defaultShape: ScenarioShape = {
  maxFaults: 16,
  minClients: 1,
  clients: 4,
  minOpsPerClient: 5,
  maxOpsPerClient: 40,
  maxThinkMs: 300,
  readOnlyClients: 0,
  faultWeights: defaultFaultWeights,
  clockRates: [0.5, 0.8, 1, 1.1, 1.25, 2],
};

function faultArb(kind: FaultKind, nodeCount: number, shape: ScenarioShape): fc.Arbitrary<Fault> {
  const node = fc.nat({ max: nodeCount - 1 });
  const direction = fc.constantFrom('both' as const, 'in' as const, 'out' as const);
  switch (kind) {
    case 'crash':
      return node.map((n) => ({ kind, node: n }));
    case 'crash_leader':
      return fc.constant({ kind });
    case 'restart':
      return node.map((n) => ({ kind, node: n }));
    case 'restart_all':
      return fc.constant({ kind });
    case 'partition':
      return fc.array(fc.nat({ max: 2 }), { minLength: nodeCount, maxLength: nodeCount }).map((groups) => ({ kind, groups }));
    case 'isolate':
      return fc.record({ node, direction }).map((r) => ({ kind, node: r.node, direction: r.direction }));
    case 'isolate_leader':
      return direction.map((d) => ({ kind, direction: d }));
    case 'heal':
      return fc.constant({ kind });
    case 'clock':
      return fc
        .record({ node, rate: fc.constantFrom(...shape.clockRates), offsetMs: fc.integer({ min: -500, max: 500 }) })
        .map((r) => ({ kind, node: r.node, rate: r.rate, offsetMs: r.offsetMs }));
    case 'clock_leader':
      return fc
        .record({ rate: fc.constantFrom(...shape.clockRates), offsetMs: fc.integer({ min: -500, max: 500 }) })
        .map((r) => ({ kind, rate: r.rate, offsetMs: r.offsetMs }));
    case 'network':
      return fc.constantFrom(...(shape.networkProfiles ?? allNetworkProfiles)).map((profile) => ({ kind, profile }));
    case 'corrupt':
      return node.map((n) => ({ kind, node: n }));
    case 'hold':
      return fc
        .record({
          node,
          direction,
          rate: fc.constantFrom(...holdRates),
          holdMs: fc.integer(holdMsRange),
          forMs: fc.integer(holdForMsRange),
        })
        .map((r) => ({ kind, node: r.node, direction: r.direction, rate: r.rate, holdMs: r.holdMs, forMs: r.forMs }));
    case 'hold_leader':
      return fc
        .record({ direction, rate: fc.constantFrom(...holdRates), holdMs: fc.integer(holdMsRange), forMs: fc.integer(holdForMsRange) })
        .map((r) => ({ kind, direction: r.direction, rate: r.rate, holdMs: r.holdMs, forMs: r.forMs }));
    case 'hold_across':
      return fc
        .record({ rate: fc.constantFrom(...holdRates), forMs: fc.integer(holdForMsRange) })
        .map((r) => ({ kind, rate: r.rate, forMs: r.forMs }));
    case 'replay':
      return fc
        .record({ count: fc.integer({ min: 1, max: shape.replayCountMax ?? replayCountMax }), minAgeMs: fc.integer(replayMinAgeMsRange) })
        .map((r) => ({ kind, count: r.count, minAgeMs: r.minAgeMs }));
    case 'cut_leader':
      return fc.nat({ max: Math.max(0, nodeCount - 2) }).map((other) => ({ kind, other }));
    case 'reboot':
      return fc
        .record({ node, downMs: fc.integer({ min: rebootDownMsRange.min, max: shape.rebootDownMsMax ?? rebootDownMsRange.max }) })
        .map((r) => ({ kind, node: r.node, downMs: r.downMs }));
    case 'split_leader':
      return fc.nat({ max: Math.max(0, nodeCount - 2) }).map((companion) => ({ kind, companion }));
    case 'replay_leader':
      return fc
        .record({ count: fc.integer({ min: 1, max: shape.replayCountMax ?? replayCountMax }), minAgeMs: fc.integer(replayMinAgeMsRange) })
        .map((r) => ({ kind, count: r.count, minAgeMs: r.minAgeMs }));
    case 'pause':
      return fc.record({ node, forMs: fc.integer(pauseMsRange) }).map((r) => ({ kind, node: r.node, forMs: r.forMs }));
    case 'pause_leader':
      return fc.integer(pauseMsRange).map((forMs) => ({ kind, forMs }));
    case 'corrupt_last_frame':
      // aimed is a constant, not a draw: every other fault of a seed is generated as before.
      return node.map((n) => ({ kind, node: n, aimed: true }));
    case 'lose_tail':
      return fc.record({ node, entries: fc.integer({ min: 1, max: 20 }) }).map((r) => ({ kind, node: r.node, entries: r.entries }));
    case 'membership':
      return fc
        .record({
          node: shape.membershipLeaderOnly === true ? fc.constant(null) : fc.option(node, { nil: null }),
          outMs: fc.integer(membershipOutMsRange),
        })
        .map((r) => ({ kind, node: r.node, outMs: r.outMs }));
    case 'change_race':
      return node.map((n) => ({ kind, node: n }));
    case 'divergent_install':
      return fc.record({ node, writes: fc.integer({ min: 4, max: 10 }) }).map((r) => ({ kind, node: r.node, writes: r.writes }));
    case 'kill_in_stream':
      return fc
        .record({
          afterChunks: fc.integer({ min: 1, max: 20 }),
          downMs: fc.integer({ min: rebootDownMsRange.min, max: shape.rebootDownMsMax ?? rebootDownMsRange.max }),
        })
        .map((r) => ({ kind, afterChunks: r.afterChunks, downMs: r.downMs }));
    case 'io_error':
      return fc
        .record({ node, op: fc.constantFrom(...ioErrorOps), code: fc.constantFrom(...ioErrorCodes), skip: fc.integer({ min: 0, max: 20 }) })
        .map((r) => ({ kind, node: r.node, op: r.op, code: r.code, skip: r.skip }));
    default:
      return assertNever(kind, 'fault kind');
  }
}

/**
 * Weight of `kill_in_stream` in any mix whose streams have several chunks (SimOptions.snapshotChunkBytes): where a
 * stream has chunks to land in, a kill is aimed inside one too, whatever the mix (a mix that names it keeps its own).
 */
export const killInStreamWeight = 2;

/**
 * Weight of `io_error` in any mix when SimOptions.diskErrors is on (a mix that names it keeps its own). Off, no
 * mix draws one: the weights, and so every seed's faults, are as before.
 */
export const ioErrorWeight = 3;

export function timedFaultArb(options: SimOptions, shape: ScenarioShape): fc.Arbitrary<TimedFault> {
  let weights =
    options.snapshotChunkBytes !== undefined && shape.faultWeights.kill_in_stream === undefined
      ? { ...shape.faultWeights, kill_in_stream: killInStreamWeight }
      : shape.faultWeights;
  if (options.diskErrors === true && weights.io_error === undefined) weights = { ...weights, io_error: ioErrorWeight };
  const weighted = Object.entries(weights)
    .filter(([, w]) => (w ?? 0) > 0)
    .map(([kind, weight]) => ({ weight: weight!, arbitrary: faultArb(kind as FaultKind, options.nodeCount, shape) }));
  if (weighted.length === 0) throw new Error('scenario shape: no fault kind has a positive weight');
  // Uniform over the window: fast-check's bias towards small values would put many faults
  // at t ≈ 0, before there is a leader to target (shrinking still moves them earlier).
  return fc.record({ atMs: fc.noBias(fc.nat({ max: options.faultWindowMs })), fault: fc.oneof(...weighted) });
}

export function workloadOpArb(options: SimOptions, shape: ScenarioShape): fc.Arbitrary<WorkloadOp> {
  return fc.record({
    f: fc.constantFrom('read' as const, 'write' as const, 'cas' as const),
    key: fc.nat({ max: options.keys - 1 }),
    thinkMs: fc.nat({ max: shape.maxThinkMs }),
  });
}

export function scenarioArb(options: SimOptions, shape: ScenarioShape = defaultShape): fc.Arbitrary<Scenario> {
  return fc.record({
    seed: fc.noShrink(fc.nat({ max: 0x7fffffff })),
    faults: fc.array(timedFaultArb(options, shape), { minLength: shape.minFaults ?? 0, maxLength: shape.maxFaults }),
    clients: fc
      .array(fc.array(workloadOpArb(options, shape), { minLength: shape.minOpsPerClient, maxLength: shape.maxOpsPerClient }), {
        minLength: shape.minClients,
        maxLength: shape.clients,
      })
      .map((clients) =>
        clients.map((ops, slot) => (slot < shape.readOnlyClients ? ops.map((op) => ({ ...op, f: 'read' as const })) : ops)),
      ),
  });
}
