/**
 * Process pauses (Jepsen's `pause`/`resume`): SIGSTOP the target's nodes, and
 * SIGCONT every paused node when the fault stops. A paused leader wakes up
 * believing it still leads: what GC pauses and VM stalls do.
 *
 * With --pause-wake-alone, a pause takes the node's network with it (a VM
 * frozen by its hypervisor, its virtual NIC frozen too): its links are cut
 * before it is stopped, so nothing the others say meanwhile waits in its
 * socket buffer, and they stay cut for a drawn while after it wakes. A
 * leader that wakes up so learns nothing of the new term from the wire and
 * acts on what it believes: a node that lost track of time while it slept
 * (issue 15 defect 2) serves lease reads of a stale state.
 */
import fc from 'fast-check';
import { assertNever } from '../../../node/util/assert.js';
import { procState } from '../../node-process.js';
import type { NemesisContext } from '../context.js';
import type { FaultNemesis, NemesisKindSpec, NemesisOption } from '../kind.js';
import { completeGrudge } from '../partitions.js';
import type { ScheduleOptions } from '../schedule.js';
import { nodeSetTargets, resolveTarget, bitingTargetArb, targetArb, targetField, type NodeSetTarget } from '../targets.js';
import { field, numberField } from '../wire.js';

export interface PauseValue {
  readonly target: NodeSetTarget;
  /** Cut the node's links before stopping it, and keep them cut this long after it wakes (--pause-wake-alone). */
  readonly wakeAloneMs?: number;
}

export type PauseOp =
  | { readonly kind: 'pause'; readonly f: 'pause'; readonly value: PauseValue }
  | { readonly kind: 'pause'; readonly f: 'resume'; readonly value: { readonly target: 'all' } };

export const pauseWakeAloneOption: NemesisOption = {
  flag: 'pause-wake-alone',
  arg: 'LO-HI',
  help:
    "a pause also cuts the paused nodes off the network (a frozen VM's NIC freezes too), and they stay cut off LO-HI ms after they wake; " +
    'not with --nemesis partition (one cut at a time)',
  defaultText: 'off',
};

const resume: PauseOp = { kind: 'pause', f: 'resume', value: { target: 'all' } };

export const pause: NemesisKindSpec<'pause', PauseOp> = {
  kind: 'pause',
  label: 'pause',
  summary: 'SIGSTOP target nodes, then SIGCONT them',
  fs: { pause: 'start', resume: 'stop' },
  targets: nodeSetTargets,
  options: [pauseWakeAloneOption],
  finalHeal: { f: resume.f },
  validate(opts) {
    const w = opts.pauseWakeAloneMs;
    if (w !== undefined && !(Number.isInteger(w.min) && Number.isInteger(w.max) && w.min >= 0 && w.min <= w.max && w.max <= 60_000)) {
      throw new Error(`pauseWakeAloneMs must be integers 0 <= min <= max <= 60000, got ${JSON.stringify(w)}`);
    }
  },
  cycle(opts) {
    return pauseCycle(opts, targetArb(opts, nodeSetTargets));
  },
  bitingCycle(opts) {
    const target = bitingTargetArb(opts, nodeSetTargets);
    return target === null ? null : pauseCycle(opts, target);
  },
  decode(f, value) {
    switch (f) {
      case 'pause': {
        const target = targetField(value, nodeSetTargets);
        return field(value, 'wakeAloneMs') === undefined
          ? { kind: 'pause', f, value: { target } }
          : { kind: 'pause', f, value: { target, wakeAloneMs: numberField(value, 'wakeAloneMs', 0, 60_000) } };
      }
      case 'resume':
        return resume;
      default:
        return assertNever(f, 'pause op');
    }
  },
  create: (ctx) => new PauseNemesis(ctx),
};

/** A pause cycle; with --pause-wake-alone its drawn time alone after waking (shrinking toward the shortest). */
function pauseCycle(opts: ScheduleOptions, target: fc.Arbitrary<NodeSetTarget>): fc.Arbitrary<readonly [PauseOp, PauseOp]> {
  const alone = opts.pauseWakeAloneMs;
  if (alone === undefined)
    return target.map((t): readonly [PauseOp, PauseOp] => [{ kind: 'pause', f: 'pause', value: { target: t } }, resume]);
  return fc
    .record({ t: target, wakeAloneMs: fc.integer(alone) })
    .map(({ t, wakeAloneMs }): readonly [PauseOp, PauseOp] => [{ kind: 'pause', f: 'pause', value: { target: t, wakeAloneMs } }, resume]);
}

class PauseNemesis implements FaultNemesis<PauseOp> {
  private readonly paused = new Set<string>();
  /** --pause-wake-alone: how long the paused nodes stay cut off after they wake (null: their links are not cut). */
  private wakeAloneMs: number | null = null;

  constructor(private readonly ctx: NemesisContext) {}

  async invoke(op: PauseOp): Promise<unknown> {
    switch (op.f) {
      case 'pause': {
        const { nodes, leader } = await resolveTarget(this.ctx, op.value.target);
        const stopped: { node: string; pid: number | null; state: string | null }[] = [];
        const alone = op.value.wakeAloneMs;
        if (alone !== undefined && nodes.length > 0) {
          // The network first: nothing sent to the node from now on reaches its socket while it sleeps.
          const all = [...new Set([...this.paused, ...nodes])];
          await this.ctx.net.partition(completeGrudge([all, this.ctx.cluster.nodeIds.filter((id) => !all.includes(id))]));
          this.wakeAloneMs = alone;
        }
        for (const id of nodes) {
          await this.ctx.cluster.pause(id);
          this.paused.add(id);
          // Stopped as the kernel says (state T), not as the harness believes: the evidence of the fault.
          const pid = this.ctx.cluster.pid(id);
          const state =
            this.ctx.cluster.procState !== undefined ? await this.ctx.cluster.procState(id) : pid === null ? null : procState(pid);
          stopped.push({ node: id, pid, state });
        }
        return {
          nodes,
          stopped,
          wasLeader: leader !== null && nodes.includes(leader),
          leader,
          ...(alone !== undefined && nodes.length > 0 ? { cutOff: true, wakeAloneMs: alone } : {}),
        };
      }
      case 'resume':
        return this.heal();
      default:
        return assertNever(op, 'pause op');
    }
  }

  async heal(): Promise<unknown> {
    const resumed: string[] = [];
    for (const id of [...this.paused].sort()) {
      if (this.ctx.cluster.isAlive(id)) await this.ctx.cluster.resume(id);
      this.paused.delete(id);
      resumed.push(id);
    }
    const alone = this.wakeAloneMs;
    if (alone === null) return { nodes: resumed };
    // Awake and still cut off for a while, then the network comes back.
    this.wakeAloneMs = null;
    if (alone > 0 && !this.ctx.isStopped()) await new Promise((r) => setTimeout(r, alone));
    await this.ctx.net.heal();
    return { nodes: resumed, wokeAloneMs: alone };
  }

  active(): readonly string[] {
    return [...this.paused].sort().map((id) => `${id} paused`);
  }
}
