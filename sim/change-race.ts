/**
 * The change-race fault in the simulator (issue 18): the choreography the
 * harness's `change-race` kind plays on real processes
 * (harness/nemesis/kinds/change-race.ts; its comment has the why), played
 * on the simulated cluster, so that the simulator's checks (Figure 3, the
 * commit quorums, linearizability) judge Ongaro's 2015 bug in
 * single-server changes and a failing run replays from its seed:
 *
 * 1. the `node`-th follower E removed (committed), with five voters;
 * 2. a voter F (not the leader) hears only votes from then on
 *    (SimNetwork.onlyVotesTo); E restarted on its disk if its removal
 *    stopped it, added back as a learner and caught up without F;
 * 3. the leader A cut off with E alone and asked to promote E (C1, appended
 *    on A, reaching E only);
 * 4. the first of the other side to lead a later term asked, every poll,
 *    to remove F: a correct leader refuses until an entry of its term is
 *    committed, which needs A or F, so the fault gives up at its deadline;
 * 5. once the removal is committed there: A, E and F together, F hearing
 *    everything again, until A or E leads a later term having committed C1;
 *    both sides then commit for a while, and the network heals.
 *
 * Every step has a deadline (simulated ms); giving up heals what the fault
 * cut. Pure bookkeeping over the simulation's event queue, as
 * sim/membership.ts: no IO, no real time. Five nodes exactly (skipped, with
 * a note, otherwise), one run at a time, none after the heal.
 */
import type { NodeHost } from '../node/host.js';
import type { AdminCommand } from '../node/protocol.js';
import { isMember, isVoter } from '../node/raft/configuration.js';
import type { NodeId } from '../node/raft/types.js';
import { assertNever } from '../node/util/assert.js';
import { POLL_MS } from './membership.js';

/** What the driver needs of the simulation. */
export interface ChangeRaceWorld {
  now(): number;
  schedule(delayMs: number, fn: () => void): void;
  /** The simulation's node ids, in index order. */
  readonly ids: readonly NodeId[];
  /** A running node's host, or null (down). */
  host(id: NodeId): NodeHost | null;
  /** The live leader with the highest term, if any. */
  leader(): { readonly id: NodeId; readonly host: NodeHost } | null;
  exited(id: NodeId): boolean;
  restart(id: NodeId): void;
  /** Cuts the network into these groups (what is not listed is cut from everyone); replaces any partition. */
  partition(groups: readonly (readonly NodeId[])[]): void;
  healPartitions(): void;
  /** `id` hears only RequestVote and its answers from now on (null: nobody). */
  onlyVotesTo(id: NodeId | null): void;
  note(line: string): void;
}

/** How long each step may take (simulated ms): several election timeouts (150-300 ms) and admin polls. */
export const STEP_DEADLINE_MS = 3000;
/** How long both sides commit while split, before the heal. */
export const SPLIT_MS = 300;
export const CHANGE_RACE_NODES = 5;

type Phase = 'remove' | 'learner' | 'new_leader' | 'old_side' | 'split';

interface Race {
  phase: Phase;
  readonly e: NodeId;
  f: NodeId | null;
  a: NodeId | null;
  bc: readonly NodeId[];
  deadlineMs: number;
  /** A's term when it was cut off; then the new leader's term. */
  term: number;
  newLeader: NodeId | null;
  promotionIndex: number;
  splitUntilMs: number;
  cut: boolean;
}

export class ChangeRaceDriver {
  private race: Race | null = null;
  private stopped = false;
  private nextRequest = 1;
  /**
   * Runs started; removals of F refused by the other side's new leader, and
   * committed by it (the race is on: with the unsafe rule, before an entry
   * of its term; on a correct core only once another fault healed a cut,
   * so that its noop could commit).
   */
  readonly stats = { started: 0, refusals: 0, earlyRemovals: 0 };

  constructor(private readonly world: ChangeRaceWorld) {}

  /** A `change_race` fault: E is the `node`-th follower (mod their number). */
  start(node: number): void {
    if (this.stopped || this.race !== null) {
      this.world.note(`change-race: ${this.stopped ? 'after the heal' : 'a run is under way'}; skipped`);
      return;
    }
    if (this.world.ids.length !== CHANGE_RACE_NODES) {
      this.world.note(`change-race: ${this.world.ids.length} nodes; it needs ${CHANGE_RACE_NODES}; skipped`);
      return;
    }
    const leader = this.world.leader();
    const core = leader?.host.raft();
    const configuration = core?.status().configuration;
    if (leader === null || core === undefined || configuration === undefined) {
      this.world.note('change-race: no leader; skipped');
      return;
    }
    if (!core.configurationCommitted() || configuration.voters.length !== CHANGE_RACE_NODES) {
      this.world.note(`change-race: the leader's configuration is not five committed voters (${configuration.voters.join(',')}); skipped`);
      return;
    }
    const followers = configuration.voters.filter((id) => id !== leader.id);
    const e = followers[((node % followers.length) + followers.length) % followers.length]!;
    this.race = {
      phase: 'remove',
      e,
      f: null,
      a: null,
      bc: [],
      deadlineMs: this.world.now() + STEP_DEADLINE_MS,
      term: 0,
      newLeader: null,
      promotionIndex: 0,
      splitUntilMs: 0,
      cut: false,
    };
    this.stats.started++;
    this.world.note(`change-race: starts: remove ${e}`);
    this.world.schedule(0, () => this.step());
  }

  /** The heal: undo what a run under way cut, and start no more. */
  stop(): void {
    this.stopped = true;
    if (this.race !== null) this.end(this.race, 'stopped by the heal');
  }

