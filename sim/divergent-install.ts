/**
 * The divergent-install fault in the simulator (issue 18): a follower that
 * holds a minority term's entries past the index of a snapshot whose last
 * entry is of an OLDER term, sent that snapshot by a later leader. Its own
 * entry at the snapshot's index is not the snapshot's, so §7 says: discard
 * the whole log. One that keeps what follows and answers that it matches up
 * to its last index (`--unsafe-keep-log-on-install`) lets the leader commit
 * on a copy it does not hold. Random faults almost never line this up (its
 * old mix, 3 nodes, crash-heavy, with one entry per AppendEntries in a
 * scratch build, 2026-12-07: 300 runs installed 198 snapshots, not one onto
 * a log with entries to keep; 1,500 more, 995 installs, no violation): the snapshot must end on an entry
 * older than the follower's tail, and a node's snapshot ends where its
 * commit index stopped, which on an older-term entry only a heartbeat at a
 * leader's compaction point does (it carries the commit index capped there:
 * the model checker's path, test/mc/snapshots.test.ts). So this fault plays
 * it, on five nodes (snapshots every few entries, one trailing entry):
 *
 * 1. old_term: the leader L cut off with one follower M, the other three
 *    hearing only votes; `writes` puts proposed at L (term t1) reach M only,
 *    which never learns them committed.
 * 2. tail: the first of the three to lead a later term, W (term tF > t1),
 *    reaches nobody (the others hear only votes): puts are proposed at it
 *    until its log is `TAIL_MARGIN` entries longer than L's and M's, and L
 *    has stepped down (check-quorum), so L's log is final.
 * 3. commit_old: L with X and S (the other two), M and W each alone, nobody
 *    deaf: L (the only one there with the t1 puts) leads a term above tF,
 *    commits the puts with its noop, snapshots there and compacts to the
 *    entry before it, p, one of the t1 puts that M holds.
 * 4. heartbeat: M joins them. L has not heard M this term, so its heartbeat
 *    to M goes at its compaction point p with the commit index capped at p:
 *    M commits and applies exactly up to p and snapshots there (p@t1), and
 *    compacts past W's first tail entry.
 * 5. transfer: L hands leadership to M (TimeoutNow, §3.10); puts at M until
 *    its log is as long as W's (a leader ignores a claim past its own last
 *    index, node/raft/raft.ts handleAppendResponse).
 * 6. split: M, W and X together, L and S cut off. W answers M's probe with
 *    its conflict term tF, which M's log does not have (neither in its
 *    entries nor as its snapshot's term), so M's next index for W falls
 *    below its compaction point and M sends the snapshot p@t1. A correct W
 *    discards its log, answers p and is caught up: M commits with W and X. A
 *    W that keeps its tF entries past p and claims them makes M count it for
 *    entries it lacks: M commits on M and X alone, 2 of 5 (the commit-quorum
 *    check), and once healed L, S and W elect a leader without them.
 *
 * Then the heal. Every step has a deadline (simulated ms); a step whose
 * condition does not hold (a snapshot elsewhere, a leader lost) ends the run
 * with a note saying why, and giving up heals what the fault cut. Pure
 * bookkeeping over the simulation's event queue, as sim/change-race.ts: no
 * IO, no real time; one run at a time, none after the heal; five nodes
 * exactly (skipped, with a note, otherwise).
 */
import type { NodeHost, ReplyAddress } from '../node/host.js';
import { isVoter } from '../node/raft/configuration.js';
import type { Entry, NodeId } from '../node/raft/types.js';
import { assertNever } from '../node/util/assert.js';
import { POLL_MS } from './membership.js';

/** What the driver needs of the simulation. */
export interface DivergentInstallWorld {
  now(): number;
  schedule(delayMs: number, fn: () => void): void;
  /** The simulation's node ids, in index order. */
  readonly ids: readonly NodeId[];
  /** A running node's host, or null (down). */
  host(id: NodeId): NodeHost | null;
  /** The live leader with the highest term, if any. */
  leader(): { readonly id: NodeId; readonly host: NodeHost } | null;
  /** Cuts the network into these groups (what is not listed is cut from everyone); replaces any partition. */
  partition(groups: readonly (readonly NodeId[])[]): void;
  healPartitions(): void;
  /** These nodes hear only RequestVote and its answers from now on (empty: nobody is deaf). */
  onlyVotesTo(ids: readonly NodeId[]): void;
  note(line: string): void;
}

