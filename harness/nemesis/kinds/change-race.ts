/**
 * Two single-server changes from two leaders of different terms whose
 * majorities do not overlap (issue 18; Ongaro, raft-dev, 2015: the bug in
 * the dissertation's §4.1 that the rule "a leader changes the configuration
 * only once an entry of its own term is committed" closes;
 * `--unsafe-conf-change-before-term-commit` drops the rule). A random mix of
 * membership cycles and partitions does not line it up (the simulator's
 * membership runs, 1,200 of them, never did): a voter must elect the second
 * leader yet never receive that leader's first entries, and its vote and
 * those entries are milliseconds apart, which no partition separates. The
 * relay can (NetworkControl.onlyVotesTo: a node that hears only votes).
 * Each step waits for what the nodes report:
 *
 * 0. four voters: a follower E removed (its data dir is intact, §4.2.2);
 * 1. a voter F (not the leader A) that hears only votes from now on; E
 *    added back as a learner and caught up without it, so F's log is
 *    behind (by the entries of that change at least, whether or not a
 *    workload writes): F can never win an election, and grants its vote to
 *    whoever is ahead of it;
 * 2. A cut off with E alone, and told to promote E: A appends
 *    C1 = {A, B, C, F, E} (§4.1: in effect on append), which reaches E
 *    only, and cannot commit (2 of 5);
 * 3. B or C elected by the other and F (3 of the 4 voters of C0), told to
 *    remove F before an entry of its term is committed: a correct leader
 *    refuses (its noop needs F or A, and neither hears it), so the cycle
 *    ends here, the network healed, having cost the cluster a few seconds
 *    of availability; the unsafe leader appends C2 = {A, B, C}, whose
 *    majority it has with the other (2 of 3), and commits C2 and every
 *    write after it;
 * 4. A, E and F together, F hearing everything again: A (or E) is elected
 *    in C1 by F's vote (F is behind it: it never received C2) and E's, and
 *    commits C1 and new writes (3 of 5), while B still commits in C2:
 *    two leaders commit different entries at the same indexes, each with a
 *    majority of its own configuration;
 * 5. healed: the later term's leader meets nodes whose committed entries
 *    conflict with its log (in the runs seen they stay behind it for good:
 *    the catch-up check; a node told to truncate below its commit index
 *    would stop on an assertion), and the writes acknowledged on the other
 *    side are lost, which the checker sees; the wire monitor sees a leader
 *    elected by votes that make no majority of the configurations it saw.
 *
 * Five nodes exactly (C0 of four voters, one learner). The stop op heals the
 * network (and stops the votes-only fault) and puts every member back; so
 * does the final heal.
 */
import type { NodeView } from '../../db/db.js';
import { choreographyKind, type ChoreographyOp, type NemesisKindSpec } from '../kind.js';
import { completeGrudge } from '../partitions.js';
import { MembershipChoreography, settleLeaderWaits } from './membership.js';
import { waitFor } from './relead.js';

export type ChangeRaceOp = ChoreographyOp<'change-race'>;

export const changeRace: NemesisKindSpec<'change-race', ChangeRaceOp> = choreographyKind({
  kind: 'change-race',
  label: 'two leaders change membership',
  summary: "two leaders' changes, disjoint majorities",
  needsNet: { net: 'relay', why: 'only the relay can let only votes through to a node' },
  create: (ctx) => new ChangeRaceNemesis(ctx),
});

/** The cluster the choreography fits: C0 of four voters (no majority without two of B, C, F) and one learner. */
export const changeRaceNodes = 5;
/** How long the new leader is asked to remove F (refused by a correct one until then), in leader waits. */
export const removeLeaderWaits = 3;
/** How long the promotion waits for an answer from the cut-off leader (it cannot commit: the answer is not awaited). */
export const promoteWaitMs = 300;
/** Between two looks for the new leader: it must be asked before its check-quorum deposes it (an election timeout). */
export const newLeaderPollMs = 20;

/** A node's view, if it leads in a term above `aboveTerm`. */
function leading(view: NodeView | null, aboveTerm: number): NodeView | null {
  return view !== null && view.role === 'leader' && view.currentTerm > aboveTerm ? view : null;
}

