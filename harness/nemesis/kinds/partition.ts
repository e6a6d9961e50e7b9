/**
 * Network partitions (Jepsen's partitioner): a grudge cuts links both ways
 * until the partition stops; one shape per fault, drawn by the schedule, the
 * nodes drawn when it fires (partitions.ts has the shapes' grudges).
 */
import fc from 'fast-check';
import { assertNever } from '../../../node/util/assert.js';
import type { Grudge } from '../../net/types.js';
import type { NemesisContext } from '../context.js';
import type { FaultNemesis, NemesisKindSpec, NemesisOption } from '../kind.js';
import {
  bridgeGrudge,
  describeGrudge,
  halvesGrudge,
  isolate,
  leaderMinorityGrudge,
  majoritiesRingGrudge,
  oneGrudge,
} from '../partitions.js';
import type { ScheduleOptions } from '../schedule.js';
import { awaitLeader } from '../targets.js';
import { oneOfField } from '../wire.js';

export type PartitionShape = 'one' | 'leader' | 'leader-minority' | 'halves' | 'majorities-ring' | 'bridge';
export const partitionShapes: readonly PartitionShape[] = ['one', 'leader', 'leader-minority', 'halves', 'majorities-ring', 'bridge'];
/** Drawn from when --partition is not given. */
export const defaultPartitionShapes: readonly PartitionShape[] = partitionShapes;

/**
 * The shapes that always cut the leader off a quorum (the others may or may
 * not: `one` hits it 1 time in n, random halves 2 in 5, a majorities ring
 * never, since every node keeps a majority in view and leader stickiness
 * keeps the leader's neighbours from voting it out).
 */
export const leaderCuttingShapes: readonly PartitionShape[] = ['leader', 'leader-minority'];

export type PartitionOp =
  | { readonly kind: 'partition'; readonly f: 'start-partition'; readonly value: { readonly shape: PartitionShape } }
  | { readonly kind: 'partition'; readonly f: 'stop-partition'; readonly value: null };

const stop: PartitionOp = { kind: 'partition', f: 'stop-partition', value: null };

export const partitionOption: NemesisOption = {
  flag: 'partition',
  arg: 'LIST',
  help: `partition shapes to draw from: ${partitionShapes.join(', ')}, all`,
  defaultText: 'all',
};

export const partition: NemesisKindSpec<'partition', PartitionOp> = {
  kind: 'partition',
  label: 'partition',
  summary: 'cut the network (a drawn shape), then heal',
  fs: { 'start-partition': 'start', 'stop-partition': 'stop' },
  targets: [],
  options: [partitionOption],
  finalHeal: { f: stop.f },
  validate(opts: ScheduleOptions): void {
    for (const s of opts.partitionShapes)
      if (!partitionShapes.includes(s)) throw new Error(`unknown partition shape "${s}" (known: ${partitionShapes.join(', ')})`);
  },
  cycle(opts) {
    return shapeCycle(chosenShapes(opts));
  },
  bitingCycle(opts) {
    const cutting = chosenShapes(opts).filter((s) => leaderCuttingShapes.includes(s));
    return cutting.length === 0 ? null : shapeCycle(cutting);
  },
  decode(f, value) {
    switch (f) {
      case 'start-partition':
        return { kind: 'partition', f, value: { shape: oneOfField(value, 'shape', partitionShapes, 'partition shape') } };
      case 'stop-partition':
        return stop;
      default:
        return assertNever(f, 'partition op');
    }
  },
  create: (ctx) => new PartitionNemesis(ctx),
};

function chosenShapes(opts: ScheduleOptions): readonly PartitionShape[] {
  return opts.partitionShapes.length > 0 ? opts.partitionShapes : defaultPartitionShapes;
}

function shapeCycle(shapes: readonly PartitionShape[]): fc.Arbitrary<readonly [PartitionOp, PartitionOp]> {
  return fc
    .constantFrom(...shapes)
    .map((shape): readonly [PartitionOp, PartitionOp] => [{ kind: 'partition', f: 'start-partition', value: { shape } }, stop]);
}

class PartitionNemesis implements FaultNemesis<PartitionOp> {
  private shape: PartitionShape | null = null;

  constructor(private readonly ctx: NemesisContext) {}

  invoke(op: PartitionOp): Promise<unknown> {
    switch (op.f) {
      case 'start-partition':
        return this.start(op.value.shape);
      case 'stop-partition':
        return this.heal();
      default:
        return assertNever(op, 'partition op');
    }
  }

  async heal(): Promise<unknown> {
    await this.ctx.net.heal();
    const was = this.shape;
    this.shape = null;
    return { healed: true, was };
  }

  active(): readonly string[] {
    return this.shape === null ? [] : [`partition ${this.shape}`];
  }

  private async start(shape: PartitionShape): Promise<unknown> {
    const { cluster, rng } = this.ctx;
    const nodes = cluster.nodeIds;
    let grudge: Grudge;
    const extra: Record<string, unknown> = {};
    switch (shape) {
      case 'one':
        grudge = oneGrudge(nodes, rng);
        break;
      case 'leader':
      case 'leader-minority': {
        // Mid-election there is no leader to cut: wait a little for one (awaitLeader).
        const leader = await awaitLeader(this.ctx);
        extra['leader'] = leader;
        if (leader !== null) grudge = shape === 'leader' ? isolate(nodes, leader) : leaderMinorityGrudge(nodes, leader, rng);
        else {
          // Still none: cut a random node rather than do nothing, and say so.
          grudge = oneGrudge(nodes, rng);
          extra['fallback'] = 'one';
        }
        break;
      }
      case 'halves':
        grudge = halvesGrudge(nodes, rng);
        break;
      case 'majorities-ring':
        grudge = majoritiesRingGrudge(nodes, rng);
        break;
      case 'bridge': {
        const b = bridgeGrudge(nodes, rng);
        grudge = b.grudge;
        extra['bridge'] = b.bridge;
        break;
      }
      default:
        return assertNever(shape, 'partition shape');
    }
    await this.ctx.net.partition(grudge);
    this.shape = shape;
    return { shape, grudge, description: describeGrudge(grudge), ...extra };
  }
}
