/**
 * The pure Raft core: one peer's state machine, modelled on etcd-io/raft.
 *
 * Inputs: `tick()` (logical time), `step(message)`, `propose(data)`,
 * `readIndex(requestId)`, `transferLeadership(to)`, `campaign()`.
 * Output: a drained {@link Ready} batch the driver persists (and fsyncs),
 * then sends, then applies, in that order. Nothing here does IO, reads a
 * clock or draws randomness by itself (the injected {@link Prng}); every
 * iteration over peers follows the sorted peer list, so the same inputs and
 * seed give the same outputs.
 *
 * Structure (etcd `raft.go`): term handling lives in one place at the top of
 * `step` (§5.1), then one handler per message type that branches on the role.
 *
 * Divergences from the paper, all from etcd-io/raft / the thesis:
 * - pre-vote (thesis §9.6) and check-quorum with leader stickiness (thesis
 *   §4.2.3, §6.2): a node that heard from a leader within the minimum election
 *   timeout ignores RequestVote, unless it is a leadership-transfer campaign;
 * - a node answers a stale-term AppendEntries/RequestVote with its own term
 *   so the sender steps down;
 * - heartbeats are empty AppendEntries at the follower's matchIndex, so they
 *   never fail the consistency check because of in-flight entries.
 */
import { assert, assertNever, assertionFailed } from '../util/assert.js';
import { RaftLog, entrySizeBytes, isAtLeastAsUpToDate } from './log.js';
import { Progress, type ProgressState } from './progress.js';
import { quorumSize, quorumValue } from './quorum.js';
import { PendingReads } from './read-only.js';
import type { ProgressSnapshot, RaftNodeState, SeqTickSnapshot } from './state.js';
import type {
  AppendEntries,
  AppendEntriesResponse,
  Entry,
  HardState,
  NodeId,
  Prng,
  ProposeResult,
  RaftConfig,
  RaftMessage,
  ReadRejection,
  ReadState,
  Ready,
  RequestVote,
  RequestVoteResponse,
  Role,
  SoftState,
  StoredState,
} from './types.js';

export interface RaftStatus extends SoftState {
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  readonly votedFor: NodeId | null;
}

/** Read-only view of the leader's progress for one follower (tests, status pages). */
export interface ProgressView {
  readonly matchIndex: number;
  readonly nextIndex: number;
  readonly state: ProgressState;
  readonly inflight: number;
}

/** Shared empty outputs for Readies that have none (frozen: nobody may push into them). */
const NO_ENTRIES: readonly Entry[] = Object.freeze([]);
const NO_MESSAGES: readonly RaftMessage[] = Object.freeze([]);
const NO_READ_STATES: readonly ReadState[] = Object.freeze([]);
const NO_READ_REJECTIONS: readonly ReadRejection[] = Object.freeze([]);
const NO_NOTICES: readonly string[] = Object.freeze([]);
/** Stands in for the caller's PRNG while {@link RaftNode.fromState} constructs (the constructor draws a timeout the restore then overwrites). */
const constantPrng: Prng = { nextInt: (min) => min };

export class RaftNode {
  private readonly config: RaftConfig;
  /** Not readonly only so that {@link RaftNode.fromState} can install the caller's PRNG after construction. */
  private prng: Prng;
  /** Every other voter, sorted: the only order in which peers are ever visited (determinism). */
  private readonly peers: readonly NodeId[];
  private readonly peerSet: ReadonlySet<NodeId>;
  private readonly quorum: number;
  private readonly raftLog: RaftLog;

  // Figure 2 state.
  private currentTerm: number;
  private votedFor: NodeId | null;
  private commitIndex = 0;
  private role: Role = 'follower';
  private leaderId: NodeId | null = null;

  // Logical clocks, in ticks.
  /** Ticks since the last reset; for the leader, the check-quorum window. */
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /** Monotonic tick count since construction (lease reads measure against it). */
  private ticks = 0;

  // Candidate / pre-candidate state.
  private readonly votes = new Map<NodeId, boolean>();
  /** Whether the current campaign is a leadership transfer (its RequestVote retries say so too). */
  private campaignIsTransfer = false;
  /** Rounds of (pre-)votes started since construction: RequestVote carries it, answers echo it (stale rounds do not count). */
  private campaignNumber = 0;
  /**
   * True from construction until we first hear from a leader or campaign
   * ourselves. A leader's lease (thesis §6.4.1) rests on its followers'
   * promise not to vote for a minimum election timeout after they answered
   * it; that promise lives in memory, so a follower that restarts within the
   * window would forget it and vote at once. We cannot know when we last
   * answered a leader, so after a restart we assume "just now" and keep the
   * promise for one more minimum election timeout. (The promise is about
   * time, not term: it holds whatever the stored term, except term 0: a
   * node that never left it never answered a leader.)
   */
  private mayHaveLeaseholder: boolean;

  // Leader state.
  private readonly progress = new Map<NodeId, Progress>();
  /** Per-term counter of AppendEntries sent (the `seq` field). */
  private seq = 0;
  /** (first seq issued at a tick, that tick), ascending; only kept for lease reads. */
  private seqTicks: { seq: number; tick: number }[] = [];
  private uncommittedBytes = 0;
  private leadTransferee: NodeId | null = null;
  private transferElapsed = 0;
  private readonly reads = new PendingReads();
  /** seq of a read-confirmation broadcast queued since the last ready(): later reads join it. */
  private readRoundSeq: number | null = null;
  /** New entries were appended since the last ready(): send them to followers before draining. */
  private appendsPending = false;

  // Ready bookkeeping: what the driver has not been handed yet.
  private lastHardState: HardState;
  private lastSoftState: SoftState;
  /** First log index not yet handed out in `entriesToAppend`. */
  private unstableFrom: number;
  /** Highest index the driver reported durable (parallelLeaderAppend only; §10.2.1). */
  private persistedIndex: number;
  /** Highest index handed out in `committedEntries`. */
  private handedOutIndex = 0;
  private outbox: RaftMessage[] = [];
  private readStates: ReadState[] = [];
  private readRejections: ReadRejection[] = [];
  private notices: string[] = [];

  constructor(config: RaftConfig, stored: StoredState, prng: Prng) {
    validateConfig(config);
    this.config = config;
    this.prng = prng;
    this.peers = [...config.peers].filter((peer) => peer !== config.id).sort();
    this.peerSet = new Set(this.peers);
    this.quorum = quorumSize(config.peers.length);
    this.raftLog = new RaftLog(stored.entries);

    const { currentTerm, votedFor } = stored.hardState;
    assert(Number.isSafeInteger(currentTerm) && currentTerm >= 0, `stored currentTerm must be a non-negative integer, got ${currentTerm}`);
    assert(votedFor === null || config.peers.includes(votedFor), `stored votedFor ${votedFor} is not a peer`);
    assert(this.raftLog.lastTerm() <= currentTerm, `stored log has term ${this.raftLog.lastTerm()} above currentTerm ${currentTerm}`);
    this.currentTerm = currentTerm;
    this.votedFor = votedFor;
    this.lastHardState = { currentTerm, votedFor };
    this.unstableFrom = this.raftLog.lastIndex() + 1;
    this.persistedIndex = this.raftLog.lastIndex();
    // A node that never left term 0 never answered a leader: nothing to keep.
    this.mayHaveLeaseholder = currentTerm > 0 && config.unsafe.forgetLeaseOnRestart !== true;
    this.resetTimers();
    this.lastSoftState = this.softState();
  }

