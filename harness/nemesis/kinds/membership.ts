/**
 * Membership changes while clients run (issue 18; Jepsen's etcd suite does
 * the same with `member remove` / `member add`): each cycle takes a member
 * out through the cluster's admin path and puts it back, one single-server
 * change at a time (dissertation §4.1):
 *
 * - start (`start-membership`): wait for a committed configuration (no change
 *   in flight), pick X (the leader, or a follower: the op's target), remove
 *   it, wait until the removal is committed (the leader's admin status);
 * - stop (`stop-membership`): for every original member that is not a voter,
 *   add it as a learner (§4.2.1) unless it already is one, wait until the
 *   leader reports it caught up, promote it, wait until that is committed.
 *
 * The same identity comes back, not a spare: a removed rift node is told so
 * by the leader once its removal is committed and exits (NODE_EXIT.removed,
 * §4.2.2; the removal's op value records the exit), keeping its data
 * directory; the restore restarts its process on that directory, then adds
 * and promotes it, so it returns with its currentTerm, votedFor and log,
 * exactly the durable state §5.2 needs. Re-adding an id is unsafe only with EMPTY
 * state (a forgotten vote: README "Replacing a node that lost its disk"),
 * which this kind never does; the leader accepts any identity of the address
 * book (node/host.ts), and `applyConfChange` any non-member as a learner.
 *
 * At most one change is in flight: every change waits for the configuration
 * before it to be committed, and the kind runs its steps one after another.
 * It never removes below a majority of the original size (a 3-node cluster
 * keeps 2 voters, a 5-node one at least 3). Every step has a deadline; what
 * the admin path answers (refused, indeterminate, no leader) is the op's
 * recorded value, never an exception that ends the run.
 */
import type { AdminResult } from '../../../node/admin-client.js';
import type { MembershipStatus } from '../../../node/protocol.js';
import { NODE_EXIT } from '../../../node/exit-codes.js';
import { assertNever } from '../../../node/util/assert.js';
import type { MembershipCapability } from '../../db/db.js';
import type { Rng } from '../../rng.js';
import type { NemesisContext } from '../context.js';
import type { ChoreographyOp, FaultNemesis, NemesisKindSpec } from '../kind.js';
import { majority } from '../partitions.js';
import { bitingTargetArb, targetArb, targetField, type NodeTarget } from '../targets.js';

/**
 * The targets a removal takes: the leader (§4.2.2: it steps down once its
 * removal commits), a follower, or one voter drawn among all (the default
 * --targets give `one` and `leader`: sometimes the leader, sometimes not).
 */
export const membershipTargets = ['one', 'leader', 'follower'] as const satisfies readonly NodeTarget[];
export type MembershipTarget = (typeof membershipTargets)[number];

/** How long each step (a change committed, a learner caught up) may take, in leader waits (NemesisContext.leaderWaitMs). */
export const stepDeadlineLeaderWaits = 5;
/** How long a removal waits for a leader that answers with a committed configuration before it skips its turn, in leader waits. */
export const settleLeaderWaits = 2;
/** The final heal's budget for putting every member back (it must, or the catch-up check sees a removed node behind). */
export const finalRestoreMs = 30_000;
/** Between two looks at the leader's admin status while a step waits. */
export const pollMs = 50;
/** How long a removal waits to see the removed node exit (it is told by the leader's farewell, §4.2.2), in leader waits. */
export const exitWaitLeaderWaits = 1;

export type MembershipOp =
  | { readonly kind: 'membership'; readonly f: 'start-membership'; readonly value: { readonly target: MembershipTarget } }
  | { readonly kind: 'membership'; readonly f: 'stop-membership'; readonly value: null };

const restore: MembershipOp = { kind: 'membership', f: 'stop-membership', value: null };

