/**
 * The vocabulary of the pure Raft core: log entries, persistent state, the
 * messages peers exchange, and the `Ready` batch of effects the core hands to
 * its driver (the real binary through `node/host.ts` and `node/main.ts`, or the
 * deterministic simulator in `sim/`).
 *
 * Names follow the Raft paper's Figure 2 (currentTerm, votedFor, log,
 * commitIndex, lastApplied, nextIndex, matchIndex, prevLogIndex, ...).
 * Nothing in `node/raft/` does IO, reads a clock or draws randomness by
 * itself: time is counted in ticks and randomness comes from an injected
 * {@link Prng}.
 */

export type NodeId = string;

/**
 * Who is in the cluster (dissertation ch. 4): the voters, whose majorities
 * elect leaders and commit entries, and the learners (non-voting members,
 * §4.2.1), who receive the log but count in no majority. Both lists are
 * sorted and disjoint; there is always at least one voter.
 */
export interface Configuration {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/**
 * One single-server change (§4.1): membership changes one server at a time,
 * so any majority of the old configuration overlaps any majority of the new
 * one. A new server joins as a learner and is promoted once it has caught
 * up (§4.2.1); `remove` takes out a voter or a learner (and may remove the
 * leader itself, §4.2.2).
 */
export type ConfChange =
  | { readonly type: 'add_learner'; readonly node: NodeId }
  | { readonly type: 'promote'; readonly node: NodeId }
  | { readonly type: 'remove'; readonly node: NodeId };

/**
 * What identifies a snapshot of the state machine (§7, Figure 13's
 * lastIncludedIndex and lastIncludedTerm, and the configuration as of that
 * index, §4.4 / ch. 5): everything up to and including `index` is in it.
 * The bytes themselves never pass through the core.
 */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly configuration: Configuration;
}

/**
 * A log entry. `data` is opaque to the core: the KV layer encodes its
 * commands (with the client session `(clientId, seq)`) as a string.
 * A `noop` entry is appended by every new leader at the start of its term
 * (§5.4.2, §8: it lets the leader commit entries of earlier terms and learn
 * the commit index before serving reads); a `config` entry changes the
 * membership.
 */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: string;
}

/**
 * `command`: a client command (opaque to the core). `noop`: a new leader's
 * empty entry (§8). `config`: a configuration change (dissertation ch. 4);
 * its data is the change and the configuration it results in
 * (`configuration.ts`), and it takes effect on every server as soon as it is
 * in its log, committed or not (§4.1).
 */
export type EntryType = 'command' | 'noop' | 'config';

/** State that must be on stable storage before any message that depends on it is sent (Figure 2, "Persistent state on all servers"). */
export interface HardState {
  readonly currentTerm: number;
  readonly votedFor: NodeId | null;
}

export type Role = 'follower' | 'pre_candidate' | 'candidate' | 'leader';

/**
 * RequestVote (§5.2, §5.4.1). With `preVote` (thesis §9.6) the sender does
 * not increment its own term: `term` is the term it *would* campaign in, and
 * receivers neither change their term nor record a vote.
 */
export interface RequestVote {
  readonly type: 'request_vote';
  readonly term: number;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  readonly preVote: boolean;
  /**
   * Set on the RequestVote of a candidate that campaigns because the leader
   * told it to (TimeoutNow, thesis §3.10). Voters then ignore leader
   * stickiness (they heard from the leader recently, but the leader itself
   * asked for the election). Absent = false.
   */
  readonly leadershipTransfer?: boolean;
  /**
   * The sender's campaign number (it counts every pre-vote and vote round it
   * starts); the answer echoes it. Two pre-vote rounds can propose the same
   * term, so without it a late grant (or rejection) from an earlier round
   * would count in a later one. Absent (older senders, hand-made test
   * messages) = not checked.
   */
  readonly campaign?: number;
}

export interface RequestVoteResponse {
  readonly type: 'request_vote_response';
  readonly term: number;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly voteGranted: boolean;
  readonly preVote: boolean;
  /** The `campaign` of the RequestVote this answers, when it had one. */
  readonly campaign?: number;
}

/**
 * AppendEntries (§5.3). Heartbeats are AppendEntries with no entries.
 * `seq` is the leader's per-term counter of AppendEntries it has sent; the
 * response echoes it, so the leader can tell which heartbeat round a peer
 * has acknowledged (ReadIndex, thesis §6.4, and check-quorum).
 */