  get id(): NodeId {
    return this.config.id;
  }

  // ---------------------------------------------------------------- state as data

  /**
   * Everything this core holds, as plain immutable data (see
   * {@link RaftNodeState} for what is normalised and why). Read-only: the
   * core is unchanged. `RaftNode.fromState(config, core.snapshotState(),
   * prng)` is a core that behaves exactly as this one from here on.
   */
  snapshotState(): RaftNodeState {
    const now = this.ticks;
    const leaseTicks = this.config.leaseTicks;
    const progress: (readonly [NodeId, ProgressSnapshot])[] = [];
    for (const peer of this.peers) {
      const p = this.progress.get(peer);
      if (p !== undefined) progress.push([peer, p.toSnapshot(now, leaseTicks)]);
    }
    const votes: (readonly [NodeId, boolean])[] = [];
    for (const voter of [this.config.id, ...this.peers].sort()) {
      const vote = this.votes.get(voter);
      if (vote !== undefined) votes.push([voter, vote]);
    }
    return {
      log: this.raftLog.all().slice(),
      currentTerm: this.currentTerm,
      votedFor: this.votedFor,
      commitIndex: this.commitIndex,
      role: this.role,
      leaderId: this.leaderId,
      electionElapsed: this.electionElapsed,
      heartbeatElapsed: this.heartbeatElapsed,
      randomizedElectionTimeout: this.randomizedElectionTimeout,
      votes,
      campaignIsTransfer: this.campaignIsTransfer,
      campaignNumber: this.campaignNumber,
      mayHaveLeaseholder: this.mayHaveLeaseholder,
      progress,
      seq: this.seq,
      seqTicks: this.seqTickSnapshot(now, leaseTicks),
      uncommittedBytes: this.uncommittedBytes,
      leadTransferee: this.leadTransferee,
      transferElapsed: this.transferElapsed,
      readsAwaitingCommit: this.reads.awaitingList(),
      readsConfirming: this.reads.confirmingList(),
      readRoundSeq: this.readRoundSeq,
      appendsPending: this.appendsPending,
      lastHardState: this.lastHardState,
      lastSoftState: this.lastSoftState,
      unstableFrom: this.unstableFrom,
      persistedIndex: this.persistedIndex,
      handedOutIndex: this.handedOutIndex,
      outbox: this.outbox.slice(),
      readStates: this.readStates.slice(),
      readRejections: this.readRejections.slice(),
    };
  }

  /**
   * A core in exactly the state `state` describes (the inverse of
   * {@link snapshotState}), with `config` (the same the snapshot was taken
   * with) and `prng` for its future election timeouts. Its tick count
   * starts at 0; tick-valued fields are placed relative to it.
   */
  static fromState(config: RaftConfig, state: RaftNodeState, prng: Prng): RaftNode {
    const node = new RaftNode(config, { hardState: { currentTerm: state.currentTerm, votedFor: state.votedFor }, entries: state.log }, constantPrng);
    node.prng = prng;
    node.restore(state);
    return node;
  }

  /**
   * The seq-to-send-tick points that can still make a lease valid. A point
   * at least leaseTicks ago maps its seqs to an expired send time, exactly as
   * having no point for them does (sendTickOf then says "never"), so such
   * points are left out: cores that pruned them at different moments
   * (nextSeq) give the same snapshot.
   */
  private seqTickSnapshot(now: number, leaseTicks: number | null): SeqTickSnapshot[] {
    const points: SeqTickSnapshot[] = [];
    for (const point of this.seqTicks) {
      const ticksAgo = now - point.tick;
      if (leaseTicks === null || ticksAgo < leaseTicks) points.push({ seq: point.seq, ticksAgo });
    }
    return points;
  }

  private restore(state: RaftNodeState): void {
    assert(state.role === 'leader' || state.progress.length === 0, 'only a leader has progress');
    assert(state.commitIndex <= this.raftLog.lastIndex(), 'restored commitIndex within the log');
    this.commitIndex = state.commitIndex;
    this.role = state.role;
    this.leaderId = state.leaderId;
    this.electionElapsed = state.electionElapsed;
    this.heartbeatElapsed = state.heartbeatElapsed;
    this.randomizedElectionTimeout = state.randomizedElectionTimeout;
    this.ticks = 0;
    this.votes.clear();
    for (const [voter, vote] of state.votes) this.votes.set(voter, vote);
    this.campaignIsTransfer = state.campaignIsTransfer;
    this.campaignNumber = state.campaignNumber;
    this.mayHaveLeaseholder = state.mayHaveLeaseholder;
    this.progress.clear();
    for (const [peer, snapshot] of state.progress) this.progress.set(peer, Progress.fromSnapshot(snapshot, 0));
    this.seq = state.seq;
    this.seqTicks = state.seqTicks.map((point) => ({ seq: point.seq, tick: -point.ticksAgo }));
    this.uncommittedBytes = state.uncommittedBytes;
    this.leadTransferee = state.leadTransferee;
    this.transferElapsed = state.transferElapsed;
    this.reads.restore(state.readsAwaitingCommit, state.readsConfirming);
    this.readRoundSeq = state.readRoundSeq;
    this.appendsPending = state.appendsPending;
    this.lastHardState = state.lastHardState;
    this.lastSoftState = state.lastSoftState;
    this.unstableFrom = state.unstableFrom;
    this.persistedIndex = state.persistedIndex;
    this.handedOutIndex = state.handedOutIndex;
    this.outbox = state.outbox.slice();
    this.readStates = state.readStates.slice();
    this.readRejections = state.readRejections.slice();
    this.notices = [];
  }

  // ---------------------------------------------------------------- inputs

