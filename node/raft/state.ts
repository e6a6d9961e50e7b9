/**
 * The whole state of one {@link RaftNode} as plain, immutable data: what
 * `RaftNode.snapshotState()` returns and `RaftNode.fromState()` rebuilds a
 * core from. Its user is the model checker (mc/), which stores, clones,
 * compares and hashes cores by this value, and explores every interleaving
 * from any of them; tests use it to pin a core down exactly.
 *
 * Two cores with equal `RaftNodeState`s (and the same config and a stateless
 * or equally seeded PRNG) behave identically on every input sequence. To
 * make equal behaviour give equal values as often as possible:
 *
 * - Tick-valued fields are stored as "ticks ago" relative to the core's own
 *   tick count, never as absolute ticks: the core only ever compares or
 *   subtracts them (lease reads, thesis §6.4.1; catch-up rounds, dissertation
 *   §4.2.1), so the absolute count since construction is not state.
 * - A lease time at least `leaseTicks` ago can never make a lease valid again
 *   (ticks only grow), so every such time is stored as expired: `null` for an
 *   acknowledged round; a seq-to-tick point that old is left out (a seq it
 *   would map maps to "never" instead, which is just as expired). Likewise a
 *   catch-up round that started more than an election timeout ago
 *   (`roundTicksMax`) can only count as slow: stored as `null`.
 * - The member lists the core derives from its newest configuration
 *   (others, other voters, selfVoter, quorum) are not stored: `fromState`
 *   recomputes them from `configHistory`.
 * - Maps are stored as arrays sorted by node id, so insertion order (which
 *   the core never depends on) does not show.
 * - `notices` are dropped: they are text for an operator's log and nothing
 *   in the core reads them back.
 *
 * The PRNG is not state here: the caller supplies it to `fromState`.
 *
 * Pure data: imports only the core's types.
 */
import type { ConfirmingRead } from './read-only.js';
import type { ProgressState } from './progress.js';
import type { ConfigPoint } from './configuration.js';
import type {
  Entry,
  HardState,
  InstallSnapshot,
  NodeId,
  RaftMessage,
  Removal,
  ReadRejection,
  ReadState,
  Role,
  SnapshotMeta,
  SoftState,
} from './types.js';

/** One follower's progress as the leader tracks it (Figure 2 nextIndex/matchIndex plus flow control). */
export interface ProgressSnapshot {
  readonly matchIndex: number;
  readonly nextIndex: number;
  readonly state: ProgressState;
  readonly probeSent: boolean;
  readonly inflights: readonly number[];
  readonly recentActive: boolean;
  readonly ackedSeq: number;
  /** Ticks ago the round acknowledged by `ackedSeq` was sent; null when never, or so long ago that it cannot count for a lease. */
  readonly ackedSendTicksAgo: number | null;
  readonly commitSent: number;
  readonly matchAtLastHeartbeat: number;
  readonly matchKnownAtSeq: number;
  /** Snapshot state: the index of the snapshot on its way (0 otherwise). */
  readonly pendingSnapshot: number;
  /** Catch-up round (dissertation §4.2.1): the leader's lastIndex when it began. */
  readonly roundEndIndex: number;
  /** Ticks ago the current catch-up round began; null when more than `roundTicksMax` ago (it can only count as slow). */
  readonly roundStartTicksAgo: number | null;
  readonly caughtUp: boolean;
}

/** A point of the leader's seq-to-send-tick map (lease reads): the first seq issued `ticksAgo` ticks ago (less than leaseTicks). */
export interface SeqTickSnapshot {
  readonly seq: number;
  readonly ticksAgo: number;
}

export interface RaftNodeState {
  // Figure 2, with the log's compacted start (§7).
  /** The entries held, from `logPrevIndex + 1` on. */
  readonly log: readonly Entry[];
  /** Index and term of the entry just before the first held (0 and 0: nothing compacted). */
  readonly logPrevIndex: number;
  readonly logPrevTerm: number;
  readonly currentTerm: number;
  readonly votedFor: NodeId | null;
  readonly commitIndex: number;
  readonly role: Role;
  readonly leaderId: NodeId | null;

  // Membership (dissertation ch. 4): the configurations along the log, base first.
  readonly configHistory: readonly ConfigPoint[];

  // Snapshots (§7).
  readonly snapshot: SnapshotMeta | null;
  readonly snapshotRequested: number;
  readonly bytesSinceSnapshot: number;

  // Logical clocks.
  readonly electionElapsed: number;
  readonly heartbeatElapsed: number;
  readonly randomizedElectionTimeout: number;

  // Campaigns.
  /** (Pre-)votes received in the current campaign, by voter, sorted by id. */
  readonly votes: readonly (readonly [NodeId, boolean])[];
  readonly campaignIsTransfer: boolean;
  readonly campaignNumber: number;
  readonly mayHaveLeaseholder: boolean;

  // Leader.
  /** Per follower, sorted by id; empty unless leader. */
  readonly progress: readonly (readonly [NodeId, ProgressSnapshot])[];
  readonly seq: number;
  readonly seqTicks: readonly SeqTickSnapshot[];
  readonly uncommittedBytes: number;
  readonly leadTransferee: NodeId | null;
  readonly transferElapsed: number;
  /** It sent TimeoutNow in this term: no more lease reads in it (RaftNode.leaseForfeited). */
  readonly leaseForfeited: boolean;
  readonly readsAwaitingCommit: readonly string[];
  readonly readsConfirming: readonly ConfirmingRead[];
  readonly readRoundSeq: number | null;
  readonly appendsPending: boolean;
  readonly farewellTicksLeft: number;

  // Membership: this server learnt it was removed (RaftNode.removal).
  readonly removal: Removal | null;

  // What the driver has not been handed yet (the Ready bookkeeping).
  readonly lastHardState: HardState;
  readonly lastSoftState: SoftState;
  readonly unstableFrom: number;
  readonly persistedIndex: number;
  readonly handedOutIndex: number;
  readonly outbox: readonly RaftMessage[];
  readonly readStates: readonly ReadState[];
  readonly readRejections: readonly ReadRejection[];
  readonly snapshotToInstall: SnapshotMeta | null;
  readonly snapshotSends: readonly InstallSnapshot[];
  readonly discardBefore: number | null;
}