  private step(): void {
    const race = this.race;
    if (race === null) return;
    if (this.world.now() > race.deadlineMs) {
      this.end(race, `gave up in phase ${race.phase}`);
      return;
    }
    if (!this.advance(race)) return;
    this.world.schedule(POLL_MS, () => this.step());
  }

  /** Moves on to `phase` with a fresh deadline. */
  private enter(race: Race, phase: Phase): void {
    race.phase = phase;
    race.deadlineMs = this.world.now() + STEP_DEADLINE_MS;
  }

  /** One look; false once the run is over. */
  private advance(race: Race): boolean {
    switch (race.phase) {
      case 'remove': {
        const leader = this.world.leader();
        if (leader === null) return true;
        const core = leader.host.raft();
        const configuration = core.status().configuration;
        const committed = core.configurationCommitted();
        if (isMember(configuration, race.e)) {
          if (committed) this.ask(leader.host, { type: 'remove', node: race.e });
          return true;
        }
        if (!committed) return true;
        // F: the first voter after E (in id order) that does not lead.
        const voters = this.world.ids.filter((id) => isVoter(configuration, id));
        const after = [...voters.filter((id) => id > race.e), ...voters.filter((id) => id < race.e)];
        race.f = after.find((id) => id !== leader.id) ?? null;
        if (race.f === null) return this.end(race, 'no voter to hear only votes');
        this.world.onlyVotesTo(race.f);
        this.world.note(`change-race: ${race.e} removed; ${race.f} hears only votes`);
        this.enter(race, 'learner');
        return true;
      }
      case 'learner': {
        const f = race.f!;
        if (this.world.exited(race.e)) this.world.restart(race.e);
        const leader = this.world.leader();
        if (leader === null) return true;
        if (leader.id === f) return this.end(race, `${f}, which hears only votes, leads`);
        const core = leader.host.raft();
        const status = core.status();
        const configuration = status.configuration;
        const committed = core.configurationCommitted();
        if (!isMember(configuration, race.e)) {
          if (committed) this.ask(leader.host, { type: 'add', node: race.e });
          return true;
        }
        if (!committed || isVoter(configuration, race.e) || configuration.voters.length !== CHANGE_RACE_NODES - 1) return true;
        if (core.progressOf(race.e)?.caughtUp !== true) return true;
        const fStatus = this.world.host(f)?.raft().status();
        if (fStatus === undefined || fStatus.lastLogIndex >= status.commitIndex) return true;
        // A cut off with E alone, and asked to promote it: appended there (§4.1), it reaches E only.
        race.a = leader.id;
        race.bc = configuration.voters.filter((id) => id !== leader.id && id !== f);
        race.term = status.currentTerm;
        race.cut = true;
        this.world.partition([
          [leader.id, race.e],
          [...race.bc, f],
        ]);
        this.ask(leader.host, { type: 'promote', node: race.e });
        const after = leader.host.raft().status();
        if (!isVoter(after.configuration, race.e)) return this.end(race, `${leader.id} did not append the promotion of ${race.e}`);
        race.promotionIndex = after.lastLogIndex;
        this.world.note(`change-race: ${leader.id} cut off with ${race.e}, its promotion appended at ${race.promotionIndex}`);
        this.enter(race, 'new_leader');
        return true;
      }
      case 'new_leader': {
        const f = race.f!;
        for (const id of race.bc) {
          const host = this.world.host(id);
          const status = host?.raft().status();
          if (host === null || host === undefined || status === undefined || status.role !== 'leader' || status.currentTerm <= race.term)
            continue;
          if (isMember(status.configuration, f)) {
            this.ask(host, { type: 'remove', node: f });
            if (isMember(host.raft().status().configuration, f)) this.stats.refusals++;
            return true;
          }
          if (!host.raft().configurationCommitted()) return true;
          // The removal committed with the other one (2 of 3): now the old side, F hearing everything again.
          race.newLeader = id;
          race.term = status.currentTerm;
          this.stats.earlyRemovals++;
          this.world.partition([[race.a!, race.e, f], race.bc]);
          this.world.onlyVotesTo(null);
          this.world.note(
            `change-race: ${id} (term ${status.currentTerm}) committed the removal of ${f}; ${race.a}, ${race.e} and ${f} together`,
          );
          this.enter(race, 'old_side');
          return true;
        }
        return true;
      }
      case 'old_side': {
        for (const id of [race.a!, race.e]) {
          const status = this.world.host(id)?.raft().status();
          if (status === undefined || status.role !== 'leader' || status.currentTerm <= race.term) continue;
          if (status.commitIndex < race.promotionIndex) continue;
          this.world.note(`change-race: ${id} leads term ${status.currentTerm} with the promotion committed; both sides commit`);
          race.splitUntilMs = this.world.now() + SPLIT_MS;
          this.enter(race, 'split');
          return true;
        }
        return true;
      }
      case 'split':
        if (this.world.now() < race.splitUntilMs) return true;
        return this.end(race, 'done: healed');
      default:
        return assertNever(race.phase, 'change-race phase');
    }
  }

  /** Ends the run: the network whole again, F hearing everything. Returns false (for `advance`). */
  private end(race: Race, why: string): false {
    if (race.cut) this.world.healPartitions();
    if (race.f !== null) this.world.onlyVotesTo(null);
    this.world.note(`change-race: ${why}`);
    this.race = null;
    return false;
  }

  /** Asks a node for a change, as `rift-node admin` would (a fresh request each time: a refusal is asked again). */
  private ask(host: NodeHost, command: AdminCommand): void {
    host.onAdminMessage(
      { type: 'admin_request', requestId: `sim-change-race-${this.nextRequest++}`, command },
      { host: 'sim-admin', port: 0, sender: 'sim-admin', instance: 0 },
    );
  }
}
