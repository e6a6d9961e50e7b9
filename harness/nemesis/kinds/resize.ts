/**
 * Growing and shrinking the cluster while clients run (issue 18: "grow 3→5
 * and shrink 5→3", as Jepsen's etcd suite grows and shrinks its members).
 * The run starts the bootstrap nodes and two spare identities (config
 * `spareNodes`, started with `--join`: harness/db/rift/system.ts); every
 * change goes through the admin path, one single-server change at a time
 * (dissertation §4.1), each waiting for the one before it to commit:
 *
 * - start (`start-resize`): grow: every identity that is not a voter (the
 *   spares the first time, the members the last shrink took out later) is
 *   added as a learner (§4.2.1), waited for until the leader reports it
 *   caught up, and promoted (3 → 5); then shrink: two voters are removed, the
 *   first as the op's target says (the leader: it hands leadership over
 *   first, node/host.ts handOverBeforeRemoval, then steps down once its
 *   removal commits, §4.2.2), the second a follower (5 → 3). A removed node
 *   is told by the leader and exits (NODE_EXIT.removed); its data stays.
 * - stop (`stop-resize`): grow back: each removed identity is restarted on
 *   its data directory, added and promoted (3 → 5).
 *
 * The final heal leaves every identity a voter, so the run's catch-up and
 * replica checks cover the spares too. Never below a majority of all the
 * identities (5 → 3, never 2). The op values give how long each change
 * took (`steps`: ms from the op's start at which each add, catch-up and
 * promotion was seen; `committedMs` per removal) and the configurations
 * before and after.
 */
import { assertNever } from '../../../node/util/assert.js';
import type { FaultNemesis, NemesisKindSpec } from '../kind.js';
import { bitingTargetArb, targetArb, targetField } from '../targets.js';
import { MembershipSteps, membershipTargets, settleLeaderWaits, type MembershipTarget } from './membership.js';

/** How many spare identities a run with this kind starts (grow by two, shrink by two). */
export const resizeSpares = 2;

export type ResizeOp =
  | { readonly kind: 'resize'; readonly f: 'start-resize'; readonly value: { readonly target: MembershipTarget } }
  | { readonly kind: 'resize'; readonly f: 'stop-resize'; readonly value: null };

const growBack: ResizeOp = { kind: 'resize', f: 'stop-resize', value: null };

export const resize: NemesisKindSpec<'resize', ResizeOp> = {
  kind: 'resize',
  label: 'cluster resize',
  summary: 'grow by 2 spares, shrink by 2, grow back',
  fs: { 'start-resize': 'start', 'stop-resize': 'stop' },
  targets: membershipTargets,
  options: [],
  finalHeal: { f: growBack.f },
  cycle(opts) {
    return targetArb(opts, membershipTargets).map(resizeCycle);
  },
  // The shrink takes the leader out first: it hands over, then steps down once its removal commits (§4.2.2).
  bitingCycle(opts) {
    return bitingTargetArb(opts, membershipTargets)?.map(resizeCycle) ?? null;
  },
  decode(f, value) {
    switch (f) {
      case 'start-resize':
        return { kind: 'resize', f, value: { target: targetField(value, membershipTargets) } };
      case 'stop-resize':
        return growBack;
      default:
        return assertNever(f, 'resize op');
    }
  },
  create: (ctx) => new ResizeNemesis(ctx),
};

function resizeCycle(target: MembershipTarget): readonly [ResizeOp, ResizeOp] {
  return [{ kind: 'resize', f: 'start-resize', value: { target } }, growBack];
}

class ResizeNemesis extends MembershipSteps implements FaultNemesis<ResizeOp> {
  // The spares are not voters until this kind makes them so: the final heal always looks.
  protected override readonly healAlways = true;

  /**
   * The spares become voters at the final heal even if no op ran (the
   * run's catch-up and replica checks cover them), unless no leader answers
   * the admin path at all (then there is nothing to drive: recorded).
   */
  override async heal(): Promise<unknown> {
    if (!(await this.leaderAnswers())) return { skipped: 'no leader answered' };
    return super.heal();
  }

  /** Whether the leader answers the admin path within the settle time (a grow's first step waits a whole step deadline). */
  private async leaderAnswers(): Promise<boolean> {
    const healing = this.healing;
    this.healing = true; // the final heal's look must not end at once because the runner stopped
    try {
      const settled = await this.waitStatus(performance.now() + settleLeaderWaits * this.ctx.leaderWaitMs, () => true);
      return settled.status !== null;
    } finally {
      this.healing = healing;
    }
  }

  invoke(op: ResizeOp): Promise<unknown> {
    switch (op.f) {
      case 'start-resize':
        return this.growThenShrink(op.value.target);
      case 'stop-resize':
        return this.grow();
      default:
        return assertNever(op, 'resize op');
    }
  }

  /** Every identity a voter (3 → 5), timed. */
  private async grow(): Promise<unknown> {
    if (!(await this.leaderAnswers())) return { skipped: 'no leader answered' };
    const started = performance.now();
    const grown = await this.restore(this.growBudgetMs(), true);
    return { ...(grown as object), growMs: Math.round(performance.now() - started) };
  }

  private async growThenShrink(target: MembershipTarget): Promise<unknown> {
    if (!(await this.leaderAnswers())) return { target, skipped: 'no leader answered' };
    const started = performance.now();
    const grow = await this.restore(this.growBudgetMs(), true);
    const growMs = Math.round(performance.now() - started);
    if (this.stopping()) return { target, grow, growMs, shrink: [], skipped: 'the run is stopping' };
    const shrinkStarted = performance.now();
    const first = await this.remove(target);
    const second = this.stopping() ? { skipped: 'the run is stopping' } : await this.remove('follower');
    const shrink = [first, second];
    const nodes = shrink.flatMap((r) => {
      const n = (r as { nodes?: unknown }).nodes;
      return Array.isArray(n) ? (n as string[]) : [];
    });
    return { target, grow, growMs, shrink, shrinkMs: Math.round(performance.now() - shrinkStarted), nodes };
  }

  /** A grow makes up to one add-catch-up-promote per identity: a step deadline for each of the spares. */
  private growBudgetMs(): number {
    return this.stepDeadlineMs() * (resizeSpares + 1);
  }
}