/** How long each step may take (simulated ms): several election timeouts (150-300 ms). */
export const STEP_DEADLINE_MS = 3000;
/** How long S, W and X stay together before the heal. */
export const SPLIT_MS = 300;
export const DIVERGENT_INSTALL_NODES = 5;
/**
 * How many entries W's tail must outrun L's and M's logs by: S's noop and the
 * clients' writes at L or M meanwhile must fall within it, or W's claim
 * covers nothing S commits.
 */
export const TAIL_MARGIN = 8;
/** Bound on puts proposed at W (the tail) in one poll. */
const maxTailPuts = 64;
/** The key the fault's own puts write: no client of the simulation reads or writes it. */
export const DIVERGENT_KEY = 'divergent-install';

type Phase = 'tail' | 'commit_old' | 'heartbeat' | 'transfer' | 'split';

interface Play {
  phase: Phase;
  readonly l: NodeId;
  readonly m: NodeId;
  /** The three that hear only votes in old_term and tail. */
  readonly deaf: readonly NodeId[];
  readonly t1: number;
  w: NodeId | null;
  x: NodeId | null;
  s: NodeId | null;
  /** W's term and the index of its first entry of that term. */
  tailTerm: number;
  tailFrom: number;
  /** L's term once it leads again (commit_old), and its compaction point p. */
  lTerm: number;
  p: number;
  deadlineMs: number;
  splitUntilMs: number;
}

const replyTo: ReplyAddress = { host: 'sim-divergent-install', port: 0, sender: 'sim-divergent-install', instance: 0 };

export class DivergentInstallDriver {
  private play: Play | null = null;
  private stopped = false;
  private nextPut = 1;
  /** Runs started; runs whose M snapshotted on a t1 entry past W's first (step 4 passed); runs that reached the split. */
  readonly stats = { started: 0, olderSnapshots: 0, split: 0 };

  constructor(private readonly world: DivergentInstallWorld) {}

  /** A `divergent_install` fault: M is the `node`-th follower (mod their number); `writes` puts at L in term t1. */
  start(node: number, writes: number): void {
    if (this.stopped || this.play !== null) {
      this.world.note(`divergent-install: ${this.stopped ? 'after the heal' : 'a run is under way'}; skipped`);
      return;
    }
    if (this.world.ids.length !== DIVERGENT_INSTALL_NODES) {
      this.world.note(`divergent-install: ${this.world.ids.length} nodes; it needs ${DIVERGENT_INSTALL_NODES}; skipped`);
      return;
    }
    const leader = this.world.leader();
    const core = leader?.host.raft();
    const status = core?.status();
    if (leader === null || core === undefined || status === undefined) {
      this.world.note('divergent-install: no leader; skipped');
      return;
    }
    if (!core.configurationCommitted() || !this.world.ids.every((id) => isVoter(status.configuration, id))) {
      this.world.note(`divergent-install: the leader's configuration is not all five committed voters; skipped`);
      return;
    }
    const followers = this.world.ids.filter((id) => id !== leader.id);
    const m = followers[((node % followers.length) + followers.length) % followers.length]!;
    const deaf = followers.filter((id) => id !== m);
    this.play = {
      phase: 'tail',
      l: leader.id,
      m,
      deaf,
      t1: status.currentTerm,
      w: null,
      x: null,
      s: null,
      tailTerm: 0,
      tailFrom: 0,
      lTerm: 0,
      p: 0,
      deadlineMs: this.world.now() + STEP_DEADLINE_MS,
      splitUntilMs: 0,
    };
    this.stats.started++;
    // old_term: L and M alone, the others deaf to all but votes; the puts reach M only.
    this.world.partition([[leader.id, m], deaf]);
    this.world.onlyVotesTo(deaf);
    for (let i = 0; i < Math.max(1, writes); i++) this.put(leader.host);
    this.world.note(
      `divergent-install: starts: ${leader.id} (term ${status.currentTerm}) cut off with ${m}, ${Math.max(1, writes)} puts there; ` +
        `${deaf.join(', ')} hear only votes`,
    );
    this.world.schedule(POLL_MS, () => this.step());
  }

