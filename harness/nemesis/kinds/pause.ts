/**
 * Process pauses (Jepsen's `pause`/`resume`): SIGSTOP the target's nodes, and
 * SIGCONT every paused node when the fault stops. A paused leader wakes up
 * believing it still leads: what GC pauses and VM stalls do.
 */
import { assertNever } from '../../../node/util/assert.js';
import { procState } from '../../node-process.js';
import type { NemesisContext } from '../context.js';
import type { FaultNemesis, NemesisKindSpec } from '../kind.js';
import { nodeSetTargets, resolveTarget, bitingTargetArb, targetArb, targetField, type NodeSetTarget } from '../targets.js';

export type PauseOp =
  | { readonly kind: 'pause'; readonly f: 'pause'; readonly value: { readonly target: NodeSetTarget } }
  | { readonly kind: 'pause'; readonly f: 'resume'; readonly value: { readonly target: 'all' } };

const resume: PauseOp = { kind: 'pause', f: 'resume', value: { target: 'all' } };

export const pause: NemesisKindSpec<'pause', PauseOp> = {
  kind: 'pause',
  label: 'pause',
  summary: 'SIGSTOP target nodes, then SIGCONT them',
  fs: { pause: 'start', resume: 'stop' },
  targets: nodeSetTargets,
  options: [],
  finalHeal: { f: resume.f },
  cycle(opts) {
    return targetArb(opts, nodeSetTargets).map(pauseCycle);
  },
  bitingCycle(opts) {
    return bitingTargetArb(opts, nodeSetTargets)?.map(pauseCycle) ?? null;
  },
  decode(f, value) {
    switch (f) {
      case 'pause':
        return { kind: 'pause', f, value: { target: targetField(value, nodeSetTargets) } };
      case 'resume':
        return resume;
      default:
        return assertNever(f, 'pause op');
    }
  },
  create: (ctx) => new PauseNemesis(ctx),
};

function pauseCycle(target: NodeSetTarget): readonly [PauseOp, PauseOp] {
  return [{ kind: 'pause', f: 'pause', value: { target } }, resume];
}

class PauseNemesis implements FaultNemesis<PauseOp> {
  private readonly paused = new Set<string>();

  constructor(private readonly ctx: NemesisContext) {}

  async invoke(op: PauseOp): Promise<unknown> {
    switch (op.f) {
      case 'pause': {
        const { nodes, leader } = await resolveTarget(this.ctx, op.value.target);
        const stopped: { node: string; pid: number | null; state: string | null }[] = [];
        for (const id of nodes) {
          await this.ctx.cluster.pause(id);
          this.paused.add(id);
          // Stopped as the kernel says (state T), not as the harness believes: the evidence of the fault.
          const pid = this.ctx.cluster.pid(id);
          stopped.push({ node: id, pid, state: pid === null ? null : procState(pid) });
        }
        return { nodes, stopped, wasLeader: leader !== null && nodes.includes(leader), leader };
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
    return { nodes: resumed };
  }

  active(): readonly string[] {
    return [...this.paused].sort().map((id) => `${id} paused`);
  }
}