class ChangeRaceNemesis extends MembershipChoreography<'change-race'> {
  /** The node that hears only votes, while it does. */
  private deaf: string | null = null;
  /** Whether this cycle's cut is in place. */
  private cut = false;

  override active(): readonly string[] {
    return [...super.active(), ...(this.deaf === null ? [] : [`${this.deaf} hears only votes`]), ...(this.cut ? ['cut'] : [])];
  }

  protected async undoNet(): Promise<void> {
    await this.ctx.net.heal();
    this.cut = false;
    if (this.deaf !== null) await this.ctx.net.onlyVotesTo?.(null);
    this.deaf = null;
  }

  protected async choreograph(): Promise<unknown> {
    const { cluster, net } = this.ctx;
    const ids = cluster.nodeIds;
    if (ids.length !== changeRaceNodes)
      return { skipped: `${ids.length} nodes: the choreography needs ${changeRaceNodes} (four voters and a learner)` };
    if (net.onlyVotesTo === undefined)
      return { skipped: 'this network layer cannot let only votes through (the relay can: a run without --net netns)' };
    const started = performance.now();
    const at = (): number => Math.round(performance.now() - started);
    const steps: Record<string, number> = {};
    const stepMs = this.stepDeadlineMs();
    const gaveUp = async (why: string, more: Record<string, unknown>): Promise<unknown> => {
      await this.undoNet();
      return { ...more, gaveUp: why, steps };
    };

    // 0. Four voters: a follower E removed (from five: another kind may have changed the membership meanwhile).
    const before = await this.waitStatus(performance.now() + settleLeaderWaits * this.ctx.leaderWaitMs, (m) => m.configurationCommitted);
    if (before.status === null || !before.ok) return { skipped: 'no leader answered with a committed configuration' };
    if (before.status.voters.length !== changeRaceNodes || before.status.learners.length > 0)
      return {
        skipped: `the configuration is not ${changeRaceNodes} voters (${before.status.voters.join(', ')}; learners ${before.status.learners.join(', ') || 'none'})`,
      };
    const removal = (await this.remove('follower')) as { readonly node?: unknown; readonly nodes?: unknown };
    if (!Array.isArray(removal.nodes) || typeof removal.node !== 'string') return { removal, skipped: 'no follower was removed' };
    const e = removal.node;
    steps['removed'] = at();
    const settled = await this.waitStatus(performance.now() + stepMs, (m) => m.configurationCommitted && !m.voters.includes(e));
    if (settled.status === null) return { removal, gaveUp: 'no leader answered after the removal', steps };
    const f = this.ctx.rng.pick(settled.status.voters.filter((id) => id !== settled.status!.leaderId));

    // 1. F hears only votes from now on, so it misses E's return as a learner (and what the workload writes): it is
    //    behind, by the entries of the change at least.
    this.deaf = f;
    await net.onlyVotesTo(f);
    if (!cluster.isAlive(e)) {
      try {
        await cluster.restart(e);
      } catch (err) {
        return gaveUp(`restart of ${e} failed: ${(err as Error).message.split('\n')[0]}`, { removal });
      }
    }
    const step = (): number => performance.now() + stepMs;
    const notAdded = await this.addAsLearner(e, step, (name) => (steps[name] = at()), true);
    if (notAdded !== null) return gaveUp(`${e} as a learner: ${notAdded}`, { removal });
    const ready = await this.waitStatus(
      step(),
      (m) => m.configurationCommitted && m.voters.length === 4 && m.members.some((p) => p.id === e && p.role === 'learner' && p.caughtUp),
    );
    if (!ready.ok || ready.status === null) return gaveUp(`learner ${e} not caught up with four voters`, { removal });
    steps['learnerCaughtUp'] = at();
    const a = ready.status.leaderId;
    const bc = ready.status.voters.filter((id) => id !== a && id !== f);
    const roles = { oldLeader: a, learner: e, votesOnly: f, newSide: bc };
    if (a === f || bc.length !== 2) return gaveUp(`${f}, which hears only votes, leads`, roles);
    const [vf, va] = await Promise.all([cluster.status(f), cluster.status(a)]);
    const lead = leading(va, 0);
    if (vf?.lastLogIndex === undefined || lead === null || lead.commitIndex <= vf.lastLogIndex)
      return gaveUp(`${f} is not behind ${a}'s commit index`, roles);
    const behind = { term: lead.currentTerm };
    steps['votesOnlyBehind'] = at();

    // 2. A with E alone appends E's promotion: C1 reaches E only.
    this.cut = true;
    await net.partition(
      completeGrudge([
        [a, e],
        [...bc, f],
      ]),
    );
    const promotion = await this.admin().change('promote', e, promoteWaitMs, a);
    const afterPromotion = await cluster.status(a);
    if (afterPromotion?.configuration?.voters.includes(e) !== true)
      return gaveUp(`${a} did not append the promotion of ${e}`, { ...roles, promotion: promotion.type });
    const promotedAt = afterPromotion.lastLogIndex ?? 0;
    steps['promotionAppended'] = at();

    // 3. A new leader among B and C, asked to remove F before its term has a committed entry.
    const removeUntil = performance.now() + removeLeaderWaits * this.ctx.leaderWaitMs;
    let refusals = 0;
    let asked: NodeView & { readonly id: string } = {
      id: '',
      role: 'follower',
      currentTerm: 0,
      votedFor: null,
      leaderId: null,
      commitIndex: 0,
    };
    let lastAnswer = 'no new leader';
    for (;;) {
      const leader = await waitFor(
        this.ctx,
        Math.max(0, removeUntil - performance.now()),
        async () => {
          for (const id of bc) {
            const view = leading(await cluster.status(id), behind.term);
            if (view !== null) return { ...view, id };
          }
          return null;
        },
        newLeaderPollMs,
      );
      if (leader === null) break;
      asked = leader;
      const r = await this.admin().change('remove', f, Math.max(1, Math.min(2000, removeUntil - performance.now())), leader.id);
      lastAnswer = r.type === 'ok' ? 'ok' : `${r.type}: ${r.error}`;
      if (r.type === 'ok') break;
      if (r.type === 'refused') refusals++;
      if (performance.now() + newLeaderPollMs >= removeUntil || this.stopping()) break;
      await new Promise((resolve) => setTimeout(resolve, newLeaderPollMs));
    }
    if (lastAnswer !== 'ok')
      return gaveUp(`the new leader did not remove ${f} (${lastAnswer})`, { ...roles, newLeader: asked.id || null, refusals });
    const removedAt = await cluster.status(asked.id);
    steps['votesOnlyRemoved'] = at();

    // 4. The old side together, F hearing everything: A or E is elected in C1 while B or C still leads in C2.
    await net.partition(completeGrudge([[a, e, f], bc]));
    await net.onlyVotesTo(null);
    this.deaf = null;
    const oldSide = await waitFor(this.ctx, stepMs, async () => {
      for (const id of [a, e]) {
        const view = leading(await cluster.status(id), asked.currentTerm);
        if (view !== null && view.commitIndex >= promotedAt) return { ...view, id };
      }
      return null;
    });
    if (oldSide === null)
      return gaveUp(`neither ${a} nor ${e} committed C1 as the leader of a later term`, { ...roles, newLeader: asked.id });
    steps['oldSideCommitted'] = at();
    // Both sides commit writes while split (the workload runs): what the later term then overwrites.
    const fromNewSide = removedAt?.commitIndex ?? 0;
    const newSideMoved = await waitFor(this.ctx, this.ctx.leaderWaitMs, async () => {
      const view = await cluster.status(asked.id);
      return view !== null && view.commitIndex > fromNewSide ? view.commitIndex : null;
    });

    // 5. Healed: the later term's leader meets what the other side committed.
    await this.undoNet();
    steps['healed'] = at();
    const exits = await waitFor(this.ctx, this.ctx.leaderWaitMs, async () => {
      const gone = bc.filter((id) => !cluster.isAlive(id));
      return gone.length > 0 ? Object.fromEntries(gone.map((id) => [id, cluster.exitCode?.(id) ?? null])) : null;
    });
    return {
      ...roles,
      newLeader: asked.id,
      newTerm: asked.currentTerm,
      refusals,
      oldSideLeader: oldSide.id,
      oldSideTerm: oldSide.currentTerm,
      promotionIndex: promotedAt,
      newSideCommitted: newSideMoved !== null,
      ...(exits !== null ? { exited: exits } : {}),
      steps,
      nodes: [a, e, f, ...bc],
    };
  }
}