  /** One logical tick (§5.2: election timeout; heartbeats; check-quorum). */
  tick(): void {
    this.ticks++;
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  step(message: RaftMessage): void {
    if (message.to !== this.config.id || message.from === this.config.id || !this.peerSet.has(message.from)) return;
    if (!isWellFormed(message)) return;

    // §5.1: term handling, in one place.
    if (message.term > this.currentTerm) {
      if (message.type === 'request_vote' && !message.leadershipTransfer && this.inLeaderLease()) {
        // Leader stickiness (thesis §4.2.3): we heard from a live leader less
        // than a minimum election timeout ago, so this candidate cannot be
        // needed; ignoring it keeps a rejoining node from deposing the leader.
        return;
      }
      const keepsTerm =
        (message.type === 'request_vote' && message.preVote) ||
        (message.type === 'request_vote_response' && message.preVote && message.voteGranted);
      // A pre-vote request carries the term its sender *would* use, and a
      // granted pre-vote answer echoes it: neither changes our term (§9.6).
      // A rejected pre-vote answer with a higher term does.
      if (!keepsTerm) this.becomeFollower(message.term, message.type === 'append_entries' ? message.from : null);
    } else if (message.term < this.currentTerm) {
      this.answerStaleTerm(message);
      return;
    }

    switch (message.type) {
      case 'request_vote':
        this.handleRequestVote(message);
        return;
      case 'request_vote_response':
        this.handleRequestVoteResponse(message);
        return;
      case 'append_entries':
        this.handleAppendEntries(message);
        return;
      case 'append_entries_response':
        this.handleAppendEntriesResponse(message);
        return;
      case 'timeout_now':
        // Thesis §3.10: the leader asks us to campaign at once, skipping
        // pre-vote and leader stickiness. Only the leader we follow in this
        // term may ask: from anyone else it would force an election that
        // bypasses stickiness and the lease (and a follower that heard no
        // leader yet has no transfer to take part in).
        if (this.role === 'follower' && message.from === this.leaderId) this.hup(true);
        return;
      default:
        assertNever(message, 'raft message');
    }
  }

  propose(data: string): ProposeResult {
    if (this.role !== 'leader') return { ok: false, reason: 'not_leader', leaderHint: this.leaderId };
    if (this.leadTransferee !== null) {
      return { ok: false, reason: 'proposal_dropped', detail: `leadership transfer to ${this.leadTransferee} in progress` };
    }
    const entry: Entry = { term: this.currentTerm, index: this.raftLog.lastIndex() + 1, type: 'command', data };
    const size = entrySizeBytes(entry);
    // Like etcd's MaxUncommittedEntriesSize: always admit one entry when nothing is pending.
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + size > this.config.maxUncommittedBytes) {
      return {
        ok: false,
        reason: 'proposal_dropped',
        detail: `uncommitted log tail is ${this.uncommittedBytes} bytes; limit ${this.config.maxUncommittedBytes}`,
      };
    }
    this.uncommittedBytes += size;
    this.appendAsLeader(entry);
    return { ok: true, index: entry.index, term: entry.term };
  }

  /** Thesis §6.4 ReadIndex: the answer arrives later in `Ready.readStates` or `Ready.readRejections`. */
  readIndex(requestId: string): void {
    if (this.role !== 'leader') {
      this.readRejections.push({ requestId, reason: 'not_leader', leaderHint: this.leaderId });
      return;
    }
    if (this.reads.size() >= this.config.maxPendingReads) {
      this.readRejections.push({ requestId, reason: 'overloaded', leaderHint: this.config.id });
      return;
    }
    // Step 1: until an entry of our own term is committed we do not know the
    // latest commit index (§8), so the read waits for the noop to commit.
    if (!this.committedEntryInCurrentTerm()) {
      if (this.config.unsafe.commitOldTerms && this.raftLog.lastTerm() !== this.currentTerm) {
        // Under the Figure 8 flag the term started without a noop (becomeLeader);
        // a read needs a current-term commit, so it appends the noop now.
        this.appendAsLeader({ term: this.currentTerm, index: this.raftLog.lastIndex() + 1, type: 'noop', data: '' });
      }
      this.reads.awaitCommit(requestId);
      return;
    }
    this.startRead(requestId);
  }