  /** The heal: undo what a run under way cut, and start no more. */
  stop(): void {
    this.stopped = true;
    if (this.play !== null) this.end('stopped by the heal');
  }

  private step(): void {
    const play = this.play;
    if (play === null) return;
    if (this.world.now() > play.deadlineMs) {
      this.end(`gave up in phase ${play.phase}`);
      return;
    }
    if (!this.advance(play)) return;
    this.world.schedule(POLL_MS, () => this.step());
  }

  private enter(play: Play, phase: Phase): void {
    play.phase = phase;
    play.deadlineMs = this.world.now() + STEP_DEADLINE_MS;
  }

  /** One look; false once the run is over. */
  private advance(play: Play): boolean {
    switch (play.phase) {
      case 'tail':
        return this.tail(play);
      case 'commit_old': {
        const l = this.world.host(play.l)?.raft();
        const status = l?.status();
        if (l === undefined || status === undefined || status.role !== 'leader' || status.currentTerm <= play.tailTerm) {
          if (play.lTerm > 0) return this.end(`${play.l} stopped leading term ${play.lTerm}`);
          return true;
        }
        play.lTerm = status.currentTerm;
        const noop = this.firstOfTerm(play.l, status.currentTerm);
        const p = status.firstIndex - 1;
        if (noop === null || status.commitIndex < noop || p < noop - 1) return true; // not yet committed, snapshotted and compacted
        const m = this.world.host(play.m)?.raft().status();
        if (m === undefined) return this.end(`${play.m} is down`);
        // p must be one of the t1 puts M holds (M's log past its commit index is exactly L's t1 run) and past W's first tail entry.
        if (p > m.lastLogIndex || p <= play.tailFrom || m.commitIndex >= p)
          return this.end(
            `${play.l} compacted to ${p}, not a term-${play.t1} put that ${play.m} holds uncommitted past ${play.w}'s tail start ` +
              `${play.tailFrom} (${play.m}: last ${m.lastLogIndex}, commit ${m.commitIndex})`,
          );
        play.p = p;
        this.world.partition([[play.l, play.x!, play.s!, play.m], [play.w!]]);
        this.world.note(
          `divergent-install: ${play.l} (term ${play.lTerm}) committed the term-${play.t1} puts and compacted to ${p}; ${play.m} joins`,
        );
        this.enter(play, 'heartbeat');
        return true;
      }
      case 'heartbeat': {
        const l = this.world.host(play.l)?.raft();
        const lStatus = l?.status();
        if (l === undefined || lStatus === undefined || lStatus.role !== 'leader' || lStatus.currentTerm !== play.lTerm)
          return this.end(`${play.l} stopped leading term ${play.lTerm} before ${play.m} snapshotted`);
        const m = this.world.host(play.m)?.raft().status();
        if (m === undefined) return this.end(`${play.m} is down`);
        if (m.snapshot === null || m.snapshot.index !== play.p || m.firstIndex <= play.tailFrom) {
          if (m.commitIndex > play.p && (m.snapshot === null || m.snapshot.index < play.p))
            return this.end(`${play.m} committed past ${play.p} without a snapshot there`);
          return true; // its snapshot is on its way to disk, or the heartbeat is
        }
        this.stats.olderSnapshots++;
        l.transferLeadership(play.m);
        this.world.note(
          `divergent-install: ${play.m} snapshotted at ${m.snapshot.index}@${m.snapshot.term}, below ${play.w}'s tail (term ${play.tailTerm} ` +
            `from ${play.tailFrom}); ${play.l} hands leadership to it`,
        );
        this.enter(play, 'transfer');
        return true;
      }
      case 'transfer': {
        const mHost = this.world.host(play.m);
        const m = mHost?.raft().status();
        const wLast = this.world.host(play.w!)?.raft().status().lastLogIndex ?? 0;
        if (mHost === null || mHost === undefined || m === undefined || m.role !== 'leader' || m.currentTerm <= play.lTerm) return true;
        // A leader ignores a follower's claim past its own last index: puts at M until its log reaches W's tail's end, so
        // that what W claims is what M has, past M's commit index.
        for (let i = 0; i < Math.min(maxTailPuts, wLast - m.lastLogIndex); i++) this.put(mHost);
        this.world.partition([
          [play.m, play.w!, play.x!],
          [play.l, play.s!],
        ]);
        this.stats.split++;
        this.world.note(`divergent-install: ${play.m} leads term ${m.currentTerm}; ${play.m}, ${play.w} and ${play.x} together`);
        play.splitUntilMs = this.world.now() + SPLIT_MS;
        this.enter(play, 'split');
        return true;
      }
      case 'split':
        if (this.world.now() < play.splitUntilMs) return true;
        return this.end('done: healed');
      default:
        return assertNever(play.phase, 'divergent-install phase');
    }
  }

