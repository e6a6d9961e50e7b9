/**
 * The pure Raft core: one peer's state machine, modelled on etcd-io/raft.
 *
 * Inputs: `tick()` (logical time), `step(message)`, `propose(data)`,
 * `proposeConfChange(change)`, `readIndex(requestId)`,
 * `transferLeadership(to)`, `campaign()`, and from the driver
 * `persisted(index)`, `snapshotTaken(meta)`, `reportSnapshot(peer, outcome)`.
 * Output: a drained {@link Ready} batch the driver persists (and fsyncs),
 * then sends, then applies, in that order. Nothing here does IO, reads a
 * clock or draws randomness by itself (the injected {@link Prng}); every
 * iteration over peers follows the sorted peer list, so the same inputs and
 * seed give the same outputs.
 *
 * Structure (etcd `raft.go`): term handling lives in one place at the top of
 * `step` (§5.1), then one handler per message type that branches on the role.
 *
 * Membership (dissertation ch. 4, `configuration.ts`): single-server
 * changes, learners, and the configuration in effect is the newest in the
 * log. Every majority (commit, election, check-quorum, ReadIndex, lease)
 * counts the voters of the current configuration; the leader replicates to
 * voters and learners. Compaction (§7, `compaction.ts`): the log starts
 * after a snapshot the driver made durable; a follower that needs what was
 * compacted gets an InstallSnapshot.
 *
 * Divergences from the paper, all from etcd-io/raft / the thesis:
 * - pre-vote (thesis §9.6) and check-quorum with leader stickiness (thesis
 *   §4.2.3, §6.2): a node that heard from a leader within the minimum election
 *   timeout ignores RequestVote, unless it is a leadership-transfer campaign;
 * - a node answers a stale-term AppendEntries/RequestVote with its own term
 *   so the sender steps down;
 * - heartbeats are empty AppendEntries at the follower's matchIndex, so they
 *   never fail the consistency check because of in-flight entries;
 * - a follower whose log already holds a snapshot's last entry keeps its log
 *   and only learns the commit (etcd), rather than reloading the snapshot;
 * - a leader that committed its own removal (§4.2.2) hands leadership to an
 *   up-to-date voter with TimeoutNow before it steps down.
 */
import { assert, assertNever, assertionFailed } from '../util/assert.js';
import { compactionPoint, compactionPolicyOf, snapshotDue, type CompactionPolicy } from './compaction.js';
import {
  applyConfChange,
  ConfigHistory,
  configurationOfEntry,
  configurationProblem,
  decodeConfigEntry,
  EMPTY_CONFIGURATION,
  encodeConfigEntry,
  isLearner,
  isMember,
  isVoter,
  makeConfiguration,
  othersOf,
  sameConfiguration,
} from './configuration.js';
import { RaftLog, entrySizeBytes, isAtLeastAsUpToDate } from './log.js';
import { Progress, type ProgressState } from './progress.js';
import { quorumSize, quorumValue } from './quorum.js';
import { PendingReads } from './read-only.js';
import type { ProgressSnapshot, RaftNodeState, SeqTickSnapshot } from './state.js';
import type {
  AppendEntries,
  AppendEntriesResponse,
  ConfChange,
  Configuration,
  CoreMessage,
  Entry,
  HardState,
  InstallSnapshot,
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
  Removal,
  Role,
  SnapshotMeta,
  SnapshotOutcome,
  SoftState,
  StoredState,
} from './types.js';

export interface RaftStatus extends SoftState {
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  readonly votedFor: NodeId | null;
  /** The first index the log holds (1 until something was compacted, §7). */
  readonly firstIndex: number;
  /** The newest snapshot the core knows durable (taken here or installed), or null. */
  readonly snapshot: SnapshotMeta | null;
  /** The configuration in effect (the newest in the log, dissertation §4.1). */
  readonly configuration: Configuration;
}

/** Read-only view of the leader's progress for one follower (tests, status pages). */
export interface ProgressView {
  readonly matchIndex: number;
  readonly nextIndex: number;
  readonly state: ProgressState;
  readonly inflight: number;
  /** Snapshot state: the index of the snapshot on its way; 0 otherwise. */
  readonly pendingSnapshot: number;
  /** A non-voting member (§4.2.1). */
  readonly learner: boolean;
  /** Its last catch-up round took less than an election timeout (§4.2.1; a learner may then be promoted). */
  readonly caughtUp: boolean;
}

/** Shared empty outputs for Readies that have none (frozen: nobody may push into them). */
const NO_ENTRIES: readonly Entry[] = Object.freeze([]);
const NO_MESSAGES: readonly RaftMessage[] = Object.freeze([]);
const NO_READ_STATES: readonly ReadState[] = Object.freeze([]);
const NO_READ_REJECTIONS: readonly ReadRejection[] = Object.freeze([]);
const NO_NOTICES: readonly string[] = Object.freeze([]);
const NO_SNAPSHOT_SENDS: readonly InstallSnapshot[] = Object.freeze([]);
/** Stands in for the caller's PRNG while {@link RaftNode.fromState} constructs (the constructor draws a timeout the restore then overwrites). */
const constantPrng: Prng = { nextInt: (min) => min };

export class RaftNode {
  private readonly config: RaftConfig;
  /** Not readonly only so that {@link RaftNode.fromState} can install the caller's PRNG after construction. */
  private prng: Prng;
  private readonly compaction: CompactionPolicy;
  /** Not readonly only so that {@link RaftNode.fromState} can install the log with its compacted start. */
  private raftLog: RaftLog;
  /** RaftConfig.peers, copied: the caller's array must not change who we accept messages from. */
  private readonly bootstrapPeers: readonly NodeId[];

  // Membership (dissertation ch. 4). The history is the source of truth; the
  // lists below are derived from its newest configuration (refreshMembership)
  // and are the only orders in which peers are ever visited (determinism).
  private readonly configs: ConfigHistory;
  /** acceptedPeers' last answer and what it was computed from (a cache: not state, never persisted or compared). */
  private acceptedPeersMemo: { readonly changes: number; readonly passed: number; readonly peers: readonly NodeId[] | null } | null = null;
  /** Every member but us (voters and learners), sorted: whom a leader replicates to. */
  private others: readonly NodeId[] = [];
  /** Every voter but us, sorted: whom a candidate asks, whose answers count in majorities. */
  private otherVoters: readonly NodeId[] = [];
  /** Whether we are a voter: only a voter campaigns, and a leader counts itself only then (§4.2.2). */
  private selfVoter = false;
  /** A majority of the current voters. */
  private quorum = 1;

  // Snapshots (§7). Plain data.
  /** The newest snapshot known durable: taken by the driver (snapshotTaken) or installed from a leader. */
  private snapshot: SnapshotMeta | null;
  /** Index of the snapshot asked of the driver and not yet reported taken; 0 = none outstanding. */
  private snapshotRequested = 0;
  /** Bytes (entrySizeBytes) of the entries handed out for application since the snapshot. */
  private bytesSinceSnapshot = 0;

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
  /**
   * Leader: it sent TimeoutNow in this term (§3.10). The transferee's
   * RequestVote is exempt from the followers' lease check (the leaseholder
   * asked for it), so from then on a majority may elect it inside our lease:
   * reads are confirmed by ReadIndex rounds only, for the rest of the term
   * (an aborted transfer's RequestVote may still arrive late).
   */
  private leaseForfeited = false;
  private readonly reads = new PendingReads();
  /** seq of a read-confirmation broadcast queued since the last ready(): later reads join it. */
  private readRoundSeq: number | null = null;
  /** New entries were appended since the last ready(): send them to followers before draining. */
  private appendsPending = false;
  /**
   * Leader: ticks left during which every heartbeat also carries a farewell
   * to the servers the newest (committed) configuration removed (§4.2.2,
   * AppendEntries.removedAt). Set when that configuration commits, for two
   * heartbeat intervals (three farewells in all): enough to outlast a lost
   * datagram or two, and over long before a removed server that exited can
   * be restarted (a process start takes hundreds of milliseconds), so a
   * restart to re-add it is not told again. A configuration that adds it
   * back ends them at once (sendFarewells looks at the newest one).
   */
  private farewellTicksLeft = 0;
  /** This server learnt that it was removed from the cluster by a committed configuration (see {@link removal}). */
  private removedBy: Removal | null = null;