export interface AppendEntries {
  readonly type: 'append_entries';
  readonly term: number;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  readonly leaderCommit: number;
  readonly seq: number;
  /**
   * A farewell (dissertation §4.2.2, §4.2.3): the leader tells a server that
   * the configuration entry at this index, which does not include it, is
   * committed, and that no newer configuration in the leader's log includes
   * it either: the receiver has been removed and should shut down. Sent with
   * no entries, for an election timeout after the commit (the removed server
   * no longer gets anything else: the leader stopped replicating to it when
   * it appended the entry). Absent on every other AppendEntries.
   */
  readonly removedAt?: number;
}

/**
 * Response to AppendEntries. On success `matchIndex` is the index of the last
 * entry the follower now knows matches the leader (prevLogIndex +
 * entries.length). On rejection `matchIndex` echoes the rejected
 * prevLogIndex, so the leader can recognise a late answer to an older
 * message and ignore it. On rejection the follower gives the fast-backtracking hint
 * (§5.3 "optimization", etcd's RejectHint/LogTerm): `conflictTerm` is the
 * term of its entry at prevLogIndex (or null if its log is too short) and
 * `conflictIndex` the first index it holds for that term (or its log length
 * + 1 when the log is too short).
 */
export interface AppendEntriesResponse {
  readonly type: 'append_entries_response';
  readonly term: number;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly success: boolean;
  readonly matchIndex: number;
  readonly conflictTerm: number | null;
  readonly conflictIndex: number;
  readonly seq: number;
}

/** Leadership transfer (thesis §3.10): the leader tells an up-to-date follower to campaign at once. */
export interface TimeoutNow {
  readonly type: 'timeout_now';
  readonly term: number;
  readonly from: NodeId;
  readonly to: NodeId;
}

/** Every message one Raft peer sends another in one datagram. Switches over `type` must be exhaustive. */
export type RaftMessage = RequestVote | RequestVoteResponse | AppendEntries | AppendEntriesResponse | TimeoutNow;
export type RaftMessageType = RaftMessage['type'];

/**
 * InstallSnapshot (§7, Figure 13; dissertation ch. 5): the leader catches up
 * a follower whose next entry it has already discarded. It names the
 * snapshot and carries none of its bytes: the core never holds a snapshot's
 * megabytes, and no single datagram could.
 *
 * How it travels (the driver's job, as etcd's transport streams a MsgSnap):
 * the leader's driver finds it in `Ready.snapshotsToSend` and streams the
 * snapshot file it names to the peer in chunks, each one datagram of at most
 * 65,507 bytes with its envelope: every chunk carries this message's fields
 * (term, from, to, seq, snapshot) plus `offset`, `length`, `totalBytes`, a
 * checksum of the whole snapshot and `done`. The follower's driver
 * acknowledges chunks; the sender keeps a bounded window of unacknowledged
 * chunks and retransmits lost ones (flow control); the receiver stages the
 * bytes apart from its current snapshot and, once all `totalBytes` are there
 * and the checksum matches, steps this message into its core. Only then can
 * the core swap it in (`Ready.snapshotToInstall`). The sender's driver
 * reports the end of every stream with `RaftNode.reportSnapshot`.
 *
 * The answer is an ordinary AppendEntriesResponse (as etcd answers MsgSnap
 * with MsgAppResp): success with matchIndex = the snapshot's index (or the
 * follower's commitIndex when it already had everything), echoing `seq`.
 */
export interface InstallSnapshot {
  readonly type: 'install_snapshot';
  readonly term: number;
  readonly from: NodeId;
  readonly to: NodeId;
  /** The leader's AppendEntries counter (see AppendEntries.seq): the answer echoes it. */
  readonly seq: number;
  readonly snapshot: SnapshotMeta;
}

/** Every message the core takes in `step` and sends: the datagram messages and InstallSnapshot, which travels as a chunk stream. */
export type CoreMessage = RaftMessage | InstallSnapshot;
export type CoreMessageType = CoreMessage['type'];

/**
 * A linearizable read that the leader has confirmed (thesis §6.4): once the
 * state machine has applied `readIndex`, the read identified by `requestId`
 * may be served from local state.
 */
export interface ReadState {
  readonly requestId: string;
  readonly readIndex: number;
}

/** Why a read request could not be confirmed; the driver reports it to the client as a typed outcome. */
export interface ReadRejection {
  readonly requestId: string;
  /** `not_leader`: ask `leaderHint`. `overloaded`: this leader has `maxPendingReads` reads waiting; retry later. */
  readonly reason: 'not_leader' | 'overloaded';
  readonly leaderHint: NodeId | null;
}

