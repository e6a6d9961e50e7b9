/**
 * A member put back while one node that saw it leave is cut off, and then
 * made the leader (issue 18): what a node that missed a membership change
 * meets when it comes back. The transport defect fixed on 2026-12-06 (a node
 * heard AppendEntries only from the members of the configurations it knew;
 * node/transport/node-endpoint.ts mayComeFromAnyLeader, re-created by
 * `--unsafe-members-only-transport`) needs exactly this, and no random mix of
 * membership cycles and partitions lined it up in a gate run (0 of 6). Each
 * step waits for what the cluster reports:
 *
 * 1. a follower X removed (MembershipSteps.remove: its removal committed; it
 *    exits when told, §4.2.2);
 * 2. a witness W, another follower that has applied the removal (so it knows
 *    X is gone), cut off from everyone;
 * 3. X put back: restarted on its data, added as a learner, caught up,
 *    promoted (MembershipSteps.restore), all without W;
 * 4. a star around X with W still out (relead.ts starAround): only X can
 *    gather a majority, so once the old leader's check-quorum and the
 *    followers' leader stickiness have run out, X leads;
 * 5. the network healed: W's newest configuration lacks X, and X leads.
 *    W must hear X (a node in a later term's leader's AppendEntries learns
 *    the configuration from the log it is sent) and catch up: the op records
 *    whether it did within a step's deadline, and the run's catch-up check
 *    after the final heal judges it.
 *
 * Five voters at least: with three, the removal leaves two, and with W cut
 * off the re-addition cannot commit (the cycle is skipped, saying so). The
 * stop op heals the network and puts back anything still out; so does the
 * final heal.
 */
import { choreographyKind, type ChoreographyOp, type NemesisKindSpec } from '../kind.js';
import { completeGrudge, majority } from '../partitions.js';
import { MembershipChoreography } from './membership.js';
import { starAround, waitFor } from './relead.js';

export type RejoinOp = ChoreographyOp<'rejoin'>;

export const rejoin: NemesisKindSpec<'rejoin', RejoinOp> = choreographyKind({
  kind: 'rejoin',
  label: 're-added unseen, then leads',
  summary: 're-add a member unseen by one, which leads',
  create: (ctx) => new RejoinNemesis(ctx),
});

/** The smallest cluster the choreography fits: the removal's configuration must keep a majority with the witness cut off. */
export const rejoinMinNodes = 5;

class RejoinNemesis extends MembershipChoreography<'rejoin'> {
  /** The witness this cycle cut off, while it is. */
  private witness: string | null = null;

  override active(): readonly string[] {
    return [...super.active(), ...(this.witness === null ? [] : [`${this.witness} cut off`])];
  }

  protected async undoNet(): Promise<void> {
    await this.ctx.net.heal();
    this.witness = null;
  }

  protected async choreograph(): Promise<unknown> {
    const { cluster, net } = this.ctx;
    const ids = cluster.nodeIds;
    if (ids.length < rejoinMinNodes)
      return { skipped: `${ids.length} nodes: with one cut off, the removal's configuration has no majority to re-add with` };
    const started = performance.now();
    const at = (): number => Math.round(performance.now() - started);
    const steps: Record<string, number> = {};

    // 1. A follower out, its removal committed.
    const removal = (await this.remove('follower')) as { readonly node?: unknown; readonly nodes?: unknown };
    if (!Array.isArray(removal.nodes) || typeof removal.node !== 'string') return { removal, skipped: 'no follower was removed' };
    const x = removal.node;
    steps['removed'] = at();

    // 2. A witness that knows the removal committed, cut off.
    const deadline = performance.now() + this.stepDeadlineMs();
    const settled = await this.waitStatus(deadline, (m) => m.configurationCommitted && !m.voters.includes(x));
    if (settled.status === null) return { removal, gaveUp: 'no leader answered after the removal', steps };
    const leader = settled.status.leaderId;
    const commitIndex = settled.status.commitIndex;
    const candidates = settled.status.voters.filter((id) => id !== leader && cluster.isAlive(id) && !cluster.isPaused(id));
    if (settled.status.voters.length - 1 < majority(settled.status.voters.length))
      return { removal, skipped: `${settled.status.voters.length} voters: cutting one off leaves no majority`, steps };
    const witness = await waitFor(this.ctx, deadline - performance.now(), async () => {
      const applied: string[] = [];
      for (const id of candidates) {
        const view = await cluster.status(id);
        if (view !== null && view.commitIndex >= commitIndex) applied.push(id);
      }
      return applied.length > 0 ? this.ctx.rng.pick(applied) : null;
    });
    if (witness === null) return { removal, gaveUp: 'no follower applied the removal before the deadline', steps };
    const w = witness;
    this.witness = w;
    await net.partition(completeGrudge([[w], ids.filter((id) => id !== w)]));
    steps['witnessCut'] = at();

    // 3. X back as a voter, unseen by the witness.
    const restored = (await this.restore(this.stepDeadlineMs())) as { readonly nodes?: unknown };
    const back = await this.waitStatus(performance.now() + this.stepDeadlineMs(), (m) => m.configurationCommitted && m.voters.includes(x));
    if (!back.ok || back.status === null) return { removal, witness: w, restored, gaveUp: `${x} was not seen a voter again`, steps };
    steps['readded'] = at();

    // 4. Only X can gather a majority: it leads, in a later term.
    const termBefore = back.status.term;
    await net.partition(starAround(ids, x, w));
    const led = await waitFor(this.ctx, this.stepDeadlineMs(), async () => {
      const view = await cluster.status(x);
      return view !== null && view.role === 'leader' && view.currentTerm > termBefore ? { term: view.currentTerm } : null;
    });
    steps['starred'] = at();

    // 5. Healed: the witness must hear its new leader, a member it never saw come back.
    await net.heal();
    this.witness = null;
    if (led === null) return { removal, witness: w, gaveUp: `${x} did not lead before the deadline`, steps, nodes: [x, w] };
    steps['healed'] = at();
    const target = (await cluster.status(x))?.commitIndex ?? 0;
    let witnessLeader: string | null = null;
    const caughtUp =
      (await waitFor(this.ctx, this.stepDeadlineMs(), async () => {
        const view = await cluster.status(w);
        witnessLeader = view?.leaderId ?? null;
        return view !== null && view.commitIndex >= target ? true : null;
      })) === true;
    if (caughtUp) steps['witnessCaughtUp'] = at();
    // Whom the witness followed when it caught up, or last named when it did not (null: no leader, or no answer).
    return {
      removed: x,
      witness: w,
      oldLeader: leader,
      leader: x,
      term: led.term,
      witnessCaughtUp: caughtUp,
      witnessLeader,
      steps,
      nodes: [x, w],
    };
  }
}