  /** Phase tail: W found, its tail grown past L's and M's logs, L stepped down; then commit_old. */
  private tail(play: Play): boolean {
    if (play.w === null) {
      const w = this.leading(play.deaf, play.t1);
      if (w === null) return true;
      play.w = w.id;
      play.tailTerm = w.host.raft().status().currentTerm;
      play.tailFrom = this.firstOfTerm(w.id, play.tailTerm) ?? w.host.raft().status().lastLogIndex + 1;
      this.world.note(`divergent-install: ${w.id} leads term ${play.tailTerm}, heard by nobody, its tail from ${play.tailFrom}`);
    }
    const w = this.world.host(play.w);
    const wStatus = w?.raft().status();
    const lStatus = this.world.host(play.l)?.raft().status();
    const mStatus = this.world.host(play.m)?.raft().status();
    if (w === null || w === undefined || wStatus === undefined || lStatus === undefined || mStatus === undefined)
      return this.end('a node of the play is down');
    const target = Math.max(lStatus.lastLogIndex, mStatus.lastLogIndex) + TAIL_MARGIN;
    if (wStatus.lastLogIndex < target) {
      if (wStatus.role !== 'leader' || wStatus.currentTerm !== play.tailTerm)
        return this.end(`${play.w} stopped leading before its tail reached ${target}`);
      for (let i = 0; i < Math.min(maxTailPuts, target - wStatus.lastLogIndex); i++) this.put(w);
      return true;
    }
    if (lStatus.role === 'leader') return true; // its log may still grow: wait for check-quorum
    const rest = play.deaf.filter((id) => id !== play.w).sort();
    play.x = rest[0]!;
    play.s = rest[1]!;
    this.world.onlyVotesTo([]);
    this.world.partition([[play.l, play.x, play.s], [play.m], [play.w]]);
    this.world.note(
      `divergent-install: ${play.w}'s tail reaches ${wStatus.lastLogIndex} (term ${play.tailTerm}); ${play.l}, ${play.x} and ${play.s} together, ` +
        `${play.m} and ${play.w} alone`,
    );
    this.enter(play, 'commit_old');
    return true;
  }

  /** The first of `ids` that leads a term above `term`. */
  private leading(ids: readonly NodeId[], term: number): { readonly id: NodeId; readonly host: NodeHost } | null {
    for (const id of ids) {
      const host = this.world.host(id);
      const status = host?.raft().status();
      if (host !== null && host !== undefined && status?.role === 'leader' && status.currentTerm > term) return { id, host };
    }
    return null;
  }

  /** The index of `id`'s first log entry of `term`, or null. */
  private firstOfTerm(id: NodeId, term: number): number | null {
    const log: readonly Entry[] = this.world.host(id)?.raft().log() ?? [];
    return log.find((e) => e.term === term)?.index ?? null;
  }

  /** A put proposed at `host` as a client of its own would send it (a fresh client each, so none waits on another). */
  private put(host: NodeHost): void {
    const n = this.nextPut++;
    host.onClientMessage(
      {
        type: 'client_request',
        clientId: `sim-divergent-install-${n}`,
        instance: 1,
        seq: 1,
        op: { type: 'put', key: DIVERGENT_KEY, value: `p${n}` },
      },
      replyTo,
    );
  }

  /** Ends the run: the network whole again, nobody deaf. Returns false (for `advance`). */
  private end(why: string): false {
    this.world.healPartitions();
    this.world.onlyVotesTo([]);
    this.world.note(`divergent-install: ${why}`);
    this.play = null;
    return false;
  }
}