/**
 * The effects of one call into the core. The driver MUST handle them in this
 * order (the etcd-io/raft `Ready` contract, extended for snapshots):
 *
 * 1. Persist, and **fsync** before step 2:
 *    a. `snapshotToInstall` (if present): make the snapshot whose bytes the
 *       driver received and staged for it the node's current snapshot, and
 *       empty the stored log (§7: "discard the entire log"; what the core
 *       keeps comes again in `entriesToAppend`). A crash between the two is
 *       harmless: on restart the core drops stored entries that conflict
 *       with the stored snapshot (the rest of an interrupted install);
 *    b. `hardState` and `entriesToAppend` (truncating the stored log after
 *       `entriesToAppend[0].index - 1` first, when the batch overwrites a
 *       conflicting suffix).
 * 2. Send `messages` (datagrams) and hand `snapshotsToSend` to the snapshot
 *    streamer (see {@link InstallSnapshot}); report each stream's end with
 *    `RaftNode.reportSnapshot`.
 * 3. If `snapshotToInstall`: restore the state machine from that snapshot.
 *    Then apply `committedEntries` to the state machine, in order (they
 *    start right after the snapshot's index).
 * 4. Serve `readStates` once lastApplied >= readIndex; report `readRejections`.
 * 5. `snapshotRequest` (if present): once step 3 is done the state machine
 *    stands exactly at `snapshotRequest.index`. Serialise it, write it
 *    durably (file, fsync, rename, fsync the directory; this may take a
 *    while, the core carries on meanwhile) and only then call
 *    `RaftNode.snapshotTaken(snapshotRequest)`. The core discards no entry
 *    a durable snapshot does not cover, so a crash at any point loses
 *    nothing.
 * 6. `discardEntriesBefore` (if present): the core has dropped every entry
 *    below this index from memory; a durable snapshot covers them, so the
 *    driver may delete them from storage too, whenever convenient.
 *
 * Nothing in a Ready is sent or acknowledged before it is durable: a vote or
 * an AppendEntries success that outruns its fsync can elect two leaders or
 * lose a committed entry after a crash; an acknowledged snapshot that is not
 * durable is a lost committed prefix.
 *
 * Who decides when to snapshot: the core (`RaftConfig.snapshotEveryEntries`,
 * `snapshotEveryBytes`), because it alone knows what it handed out for
 * application, the entries' sizes and how much log tail slow followers need
 * (`snapshotTrailingEntries`); the policy then lives in one pure place that
 * transcripts and the simulator exercise. The driver executes the request
 * (it owns the state machine and the disk) and may also snapshot on its own
 * at any applied index through `snapshotTaken`.
 *
 * One exception, with `RaftConfig.parallelLeaderAppend` (thesis §10.2.1):
 * when `softState.role` is `leader` and `hardState` is null, the messages
 * depend on nothing unpersisted (they only carry the leader's own entries to
 * followers), so the driver may send them while the entries are still being
 * written, and then reports the write with `persisted(lastIndex)`. The leader
 * does not count itself towards a commit quorum for entries it has not
 * persisted, so nothing commits on fewer durable copies than a majority.
 * (A leader never has a `snapshotToInstall`.)
 */
export interface Ready {
  readonly hardState: HardState | null;
  readonly entriesToAppend: readonly Entry[];
  readonly messages: readonly RaftMessage[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  readonly readRejections: readonly ReadRejection[];
  /** Follower: a snapshot from the leader to swap in (steps 1a and 3); null otherwise. */
  readonly snapshotToInstall: SnapshotMeta | null;
  /** Leader: InstallSnapshot streams to start (step 2). */
  readonly snapshotsToSend: readonly InstallSnapshot[];
  /** The core asks for a snapshot of the state machine at this applied index (step 5); null otherwise. */
  readonly snapshotRequest: SnapshotMeta | null;
  /** Entries below this index are gone from the core's log; storage may drop them (step 6). */
  readonly discardEntriesBefore: number | null;
  /** Soft state, for status reports and logs; never persisted. */
  readonly softState: SoftState;
  /**
   * Unusual events an operator should see in the node's log (e.g. a follower
   * that lost entries it had acknowledged). Text only: nothing depends on it.
   */
  readonly notices: readonly string[];
}

/** How a server learnt it was removed from the cluster (RaftNode.removal, dissertation §4.2.2). */
export interface Removal {
  /** The index of the committed configuration entry that left it out. */
  readonly index: number;
  /** Who said so: the leader that sent the farewell, or the server itself when it led and committed its own removal. */
  readonly leaderId: NodeId;
  readonly term: number;
}

export interface SoftState {
  readonly role: Role;
  readonly leaderId: NodeId | null;
  readonly currentTerm: number;
  readonly commitIndex: number;
}

/** Outcome of `propose`: a typed value, never an exception. */
export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly reason: 'not_leader'; readonly leaderHint: NodeId | null }
  /**
   * `transient`: the leader will take the same proposal soon with nothing else
   * done (its term's first entry is about to commit, a transfer ends either
   * way, the uncommitted tail drains), so a caller retries it rather than
   * report it refused; otherwise the refusal stands until someone acts.
   */
  | { readonly ok: false; readonly reason: 'proposal_dropped'; readonly detail: string; readonly transient: boolean };

