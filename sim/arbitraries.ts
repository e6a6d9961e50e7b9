/**
 * fast-check arbitraries for simulation scenarios. Fault schedules and
 * workloads are data, so a failing run shrinks to a minimal schedule:
 * fast-check drops faults and ops and lowers times and parameters, and the
 * per-concern random streams (streams.ts) keep the rest of the run stable
 * while it does. The seed is `noShrink`: changing it changes everything.
 */
import fc from 'fast-check';
import { assertNever } from '../node/util/assert.js';
import type { Fault, FaultKind, Scenario, SimOptions, TimedFault, WorkloadOp } from './scenario.js';

export interface ScenarioShape {
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
}

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
  network: 2,
};

export const defaultShape: ScenarioShape = {
  maxFaults: 12,
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
      return fc.constantFrom('reliable' as const, 'lossy' as const, 'reorder' as const, 'duplicate' as const).map((profile) => ({ kind, profile }));
    case 'corrupt':
      return node.map((n) => ({ kind, node: n }));
    case 'corrupt_last_frame':
      return node.map((n) => ({ kind, node: n }));
    case 'lose_tail':
      return fc.record({ node, entries: fc.integer({ min: 1, max: 20 }) }).map((r) => ({ kind, node: r.node, entries: r.entries }));
    default:
      return assertNever(kind, 'fault kind');
  }
}

export function timedFaultArb(options: SimOptions, shape: ScenarioShape): fc.Arbitrary<TimedFault> {
  const weighted = Object.entries(shape.faultWeights)
    .filter(([, w]) => (w ?? 0) > 0)
    .map(([kind, weight]) => ({ weight: weight!, arbitrary: faultArb(kind as FaultKind, options.nodeCount, shape) }));
  if (weighted.length === 0) throw new Error('scenario shape: no fault kind has a positive weight');
  return fc.record({ atMs: fc.nat({ max: options.faultWindowMs }), fault: fc.oneof(...weighted) });
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
    faults: fc.array(timedFaultArb(options, shape), { maxLength: shape.maxFaults }),
    clients: fc
      .array(fc.array(workloadOpArb(options, shape), { minLength: shape.minOpsPerClient, maxLength: shape.maxOpsPerClient }), {
        minLength: shape.minClients,
        maxLength: shape.clients,
      })
      .map((clients) => clients.map((ops, slot) => (slot < shape.readOnlyClients ? ops.map((op) => ({ ...op, f: 'read' as const })) : ops))),
  });
}
