/**
 * Membership cycles in the simulator (issue 18; the harness's membership
 * nemesis, harness/nemesis/kinds/membership.ts, does the same to real
 * processes): remove a member through the leader's admin path, keep it out a
 * while, then add it back as a learner, wait until the leader reports it
 * caught up (dissertation §4.2.1), and promote it. Single-server changes
 * (§4.1): a change is asked for only while the leader's newest
 * configuration is committed, and at most MAX_CYCLES cycles (two admins,
 * each with its own member) run at once.
 *
 * The same identity comes back with its own disk (a removed rift node exits
 * once told, §4.2.2, keeping its data; re-adding an identity is unsafe only
 * with empty state: README "Replacing a node that lost its disk").
 *
 * The driver reads the leader's state directly (the simulator sees every
 * node) and asks for changes as an admin would (`NodeHost.onAdminMessage`),
 * retrying every POLL_MS until the configuration shows the step done: a
 * leader that hands over before removing itself (§3.10), a leader deposed
 * with the change uncommitted, or a change refused (a learner not yet caught
 * up) is asked again, of whoever leads then. It never removes below a
 * majority of the original membership. Pure bookkeeping over the
 * simulation's event queue: no IO, no real time.
 */
import type { NodeHost } from '../node/host.js';
import type { AdminCommand } from '../node/protocol.js';
import { isMember, isVoter } from '../node/raft/configuration.js';
import type { NodeId } from '../node/raft/types.js';
import { assertNever } from '../node/util/assert.js';

/** Between two looks at the leader while a step waits (simulated ms): a few heartbeats. */
export const POLL_MS = 20;

/** What the driver needs of the simulation. */
export interface MembershipWorld {
  now(): number;
  /** Runs `fn` `delayMs` from now on the simulation's queue. */
  schedule(delayMs: number, fn: () => void): void;
  /** The live leader with the highest term, if any. */
  leader(): { readonly id: NodeId; readonly host: NodeHost } | null;
  /** Whether `id`'s process stopped because it was removed (and is not started again yet). */
  exited(id: NodeId): boolean;
  /** Starts `id`'s process again on its own disk (it was stopped by its removal). */
  restart(id: NodeId): void;
  note(line: string): void;
}

type Phase = 'remove' | 'out' | 'add' | 'catch_up' | 'promote';

interface Cycle {
  readonly node: NodeId;
  /** How long the node stays out once its removal is committed. */
  readonly outMs: number;
  phase: Phase;
  /** 'out' ends then (simulated ms). */
  outUntilMs: number;
  /** Names the admin request of the current step (a retry of the same step reuses it). */
  requestId: string;
}

/**
 * Cycles that may run at once: two admins. The core allows one change in flight (§4.1) and refuses the rest; two
 * cycles with different targets are what lets two leaders of different terms each propose a different change, the
 * shape of the bug Ongaro's 2015 fix closes (`--unsafe-conf-change-before-term-commit`).
 */
export const MAX_CYCLES = 2;

export class MembershipDriver {
  private readonly cycles: Cycle[] = [];
  private nextRequest = 1;
  /** After the heal: every original member must be a voter again; no new removals. */
  private restoring = false;
  private polling = false;
  private looks = 0;
  /** Completed cycles and changes asked for (for the run's statistics). */
  readonly stats = { cycles: 0, requests: 0 };

  constructor(
    private readonly world: MembershipWorld,
    /** The bootstrap voters (all of the simulation's nodes). */
    private readonly members: readonly NodeId[],
  ) {}

  /**
   * A `membership` fault: start a cycle for `node` (null: the leader at this
   * moment). Skipped, with a note, while MAX_CYCLES run or one runs for the
   * same node, and after the heal.
   */
  start(node: NodeId | null, outMs: number): void {
    if (this.restoring) return;
    if (this.cycles.length >= MAX_CYCLES) {
      this.world.note(`membership: ${this.cycles.length} cycles are under way; this one is skipped`);
      return;
    }
    const target = node ?? this.world.leader()?.id ?? null;
    if (target === null) {
      this.world.note('membership: no leader to remove');
      return;
    }
    if (this.cycles.some((cycle) => cycle.node === target)) {
      this.world.note(`membership: a cycle for ${target} is under way; this one is skipped`);
      return;
    }
    this.cycles.push({ node: target, outMs, phase: 'remove', outUntilMs: 0, requestId: this.newRequestId() });
    this.world.note(`membership: cycle starts: remove ${target}, out ${outMs} ms, then add it back and promote it`);
    this.poll();
  }

  /** The heal: finish the cycle under way at once (no more time out) and put back every original member that does not vote. */
  restore(): void {
    this.restoring = true;
    for (const cycle of this.cycles) if (cycle.phase === 'out') cycle.outUntilMs = this.world.now();
    this.poll();
  }

