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
 * A log entry. `data` is opaque to the core: the KV layer encodes its
 * commands (with the client session `(clientId, seq)`) as a string.
 * A `noop` entry is appended by every new leader at the start of its term
 * (§5.4.2, §8: it lets the leader commit entries of earlier terms and learn
 * the commit index before serving reads).
 */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: 'command' | 'noop';
  readonly data: string;
}

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

/** Every message one Raft peer sends another. Switches over `type` must be exhaustive. */
export type RaftMessage = RequestVote | RequestVoteResponse | AppendEntries | AppendEntriesResponse | TimeoutNow;
export type RaftMessageType = RaftMessage['type'];

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
 * order (the etcd-io/raft `Ready` contract):
 *
 * 1. Persist `hardState` (if present) and `entriesToAppend` (truncating the
 *    stored log after `entriesToAppend[0].index - 1` first, when the batch
 *    overwrites a conflicting suffix), and **fsync** before step 2.
 * 2. Send `messages`.
 * 3. Apply `committedEntries` to the state machine, in order.
 * 4. Serve `readStates` once lastApplied >= readIndex; report `readRejections`.
 *
 * Nothing in a Ready is sent or acknowledged before it is durable: a vote or
 * an AppendEntries success that outruns its fsync can elect two leaders or
 * lose a committed entry after a crash.
 *
 * One exception, with `RaftConfig.parallelLeaderAppend` (thesis §10.2.1):
 * when `softState.role` is `leader` and `hardState` is null, the messages
 * depend on nothing unpersisted (they only carry the leader's own entries to
 * followers), so the driver may send them while the entries are still being
 * written, and then reports the write with `persisted(lastIndex)`. The leader
 * does not count itself towards a commit quorum for entries it has not
 * persisted, so nothing commits on fewer durable copies than a majority.
 */
export interface Ready {
  readonly hardState: HardState | null;
  readonly entriesToAppend: readonly Entry[];
  readonly messages: readonly RaftMessage[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  readonly readRejections: readonly ReadRejection[];
  /** Soft state, for status reports and logs; never persisted. */
  readonly softState: SoftState;
  /**
   * Unusual events an operator should see in the node's log (e.g. a follower
   * that lost entries it had acknowledged). Text only: nothing depends on it.
   */
  readonly notices: readonly string[];
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
  | { readonly ok: false; readonly reason: 'proposal_dropped'; readonly detail: string };

/** Randomness injected into the core (election jitter). Deterministic given its seed. */
export interface Prng {
  /** A uniformly distributed integer in [min, max], both inclusive. */
  nextInt(min: number, max: number): number;
}

/** What the core needs to read back from stable storage when it starts. */
export interface StoredState {
  readonly hardState: HardState;
  /** The whole durable log, indices 1..n contiguous. */
  readonly entries: readonly Entry[];
}

/**
 * Static configuration of one core. Times are in ticks; the driver maps
 * milliseconds to ticks (`node/config.ts`).
 */
export interface RaftConfig {
  readonly id: NodeId;
  /** Every voting member, including `id`. */
  readonly peers: readonly NodeId[];
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
   * Treat a rejection at or below matchIndex as stale even when it proves
   * the follower lost entries it had acknowledged (the defect before this was
   * fixed): such a follower is never caught up by the current leader.
   * Absent = false.
   */
  readonly ignoreLostFollowerLog?: boolean;
}

export const safeCoreFlags: UnsafeCoreFlags = { commitOldTerms: false, skipReadQuorum: false };