/** Outcome of a snapshot stream the driver ran for an InstallSnapshot (`RaftNode.reportSnapshot`). */
export type SnapshotOutcome = 'finished' | 'failed';

/** Randomness injected into the core (election jitter). Deterministic given its seed. */
export interface Prng {
  /** A uniformly distributed integer in [min, max], both inclusive. */
  nextInt(min: number, max: number): number;
}

/** What the core needs to read back from stable storage when it starts. */
export interface StoredState {
  readonly hardState: HardState;
  /**
   * The durable log, contiguous. Without a snapshot it starts at index 1;
   * with one it starts at or before `snapshot.index + 1` (entries the
   * snapshot covers may still be there; the core keeps what it can of them
   * as a tail for slow followers).
   */
  readonly entries: readonly Entry[];
  /** The newest durable snapshot's metadata; absent or null = none (the log starts at index 1). */
  readonly snapshot?: SnapshotMeta | null;
}

/**
 * Static configuration of one core. Times are in ticks; the driver maps
 * milliseconds to ticks (`node/config.ts`).
 */
export interface RaftConfig {
  readonly id: NodeId;
  /**
   * The bootstrap configuration: every voting member, including `id`. It is
   * the configuration until the log or a snapshot holds one (dissertation
   * ch. 4: then the newest configuration in the log rules). The core accepts
   * messages only from these nodes and from members of configurations it
   * has seen.
   */
  readonly peers: readonly NodeId[];
  /**
   * A node that joins a running cluster (added as a learner, §4.2.1) starts
   * with no configuration of its own instead of `peers`: it never campaigns
   * until the leader's log or snapshot makes it a voter. `peers` then names
   * the nodes it may hear from. Absent = false.
   */
  readonly joining?: boolean;
  /** Election timeout is drawn uniformly from [min, max] ticks after every reset (§5.2, §9.3). */
  readonly electionTimeoutTicksMin: number;
  readonly electionTimeoutTicksMax: number;
  readonly heartbeatIntervalTicks: number;
  /** Thesis §9.6. On by default. */
  readonly preVote: boolean;
  /** Leader steps down when it has not heard from a quorum within an election timeout; followers ignore votes while they hear from a leader. */
  readonly checkQuorum: boolean;
  /** Upper bound on the encoded size of the entries in one AppendEntries (the datagram limit minus the envelope). */
  readonly maxAppendBytes: number;
  /** Bound on AppendEntries in flight per follower in the replicate state. */
  readonly maxInflightAppends: number;
  /** Proposals are dropped (typed `proposal_dropped`) while the uncommitted tail exceeds this many bytes. */
  readonly maxUncommittedBytes: number;
  /** Bound on reads waiting for leadership confirmation. */
  readonly maxPendingReads: number;
  /**
   * Lease-based reads (thesis §6.4.1): when non-null, a leader that heard
   * from a quorum in a round that started less than `leaseTicks` ago answers
   * a read at once, without a new heartbeat round. Safe only if clocks drift
   * apart by less than the bound the lease was computed with; null = ReadIndex
   * with a quorum round for every batch of reads (the default).
   */
  readonly leaseTicks: number | null;
  /** Deliberately unsafe behaviours, off in production (node/config-types.ts `UnsafeFlags`). */
  readonly unsafe: UnsafeCoreFlags;
  /**
   * Thesis §10.2.1: the leader may write its own log in parallel with
   * replicating it. When true, the leader counts itself towards a commit
   * quorum only up to the index the driver reported durable with
   * `RaftNode.persisted(index)`, and the driver may send a leader's Ready
   * messages before its persist completes (see the Ready contract). Default
   * false: the plain contract, where everything in a Ready is durable before
   * any of its messages leaves.
   */
  readonly parallelLeaderAppend?: boolean;
  /**
   * When a commit advances and no new entries go to a follower to carry it,
   * tell that follower at the next tick (one heartbeat to each follower
   * behind) rather than at once. Followers apply up to a tick later; the
   * leader answers clients on commit either way. It spares, per write of a
   * lightly loaded cluster, a heartbeat and its answer per follower, which
   * otherwise compete with the next request for the CPU (one client: about
   * 20% more writes per second on this 2-core machine, 2026-12-05). Default
   * false: at once, as etcd's bcastAppend does.
   */
  readonly commitNoticeAtTick?: boolean;
  /**
   * Ask the driver for a snapshot (`Ready.snapshotRequest`) once this many
   * entries were applied since the last snapshot; null = never ask. Absent =
   * `defaultCompaction.snapshotEveryEntries` (etcd's 10,000).
   */
  readonly snapshotEveryEntries?: number | null;
  /** ... or once the entries applied since the last snapshot add up to this many bytes. Absent = the default. */
  readonly snapshotEveryBytes?: number;
  /**
   * After a snapshot, keep this many entries before it in the log, so a
   * follower that is only a little behind is caught up with entries rather
   * than a whole snapshot (etcd's SnapshotCatchUpEntries, hashicorp's
   * TrailingLogs). Absent = the default.
   */
  readonly snapshotTrailingEntries?: number;
}