  /** Thesis §3.10: hand leadership to `to` once its log is caught up. */
  transferLeadership(to: NodeId): void {
    if (this.role !== 'leader' || to === this.config.id || !this.peerSet.has(to)) return;
    if (this.leadTransferee === to) return;
    this.leadTransferee = to;
    this.transferElapsed = 0;
    const progress = this.progressFor(to);
    if (progress.matchIndex === this.raftLog.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppends(to);
  }

  /** Start an election now (pre-vote first when configured). A leader ignores it. */
  campaign(): void {
    this.hup(false);
  }

  // ---------------------------------------------------------------- outputs

  hasReady(): boolean {
    return (
      this.appendsPending ||
      this.hardStateChanged() ||
      this.unstableFrom <= this.raftLog.lastIndex() ||
      this.outbox.length > 0 ||
      this.commitIndex > this.handedOutIndex ||
      this.readStates.length > 0 ||
      this.readRejections.length > 0 ||
      this.notices.length > 0 ||
      this.softStateChanged()
    );
  }

  /**
   * The driver reports that every entry up to `index` handed out so far is
   * durable. Needed only with `parallelLeaderAppend`; harmless otherwise.
   */
  persisted(index: number): void {
    if (!(Number.isSafeInteger(index) && index >= 0)) assertionFailed(`persisted index must be a non-negative integer, got ${index}`);
    const upTo = Math.min(index, this.unstableFrom - 1, this.raftLog.lastIndex());
    if (upTo <= this.persistedIndex) return;
    this.persistedIndex = upTo;
    if (this.role === 'leader' && this.maybeCommit()) this.broadcastCommit();
  }

  /** Drain every effect accumulated since the last call (see the contract on {@link Ready}). */
  ready(): Ready {
    this.flushAppends();
    const lastIndex = this.raftLog.lastIndex();
    const hardState = this.hardStateChanged() ? { currentTerm: this.currentTerm, votedFor: this.votedFor } : null;
    const entriesToAppend = this.unstableFrom <= lastIndex ? this.raftLog.slice(this.unstableFrom, lastIndex) : NO_ENTRIES;
    const committedEntries = this.commitIndex > this.handedOutIndex ? this.raftLog.slice(this.handedOutIndex + 1, this.commitIndex) : NO_ENTRIES;
    const softState = this.softState();
    const ready: Ready = {
      hardState,
      entriesToAppend,
      // An empty live array is never handed out: the driver may hold a Ready across a persist while new output accumulates.
      messages: this.outbox.length > 0 ? this.outbox : NO_MESSAGES,
      committedEntries,
      readStates: this.readStates.length > 0 ? this.readStates : NO_READ_STATES,
      readRejections: this.readRejections.length > 0 ? this.readRejections : NO_READ_REJECTIONS,
      softState,
      notices: this.notices.length > 0 ? this.notices : NO_NOTICES,
    };
    if (hardState !== null) this.lastHardState = hardState;
    this.lastSoftState = softState;
    this.unstableFrom = lastIndex + 1;
    this.handedOutIndex = Math.max(this.handedOutIndex, this.commitIndex);
    // Fresh arrays only where something was handed out (the driver keeps the old ones); a Ready per datagram is the common case.
    if (this.outbox.length > 0) this.outbox = [];
    if (this.readStates.length > 0) this.readStates = [];
    if (this.readRejections.length > 0) this.readRejections = [];
    if (this.notices.length > 0) this.notices = [];
    // Messages queued so far are about to be sent: a later read needs a later round.
    this.readRoundSeq = null;
    return ready;
  }

  status(): RaftStatus {
    // Built field by field, not by spreading softState(): this runs after every simulated event.
    return {
      role: this.role,
      leaderId: this.leaderId,
      currentTerm: this.currentTerm,
      commitIndex: this.commitIndex,
      lastLogIndex: this.raftLog.lastIndex(),
      lastLogTerm: this.raftLog.lastTerm(),
      votedFor: this.votedFor,
    };
  }

  /** The whole in-memory log (read-only; for tests and simulator invariants). */
  log(): readonly Entry[] {
    return this.raftLog.all();
  }

  hardState(): HardState {
    return { currentTerm: this.currentTerm, votedFor: this.votedFor };
  }

  /** The leader's progress for `peer`, or null when not leader. */
  progressOf(peer: NodeId): ProgressView | null {
    const progress = this.role === 'leader' ? this.progress.get(peer) : undefined;
    if (progress === undefined) return null;
    return { matchIndex: progress.matchIndex, nextIndex: progress.nextIndex, state: progress.state, inflight: progress.inflights.length };
  }

  // ---------------------------------------------------------------- time

  private tickElection(): void {
    this.electionElapsed++;
    // A minimum election timeout has passed since the restart (or since we
    // last reset our timer): any lease we might have promised has run out.
    if (this.electionElapsed >= this.config.electionTimeoutTicksMin) this.mayHaveLeaseholder = false;
    if (this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false); // §5.2: no word from a leader for an election timeout
      return;
    }
    // §5.1: "servers retry RPCs if they do not receive a response in a timely
    // manner". A (pre-)candidate asks the peers that have not answered again
    // every heartbeat interval, so a lost RequestVote or answer under packet
    // loss costs a heartbeat, not a whole election timeout.
    if ((this.role === 'candidate' || this.role === 'pre_candidate') && this.electionElapsed % this.config.heartbeatIntervalTicks === 0) {
      const preVote = this.role === 'pre_candidate';
      this.requestVotes(preVote ? this.currentTerm + 1 : this.currentTerm, preVote, this.campaignIsTransfer, this.votes);
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTimeoutTicksMin) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum) {
        // Check-quorum (thesis §6.2): step down unless a majority answered
        // during the last election-timeout window.
        let active = 1;
        for (const peer of this.peers) {
          const progress = this.progressFor(peer);
          if (progress.recentActive) active++;
          progress.recentActive = false;
        }
        if (active < this.quorum) {
          this.becomeFollower(this.currentTerm, null);
          return;
        }
      }
    }
    if (this.leadTransferee !== null) {
      this.transferElapsed++;
      // Thesis §3.10: abort a transfer that did not finish within an election timeout.
      if (this.transferElapsed >= this.config.electionTimeoutTicksMin) this.leadTransferee = null;
    }
    if (this.heartbeatElapsed >= this.config.heartbeatIntervalTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
  }

  /**
   * Logical time that passed without being delivered as ticks: the driver
   * woke late (a paused or starved process) and dropped the backlog rather
   * than act once per lost interval. Nothing fires, but the lease clock
   * moves on: a lease is a promise about elapsed time (thesis §6.4.1), and a
   * leader that slept through it must not count on it when it wakes.
   */
  elapse(ticks: number): void {
    if (!(Number.isSafeInteger(ticks) && ticks >= 0)) assertionFailed(`elapse needs a non-negative integer, got ${ticks}`);
    this.ticks += ticks;
  }

  /**
   * How many tick() calls until one may act (send, change role, reset the
   * check-quorum window); at least 1. The ticks before it only advance
   * counters, so a driver may sleep until then instead of waking every tick,
   * as long as it still delivers every tick, in order, before the next
   * input: the core then sees the same sequence of ticks and steps either
   * way. Conservative by design: a smaller answer only costs a wake-up.
   */
  ticksUntilDue(): number {
    let due: number;
    if (this.role === 'leader') {
      due = Math.min(this.config.heartbeatIntervalTicks - this.heartbeatElapsed, this.config.electionTimeoutTicksMin - this.electionElapsed);
      if (this.leadTransferee !== null) due = Math.min(due, this.config.electionTimeoutTicksMin - this.transferElapsed);
    } else {
      due = this.randomizedElectionTimeout - this.electionElapsed;
      if (this.role === 'candidate' || this.role === 'pre_candidate') {
        const interval = this.config.heartbeatIntervalTicks;
        due = Math.min(due, interval - (this.electionElapsed % interval)); // the RequestVote retry in tickElection
      }
    }
    return Math.max(1, due);
  }

  private resetTimers(): void {
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    // §5.2, §9.3: a fresh random timeout at every reset spreads candidates apart.
    this.randomizedElectionTimeout = this.prng.nextInt(this.config.electionTimeoutTicksMin, this.config.electionTimeoutTicksMax);
  }

  /**
   * Whether a leader may count on us not to vote: we know one and heard from
   * it (or are it) less than a minimum election timeout ago, or we restarted
   * less than a minimum election timeout ago (see `mayHaveLeaseholder`).
   */
  private heardFromLeaderRecently(): boolean {
    if (this.role === 'leader') return true;
    return (this.leaderId !== null || this.mayHaveLeaseholder) && this.electionElapsed < this.config.electionTimeoutTicksMin;
  }

  /** Leader stickiness (thesis §4.2.3) and the lease promise behind it (§6.4.1): ignore RequestVote. */
  private inLeaderLease(): boolean {
    return this.config.checkQuorum && (this.leaderId !== null || this.mayHaveLeaseholder) && this.electionElapsed < this.config.electionTimeoutTicksMin;
  }

  // ---------------------------------------------------------------- roles

  private becomeFollower(term: number, leaderId: NodeId | null): void {
    if (term < this.currentTerm) assertionFailed(`term must never decrease: ${this.currentTerm} -> ${term}`);
    const wasLeader = this.role === 'leader';
    if (term > this.currentTerm) {
      // §5.1: adopt the newer term; the vote was for the old one.
      this.currentTerm = term;
      this.votedFor = null;
    }
    this.role = 'follower';
    this.leaderId = leaderId;
    if (leaderId !== null) this.mayHaveLeaseholder = false;
    this.votes.clear();
    this.resetTimers();
    if (wasLeader) this.leaveLeadership(leaderId);
  }

  private hup(transfer: boolean): void {
    if (this.role === 'leader') return;
    this.mayHaveLeaseholder = false;
    if (this.config.preVote && !transfer) this.becomePreCandidate();
    else this.becomeCandidate(transfer);
  }

  /** Thesis §9.6: ask for votes for term+1 without changing our term or vote. */
  private becomePreCandidate(): void {
    this.campaignNumber++;
    this.role = 'pre_candidate';
    this.leaderId = null;
    this.resetTimers();
    this.votes.clear();
    this.votes.set(this.config.id, true);
    if (this.tally() === 'won') {
      this.becomeCandidate(false);
      return;
    }
    this.requestVotes(this.currentTerm + 1, true, false);
  }

  /** §5.2: increment currentTerm, vote for self, ask every peer. */
  private becomeCandidate(transfer: boolean): void {
    assert(this.role !== 'leader', 'a leader never becomes candidate directly');
    this.campaignNumber++;
    this.currentTerm++;
    this.votedFor = this.config.id;
    this.role = 'candidate';
    this.leaderId = null;
    this.resetTimers();
    this.votes.clear();
    this.votes.set(this.config.id, true);
    if (this.tally() === 'won') {
      this.becomeLeader();
      return;
    }
    this.requestVotes(this.currentTerm, false, transfer);
  }

  /** RequestVote to every peer, or to those not in `answered` (a retry). */
  private requestVotes(term: number, preVote: boolean, transfer: boolean, answered: ReadonlyMap<NodeId, boolean> | null = null): void {
    this.campaignIsTransfer = transfer;
    for (const peer of this.peers) {
      if (answered?.has(peer) === true) continue;
      const message: RequestVote = {
        type: 'request_vote',
        term,
        from: this.config.id,
        to: peer,
        lastLogIndex: this.raftLog.lastIndex(),
        lastLogTerm: this.raftLog.lastTerm(),
        preVote,
        ...(transfer ? { leadershipTransfer: true } : {}),
        campaign: this.campaignNumber,
      };
      this.outbox.push(message);
    }
  }

  private becomeLeader(): void {
    if (this.role !== 'candidate') assertionFailed(`only a candidate becomes leader, not a ${this.role}`);
    assert(this.votedFor === this.config.id, 'a leader voted for itself in its term');
    this.role = 'leader';
    this.leaderId = this.config.id;
    this.resetTimers();
    this.votes.clear();
    this.progress.clear();
    const nextIndex = this.raftLog.lastIndex() + 1;
    for (const peer of this.peers) this.progress.set(peer, new Progress(nextIndex));
    this.seq = 0;
    this.seqTicks = [];
    this.uncommittedBytes = 0;
    this.leadTransferee = null;
    this.readRoundSeq = null;
    if (this.config.unsafe.commitOldTerms) {
      // The Figure 8 bug, whole: an implementation that commits by counting
      // replicas typically has no noop either. It starts its term as Figure 2
      // says ("upon election: send initial empty AppendEntries"), at
      // nextIndex - 1, so followers that match acknowledge our *old-term*
      // last entry and maybeCommit counts them (§5.4.2 forbids exactly that).
      for (const peer of this.peers) this.sendEmptyAppendAtNext(peer);
      if (this.peers.length === 0) this.maybeCommit();
      return;
    }
    // §5.4.2, §8: a noop of our own term lets us commit (and learn) everything before it.
    this.appendAsLeader({ term: this.currentTerm, index: nextIndex, type: 'noop', data: '' });
  }

  /** An empty AppendEntries at nextIndex - 1 (only for the unsafe Figure 8 mode; see becomeLeader). */
  private sendEmptyAppendAtNext(peer: NodeId): void {
    this.sendEmptyAppend(peer, this.progressFor(peer).nextIndex - 1);
  }

  /** An empty AppendEntries at `prevLogIndex`, carrying the commit index capped at it; returns that cap. */
  private sendEmptyAppend(peer: NodeId, prevLogIndex: number): number {
    const prevLogTerm = this.raftLog.term(prevLogIndex);
    if (prevLogTerm === null) assertionFailed(`leader log lacks prevLogIndex ${prevLogIndex}`);
    const leaderCommit = Math.min(this.commitIndex, prevLogIndex);
    this.outbox.push({
      type: 'append_entries',
      term: this.currentTerm,
      from: this.config.id,
      to: peer,
      prevLogIndex,
      prevLogTerm,
      entries: [],
      leaderCommit,
      seq: this.nextSeq(),
    });
    return leaderCommit;
  }

  private leaveLeadership(newLeader: NodeId | null): void {
    // Reads we could not confirm are rejected: the client retries at the new leader.
    for (const requestId of this.reads.takeAll()) {
      this.readRejections.push({ requestId, reason: 'not_leader', leaderHint: newLeader });
    }
    this.progress.clear();
    this.leadTransferee = null;
    this.uncommittedBytes = 0;
    this.readRoundSeq = null;
    this.appendsPending = false;
    this.seqTicks = [];
  }

  private tally(): 'won' | 'lost' | 'pending' {
    let granted = 0;
    let rejected = 0;
    for (const vote of this.votes.values()) {
      if (vote) granted++;
      else rejected++;
    }
    if (granted >= this.quorum) return 'won';
    if (this.config.peers.length - rejected < this.quorum) return 'lost';
    return 'pending';
  }

  // ---------------------------------------------------------------- messages

  /** §5.1: reject a stale-term request with our term so its sender steps down; drop stale responses. */
  private answerStaleTerm(message: RaftMessage): void {
    switch (message.type) {
      case 'append_entries':
        this.outbox.push({
          type: 'append_entries_response',
          term: this.currentTerm,
          from: this.config.id,
          to: message.from,
          success: false,
          matchIndex: message.prevLogIndex,
          conflictTerm: null,
          conflictIndex: this.raftLog.lastIndex() + 1,
          // seq 0 (never issued: nextSeq starts at 1) marks an answer to an
          // older term's request. Echoing the request's seq would let a
          // delayed, duplicated or replayed old-term AppendEntries confirm
          // ReadIndex rounds (and renew the lease) of a later term in which
          // the sender leads again: seq restarts each term, and the answer
          // carries our term, which may equal the sender's new one (§6.4).
          seq: this.config.unsafe.staleReadAcks === true ? message.seq : 0,
        });
        return;
      case 'request_vote':
        this.outbox.push({
          type: 'request_vote_response',
          term: this.currentTerm,
          from: this.config.id,
          to: message.from,
          voteGranted: false,
          preVote: message.preVote,
          ...(message.campaign !== undefined ? { campaign: message.campaign } : {}),
        });
        return;
      case 'request_vote_response':
      case 'append_entries_response':
      case 'timeout_now':
        return;
      default:
        assertNever(message, 'raft message');
    }
  }

  private handleRequestVote(message: RequestVote): void {
    // §5.2: one vote per term (first come, first served); a repeated request
    // from the same candidate gets the same answer. A node that knows a leader
    // in this term does not vote. A pre-vote for a later term is hypothetical:
    // it is granted unless we heard from a leader within the minimum election
    // timeout (thesis §9.6: then that leader is alive and no election is needed;
    // a leader always counts as having heard from itself).
    const canVote =
      this.votedFor === message.from ||
      (this.votedFor === null && this.leaderId === null) ||
      (message.preVote && message.term > this.currentTerm && !this.heardFromLeaderRecently());
    // §5.4.1: only for a candidate whose log is at least as up to date as ours.
    const upToDate = isAtLeastAsUpToDate(message.lastLogIndex, message.lastLogTerm, this.raftLog.lastIndex(), this.raftLog.lastTerm());
    const granted = canVote && upToDate;
    if (granted && !message.preVote) {
      // The vote is in hardState of this Ready, persisted before the response is sent.
      this.votedFor = message.from;
      this.resetTimers();
    }
    const response: RequestVoteResponse = {
      type: 'request_vote_response',
      // A granted pre-vote echoes the proposed term; a rejection carries ours.
      term: granted ? message.term : this.currentTerm,
      from: this.config.id,
      to: message.from,
      voteGranted: granted,
      preVote: message.preVote,
      ...(message.campaign !== undefined ? { campaign: message.campaign } : {}),
    };
    this.outbox.push(response);
  }

  private handleRequestVoteResponse(message: RequestVoteResponse): void {
    // An answer to an earlier round (a late datagram): that round is over.
    if (message.campaign !== undefined && message.campaign !== this.campaignNumber) return;
    const counts =
      (this.role === 'candidate' && !message.preVote) ||
      // Only a grant for the term this pre-campaign proposes counts (older rounds' grants are stale).
      (this.role === 'pre_candidate' && message.preVote && (!message.voteGranted || message.term === this.currentTerm + 1));
    if (!counts || this.votes.has(message.from)) return;
    this.votes.set(message.from, message.voteGranted);
    const outcome = this.tally();
    if (outcome === 'won') {
      if (this.role === 'pre_candidate') this.becomeCandidate(false);
      else this.becomeLeader();
    } else if (outcome === 'lost') {
      this.becomeFollower(this.currentTerm, null);
    }
  }

  private handleAppendEntries(message: AppendEntries): void {
    if (this.role === 'leader') {
      // Another leader in our own term breaks Election Safety (§5.2); it can
      // only come from a broken peer, so the message is dropped, not trusted.
      return;
    }
    // §5.2: a candidate that hears from the leader of its term falls back.
    if (this.role !== 'follower') this.becomeFollower(this.currentTerm, message.from);
    this.leaderId = message.from;
    this.mayHaveLeaseholder = false;
    this.electionElapsed = 0;

    let prevLogIndex = message.prevLogIndex;
    let prevLogTerm = message.prevLogTerm;
    let entries = message.entries;
    if (prevLogIndex < this.commitIndex && !this.config.unsafe.commitOldTerms) {
      // Everything up to commitIndex already matches every later leader
      // (Leader Completeness, §5.4); only look at what lies beyond it.
      // (Not under the Figure 8 bug flag: there committed entries do get
      // overwritten, and the harness must be able to see it.)
      const skip = this.commitIndex - prevLogIndex;
      const committedPart = entries.slice(0, skip);
      if (!this.raftLog.matchTerm(prevLogIndex, prevLogTerm) || committedPart.some((e) => !this.raftLog.matchTerm(e.index, e.term))) {
        // A leader whose log disagrees with entries we committed: the
        // cluster's safety is already broken (lost fsyncs, forgotten votes).
        // Network input never crashes us, and never overwrites committed
        // entries: drop the message.
        return;
      }
      if (entries.length <= skip) {
        this.respondAppend(message, true, this.commitIndex, null, 0);
        return;
      }
      entries = entries.slice(skip);
      prevLogIndex = this.commitIndex;
      prevLogTerm = this.raftLog.term(this.commitIndex) ?? 0;
    }

    if (!this.raftLog.matchTerm(prevLogIndex, prevLogTerm)) {
      // §5.3 consistency check failed; give the fast-backtracking hint.
      if (prevLogIndex > this.raftLog.lastIndex()) {
        this.respondAppend(message, false, message.prevLogIndex, null, this.raftLog.lastIndex() + 1);
      } else {
        const conflictTerm = this.raftLog.term(prevLogIndex) ?? 0;
        this.respondAppend(message, false, message.prevLogIndex, conflictTerm, this.raftLog.firstIndexOfTermAt(prevLogIndex));
      }
      return;
    }

    const lastNewIndex = prevLogIndex + entries.length;
    const conflict = this.raftLog.findConflict(entries);
    if (conflict !== 0) {
      // §5.3: delete the conflicting entry and all that follow; entries that
      // match are never truncated (a duplicated or reordered older
      // AppendEntries finds no conflict and changes nothing).
      assert(
        conflict > this.commitIndex || this.config.unsafe.commitOldTerms,
        `a leader tried to overwrite committed index ${conflict} (commitIndex ${this.commitIndex})`,
      );
      const first = entries[0];
      assert(first !== undefined, 'a conflict implies entries');
      assert((this.role as Role) !== 'leader', 'a leader never truncates its own log (Leader Append-Only, Figure 3)');
      this.raftLog.truncateAndAppend(entries.slice(conflict - first.index));
      this.unstableFrom = Math.min(this.unstableFrom, conflict);
      this.persistedIndex = Math.min(this.persistedIndex, conflict - 1);
    }
    // §5.3 / Figure 2: commitIndex = min(leaderCommit, index of last new entry).
    const commit = Math.min(message.leaderCommit, lastNewIndex);
    if (commit > this.commitIndex) this.commitTo(commit);
    this.respondAppend(message, true, lastNewIndex, null, 0);
  }

  private respondAppend(message: AppendEntries, success: boolean, matchIndex: number, conflictTerm: number | null, conflictIndex: number): void {
    this.outbox.push({
      type: 'append_entries_response',
      term: this.currentTerm,
      from: this.config.id,
      to: message.from,
      success,
      matchIndex,
      conflictTerm,
      conflictIndex,
      seq: message.seq,
    });
  }

  private handleAppendEntriesResponse(message: AppendEntriesResponse): void {
    if (this.role !== 'leader') return;
    // An answer to a request of an older term (answerStaleTerm): its term was
    // all it had to tell (§5.1, handled in step). It says nothing about this
    // term's rounds, entries or the peer's liveness as our follower.
    if (message.seq === 0) return;
    if (message.success && message.matchIndex > this.raftLog.lastIndex()) return; // claims entries we never had
    const progress = this.progressFor(message.from);
    progress.recentActive = true;
    if (message.seq > progress.ackedSeq) {
      // Any answer in our term proves the peer still took us for its leader
      // after we sent `seq` (ReadIndex, thesis §6.4).
      progress.ackedSeq = message.seq;
      if (this.config.leaseTicks !== null) progress.ackedSendTick = this.sendTickOf(message.seq);
    }

    if (message.success) {
      const updated = progress.maybeUpdate(message.matchIndex, this.seq);
      if (progress.state === 'probe') {
        progress.probeSent = false;
        if (progress.matchIndex === progress.nextIndex - 1) progress.becomeReplicate();
      } else {
        progress.freeUpTo(progress.matchIndex);
      }
      if (updated && this.maybeCommit()) this.broadcastCommit();
      else this.sendAppends(message.from);
      if (this.role === 'leader' && this.leadTransferee === message.from && progress.matchIndex === this.raftLog.lastIndex()) {
        this.sendTimeoutNow(message.from);
      }
    } else {
      // Fast backtracking (§5.3): skip a whole conflicting term per round trip.
      let hintNextIndex = message.conflictIndex;
      if (message.conflictTerm !== null) {
        const last = this.raftLog.lastIndexOfTerm(message.conflictTerm);
        if (last !== null) hintNextIndex = last + 1;
      }
      if (this.config.unsafe.ignoreLostFollowerLog !== true && progress.lostAcknowledgedEntries(message.matchIndex, message.seq)) {
        // The follower acknowledged matchIndex before we sent this request,
        // and now rejects an index at or below it: its log lost entries it
        // had promised to keep (a lost disk, a truncated file). Probe from
        // what it has rather than wait forever on a match that is gone.
        const had = progress.matchIndex;
        progress.resetAfterLoss(hintNextIndex);
        this.notices.push(`follower ${message.from} lost acknowledged entries (matchIndex ${had}, it rejected prevLogIndex ${message.matchIndex}); probing from ${progress.nextIndex}`);
        this.sendAppends(message.from);
      } else if (progress.maybeDecreaseTo(message.matchIndex, hintNextIndex)) this.sendAppends(message.from);
    }
    this.confirmReads();
  }

  // ---------------------------------------------------------------- replication

  private appendAsLeader(entry: Entry): void {
    assert(this.role === 'leader', 'only the leader appends new entries');
    this.raftLog.append([entry]);
    // The leader counts its own copy: the driver persists it (Ready step 1)
    // before any follower ack can be processed.
    if (this.peers.length === 0) {
      this.maybeCommit();
      return;
    }
    // Sent with the next Ready, not at the next heartbeat (latency), and all
    // proposals since the last Ready travel in one AppendEntries per
    // follower (batching: one datagram and one follower fsync for many).
    this.appendsPending = true;
  }

  private flushAppends(): void {
    if (!this.appendsPending) return;
    this.appendsPending = false;
    if (this.role !== 'leader') return;
    for (const peer of this.peers) this.sendAppends(peer);
  }

  /** Send as many AppendEntries with entries as flow control allows. Returns whether any was sent. */
  private sendAppends(peer: NodeId): boolean {
    const progress = this.progressFor(peer);
    const lastIndex = this.raftLog.lastIndex();
    let sent = false;
    while (!progress.isPaused(this.config.maxInflightAppends) && progress.nextIndex <= lastIndex) {
      const prevLogIndex = progress.nextIndex - 1;
      const prevLogTerm = this.raftLog.term(prevLogIndex);
      if (prevLogTerm === null) assertionFailed(`leader log lacks prevLogIndex ${prevLogIndex}`);
      const entries = this.raftLog.sliceBytes(progress.nextIndex, this.config.maxAppendBytes);
      const last = prevLogIndex + entries.length;
      this.outbox.push({
        type: 'append_entries',
        term: this.currentTerm,
        from: this.config.id,
        to: peer,
        prevLogIndex,
        prevLogTerm,
        entries,
        leaderCommit: this.commitIndex,
        seq: this.nextSeq(),
      });
      progress.commitSent = Math.max(progress.commitSent, Math.min(this.commitIndex, last));
      progress.onEntriesSent(last);
      sent = true;
    }
    return sent;
  }

  /**
   * An empty AppendEntries at the follower's matchIndex: it always passes the
   * consistency check, resets the follower's election timer, and tells it
   * the commit index capped at what it is known to hold (etcd).
   */
  private sendHeartbeat(peer: NodeId): void {
    const progress = this.progressFor(peer);
    const leaderCommit = this.sendEmptyAppend(peer, progress.matchIndex);
    progress.commitSent = Math.max(progress.commitSent, leaderCommit);
  }

  private broadcastHeartbeat(): void {
    const lastIndex = this.raftLog.lastIndex();
    for (const peer of this.peers) {
      const progress = this.progressFor(peer);
      // Over UDP a whole optimistic stream can be lost: when a follower made no
      // progress during a heartbeat interval, resend from its matchIndex.
      if (
        progress.state === 'replicate' &&
        progress.matchIndex < lastIndex &&
        progress.nextIndex - 1 > progress.matchIndex &&
        progress.matchIndex === progress.matchAtLastHeartbeat
      ) {
        progress.becomeProbe();
      }
      progress.matchAtLastHeartbeat = progress.matchIndex;
      this.sendHeartbeat(peer);
    }
  }

  /** After commitIndex advanced: tell every follower (with new entries when there are some). */
  private broadcastCommit(): void {
    for (const peer of this.peers) {
      this.sendAppends(peer);
      const progress = this.progressFor(peer);
      if (Math.min(this.commitIndex, progress.matchIndex) > progress.commitSent) this.sendHeartbeat(peer);
    }
  }

  private sendTimeoutNow(peer: NodeId): void {
    this.outbox.push({ type: 'timeout_now', term: this.currentTerm, from: this.config.id, to: peer });
  }

  /**
   * §5.3, §5.4.2: commit the highest index stored on a majority, but only if
   * its entry is from the current term (Figure 8); earlier entries commit
   * with it. `unsafe.commitOldTerms` drops the term check (the Figure 8 bug).
   */
  private maybeCommit(): boolean {
    // §10.2.1: with parallel leader appends the leader's own copy counts only once durable.
    const selfMatch = this.config.parallelLeaderAppend === true ? Math.min(this.persistedIndex, this.raftLog.lastIndex()) : this.raftLog.lastIndex();
    const matches = [selfMatch];
    for (const peer of this.peers) matches.push(this.progressFor(peer).matchIndex);
    const candidate = quorumValue(matches);
    if (candidate <= this.commitIndex) return false;
    if (this.raftLog.term(candidate) !== this.currentTerm && !this.config.unsafe.commitOldTerms) return false;
    this.commitTo(candidate);
    return true;
  }

  private commitTo(index: number): void {
    if (index <= this.commitIndex) assertionFailed(`commitIndex must only grow: ${this.commitIndex} -> ${index}`);
    if (index > this.raftLog.lastIndex()) assertionFailed(`commitIndex ${index} beyond lastIndex ${this.raftLog.lastIndex()}`);
    const previous = this.commitIndex;
    this.commitIndex = index;
    if (this.role !== 'leader') return;
    for (let i = previous + 1; i <= index; i++) {
      const entry = this.raftLog.at(i);
      if (entry.term === this.currentTerm && entry.type === 'command') this.uncommittedBytes -= entrySizeBytes(entry);
    }
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes);
    if (this.committedEntryInCurrentTerm()) {
      for (const requestId of this.reads.takeAwaitingCommit()) this.startRead(requestId);
    }
  }

  // ---------------------------------------------------------------- reads

  private committedEntryInCurrentTerm(): boolean {
    return this.raftLog.term(this.commitIndex) === this.currentTerm;
  }

  private startRead(requestId: string): void {
    const readIndex = this.commitIndex;
    if (this.peers.length === 0 || this.config.unsafe.skipReadQuorum || this.leaseValid()) {
      this.readStates.push({ requestId, readIndex });
      return;
    }
    if (this.readRoundSeq === null) {
      // A new round: heartbeats sent after this read was recorded. Reads
      // arriving before the next ready() join it (batching, thesis §6.4).
      this.readRoundSeq = this.seq + 1;
      for (const peer of this.peers) this.sendHeartbeat(peer);
    }
    this.reads.addConfirming({ requestId, readIndex, roundSeq: this.readRoundSeq });
  }

  private confirmReads(): void {
    if (this.role !== 'leader') return;
    const confirmed = this.reads.takeConfirmed((roundSeq) => {
      let acks = 1;
      for (const peer of this.peers) if (this.progressFor(peer).ackedSeq >= roundSeq) acks++;
      return acks >= this.quorum;
    });
    for (const read of confirmed) this.readStates.push({ requestId: read.requestId, readIndex: read.readIndex });
  }

  /** Thesis §6.4.1: a quorum answered a round sent less than leaseTicks ago. */
  private leaseValid(): boolean {
    const leaseTicks = this.config.leaseTicks;
    if (leaseTicks === null) return false;
    const sendTicks = [this.ticks];
    for (const peer of this.peers) sendTicks.push(this.progressFor(peer).ackedSendTick);
    return this.ticks - quorumValue(sendTicks) < leaseTicks;
  }

  private nextSeq(): number {
    this.seq++;
    const leaseTicks = this.config.leaseTicks;
    if (leaseTicks !== null) {
      const last = this.seqTicks[this.seqTicks.length - 1];
      if (last === undefined || last.tick !== this.ticks) this.seqTicks.push({ seq: this.seq, tick: this.ticks });
      // Bounded: rounds older than the lease can never make it valid again.
      const horizon = this.ticks - leaseTicks - 1;
      while (this.seqTicks.length > 1 && (this.seqTicks[1]?.tick ?? Infinity) <= horizon) this.seqTicks.shift();
    }
    return this.seq;
  }

  private sendTickOf(seq: number): number {
    let lo = 0;
    let hi = this.seqTicks.length - 1;
    let tick = Number.MIN_SAFE_INTEGER;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const point = this.seqTicks[mid];
      assert(point !== undefined, 'seqTicks index in range');
      if (point.seq <= seq) {
        tick = point.tick;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return tick;
  }

  // ---------------------------------------------------------------- helpers

  private progressFor(peer: NodeId): Progress {
    const progress = this.progress.get(peer);
    if (progress === undefined) assertionFailed(`no progress for ${peer} (role ${this.role})`);
    return progress;
  }

  private softState(): SoftState {
    return { role: this.role, leaderId: this.leaderId, currentTerm: this.currentTerm, commitIndex: this.commitIndex };
  }

  /** Whether softState() differs from the last one handed out, without allocating (hasReady runs on every tick). */
  private softStateChanged(): boolean {
    const last = this.lastSoftState;
    return last.role !== this.role || last.leaderId !== this.leaderId || last.currentTerm !== this.currentTerm || last.commitIndex !== this.commitIndex;
  }

  private hardStateChanged(): boolean {
    return this.lastHardState.currentTerm !== this.currentTerm || this.lastHardState.votedFor !== this.votedFor;
  }
}