export const membership: NemesisKindSpec<'membership', MembershipOp> = {
  kind: 'membership',
  label: 'membership change',
  summary: 'remove a member, re-add as learner, promote',
  fs: { 'start-membership': 'start', 'stop-membership': 'stop' },
  targets: membershipTargets,
  options: [],
  finalHeal: { f: restore.f },
  cycle(opts) {
    return targetArb(opts, membershipTargets).map(membershipCycle);
  },
  // Removing the leader: it must keep leading without counting itself until the removal commits, then step down (§4.2.2).
  bitingCycle(opts) {
    return bitingTargetArb(opts, membershipTargets)?.map(membershipCycle) ?? null;
  },
  decode(f, value) {
    switch (f) {
      case 'start-membership':
        return { kind: 'membership', f, value: { target: targetField(value, membershipTargets) } };
      case 'stop-membership':
        return restore;
      default:
        return assertNever(f, 'membership op');
    }
  },
  create: (ctx) => new MembershipNemesis(ctx),
};

function membershipCycle(target: MembershipTarget): readonly [MembershipOp, MembershipOp] {
  return [{ kind: 'membership', f: 'start-membership', value: { target } }, restore];
}

// ------------------------------------------------------------------ pure decisions

export type RemovalChoice = { readonly node: string } | { readonly skipped: string };

/**
 * Which member a removal takes out (pure: the leader's status in, a node or
 * the reason for none out). Never below a majority of the original size;
 * a follower (or `one` voter) is drawn among the voters that are `usable`
 * (running, not paused: one that cannot come back cannot catch up to be
 * promoted).
 */
export function chooseRemoval(
  status: Pick<MembershipStatus, 'leaderId' | 'voters'>,
  originalSize: number,
  target: MembershipTarget,
  usable: (id: string) => boolean,
  rng: Pick<Rng, 'pick'>,
): RemovalChoice {
  const floor = majority(originalSize);
  if (status.voters.length - 1 < floor)
    return {
      skipped: `${status.voters.length} voters: a removal would leave fewer than ${floor} (a majority of the original ${originalSize})`,
    };
  switch (target) {
    case 'leader':
      return status.voters.includes(status.leaderId)
        ? { node: status.leaderId }
        : { skipped: `the leader ${status.leaderId} is not a voter` };
    case 'follower':
    case 'one': {
      const from = status.voters.filter((id) => (target === 'one' || id !== status.leaderId) && usable(id));
      return from.length > 0 ? { node: rng.pick(from) } : { skipped: `no running ${target === 'one' ? 'voter' : 'follower'} to remove` };
    }
    default:
      return assertNever(target, 'membership target');
  }
}

/** What restoring one member takes from the configuration it is in now. */
export interface RestoreStep {
  readonly node: string;
  /** Not a member: add it as a learner first. */
  readonly add: boolean;
}

/** The original members that are not voters, in id order, each with whether it must be added before its promotion (pure). */
export function restorePlan(status: Pick<MembershipStatus, 'voters' | 'learners'>, originalIds: readonly string[]): RestoreStep[] {
  return [...originalIds]
    .sort()
    .filter((id) => !status.voters.includes(id))
    .map((id) => ({ node: id, add: !status.learners.includes(id) }));
}

/** The configuration a result carries, as the op's value shows it. */
function shown(m: MembershipStatus): { voters: readonly string[]; learners: readonly string[]; leader: string; term: number } {
  return { voters: m.voters, learners: m.learners, leader: m.leaderId, term: m.term };
}

function isMember(m: MembershipStatus, node: string): boolean {
  return m.voters.includes(node) || m.learners.includes(node);
}

function resultText(r: AdminResult): string {
  return r.type === 'ok' ? 'ok' : `${r.type}: ${r.error}`;
}

// ------------------------------------------------------------------ the nemesis

/**
 * The steps membership kinds are made of (this one and kinds/resize.ts):
 * remove a member, put every identity of the cluster back as a voter, each
 * with deadlines, through the Db's admin path; and the final heal.
 */
export abstract class MembershipSteps {
  /** Members this kind took out and has not yet seen back as voters. */
  protected readonly removed = new Set<string>();
  /** In the final heal (see heal()). */
  protected healing = false;
  /** Whether this kind ever proposed a removal in this run. */
  protected proposedAny = false;

  constructor(protected readonly ctx: NemesisContext) {}