  private newRequestId(): string {
    return `sim-admin-${this.nextRequest++}`;
  }

  private poll(): void {
    if (this.polling) return;
    this.polling = true;
    this.world.schedule(0, () => this.step());
  }

  private step(): void {
    this.polling = false;
    if (this.cycles.length === 0 && this.restoring && !this.nextRestore()) return;
    // Each look starts with another cycle: when two ask a new leader, either may be first (its change is the one proposed).
    this.looks++;
    const order = this.cycles.map((_, k) => this.cycles[(k + this.looks) % this.cycles.length]!);
    for (const cycle of order) {
      if (!this.advance(cycle)) this.cycles.splice(this.cycles.indexOf(cycle), 1);
    }
    if (this.cycles.length > 0 || this.restoring) {
      this.polling = true;
      this.world.schedule(POLL_MS, () => this.step());
    }
  }

  /**
   * After the heal, with no cycle left: a cycle (from its add step) for the first original member that does not vote
   * in the leader's committed configuration. False when every one votes (the driver is done).
   */
  private nextRestore(): boolean {
    const leader = this.world.leader();
    if (leader === null) return true; // look again once there is one
    const core = leader.host.raft();
    const configuration = core.status().configuration;
    const missing = this.members.find((id) => !isVoter(configuration, id));
    if (missing === undefined && core.configurationCommitted()) {
      this.restoring = false;
      return false;
    }
    if (missing === undefined) return true;
    this.cycles.push({ node: missing, outMs: 0, phase: 'add', outUntilMs: 0, requestId: this.newRequestId() });
    this.world.note(`membership: the heal puts ${missing} back (add it as a learner, promote it)`);
    return true;
  }

  /** One look at the leader for the cycle's step; false once the cycle is over. */
  private advance(cycle: Cycle): boolean {
    if (cycle.phase === 'out') {
      if (this.world.now() < cycle.outUntilMs) return true;
      this.enter(cycle, 'add');
    }
    if ((cycle.phase === 'add' || cycle.phase === 'catch_up') && this.world.exited(cycle.node)) {
      this.world.note(`membership: ${cycle.node} starts again on its own disk`);
      this.world.restart(cycle.node);
    }
    const leader = this.world.leader();
    if (leader === null) return true;
    const core = leader.host.raft();
    const configuration = core.status().configuration;
    const committed = core.configurationCommitted();
    const node = cycle.node;
    switch (cycle.phase) {
      case 'remove':
        if (!isMember(configuration, node)) {
          if (committed) {
            cycle.outUntilMs = this.world.now() + (this.restoring ? 0 : cycle.outMs);
            this.enter(cycle, 'out');
          }
          return true;
        }
        // Never below a majority of the original membership (a 3-node cluster keeps 2 voters, 5 keeps 3).
        if (isVoter(configuration, node) && configuration.voters.length - 1 < Math.floor(this.members.length / 2) + 1) {
          this.world.note(`membership: removing ${node} would leave fewer than a majority of the original voters; cycle ends`);
          return false;
        }
        if (committed) this.ask(leader.host, cycle, { type: 'remove', node });
        return true;
      case 'add':
        if (isMember(configuration, node)) {
          if (committed) this.enter(cycle, isVoter(configuration, node) ? 'promote' : 'catch_up');
          return true;
        }
        if (committed) this.ask(leader.host, cycle, { type: 'add', node });
        return true;
      case 'catch_up':
        if (isVoter(configuration, node)) {
          this.enter(cycle, 'promote');
          return true;
        }
        if (!isMember(configuration, node)) {
          this.enter(cycle, 'add'); // the learner's addition was lost with a deposed leader's log
          return true;
        }
        if (committed && core.progressOf(node)?.caughtUp === true) {
          this.enter(cycle, 'promote');
          this.ask(leader.host, cycle, { type: 'promote', node });
        }
        return true;
      case 'promote':
        if (isVoter(configuration, node)) {
          if (!committed) return true;
          this.world.note(`membership: ${node} votes again; cycle done`);
          this.stats.cycles++;
          return false;
        }
        if (!isMember(configuration, node)) this.enter(cycle, 'add');
        else if (committed) this.ask(leader.host, cycle, { type: 'promote', node });
        return true;
      case 'out':
        return true;
      default:
        return assertNever(cycle.phase, 'membership phase');
    }
  }

  private enter(cycle: Cycle, phase: Phase): void {
    cycle.phase = phase;
    cycle.requestId = this.newRequestId();
  }

  /** Asks the leader for a change, as `rift-node admin` would (the answer is not needed: the next look shows the step). */
  private ask(host: NodeHost, cycle: Cycle, command: AdminCommand): void {
    this.stats.requests++;
    host.onAdminMessage(
      { type: 'admin_request', requestId: cycle.requestId, command },
      { host: 'sim-admin', port: 0, sender: 'sim-admin', instance: 0 },
    );
  }
}