  // Ready bookkeeping: what the driver has not been handed yet.
  private lastHardState: HardState;
  private lastSoftState: SoftState;
  /** First log index not yet handed out in `entriesToAppend`. */
  private unstableFrom: number;
  /** Highest index the driver reported durable (parallelLeaderAppend only; §10.2.1). */
  private persistedIndex: number;
  /** Highest index handed out in `committedEntries` (or covered by the snapshot the state machine starts from). */
  private handedOutIndex = 0;
  private outbox: RaftMessage[] = [];
  private readStates: ReadState[] = [];
  private readRejections: ReadRejection[] = [];
  private notices: string[] = [];
  /** A snapshot from the leader to hand out in `Ready.snapshotToInstall`. */
  private snapshotToInstall: SnapshotMeta | null = null;
  private snapshotSends: InstallSnapshot[] = [];
  /** The log's new first index after a compaction, not yet handed out in `Ready.discardEntriesBefore`. */
  private discardBefore: number | null = null;

  constructor(config: RaftConfig, stored: StoredState, prng: Prng) {
    validateConfig(config);
    this.config = config;
    this.prng = prng;
    this.compaction = compactionPolicyOf(config);
    this.bootstrapPeers = [...config.peers];
    const snapshot = stored.snapshot ?? null;
    if (snapshot !== null) {
      assert(
        Number.isSafeInteger(snapshot.index) && snapshot.index >= 1 && Number.isSafeInteger(snapshot.term) && snapshot.term >= 1,
        `stored snapshot at ${snapshot.index}@${snapshot.term}: index and term must be >= 1`,
      );
      const problem = configurationProblem(snapshot.configuration);
      assert(problem === null, `stored snapshot's configuration: ${problem}`);
    }
    this.snapshot = snapshot;
    this.raftLog = this.logFromStorage(stored.entries, snapshot);
    // Dissertation ch. 4: the newest configuration in the log rules; before
    // any, the snapshot's; before that, the bootstrap one (none for a joiner).
    const base =
      snapshot !== null
        ? { index: snapshot.index, configuration: snapshot.configuration }
        : { index: 0, configuration: config.joining === true ? EMPTY_CONFIGURATION : makeConfiguration(this.bootstrapPeers) };
    this.configs = new ConfigHistory(base);
    for (const entry of this.raftLog.all()) {
      if (entry.type === 'config' && entry.index > base.index) this.configs.push(entry.index, configurationOfEntry(entry.data));
    }
    this.refreshMembership();

    const { currentTerm, votedFor } = stored.hardState;
    assert(Number.isSafeInteger(currentTerm) && currentTerm >= 0, `stored currentTerm must be a non-negative integer, got ${currentTerm}`);
    // Not checked against the configuration: we may have voted for a server that was removed since.
    assert(votedFor === null || (typeof votedFor === 'string' && votedFor.length > 0), `stored votedFor ${votedFor} is not a node id`);
    assert(this.raftLog.lastTerm() <= currentTerm, `stored log has term ${this.raftLog.lastTerm()} above currentTerm ${currentTerm}`);
    this.currentTerm = currentTerm;
    this.votedFor = votedFor;
    this.lastHardState = { currentTerm, votedFor };
    // A snapshot holds only committed state (§7): its prefix is committed and applied.
    this.commitIndex = snapshot?.index ?? 0;
    this.handedOutIndex = this.commitIndex;
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

  /**
   * The log as storage left it, fitted to the snapshot (§7):
   * - no snapshot: the log must start at index 1;
   * - entries past the snapshot are kept; so are entries it covers (a tail
   *   for slow followers), minus the first, whose term becomes the log's
   *   known start;
   * - stored entries that disagree with the snapshot at its index are the
   *   remains of an interrupted install (Ready step 1a): the snapshot is
   *   committed state and they are not, so they go (with a notice);
   * - entries that end before the snapshot's index are superseded by it.
   */
  private logFromStorage(entries: readonly Entry[], snapshot: SnapshotMeta | null): RaftLog {
    if (snapshot === null) return new RaftLog(entries);
    const first = entries[0];
    const last = entries[entries.length - 1];
    if (first === undefined || last === undefined) return new RaftLog([], snapshot.index, snapshot.term);
    if (first.index > snapshot.index + 1)
      assertionFailed(`stored log starts at ${first.index}, after a gap past the snapshot at ${snapshot.index}`);
    if (last.index < snapshot.index) return new RaftLog([], snapshot.index, snapshot.term);
    const atSnapshot = snapshot.index >= first.index ? entries[snapshot.index - first.index] : undefined;
    if (atSnapshot !== undefined && (atSnapshot.index !== snapshot.index || atSnapshot.term !== snapshot.term)) {
      this.notices.push(`stored log disagrees with the snapshot at ${snapshot.index}@${snapshot.term}: dropped (an interrupted install)`);
      return new RaftLog([], snapshot.index, snapshot.term);
    }
    if (first.index === snapshot.index + 1) return new RaftLog(entries, snapshot.index, snapshot.term);
    return new RaftLog(entries.slice(1), first.index, first.term);
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
    // Sorted by id: the maps' insertion order is not state (the core visits peers in the member lists' order).
    const progress: (readonly [NodeId, ProgressSnapshot])[] = [...this.progress.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([peer, p]) => [peer, p.toSnapshot(now, leaseTicks, this.config.electionTimeoutTicksMin)] as const);
    const votes: (readonly [NodeId, boolean])[] = [...this.votes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const logPrevIndex = this.raftLog.compactedIndex();
    const logPrevTerm = this.raftLog.term(logPrevIndex);
    assert(logPrevTerm !== null, "the term at the log's compacted start is always known");
    return {
      log: this.raftLog.all().slice(),
      logPrevIndex,
      logPrevTerm,
      currentTerm: this.currentTerm,
      votedFor: this.votedFor,
      commitIndex: this.commitIndex,
      role: this.role,
      leaderId: this.leaderId,
      configHistory: this.configs.points.slice(),
      snapshot: this.snapshot,
      snapshotRequested: this.snapshotRequested,
      bytesSinceSnapshot: this.bytesSinceSnapshot,
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
      leaseForfeited: this.leaseForfeited,
      readsAwaitingCommit: this.reads.awaitingList(),
      readsConfirming: this.reads.confirmingList(),
      readRoundSeq: this.readRoundSeq,
      appendsPending: this.appendsPending,
      farewellTicksLeft: this.farewellTicksLeft,
      removal: this.removedBy,
      lastHardState: this.lastHardState,
      lastSoftState: this.lastSoftState,
      unstableFrom: this.unstableFrom,
      persistedIndex: this.persistedIndex,
      handedOutIndex: this.handedOutIndex,
      outbox: this.outbox.slice(),
      readStates: this.readStates.slice(),
      readRejections: this.readRejections.slice(),
      snapshotToInstall: this.snapshotToInstall,
      snapshotSends: this.snapshotSends.slice(),
      discardBefore: this.discardBefore,
    };
  }

  /**
   * A core in exactly the state `state` describes (the inverse of
   * {@link snapshotState}), with `config` (the same the snapshot was taken
   * with) and `prng` for its future election timeouts. Its tick count
   * starts at 0; tick-valued fields are placed relative to it.
   */
  static fromState(config: RaftConfig, state: RaftNodeState, prng: Prng): RaftNode {
    // Constructed empty (with the snapshot, so that its checks run): restore installs the log with its compacted start.
    const node = new RaftNode(
      config,
      { hardState: { currentTerm: state.currentTerm, votedFor: state.votedFor }, entries: [], snapshot: state.snapshot },
      constantPrng,
    );
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
    this.raftLog = new RaftLog(state.log, state.logPrevIndex, state.logPrevTerm);
    assert(state.commitIndex <= this.raftLog.lastIndex(), 'restored commitIndex within the log');
    this.snapshot = state.snapshot;
    this.snapshotRequested = state.snapshotRequested;
    this.bytesSinceSnapshot = state.bytesSinceSnapshot;
    assert(state.configHistory.length > 0, 'a restored configuration history has a base');
    this.configs.replace(state.configHistory);
    // Still a follower here: refreshMembership only derives the member lists and leaves progress alone.
    this.role = 'follower';
    this.progress.clear();
    this.refreshMembership();
    // Not derived from the history alone: a snapshot that collapsed it (snapshotTaken) did not refresh them.
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
    this.leaseForfeited = state.leaseForfeited;
    this.reads.restore(state.readsAwaitingCommit, state.readsConfirming);
    this.readRoundSeq = state.readRoundSeq;
    this.appendsPending = state.appendsPending;
    this.farewellTicksLeft = state.farewellTicksLeft;
    this.removedBy = state.removal;
    this.lastHardState = state.lastHardState;
    this.lastSoftState = state.lastSoftState;
    this.unstableFrom = state.unstableFrom;
    this.persistedIndex = state.persistedIndex;
    this.handedOutIndex = state.handedOutIndex;
    this.outbox = state.outbox.slice();
    this.readStates = state.readStates.slice();
    this.readRejections = state.readRejections.slice();
    this.snapshotToInstall = state.snapshotToInstall;
    this.snapshotSends = state.snapshotSends.slice();
    this.discardBefore = state.discardBefore;
    this.notices = [];
  }

  // ---------------------------------------------------------------- inputs

  /** One logical tick (§5.2: election timeout; heartbeats; check-quorum). */
  tick(): void {
    this.ticks++;
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  step(message: CoreMessage): void {
    // Messages from servers outside every configuration we know are taken too:
    // dissertation §4.1 has a server accept AppendEntries from a leader that is
    // not in its latest configuration, and grant votes to such candidates. A
    // member that missed the change which added today's leader (it was cut off,
    // or it is behind) learns of that configuration only from this leader;
    // dropping its messages left such a member deaf for good (found by the
    // membership property with the isolate action). Who may send at all is the
    // transport's business (authenticated peers); in the core, a vote counts
    // only from a voter of our configuration and an answer only from a peer we
    // replicate to, and a removed server is kept from disrupting by leader
    // stickiness (§4.2.3).
    if (message.to !== this.config.id || message.from === this.config.id) return;
    if (!isWellFormed(message)) return;

    // §5.1: term handling, in one place.
    if (message.term > this.currentTerm) {
      if (message.type === 'request_vote' && !message.leadershipTransfer && this.inLeaderLease()) {
        // Leader stickiness (thesis §4.2.3): we heard from a live leader less
        // than a minimum election timeout ago, so this candidate cannot be
        // needed; ignoring it keeps a rejoining node from deposing the leader.
        return;
      }
      if (
        this.role === 'follower' &&
        message.type !== 'append_entries' &&
        message.type !== 'install_snapshot' &&
        message.type !== 'request_vote' &&
        this.inLeaderLease()
      ) {
        // The lease promise (thesis §6.4.1) holds in any term: a leader serves
        // reads on its lease because we answered it and will not vote for a
        // minimum election timeout. A higher term that reaches us by anything
        // but a leader's message (a late rejected answer to a pre-vote of
        // ours, a vote answer of an old campaign) would clear the leader we
        // know, and the next RequestVote of that term would then find no
        // leader and no vote and win ours (found by the model checker's swarm
        // walks: a stale lease read by the correct core). Ignored like the
        // RequestVote above; the term reaches us again once the lease is over.
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
      case 'install_snapshot':
        this.handleInstallSnapshot(message);
        return;
      case 'timeout_now':
        // Thesis §3.10: the leader asks us to campaign at once, skipping
        // pre-vote and leader stickiness. Only the leader we follow in this
        // term may ask: from anyone else it would force an election that
        // bypasses stickiness and the lease (and a follower that heard no
        // leader yet has no transfer to take part in). A learner never
        // campaigns (hup checks it).
        if (this.role === 'follower' && message.from === this.leaderId) this.hup(true);
        return;
      default:
        assertNever(message, 'raft message');
    }
  }

  propose(data: string): ProposeResult {
    if (this.role !== 'leader') return { ok: false, reason: 'not_leader', leaderHint: this.leaderId };
    if (this.leadTransferee !== null) {
      return {
        ok: false,
        reason: 'proposal_dropped',
        detail: `leadership transfer to ${this.leadTransferee} in progress`,
        transient: true,
      };
    }
    const entry: Entry = { term: this.currentTerm, index: this.raftLog.lastIndex() + 1, type: 'command', data };
    const size = entrySizeBytes(entry);
    // Like etcd's MaxUncommittedEntriesSize: always admit one entry when nothing is pending.
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + size > this.config.maxUncommittedBytes) {
      return {
        ok: false,
        reason: 'proposal_dropped',
        detail: `uncommitted log tail is ${this.uncommittedBytes} bytes; limit ${this.config.maxUncommittedBytes}`,
        transient: true,
      };
    }
    this.uncommittedBytes += size;
    this.appendAsLeader(entry);
    return { ok: true, index: entry.index, term: entry.term };
  }

  /**
   * A single-server membership change (dissertation §4.1). It takes effect
   * on the leader now, on each follower when the entry reaches its log, and
   * is done once committed. Refused (typed `proposal_dropped`) when:
   * - this leader has not yet committed an entry of its own term: otherwise
   *   a change from a deposed leader that this one never saw and this
   *   leader's change could both commit, with majorities that do not overlap
   *   (Ongaro's 2015 correction to §4.1; the noop of §8 commits first);
   * - an earlier change is not committed yet (one at a time, §4.1);
   * - a promotion whose learner has not caught up (§4.2.1: its last
   *   catch-up round must have taken less than an election timeout);
   * - the change makes no sense (adding a member, removing a stranger or the
   *   last voter).
   * The first two pass on their own within a round trip or an election
   * timeout, so they are `transient` (an admin retries them, a person need
   * not); the others wait for someone to act.
   */
  proposeConfChange(change: ConfChange): ProposeResult {
    if (this.role !== 'leader') return { ok: false, reason: 'not_leader', leaderHint: this.leaderId };
    const dropped = (detail: string, transient = false): ProposeResult => ({ ok: false, reason: 'proposal_dropped', detail, transient });
    if (this.leadTransferee !== null) return dropped(`leadership transfer to ${this.leadTransferee} in progress`, true);
    if (!this.committedEntryInCurrentTerm() && this.config.unsafe.confChangeBeforeTermCommit !== true) {
      return dropped(`no entry of term ${this.currentTerm} is committed yet; a configuration change waits for one`, true);
    }
    const pending = this.configs.lastIndex();
    if (pending > this.commitIndex) return dropped(`the configuration change at index ${pending} is not committed yet`);
    const next = applyConfChange(this.configs.current(), change);
    if (!next.ok) return dropped(next.detail);
    if (change.type === 'promote') {
      const progress = this.progress.get(change.node);
      if (progress === undefined || !progress.caughtUp || progress.state !== 'replicate') {
        return dropped(`learner ${change.node} has not caught up (match ${progress?.matchIndex ?? 0} of ${this.raftLog.lastIndex()})`);
      }
    }
    const entry: Entry = {
      term: this.currentTerm,
      index: this.raftLog.lastIndex() + 1,
      type: 'config',
      data: encodeConfigEntry({ change, configuration: next.configuration }),
    };
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

  /** Thesis §3.10: hand leadership to `to` once its log is caught up. Only a voter can lead: a learner is refused. */
  transferLeadership(to: NodeId): void {
    if (this.role !== 'leader' || to === this.config.id) return;
    if (!this.otherVoters.includes(to)) {
      if (this.others.includes(to)) this.notices.push(`leadership transfer to ${to} refused: it is a learner, not a voter`);
      return;
    }
    if (this.leadTransferee === to) return;
    this.leadTransferee = to;
    this.transferElapsed = 0;
    const progress = this.progressFor(to);
    if (progress.matchIndex === this.raftLog.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppends(to);
  }

  /** Start an election now (pre-vote first when configured). A leader, and a node that is not a voter, ignore it. */
  campaign(): void {
    this.hup(false);
  }

  /**
   * The driver made a snapshot of the state machine at `meta.index` durable
   * (Ready step 5; it may also snapshot on its own initiative at any index
   * it has applied). The core remembers it, sends it to followers that need
   * what it covers, and compacts its log up to `snapshotTrailingEntries`
   * before it (`Ready.discardEntriesBefore`). `meta` must describe the
   * state machine exactly: the term of the entry at meta.index and the
   * configuration in effect there (a request's meta is already right).
   */
  snapshotTaken(meta: SnapshotMeta): void {
    if (this.snapshot !== null && meta.index <= this.snapshot.index) return; // older than what we have
    if (!(Number.isSafeInteger(meta.index) && meta.index >= 1)) assertionFailed(`snapshot index must be >= 1, got ${meta.index}`);
    if (meta.index > this.handedOutIndex)
      assertionFailed(`snapshot at ${meta.index} beyond the entries handed out for application (${this.handedOutIndex})`);
    const term = this.raftLog.term(meta.index);
    if (term !== meta.term) assertionFailed(`snapshot at ${meta.index} says term ${meta.term}; the log says ${term}`);
    if (!sameConfiguration(this.configs.at(meta.index), meta.configuration) || configurationProblem(meta.configuration) !== null) {
      assertionFailed(`snapshot at ${meta.index} carries a configuration other than the one in effect there`);
    }
    this.snapshot = meta;
    this.configs.rebase({ index: meta.index, configuration: meta.configuration });
    if (this.snapshotRequested !== 0 && this.snapshotRequested <= meta.index) this.snapshotRequested = 0;
    this.bytesSinceSnapshot = this.bytesBetween(meta.index + 1, this.handedOutIndex);
    const point = compactionPoint(this.compaction, meta.index, this.raftLog.compactedIndex());
    if (point > this.raftLog.compactedIndex()) {
      this.raftLog.compact(point);
      this.discardBefore = point + 1;
    }
  }

  /**
   * The driver's report on an InstallSnapshot stream it ran (Ready step 2):
   * `finished` once the follower has all of it, `failed` when it gave up
   * (the follower unreachable, the snapshot superseded). Either way the
   * follower goes back to probing, paused until it next answers (a
   * heartbeat round), so a failing stream is retried once per round at most
   * (etcd's ReportSnapshot). The driver must report every stream it started.
   */
  reportSnapshot(peer: NodeId, outcome: SnapshotOutcome): void {
    if (this.role !== 'leader') return;
    const progress = this.progress.get(peer);
    if (progress === undefined || progress.state !== 'snapshot') return;
    const pending = progress.pendingSnapshot;
    progress.becomeProbe();
    progress.probeSent = true;
    if (outcome === 'failed') this.notices.push(`snapshot ${pending} to ${peer} failed; retrying after its next answer`);
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
      this.snapshotToInstall !== null ||
      this.snapshotSends.length > 0 ||
      this.discardBefore !== null ||
      this.snapshotDueNow() ||
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
    if (this.config.unsafe.snapshotPastCommit === true && lastIndex > this.commitIndex && this.snapshotRequested === 0) {
      // The classic mistake: a snapshot taken of the whole log, as if
      // everything in it were committed. Uncommitted entries are applied
      // (and their clients answered) and then lost to a later leader.
      const base = this.snapshot?.index ?? 0;
      if (snapshotDue(this.compaction, lastIndex - base, this.bytesSinceSnapshot)) this.commitTo(lastIndex);
    }
    const hardState = this.hardStateChanged() ? { currentTerm: this.currentTerm, votedFor: this.votedFor } : null;
    const entriesToAppend = this.unstableFrom <= lastIndex ? this.raftLog.slice(this.unstableFrom, lastIndex) : NO_ENTRIES;
    const committedEntries =
      this.commitIndex > this.handedOutIndex ? this.raftLog.slice(this.handedOutIndex + 1, this.commitIndex) : NO_ENTRIES;
    // Indexed: NO_ENTRIES is frozen, and for...of over a frozen array is not optimised (an iterator result per step).
    for (let i = 0; i < committedEntries.length; i++) this.bytesSinceSnapshot += entrySizeBytes(committedEntries[i]!);
    this.handedOutIndex = Math.max(this.handedOutIndex, this.commitIndex);
    // Ready step 5: once this Ready's entries are applied the state machine
    // stands at handedOutIndex; that is where a due snapshot is taken.
    let snapshotRequest: SnapshotMeta | null = null;
    if (this.snapshotDueNow()) {
      const index = this.handedOutIndex;
      const term = this.raftLog.term(index);
      assert(term !== null, `the entry at handed-out index ${index} is in the log`);
      snapshotRequest = { index, term, configuration: this.configs.at(index) };
      this.snapshotRequested = index;
    }
    const softState = this.softState();
    const ready: Ready = {
      hardState,
      entriesToAppend,
      // An empty live array is never handed out: the driver may hold a Ready across a persist while new output accumulates.
      messages: this.outbox.length > 0 ? this.outbox : NO_MESSAGES,
      committedEntries,
      readStates: this.readStates.length > 0 ? this.readStates : NO_READ_STATES,
      readRejections: this.readRejections.length > 0 ? this.readRejections : NO_READ_REJECTIONS,
      snapshotToInstall: this.snapshotToInstall,
      snapshotsToSend: this.snapshotSends.length > 0 ? this.snapshotSends : NO_SNAPSHOT_SENDS,
      snapshotRequest,
      discardEntriesBefore: this.discardBefore,
      softState,
      notices: this.notices.length > 0 ? this.notices : NO_NOTICES,
    };
    if (hardState !== null) this.lastHardState = hardState;
    this.lastSoftState = softState;
    this.unstableFrom = lastIndex + 1;
    // Fresh arrays only where something was handed out (the driver keeps the old ones); a Ready per datagram is the common case.
    if (this.outbox.length > 0) this.outbox = [];
    if (this.readStates.length > 0) this.readStates = [];
    if (this.readRejections.length > 0) this.readRejections = [];
    if (this.notices.length > 0) this.notices = [];
    if (this.snapshotSends.length > 0) this.snapshotSends = [];
    this.snapshotToInstall = null;
    this.discardBefore = null;
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
      firstIndex: this.raftLog.firstIndex(),
      snapshot: this.snapshot,
      configuration: this.configs.current(),
    };
  }

  /**
   * Whether this node leads, its term, commitIndex and last log index, as
   * `status()` has them but without building one: the simulator's
   * invariant checks read them after every event (the commit-quorum check
   * on every node), and need the rest only when something changed.
   */
  isLeader(): boolean {
    return this.role === 'leader';
  }

  term(): number {
    return this.currentTerm;
  }

  committedIndex(): number {
    return this.commitIndex;
  }

  lastLogIndex(): number {
    return this.raftLog.lastIndex();
  }

  /** The in-memory log, firstIndex..lastIndex (read-only; for tests and simulator invariants). */
  log(): readonly Entry[] {
    return this.raftLog.all();
  }

  /** The configuration in effect (the newest in the log, dissertation §4.1). */
  configuration(): Configuration {
    return this.configs.current();
  }

  /**
   * What a snapshot of the state machine at `index` must say (Figure 13's
   * lastIncludedIndex/Term and the configuration in effect there), for a
   * driver that snapshots on its own: null unless `index` has been handed
   * out for application and is not older than the current snapshot.
   */
  snapshotMetaAt(index: number): SnapshotMeta | null {
    const base = this.snapshot?.index ?? 0;
    if (!(Number.isSafeInteger(index) && index > base && index <= this.handedOutIndex)) return null;
    const term = this.raftLog.term(index);
    const configuration = this.configs.at(index);
    // A joiner does not know the configuration before the entry that added it (see snapshotDueNow).
    if (term === null || configuration.voters.length === 0) return null;
    return { index, term, configuration };
  }

  /**
   * Whom the driver should accept peer datagrams from (dissertation §4.1,
   * §4.2.3): the members of the configuration in effect at the commit index
   * and of every newer one. A server whose removal this node knows committed
   * is no longer heard; a joiner that knows no configuration yet gets null
   * (it must hear from whoever leads). Sorted, for a stable comparison.
   */
  acceptedPeers(): readonly NodeId[] | null {
    // The host asks after every Ready, and the answer changes only with the
    // configuration history or with how many of its points the commit index
    // has passed: the same array comes back until then (the host compares by
    // identity).
    const points = this.configs.points;
    const from = Math.max(this.commitIndex, points[0]?.index ?? 0);
    let passed = 0;
    while (passed < points.length && points[passed]!.index <= from) passed++;
    const memo = this.acceptedPeersMemo;
    if (memo !== null && memo.changes === this.configs.changes && memo.passed === passed) return memo.peers;
    const members = this.configs.membersSince(this.commitIndex);
    let peers: readonly NodeId[] | null = null;
    if (members !== null) {
      members.delete(this.config.id);
      peers = [...members].sort();
    }
    this.acceptedPeersMemo = { changes: this.configs.changes, passed, peers };
    return peers;
  }

  /** Whether the newest configuration entry (or the snapshot's/bootstrap configuration) is committed. */
  configurationCommitted(): boolean {
    return this.configs.lastIndex() <= this.commitIndex;
  }

  /**
   * Non-null once this server knows it was removed (dissertation §4.2.2): a
   * leader told it so (AppendEntries.removedAt), or it led and committed its
   * own removal. Never set from this server's own log alone: a removed server
   * re-added under the same identity is caught up from before its removal,
   * and while the entries that re-add it are still on their way its log
   * shows the removal committed and nothing after it. The driver shuts the
   * server down (node/host.ts); the core only stops campaigning.
   */
  removal(): Removal | null {
    return this.removedBy;
  }

  hardState(): HardState {
    return { currentTerm: this.currentTerm, votedFor: this.votedFor };
  }

  /** The leader's progress for `peer`, or null when not leader. */
  progressOf(peer: NodeId): ProgressView | null {
    const progress = this.role === 'leader' ? this.progress.get(peer) : undefined;
    if (progress === undefined) return null;
    return {
      matchIndex: progress.matchIndex,
      nextIndex: progress.nextIndex,
      state: progress.state,
      inflight: progress.inflights.length,
      pendingSnapshot: progress.pendingSnapshot,
      learner: isLearner(this.configs.current(), peer),
      caughtUp: progress.caughtUp,
    };
  }

  // ---------------------------------------------------------------- time

  private tickElection(): void {
    this.electionElapsed++;
    // A minimum election timeout has passed since the restart (or since we
    // last reset our timer): any lease we might have promised has run out.
    if (this.electionElapsed >= this.config.electionTimeoutTicksMin) this.mayHaveLeaseholder = false;
    // A learner, a joiner or a server whose removal it knows committed never
    // campaigns (§4.2.1, §4.2.2): its timer only measures how long ago it
    // heard from a leader.
    if (this.electionElapsed >= this.randomizedElectionTimeout && this.mayCampaign()) {
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
        // Of the current voters (a leader being removed does not count itself).
        let active = this.selfVoter ? 1 : 0;
        for (const peer of this.otherVoters) if (this.progressFor(peer).recentActive) active++;
        for (const peer of this.others) this.progressFor(peer).recentActive = false;
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
    // §4.2.1: a catch-up round still open after an election timeout means that follower is not keeping up.
    const lastIndex = this.raftLog.lastIndex();
    for (const peer of this.others) this.progressFor(peer).expireRound(this.ticks, lastIndex, this.config.electionTimeoutTicksMin);
    const farewell = this.farewellTicksLeft > 0;
    if (farewell) this.farewellTicksLeft--;
    if (this.heartbeatElapsed >= this.config.heartbeatIntervalTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
      if (farewell) this.sendFarewells();
    } else if (this.config.commitNoticeAtTick === true) {
      this.sendCommitNotices();
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
      due = Math.min(
        this.config.heartbeatIntervalTicks - this.heartbeatElapsed,
        this.config.electionTimeoutTicksMin - this.electionElapsed,
      );
      if (this.leadTransferee !== null) due = Math.min(due, this.config.electionTimeoutTicksMin - this.transferElapsed);
      if (this.config.commitNoticeAtTick === true && this.anyCommitNoticeDue()) due = 1;
    } else if (!this.mayCampaign()) {
      // Ticks of a node that may not campaign never act (tickElection); any wake-up period will do.
      due = this.config.electionTimeoutTicksMax;
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
    return (
      this.config.checkQuorum &&
      (this.leaderId !== null || this.mayHaveLeaseholder) &&
      this.electionElapsed < this.config.electionTimeoutTicksMin
    );
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
    // Only a server the cluster may need as leader campaigns (mayCampaign).
    if (this.role === 'leader' || !this.mayCampaign()) return;
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
    for (const peer of this.otherVoters) {
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
    for (const peer of this.others) this.progress.set(peer, this.newProgress(nextIndex));
    this.seq = 0;
    this.seqTicks = [];
    this.uncommittedBytes = 0;
    this.leadTransferee = null;
    this.leaseForfeited = false;
    this.readRoundSeq = null;
    if (this.config.unsafe.commitOldTerms) {
      // The Figure 8 bug, whole: an implementation that commits by counting
      // replicas typically has no noop either. It starts its term as Figure 2
      // says ("upon election: send initial empty AppendEntries"), at
      // nextIndex - 1, so followers that match acknowledge our *old-term*
      // last entry and maybeCommit counts them (§5.4.2 forbids exactly that).
      for (const peer of this.others) this.sendEmptyAppendAtNext(peer);
      if (this.otherVoters.length === 0 && this.maybeCommit()) this.afterCommit();
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
    this.leaseForfeited = false;
    this.uncommittedBytes = 0;
    this.readRoundSeq = null;
    this.appendsPending = false;
    this.seqTicks = [];
    this.farewellTicksLeft = 0;
  }

  /**
   * The votes of the current configuration's voters (§4.1); our own counts
   * only if we are one of them (§4.2.2: a server outside its latest
   * configuration may campaign, but does not vote for itself).
   */
  private tally(): 'won' | 'lost' | 'pending' {
    let granted = 0;
    let rejected = 0;
    for (const [id, vote] of this.votes) {
      if (id === this.config.id && !this.selfVoter) continue;
      if (vote) granted++;
      else rejected++;
    }
    const voters = this.otherVoters.length + (this.selfVoter ? 1 : 0);
    if (granted >= this.quorum) return 'won';
    if (voters - rejected < this.quorum) return 'lost';
    return 'pending';
  }

  /**
   * Whether we may campaign (dissertation §4.2.2): a voter of the
   * configuration in effect may; so may a server that configuration leaves
   * out while that configuration is not known committed and the one before
   * it had us as a voter: "a server that is not part of its own latest
   * configuration should still start new elections, as it might still be
   * needed until the Cnew entry is committed". Without that, a removed
   * leader holding the only up-to-date log (its removal uncommitted) could
   * leave the cluster with no electable server. Learners and joiners never
   * campaign.
   */
  private mayCampaign(): boolean {
    if (this.removedBy !== null) return false;
    if (this.selfVoter) return true;
    const latest = this.configs.lastIndex();
    if (latest <= this.commitIndex) return false;
    return isVoter(this.configs.at(latest - 1), this.config.id);
  }

  // ---------------------------------------------------------------- messages

  /** §5.1: reject a stale-term request with our term so its sender steps down; drop stale responses. */
  private answerStaleTerm(message: CoreMessage): void {
    switch (message.type) {
      case 'install_snapshot':
        // As for a stale AppendEntries: our term makes the deposed leader step down.
        this.outbox.push({
          type: 'append_entries_response',
          term: this.currentTerm,
          from: this.config.id,
          to: message.from,
          success: false,
          matchIndex: message.snapshot.index,
          conflictTerm: null,
          conflictIndex: this.raftLog.lastIndex() + 1,
          seq: 0,
        });
        return;
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
    // Only the voters of our configuration count (a learner may answer, dissertation §4.2.1).
    if (!counts || this.votes.has(message.from) || !this.otherVoters.includes(message.from)) return;
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
    if (message.removedAt !== undefined) {
      this.acceptFarewell({ ...message, removedAt: message.removedAt });
      return;
    }

    let prevLogIndex = message.prevLogIndex;
    let prevLogTerm = message.prevLogTerm;
    let entries = message.entries;
    // Everything up to commitIndex already matches every later leader
    // (Leader Completeness, §5.4); only look at what lies beyond it. (Not
    // under the Figure 8 bug flag: there committed entries do get
    // overwritten, and the harness must be able to see it; but what was
    // compacted away cannot be compared, so it is skipped even then.)
    const trusted = this.config.unsafe.commitOldTerms ? this.raftLog.compactedIndex() : this.commitIndex;
    if (prevLogIndex < trusted) {
      const skip = trusted - prevLogIndex;
      // The first `skip` entries are the committed part (a loop, not a slice and a closure: this runs for most heartbeats).
      const committedPart = Math.min(skip, entries.length);
      let agrees = this.agreesWithCommitted(prevLogIndex, prevLogTerm);
      for (let i = 0; agrees && i < committedPart; i++) agrees = this.agreesWithCommitted(entries[i]!.index, entries[i]!.term);
      if (!agrees) {
        // A leader whose log disagrees with entries we committed: the
        // cluster's safety is already broken (lost fsyncs, forgotten votes).
        // Network input never crashes us, and never overwrites committed
        // entries: drop the message.
        return;
      }
      if (entries.length <= skip) {
        this.respondAppend(message, true, Math.max(trusted, prevLogIndex + entries.length), null, 0);
        return;
      }
      entries = entries.slice(skip);
      prevLogIndex = trusted;
      prevLogTerm = this.raftLog.term(trusted) ?? 0;
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
      const appended = entries.slice(conflict - first.index);
      const truncates = conflict <= this.raftLog.lastIndex();
      this.raftLog.truncateAndAppend(appended);
      this.unstableFrom = Math.min(this.unstableFrom, conflict);
      this.persistedIndex = Math.min(this.persistedIndex, conflict - 1);
      // Dissertation §4.1: a configuration takes effect when its entry is
      // appended, and a truncated one takes its configuration with it.
      if (truncates) this.configs.truncateFrom(conflict);
      let changed = truncates;
      for (const entry of appended) {
        if (entry.type !== 'config') continue;
        this.configs.push(entry.index, configurationOfEntry(entry.data));
        changed = true;
      }
      if (changed) this.refreshMembership();
    }
    // §5.3 / Figure 2: commitIndex = min(leaderCommit, index of last new entry).
    const commit = Math.min(message.leaderCommit, lastNewIndex);
    if (commit > this.commitIndex) this.commitTo(commit);
    this.respondAppend(message, true, lastNewIndex, null, 0);
  }

  /** Whether (index, term) agrees with our log at or below what we trust; compacted entries were committed: they match by Leader Completeness. */
  private agreesWithCommitted(index: number, term: number): boolean {
    return this.raftLog.isCompacted(index) || this.raftLog.matchTerm(index, term);
  }

  private respondAppend(
    message: AppendEntries,
    success: boolean,
    matchIndex: number,
    conflictTerm: number | null,
    conflictIndex: number,
  ): void {
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
    // Not (or no longer) a member we replicate to: nothing to track (dissertation ch. 4).
    const progress = this.progress.get(message.from);
    if (progress === undefined) return;
    progress.recentActive = true;
    if (message.seq > progress.ackedSeq) {
      // Any answer in our term proves the peer still took us for its leader
      // after we sent `seq` (ReadIndex, thesis §6.4).
      progress.ackedSeq = message.seq;
      if (this.config.leaseTicks !== null) progress.ackedSendTick = this.sendTickOf(message.seq);
    }

    if (message.success) {
      const updated = progress.maybeUpdate(message.matchIndex, this.seq);
      // §7: once the follower holds what we have not compacted (the snapshot
      // got there, or it never needed it), entries can follow (etcd).
      if (progress.state === 'snapshot' && progress.matchIndex >= this.raftLog.compactedIndex()) progress.becomeProbe();
      if (progress.state === 'probe') {
        progress.probeSent = false;
        if (progress.matchIndex === progress.nextIndex - 1) progress.becomeReplicate();
      } else if (progress.state === 'replicate') {
        progress.freeUpTo(progress.matchIndex);
      }
      progress.observeRound(this.ticks, this.raftLog.lastIndex(), this.config.electionTimeoutTicksMin);
      if (updated && this.maybeCommit()) this.afterCommit();
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
        this.notices.push(
          `follower ${message.from} lost acknowledged entries (matchIndex ${had}, it rejected prevLogIndex ${message.matchIndex}); probing from ${progress.nextIndex}`,
        );
        this.sendAppends(message.from);
      } else if (progress.maybeDecreaseTo(message.matchIndex, hintNextIndex)) this.sendAppends(message.from);
      else if (
        progress.state === 'probe' &&
        message.matchIndex === this.raftLog.compactedIndex() &&
        message.matchIndex > progress.matchIndex
      ) {
        // It rejected a heartbeat at our compaction point (heartbeats go
        // there when its matchIndex is compacted; probes go at nextIndex - 1):
        // a heartbeat's answer ends a paused probe (as etcd's heartbeat
        // response does), whether the probe was lost or a snapshot stream was
        // reported. Paced by heartbeats: a failed snapshot is retried once per
        // round, a lost probe resent once per round.
        progress.probeSent = false;
        this.sendAppends(message.from);
      }
    }
    this.confirmReads();
  }

  /**
   * §7 InstallSnapshot on the follower, once the driver has the whole
   * snapshot, checksummed (see {@link InstallSnapshot}). Every outcome
   * answers with AppendEntriesResponse success:
   * - the snapshot is no newer than our commit index: nothing to do;
   * - our log already holds its last entry (same index and term): our log
   *   matches up to it, so we keep the log and learn that it is committed
   *   (Figure 13 step 6, as etcd does; nothing to reload);
   * - otherwise: install it (Ready.snapshotToInstall), discarding the whole
   *   log (step 7): entries past a snapshot we did not match are from
   *   another history and must not be kept, let alone acknowledged.
   */
  private handleInstallSnapshot(message: InstallSnapshot): void {
    if (this.role === 'leader') return; // another leader in our term: a broken peer (see handleAppendEntries)
    if (this.role !== 'follower') this.becomeFollower(this.currentTerm, message.from);
    this.leaderId = message.from;
    this.mayHaveLeaseholder = false;
    this.electionElapsed = 0;
    const meta = message.snapshot;
    const keepLog = this.config.unsafe.keepLogOnInstall === true;
    if (meta.index <= this.commitIndex) {
      this.respondSnapshot(message, this.commitIndex);
      return;
    }
    if (!keepLog && this.raftLog.matchTerm(meta.index, meta.term)) {
      this.commitTo(meta.index);
      this.respondSnapshot(message, meta.index);
      return;
    }
    let keep: Entry[] = [];
    if (keepLog && meta.index < this.raftLog.lastIndex()) {
      // The unsafe flag: hold on to whatever follows the snapshot's index
      // (as far as terms allow), unchecked.
      for (const entry of this.raftLog.slice(Math.max(meta.index + 1, this.raftLog.firstIndex()), this.raftLog.lastIndex())) {
        if (entry.index !== meta.index + 1 + keep.length || entry.term < meta.term) break;
        keep.push(entry);
      }
    }
    this.raftLog.reset(meta.index, meta.term, keep);
    this.snapshot = meta;
    this.configs.rebase({ index: meta.index, configuration: meta.configuration });
    this.configs.truncateFrom(meta.index + 1);
    for (const entry of keep) if (entry.type === 'config') this.configs.push(entry.index, configurationOfEntry(entry.data));
    this.refreshMembership();
    this.commitIndex = meta.index;
    this.handedOutIndex = meta.index;
    this.bytesSinceSnapshot = 0;
    if (this.snapshotRequested !== 0 && this.snapshotRequested <= meta.index) this.snapshotRequested = 0;
    // The driver replaces the stored log (Ready step 1a): what we keep is written again.
    this.unstableFrom = meta.index + 1;
    this.persistedIndex = meta.index;
    this.discardBefore = null;
    this.snapshotToInstall = meta;
    this.notices.push(`installing snapshot ${meta.index}@${meta.term} from ${message.from}`);
    this.respondSnapshot(message, keepLog ? this.raftLog.lastIndex() : meta.index);
  }

  private respondSnapshot(message: InstallSnapshot, matchIndex: number): void {
    this.outbox.push({
      type: 'append_entries_response',
      term: this.currentTerm,
      from: this.config.id,
      to: message.from,
      success: true,
      matchIndex,
      conflictTerm: null,
      conflictIndex: 0,
      seq: message.seq,
    });
  }

  // ---------------------------------------------------------------- replication

  private appendAsLeader(entry: Entry): void {
    assert(this.role === 'leader', 'only the leader appends new entries');
    this.raftLog.append([entry]);
    const configChanged = entry.type === 'config';
    if (configChanged) {
      // §4.1: the leader uses the new configuration as soon as the entry is in its log.
      this.configs.push(entry.index, configurationOfEntry(entry.data));
      this.refreshMembership();
    }
    // Sent with the next Ready, not at the next heartbeat (latency), and all
    // proposals since the last Ready travel in one AppendEntries per
    // follower (batching: one datagram and one follower fsync for many).
    if (this.others.length > 0) this.appendsPending = true;
    // The leader counts its own copy: the driver persists it (Ready step 1)
    // before any follower ack can be processed. Alone, it is a majority; and
    // a new configuration has new majorities (a removed laggard no longer
    // holds commits back).
    if ((this.otherVoters.length === 0 || configChanged) && this.maybeCommit()) this.afterCommit();
  }

  private flushAppends(): void {
    if (!this.appendsPending) return;
    this.appendsPending = false;
    if (this.role !== 'leader') return;
    for (const peer of this.others) this.sendAppends(peer);
  }

  /** Send as many AppendEntries with entries as flow control allows. Returns whether any was sent. */
  private sendAppends(peer: NodeId): boolean {
    const progress = this.progressFor(peer);
    const lastIndex = this.raftLog.lastIndex();
    let sent = false;
    while (!progress.isPaused(this.config.maxInflightAppends) && progress.nextIndex <= lastIndex) {
      const prevLogIndex = progress.nextIndex - 1;
      const prevLogTerm = this.raftLog.term(prevLogIndex);
      if (prevLogTerm === null) {
        // §7: what it needs next is compacted away; only a snapshot can catch it up.
        this.sendSnapshot(peer, progress);
        return true;
      }
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
    // Below our compaction point no term is known: beat at the point itself.
    // A follower that lacks it rejects, which is how a follower waiting for
    // a snapshot answers (and still learns it has a leader).
    const at = Math.max(progress.matchIndex, this.raftLog.compactedIndex());
    const leaderCommit = this.sendEmptyAppend(peer, at);
    if (at === progress.matchIndex) progress.commitSent = Math.max(progress.commitSent, leaderCommit);
  }

  /** §7: stream our snapshot to `peer` (Ready.snapshotsToSend); nothing but heartbeats goes to it until it answers. */
  private sendSnapshot(peer: NodeId, progress: Progress): void {
    const snapshot = this.snapshot;
    if (snapshot === null) assertionFailed(`entry ${progress.nextIndex - 1} is compacted, yet no snapshot covers it`);
    progress.becomeSnapshot(snapshot.index);
    this.snapshotSends.push({
      type: 'install_snapshot',
      term: this.currentTerm,
      from: this.config.id,
      to: peer,
      seq: this.nextSeq(),
      snapshot,
    });
  }

  private broadcastHeartbeat(): void {
    const lastIndex = this.raftLog.lastIndex();
    for (const peer of this.others) {
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
    for (const peer of this.others) {
      this.sendAppends(peer);
      // With commitNoticeAtTick a commit no new entries carried waits for the next tick (sendCommitNotices).
      if (this.config.commitNoticeAtTick !== true && this.commitNoticeDue(peer)) this.sendHeartbeat(peer);
    }
  }

  /** Whether `peer` holds entries this leader knows committed but was not told so (§5.3: followers learn commit from AppendEntries). */
  private commitNoticeDue(peer: NodeId): boolean {
    const progress = this.progressFor(peer);
    return Math.min(this.commitIndex, progress.matchIndex) > progress.commitSent;
  }

  /** Whether some follower has a commit it was not told of. A loop, not `some` with a closure: the host asks after every message it hands the core. */
  private anyCommitNoticeDue(): boolean {
    for (const peer of this.others) if (this.commitNoticeDue(peer)) return true;
    return false;
  }

  /** RaftConfig.commitNoticeAtTick: at a tick, a heartbeat to each follower with a commit it was not told of. */
  private sendCommitNotices(): void {
    for (const peer of this.others) if (this.commitNoticeDue(peer)) this.sendHeartbeat(peer);
  }

  private sendTimeoutNow(peer: NodeId): void {
    if (this.config.unsafe.leaseAfterHandover !== true) this.leaseForfeited = true;
    this.outbox.push({ type: 'timeout_now', term: this.currentTerm, from: this.config.id, to: peer });
  }

  /**
   * §5.3, §5.4.2: commit the highest index stored on a majority, but only if
   * its entry is from the current term (Figure 8); earlier entries commit
   * with it. `unsafe.commitOldTerms` drops the term check (the Figure 8 bug).
   */
  private maybeCommit(): boolean {
    // §10.2.1: with parallel leader appends the leader's own copy counts only once durable.
    const selfMatch =
      this.config.parallelLeaderAppend === true ? Math.min(this.persistedIndex, this.raftLog.lastIndex()) : this.raftLog.lastIndex();
    // A majority of the current voters (§4.1); a leader that is removing itself does not count (§4.2.2).
    const matches = this.selfVoter ? [selfMatch] : [];
    for (const peer of this.otherVoters) matches.push(this.progressFor(peer).matchIndex);
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
    if (this.config.unsafe.configOnCommit === true) this.refreshMembership();
    if (this.role !== 'leader') return;
    const configIndex = this.configs.lastIndex();
    if (previous < configIndex && configIndex <= index && this.configs.removedByLast().length > 0) {
      // §4.2.2: the servers this configuration removed get nothing more from us; tell them (AppendEntries.removedAt).
      this.farewellTicksLeft = 2 * this.config.heartbeatIntervalTicks;
      this.sendFarewells();
    }
    for (let i = previous + 1; i <= index; i++) {
      const entry = this.raftLog.at(i);
      if (entry.term === this.currentTerm && entry.type === 'command') this.uncommittedBytes -= entrySizeBytes(entry);
    }
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes);
    if (this.committedEntryInCurrentTerm()) {
      for (const requestId of this.reads.takeAwaitingCommit()) this.startRead(requestId);
    }
  }

  /** After the leader's commitIndex advanced: tell the followers, then step down if that committed our own removal. */
  private afterCommit(): void {
    this.broadcastCommit();
    this.maybeStepDownAfterRemoval();
  }

  /**
   * Dissertation §4.2.2: a leader removed from the configuration keeps
   * leading (without counting itself) until the configuration without it is
   * committed, then steps down. It hands over at once to a voter that holds
   * its whole log (TimeoutNow, as in a leadership transfer, §3.10), so the
   * cluster need not wait an election timeout for a new leader.
   */
  private maybeStepDownAfterRemoval(): void {
    if (this.role !== 'leader' || this.selfVoter || this.configs.lastIndex() > this.commitIndex) return;
    const lastIndex = this.raftLog.lastIndex();
    const successor = this.otherVoters.find((peer) => this.progressFor(peer).matchIndex === lastIndex) ?? null;
    if (successor !== null) this.sendTimeoutNow(successor);
    this.notices.push(
      `the configuration without ${this.config.id} is committed (index ${this.configs.lastIndex()}): stepping down` +
        (successor === null ? '' : `, handing over to ${successor}`),
    );
    this.becomeFollower(this.currentTerm, null);
    this.removedBy = { index: this.configs.lastIndex(), leaderId: this.config.id, term: this.currentTerm };
  }

  /** One farewell to each server the newest configuration removed, while it is committed (AppendEntries.removedAt). */
  private sendFarewells(): void {
    const configIndex = this.configs.lastIndex();
    if (configIndex > this.commitIndex) return;
    const configTerm = this.raftLog.term(configIndex) ?? 0;
    for (const peer of this.configs.removedByLast()) {
      if (peer === this.config.id) continue;
      this.outbox.push({
        type: 'append_entries',
        term: this.currentTerm,
        from: this.config.id,
        to: peer,
        prevLogIndex: configIndex,
        prevLogTerm: configTerm,
        entries: [],
        // Capped at prevLogIndex, as on every heartbeat (the wire monitor reads leaderCommit so, checker/commit-quorum.ts).
        leaderCommit: configIndex,
        seq: this.nextSeq(),
        removedAt: configIndex,
      });
    }
  }

  /**
   * A leader says we were removed (AppendEntries.removedAt). Believed unless
   * our own log holds a newer configuration that includes us (we were added
   * back and a farewell from before arrived late): the leader of our term
   * holds every committed entry (§5.4), and it says its newest configuration
   * leaves us out and the one that removed us is committed, which no later
   * leader can undo. The rest of the message is not used: it carries nothing
   * for our log.
   */
  private acceptFarewell(message: AppendEntries & { readonly removedAt: number }): void {
    const self = this.config.id;
    const readded = this.configs.points.some((point) => point.index > message.removedAt && isMember(point.configuration, self));
    if (readded) {
      this.notices.push(`farewell from ${message.from} (removed at ${message.removedAt}) ignored: a newer configuration includes ${self}`);
      return;
    }
    // No notice: the driver logs the one line an operator needs when it sees removal() (node/host.ts).
    if (this.removedBy === null) this.removedBy = { index: message.removedAt, leaderId: message.from, term: message.term };
  }

  /** A leader's view of a follower that joins its replication (a new member, or every member when it becomes leader). */
  private newProgress(nextIndex: number): Progress {
    const progress = new Progress(nextIndex);
    progress.roundEndIndex = this.raftLog.lastIndex();
    progress.roundStartTick = this.ticks;
    return progress;
  }

  /**
   * Derive the member lists from the configuration in effect (after every
   * change: an append, a truncation, a snapshot). A leader starts tracking
   * new members (probing from its last entry, which is the configuration
   * entry that added them, so the first AppendEntries finds where their log
   * stands) and forgets removed ones (dissertation §4.1).
   */
  private refreshMembership(): void {
    // unsafe.configOnCommit: the configuration at the commit index instead (the §4.1 mistake).
    const configuration = this.config.unsafe.configOnCommit === true ? this.configs.at(this.commitIndex) : this.configs.current();
    const self = this.config.id;
    this.others = othersOf(configuration, self);
    this.otherVoters = configuration.voters.filter((id) => id !== self);
    this.selfVoter = isVoter(configuration, self);
    this.quorum = configuration.voters.length > 0 ? quorumSize(configuration.voters.length) : 1;
    if (this.role !== 'leader') return;
    for (const peer of this.others) {
      if (!this.progress.has(peer)) this.progress.set(peer, this.newProgress(Math.max(1, this.raftLog.lastIndex())));
    }
    for (const peer of [...this.progress.keys()]) if (!this.others.includes(peer)) this.progress.delete(peer);
    if (this.leadTransferee !== null && !this.otherVoters.includes(this.leadTransferee)) this.leadTransferee = null;
  }

  /** Bytes (entrySizeBytes) of the entries from..to still in the log. */
  private bytesBetween(from: number, to: number): number {
    let bytes = 0;
    for (let index = Math.max(from, this.raftLog.firstIndex()); index <= to; index++) bytes += entrySizeBytes(this.raftLog.at(index));
    return bytes;
  }

  /**
   * A snapshot is due (compaction.ts), none is outstanding, and we know the
   * configuration at the applied index: a joiner that has not yet reached
   * the entry that added it does not (the bootstrap configuration is in no
   * log), so it waits until it has.
   */
  private snapshotDueNow(): boolean {
    if (this.snapshotRequested !== 0) return false;
    const base = this.snapshot?.index ?? 0;
    if (!snapshotDue(this.compaction, this.handedOutIndex - base, this.bytesSinceSnapshot)) return false;
    return this.configs.at(this.handedOutIndex).voters.length > 0;
  }

  // ---------------------------------------------------------------- reads

  private committedEntryInCurrentTerm(): boolean {
    return this.raftLog.term(this.commitIndex) === this.currentTerm;
  }

  private startRead(requestId: string): void {
    const readIndex = this.commitIndex;
    if ((this.selfVoter && this.otherVoters.length === 0) || this.config.unsafe.skipReadQuorum || this.leaseValid()) {
      this.readStates.push({ requestId, readIndex });
      return;
    }
    if (this.readRoundSeq === null) {
      // A new round: heartbeats sent after this read was recorded. Reads
      // arriving before the next ready() join it (batching, thesis §6.4).
      this.readRoundSeq = this.seq + 1;
      // Only voters' answers confirm a read (a majority of the current configuration).
      for (const peer of this.otherVoters) this.sendHeartbeat(peer);
    }
    this.reads.addConfirming({ requestId, readIndex, roundSeq: this.readRoundSeq });
  }

  private confirmReads(): void {
    if (this.role !== 'leader') return;
    const confirmed = this.reads.takeConfirmed((roundSeq) => {
      let acks = this.selfVoter ? 1 : 0;
      for (const peer of this.otherVoters) if (this.progressFor(peer).ackedSeq >= roundSeq) acks++;
      return acks >= this.quorum;
    });
    for (const read of confirmed) this.readStates.push({ requestId: read.requestId, readIndex: read.readIndex });
  }

  /** Thesis §6.4.1: a quorum answered a round sent less than leaseTicks ago. */
  private leaseValid(): boolean {
    const leaseTicks = this.config.leaseTicks;
    if (leaseTicks === null || this.leaseForfeited) return false;
    // A majority of the current voters (thesis §6.4.1 with dissertation §4.1).
    const sendTicks = this.selfVoter ? [this.ticks] : [];
    for (const peer of this.otherVoters) sendTicks.push(this.progressFor(peer).ackedSendTick);
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
    return (
      last.role !== this.role ||
      last.leaderId !== this.leaderId ||
      last.currentTerm !== this.currentTerm ||
      last.commitIndex !== this.commitIndex
    );
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
function isWellFormed(message: CoreMessage): boolean {
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
      if (!isIndex(message.prevLogIndex) || !isIndex(message.prevLogTerm) || !isIndex(message.leaderCommit) || !isIndex(message.seq))
        return false;
      let previousTerm = message.prevLogTerm;
      for (let i = 0; i < message.entries.length; i++) {
        const entry = message.entries[i];
        if (entry === undefined || entry.index !== message.prevLogIndex + 1 + i) return false;
        if (!isIndex(entry.term) || entry.term < previousTerm || entry.term > message.term || entry.term === 0) return false;
        // A configuration must be readable before it can take effect (it does so on append, §4.1).
        if (entry.type === 'config' && !decodeConfigEntry(entry.data).ok) return false;
        previousTerm = entry.term;
      }
      return message.prevLogTerm <= message.term;
    }
    case 'install_snapshot': {
      const snapshot = message.snapshot;
      return (
        isIndex(message.seq) &&
        isIndex(snapshot.index) &&
        snapshot.index >= 1 &&
        isIndex(snapshot.term) &&
        snapshot.term >= 1 &&
        snapshot.term <= message.term &&
        configurationProblem(snapshot.configuration) === null
      );
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
  const problem = configurationProblem({ voters: [...config.peers].sort(), learners: [] });
  assert(problem === null, `RaftConfig.peers: ${problem}`);
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