  /** Whether the final heal must look at the configuration even when this kind proposed nothing (resize: the spares join). */
  protected readonly healAlways: boolean = false;

  async heal(): Promise<unknown> {
    // The final heal runs after the runner stopped (isStopped): its waits must not end at once for that.
    this.healing = true;
    try {
      return await this.restore(Math.max(finalRestoreMs, this.stepDeadlineMs()), this.healAlways);
    } finally {
      this.healing = false;
    }
  }

  /** Whether a wait should give up because the run is stopping (never during the final heal). */
  protected stopping(): boolean {
    return !this.healing && this.ctx.isStopped();
  }

  active(): readonly string[] {
    return [...this.removed].sort().map((id) => `${id} removed`);
  }

  protected stepDeadlineMs(): number {
    return stepDeadlineLeaderWaits * this.ctx.leaderWaitMs;
  }

  protected admin(): MembershipCapability {
    const m = this.ctx.cluster.membership;
    if (m === undefined) throw new Error('this database offers no membership changes to drive');
    return m;
  }

  /**
   * Polls the leader's status until `done` holds (or the deadline passes:
   * then the last status, or null when no leader answered).
   */
  protected async waitStatus(
    deadline: number,
    done: (m: MembershipStatus) => boolean,
  ): Promise<{ readonly ok: boolean; readonly status: MembershipStatus | null }> {
    let last: MembershipStatus | null = null;
    for (;;) {
      const remaining = deadline - performance.now();
      if (remaining <= 0 || this.stopping()) return { ok: false, status: last };
      const r = await this.admin().status(Math.max(100, Math.min(remaining, 2000)));
      if (r.type === 'ok') {
        last = r.membership;
        if (done(last)) return { ok: true, status: last };
      }
      if (performance.now() + pollMs >= deadline) return { ok: false, status: last };
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  protected async remove(target: MembershipTarget): Promise<unknown> {
    const { cluster } = this.ctx;
    const started = performance.now();
    const at = (): number => Math.round(performance.now() - started);
    const settled = await this.waitStatus(started + settleLeaderWaits * this.ctx.leaderWaitMs, (m) => m.configurationCommitted);
    if (!settled.ok || settled.status === null)
      return { target, skipped: settled.status === null ? 'no leader answered' : 'a change was still in flight', atMs: at() };
    const before = settled.status;
    const choice = chooseRemoval(
      before,
      cluster.nodeIds.length,
      target,
      (id) => cluster.isAlive(id) && !cluster.isPaused(id),
      this.ctx.rng,
    );
    if ('skipped' in choice) return { target, skipped: choice.skipped, before: shown(before) };
    const node = choice.node;
    const wasLeader = node === before.leaderId;
    const deadline = performance.now() + this.stepDeadlineMs();
    this.removed.add(node); // from here on its fate may be unknown: restore looks at the configuration anyway
    this.proposedAny = true;
    let result = await this.admin().change('remove', node, Math.max(1, deadline - performance.now()));
    let refusals = 0;
    const firstRefusal = result.type === 'refused' ? result.error : null;
    // Definite refusals (a change still in flight, a learner not caught up) may pass later: try again until the deadline.
    while (result.type === 'refused' && performance.now() + pollMs < deadline && !this.stopping()) {
      refusals++;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      result = await this.admin().change('remove', node, Math.max(1, deadline - performance.now()));
      if (result.type !== 'refused') break;
      // A refusal after a refusal may be the earlier try's own doing ("not a member": a database that answered a
      // committed change with an error, as etcd did in CI): the leader's status decides, as the admin client's does.
      const now = await this.admin().status(Math.max(100, Math.min(deadline - performance.now(), 2000)));
      if (now.type === 'ok' && now.membership.configurationCommitted && !isMember(now.membership, node))
        result = {
          type: 'indeterminate',
          error: `${resultText(result)} after ${refusals} refusals, yet it is out: an earlier try made it`,
        };
    }
    const committedMs = at();
    const tries = refusals > 0 ? { refusedBefore: refusals, firstRefusal } : {};
    if (result.type === 'refused') {
      // Definitely not done: nothing to wait for or to undo.
      this.removed.delete(node);
      return { target, node, wasLeader, before: shown(before), admin: resultText(result), ...tries, atMs: at() };
    }
    // However the command ended, the leader's status says where the configuration is (an indeterminate removal may have committed).
    const after = await this.waitStatus(
      Math.max(deadline, performance.now() + 1000),
      (m) => m.configurationCommitted && !isMember(m, node),
    );
    const out = {
      target,
      node,
      wasLeader,
      before: shown(before),
      admin: resultText(result),
      ...tries,
      committedMs,
      ...(after.status !== null ? { after: shown(after.status) } : {}),
      atMs: at(),
    };
    if (!after.ok) {
      const s = after.status;
      if (s !== null && s.configurationCommitted && isMember(s, node)) this.removed.delete(node);
      return { ...out, gaveUp: 'the removal was not seen committed before the deadline' };
    }
    const exit = await this.removedExit(node, started);
    if (this.returnsAs() === 'new-member' && cluster.isAlive(node)) {
      // It comes back only as a new member, added while it is down (MembershipCapability.returnsAs): stop it now.
      await cluster.kill(node);
      return { ...out, ...exit, stopped: true, nodes: [node] };
    }
    return { ...out, ...exit, nodes: [node] };
  }

  protected returnsAs(): 'same-member' | 'new-member' {
    return this.admin().returnsAs ?? 'same-member';
  }

  /** Whether `node`'s process ended by itself with NODE_EXIT.removed (a kill by another kind is not this kind's to undo). */
  private exitedRemoved(node: string): boolean {
    const { cluster } = this.ctx;
    return !cluster.isAlive(node) && cluster.exitCode?.(node) === NODE_EXIT.removed;
  }

  /**
   * The removed node's exit (§4.2.2: told by the leader's farewell, it shuts
   * down with NODE_EXIT.removed): waited for a bounded time and recorded, not
   * required (the farewell may be lost; the node then stays up, unheard).
   */
  protected async removedExit(node: string, startedMs: number): Promise<{ exited: string | null; exitedMs?: number }> {
    const { cluster } = this.ctx;
    const deadline = performance.now() + exitWaitLeaderWaits * this.ctx.leaderWaitMs;
    while (cluster.isAlive(node) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, pollMs));
    if (cluster.isAlive(node)) return { exited: null };
    const code = cluster.exitCode?.(node) ?? null;
    return { exited: code === null ? 'exited' : `code ${code}`, exitedMs: Math.round(performance.now() - startedMs) };
  }

  /**
   * Every identity of the cluster (cluster.nodeIds: the bootstrap nodes and
   * any spares) back as a voter, one change at a time: add (if needed),
   * caught up, promote. `always`: look at the configuration even when this
   * kind took nothing out (a grow).
   */
  protected async restore(budgetMs: number, always = false): Promise<unknown> {
    // Nothing to undo while this kind never proposed a removal (a removal that ended unknown may still commit
    // later, so once one was proposed, the configuration itself is looked at, not only the list).
    if (!always && this.removed.size === 0 && !this.proposedAny) return { nodes: [] };
    const started = performance.now();
    const at = (): number => Math.round(performance.now() - started);
    const end = started + budgetMs;
    // Each step has its own deadline; the final heal instead keeps at it for its whole budget (nothing comes after it).
    const step = (): number => (this.healing ? end : Math.min(end, performance.now() + this.stepDeadlineMs()));
    const settled = await this.waitStatus(step(), (m) => m.configurationCommitted);
    if (settled.status === null) return { skipped: 'no leader answered', removed: [...this.removed].sort() };
    const plan = restorePlan(settled.status, this.ctx.cluster.nodeIds);
    const restored: string[] = [];
    const errors: Record<string, string> = {};
    const steps: Record<string, number> = {};
    // Removed nodes that exited (told of their removal, NODE_EXIT.removed) restart together first: a process start
    // takes long on a loaded machine, and the changes themselves must stay one at a time.
    const { cluster } = this.ctx;
    await Promise.all(
      plan
        // A new member (etcd) starts only after its add (restoreOne).
        .filter(({ node, add }) => add && !cluster.isAlive(node) && this.returnsAs() === 'same-member')
        .map(async ({ node }) => {
          try {
            await cluster.restart(node);
            steps[`${node} restarted`] = at();
          } catch {
            // restoreOne tries again and records why it could not.
          }
        }),
    );
    for (const { node, add } of plan) {
      try {
        const why = await this.restoreOne(node, add, step, (name) => (steps[`${node} ${name}`] = at()));
        if (why === null) {
          restored.push(node);
          this.removed.delete(node);
        } else {
          errors[node] = why;
        }
      } catch (err) {
        errors[node] = (err as Error).message;
      }
    }
    const final = await this.admin().status(Math.max(100, Math.min(2000, end - performance.now())));
    if (final.type === 'ok') {
      // A node this kind removed that is a voter again without this op's doing it: an earlier restore cut short by
      // the end of the run (its waits end at once then) whose promotion still committed. Recorded here, so the
      // history says when every removed member was back.
      for (const node of [...this.removed].sort()) {
        if (!final.membership.voters.includes(node) || restored.includes(node)) continue;
        restored.push(node);
        this.removed.delete(node);
        steps[`${node} found a voter`] = at();
      }
    }
    return {
      nodes: restored,
      steps,
      ...(Object.keys(errors).length > 0 ? { errors } : {}),
      ...(final.type === 'ok' ? { after: shown(final.membership) } : {}),
      atMs: at(),
    };
  }

  /**
   * Adds `node` as a learner once the configuration is committed (unless it
   * is a member already) and waits to see the add committed; `retryRefused`:
   * a refusal is tried again until the step's deadline. Null when added,
   * else why not.
   */
  protected async addAsLearner(
    node: string,
    step: () => number,
    mark: (name: string) => void,
    retryRefused: boolean,
  ): Promise<string | null> {
    const deadline = step();
    const settled = await this.waitStatus(deadline, (m) => m.configurationCommitted);
    if (!settled.ok) return 'no committed configuration to add it to';
    if (!settled.status!.voters.includes(node) && !settled.status!.learners.includes(node)) {
      let r = await this.admin().change('add', node, Math.max(1, deadline - performance.now()));
      while (retryRefused && r.type === 'refused' && performance.now() + pollMs < deadline && !this.stopping()) {
        await new Promise((resolve) => setTimeout(resolve, pollMs));
        r = await this.admin().change('add', node, Math.max(1, deadline - performance.now()));
      }
      if (r.type === 'refused') return `add refused: ${r.error}`;
    }
    const added = await this.waitStatus(
      Math.max(deadline, performance.now() + 1000),
      (m) => m.configurationCommitted && (m.learners.includes(node) || m.voters.includes(node)),
    );
    if (!added.ok) return 'the add was not seen committed before the deadline';
    mark('added');
    return null;
  }

  /**
   * etcd's way back (returnsAs 'new-member'): the node must be down when it
   * is added (the add wipes its data), and starts after, joining the
   * existing cluster; a learner added earlier that is not running starts
   * again. Null when it runs as a member, else why not.
   */
  private async rejoinAsNewMember(node: string, add: boolean, step: () => number, mark: (name: string) => void): Promise<string | null> {
    const { cluster } = this.ctx;
    if (add) {
      if (cluster.isAlive(node)) {
        await cluster.kill(node);
        mark('stopped');
      }
      // etcd refuses a change while a member joined less than 5 s ago ("unhealthy cluster"): try again until the deadline.
      const why = await this.addAsLearner(node, step, mark, true);
      if (why !== null) return why;
    }
    if (!cluster.isAlive(node)) {
      try {
        await cluster.restart(node);
      } catch (err) {
        return `start as a new member failed: ${(err as Error).message.split('\n')[0]}`;
      }
      mark('started');
    }
    return null;
  }

  /** One member back as a voter; null when done, else why not. */
  private async restoreOne(node: string, add: boolean, step: () => number, mark: (name: string) => void): Promise<string | null> {
    const admin = this.admin();
    const { cluster } = this.ctx;
    if (this.returnsAs() === 'new-member') {
      const why = await this.rejoinAsNewMember(node, add, step, mark);
      if (why !== null) return why;
    } else if (add && !cluster.isAlive(node)) {
      // Told of its removal, it exited (NODE_EXIT.removed) with its data directory intact: the same identity restarts on it.
      try {
        await cluster.restart(node);
      } catch (err) {
        return `restart failed: ${(err as Error).message.split('\n')[0]}`;
      }
      mark('restarted');
    }
    if (add && this.returnsAs() === 'same-member') {
      const why = await this.addAsLearner(node, step, mark, false);
      if (why !== null) return why;
    }
    // §4.2.1: only a learner whose last catch-up round took under an election timeout is promoted.
    const deadline = step();
    const isCaughtUp = (m: MembershipStatus): boolean =>
      m.voters.includes(node) || m.members.some((p) => p.id === node && p.role === 'learner' && p.caughtUp);
    let caughtUp = await this.waitStatus(deadline, (m) => isCaughtUp(m) || this.exitedRemoved(node));
    // A farewell from its removal that reached it after it was added back (it did not yet hold the entry that
    // re-adds it) made it exit (NODE_EXIT.removed): it restarts on its data and catches up as the learner it is.
    for (let restarts = 0; caughtUp.ok && !isCaughtUp(caughtUp.status!) && restarts < 2; restarts++) {
      try {
        await cluster.restart(node);
      } catch (err) {
        return `restart after a late farewell failed: ${(err as Error).message.split('\n')[0]}`;
      }
      mark(restarts === 0 ? 'restartedAgain' : `restartedAgain${restarts + 1}`);
      caughtUp = await this.waitStatus(deadline, (m) => isCaughtUp(m) || this.exitedRemoved(node));
    }
    if (!caughtUp.ok || !isCaughtUp(caughtUp.status!)) return 'not caught up before the deadline';
    mark('caughtUp');
    if (caughtUp.status!.voters.includes(node)) return null;
    for (;;) {
      const r = await admin.change('promote', node, Math.max(1, deadline - performance.now()));
      if (r.type === 'ok') break;
      // Refused while it fell behind again or another change was in flight: try again until the deadline.
      if (r.type === 'indeterminate' || performance.now() + pollMs >= deadline || this.stopping()) break;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    const promoted = await this.waitStatus(
      Math.max(deadline, performance.now() + 1000),
      (m) => m.configurationCommitted && m.voters.includes(node),
    );
    if (!promoted.ok) return 'the promotion was not seen committed before the deadline';
    mark('promoted');
    return null;
  }
}

class MembershipNemesis extends MembershipSteps implements FaultNemesis<MembershipOp> {
  invoke(op: MembershipOp): Promise<unknown> {
    switch (op.f) {
      case 'start-membership':
        return this.remove(op.value.target);
      case 'stop-membership':
        return this.restore(this.stepDeadlineMs());
      default:
        return assertNever(op, 'membership op');
    }
  }
}

/**
 * A membership choreography's nemesis (kinds/rejoin.ts, kinds/change-race.ts):
 * its start op plays the whole choreography; its stop op, like the final
 * heal, undoes what it did to the network and then puts every member back.
 */
export abstract class MembershipChoreography<K extends string> extends MembershipSteps implements FaultNemesis<ChoreographyOp<K>> {
  /** The whole choreography, each step waiting for what the cluster reports; its value is the start op's. */
  protected abstract choreograph(): Promise<unknown>;
  /** Undoes what the choreography did to the network (and forgets it). */
  protected abstract undoNet(): Promise<void>;

  invoke(op: ChoreographyOp<K>): Promise<unknown> {
    return op.f === `start-${op.kind}` ? this.choreograph() : this.undo(this.stepDeadlineMs());
  }

  override async heal(): Promise<unknown> {
    await this.undoNet();
    return super.heal();
  }

  private async undo(budgetMs: number): Promise<unknown> {
    await this.undoNet();
    return this.restore(budgetMs);
  }
}