/** Flags that break the core in known ways so the harness and simulator can prove they catch them. */
export interface UnsafeCoreFlags {
  /** Commit entries of earlier terms by counting replicas (the Figure 8 bug, §5.4.2). */
  readonly commitOldTerms: boolean;
  /** Grant a read without the heartbeat quorum round (a deposed leader serves stale reads). */
  readonly skipReadQuorum: boolean;
  /**
   * Echo the request's `seq` when rejecting an AppendEntries of an older term
   * (the defect before this was fixed): a delayed or replayed old-term
   * request then confirms read rounds of a later term that its answerer never
   * saw (ReadIndex and lease reads serve stale values). Absent = false.
   */
  readonly staleReadAcks?: boolean;
  /**
   * Forget, on restart, the promise not to vote while a leader may hold a
   * lease (the defect before this was fixed): a restarted follower grants
   * (pre-)votes at once, so a new leader commits while the old one still
   * serves lease reads. Absent = false.
   */
  readonly forgetLeaseOnRestart?: boolean;
  /**
   * Keep the lease after sending TimeoutNow (the defect before this was
   * fixed): the transferee's RequestVote is exempt from the followers' lease
   * check, so it may win a later term while the old leader still serves
   * lease reads. Absent = false.
   */
  readonly leaseAfterHandover?: boolean;
  /**
   * Treat a rejection at or below matchIndex as stale even when it proves
   * the follower lost entries it had acknowledged (the defect before this was
   * fixed): such a follower is never caught up by the current leader.
   * Absent = false.
   */
  readonly ignoreLostFollowerLog?: boolean;
  /**
   * Start a configuration change before the leader has committed an entry
   * of its own term (the single-server change bug Ongaro reported in 2015):
   * an uncommitted change of a deposed leader and a new leader's change can
   * then both commit, with disjoint majorities. Absent = false.
   */
  readonly confChangeBeforeTermCommit?: boolean;
  /**
   * Use the configuration in effect at the commit index, not the latest in
   * the log (§4.1: a configuration takes effect when appended): a leader
   * removing a member keeps replicating to it and counting it until the
   * removal commits, so the removal commits with the old majority, which
   * need not be a majority of the new configuration. Absent = false.
   */
  readonly configOnCommit?: boolean;
  /**
   * Take snapshots at the last log index, treating everything in the log as
   * committed (a snapshot past the commit index): uncommitted entries are
   * applied and acknowledged, then overwritten by a later leader. Absent = false.
   */
  readonly snapshotPastCommit?: boolean;
  /**
   * A follower that installs a snapshot keeps its log after the snapshot's
   * index without checking it matches (§7 says: discard the entire log), and
   * tells the leader it matches up to its last index: the leader counts
   * entries the follower does not have. Absent = false.
   */
  readonly keepLogOnInstall?: boolean;
}

export const safeCoreFlags: UnsafeCoreFlags = { commitOldTerms: false, skipReadQuorum: false };