function isIndex(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/**
 * Semantic sanity of a decoded message (the codec checks types and bounds):
 * a peer's bug must be dropped here, never crash the core.
 */
function isWellFormed(message: RaftMessage): boolean {
  if (!isIndex(message.term)) return false;
  switch (message.type) {
    case 'request_vote':
      return (
        isIndex(message.lastLogIndex) &&
        isIndex(message.lastLogTerm) &&
        message.lastLogTerm <= message.term &&
        (message.campaign === undefined || isIndex(message.campaign))
      );
    case 'request_vote_response':
      return message.campaign === undefined || isIndex(message.campaign);
    case 'timeout_now':
      return true;
    case 'append_entries': {
      if (!isIndex(message.prevLogIndex) || !isIndex(message.prevLogTerm) || !isIndex(message.leaderCommit) || !isIndex(message.seq)) return false;
      let previousTerm = message.prevLogTerm;
      for (let i = 0; i < message.entries.length; i++) {
        const entry = message.entries[i];
        if (entry === undefined || entry.index !== message.prevLogIndex + 1 + i) return false;
        if (!isIndex(entry.term) || entry.term < previousTerm || entry.term > message.term || entry.term === 0) return false;
        previousTerm = entry.term;
      }
      return message.prevLogTerm <= message.term;
    }
    case 'append_entries_response':
      return (
        isIndex(message.matchIndex) &&
        isIndex(message.conflictIndex) &&
        isIndex(message.seq) &&
        (message.conflictTerm === null || isIndex(message.conflictTerm))
      );
    default:
      return assertNever(message, 'raft message');
  }
}

function validateConfig(config: RaftConfig): void {
  const positive = (value: number, name: string): void =>
    assert(Number.isSafeInteger(value) && value >= 1, `RaftConfig.${name} must be a positive integer, got ${value}`);
  assert(config.peers.includes(config.id), `RaftConfig.peers must include id ${config.id}`);
  assert(new Set(config.peers).size === config.peers.length, `RaftConfig.peers has duplicates: ${config.peers.join(',')}`);
  positive(config.electionTimeoutTicksMin, 'electionTimeoutTicksMin');
  positive(config.electionTimeoutTicksMax, 'electionTimeoutTicksMax');
  positive(config.heartbeatIntervalTicks, 'heartbeatIntervalTicks');
  positive(config.maxAppendBytes, 'maxAppendBytes');
  positive(config.maxInflightAppends, 'maxInflightAppends');
  positive(config.maxUncommittedBytes, 'maxUncommittedBytes');
  positive(config.maxPendingReads, 'maxPendingReads');
  assert(config.electionTimeoutTicksMax >= config.electionTimeoutTicksMin, 'electionTimeoutTicksMax must be >= electionTimeoutTicksMin');
  // §5.6: broadcastTime << electionTimeout; heartbeats must come well within the timeout.
  assert(config.heartbeatIntervalTicks < config.electionTimeoutTicksMin, 'heartbeatIntervalTicks must be < electionTimeoutTicksMin');
  if (config.leaseTicks !== null) {
    positive(config.leaseTicks, 'leaseTicks');
    // etcd: "CheckQuorum MUST be enabled if ReadOnlyOption is ReadOnlyLeaseBased".
    assert(config.checkQuorum, 'lease reads (leaseTicks) require checkQuorum');
    // Not bounded by electionTimeoutTicksMin on purpose: the harness sets an
    // over-long lease (an unsafe flag) to show that stale reads follow.
  }
}
