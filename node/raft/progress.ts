/**
 * The leader's view of one follower (Figure 2 "Volatile state on leaders":
 * nextIndex, matchIndex), plus etcd-io/raft style flow control
 * (`tracker/progress.go`):
 *
 * - `probe`: the leader does not know where the follower's log matches; it
 *   sends one AppendEntries at a time and backs `nextIndex` off on rejection
 *   (fast backtracking, §5.3).
 * - `replicate`: the follower's log is known to match up to `matchIndex`; the
 *   leader streams entries optimistically, advancing `nextIndex` as it sends,
 *   with at most `maxInflightAppends` AppendEntries unacknowledged.
 * - `snapshot`: the follower needs entries the leader has compacted away
 *   (§7); an InstallSnapshot is on its way and nothing else is sent but
 *   heartbeats until the follower answers or the driver reports the stream
 *   finished or failed (etcd's StateSnapshot).
 *
 * It also times the follower's catch-up rounds (dissertation §4.2.1): a
 * round replicates everything the leader had when the round started; a
 * learner whose last round took less than an election timeout has caught
 * up and may be promoted.
 *
 * Over UDP any message may be lost, duplicated or reordered, so every update
 * here is monotonic or explicitly checked for staleness.
 */
import { assertNever, assertionFailed } from '../util/assert.js';
import type { ProgressSnapshot } from './state.js';

/** A tick so far in the past that any lease measured from it has expired. */
export const NEVER_TICK = Number.MIN_SAFE_INTEGER;

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  matchIndex = 0;
  nextIndex: number;
  state: ProgressState = 'probe';
  /** Probe state: an AppendEntries is out and no response came back since. */
  probeSent = false;
  /** Replicate state: last entry index of each unacknowledged AppendEntries, oldest first (bounded). */
  readonly inflights: number[] = [];
  /** Check-quorum (thesis §6.2): heard from this peer in the current election-timeout window. */
  recentActive = false;
  /** Highest AppendEntries `seq` this peer answered in the current term (ReadIndex rounds, thesis §6.4). */
  ackedSeq = 0;
  /** Tick at which the AppendEntries answered with `ackedSeq` was sent (lease reads, thesis §6.4.1). */
  ackedSendTick = NEVER_TICK;
  /** Highest commit index this follower was told it may apply (min(leaderCommit, last entry it was sent)). */
  commitSent = 0;
  /** matchIndex at the previous heartbeat: detects a replicate stream whose messages were all lost. */
  matchAtLastHeartbeat = 0;
  /** The leader's newest seq when matchIndex was last raised (see lostAcknowledgedEntries). */
  matchKnownAtSeq = 0;
  /** Snapshot state: the index of the snapshot on its way. */
  pendingSnapshot = 0;
  /** Catch-up round (§4.2.1): the leader's lastIndex when the current round began, and that tick. */
  roundEndIndex = 0;
  roundStartTick = 0;
  /** The last completed round took less than an election timeout (the follower keeps up with the leader). */
  caughtUp = false;

  constructor(nextIndex: number) {
    if (nextIndex < 1) assertionFailed(`nextIndex must be >= 1, got ${nextIndex}`);
    this.nextIndex = nextIndex;
  }

  /**
   * This progress as plain data (RaftNode.snapshotState): `ackedSendTick`
   * as ticks before `nowTick`, null when never or at least `leaseTicks` ago
   * (it can then never make a lease valid again); `roundStartTick` likewise,
   * null when more than `roundTicksMax` ago (observeRound and expireRound
   * only ask whether it is more than that, and the answer can only stay yes).
   */
  toSnapshot(nowTick: number, leaseTicks: number | null, roundTicksMax: number): ProgressSnapshot {
    const ago = nowTick - this.ackedSendTick;
    const expired = this.ackedSendTick === NEVER_TICK || leaseTicks === null || ago >= leaseTicks;
    const roundAgo = nowTick - this.roundStartTick;
    return {
      matchIndex: this.matchIndex,
      nextIndex: this.nextIndex,
      state: this.state,
      probeSent: this.probeSent,
      inflights: this.inflights.slice(),
      recentActive: this.recentActive,
      ackedSeq: this.ackedSeq,
      ackedSendTicksAgo: expired ? null : ago,
      commitSent: this.commitSent,
      matchAtLastHeartbeat: this.matchAtLastHeartbeat,
      matchKnownAtSeq: this.matchKnownAtSeq,
      pendingSnapshot: this.pendingSnapshot,
      roundEndIndex: this.roundEndIndex,
      roundStartTicksAgo: roundAgo > roundTicksMax ? null : roundAgo,
      caughtUp: this.caughtUp,
    };
  }

  /** The inverse of {@link toSnapshot}, for a core whose tick count is `nowTick`. */
  static fromSnapshot(snapshot: ProgressSnapshot, nowTick: number): Progress {
    const progress = new Progress(snapshot.nextIndex);
    progress.matchIndex = snapshot.matchIndex;
    progress.state = snapshot.state;
    progress.probeSent = snapshot.probeSent;
    progress.inflights.push(...snapshot.inflights);
    progress.recentActive = snapshot.recentActive;
    progress.ackedSeq = snapshot.ackedSeq;
    progress.ackedSendTick = snapshot.ackedSendTicksAgo === null ? NEVER_TICK : nowTick - snapshot.ackedSendTicksAgo;
    progress.commitSent = snapshot.commitSent;
    progress.matchAtLastHeartbeat = snapshot.matchAtLastHeartbeat;
    progress.matchKnownAtSeq = snapshot.matchKnownAtSeq;
    progress.pendingSnapshot = snapshot.pendingSnapshot;
    progress.roundEndIndex = snapshot.roundEndIndex;
    progress.roundStartTick = snapshot.roundStartTicksAgo === null ? NEVER_TICK : nowTick - snapshot.roundStartTicksAgo;
    progress.caughtUp = snapshot.caughtUp;
    return progress;
  }

  isPaused(maxInflightAppends: number): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.length >= maxInflightAppends;
      case 'snapshot':
        return true;
      default:
        return assertNever(this.state, 'progress state');
    }
  }

  becomeProbe(): void {
    this.state = 'probe';
    this.nextIndex = this.matchIndex + 1;
    this.probeSent = false;
    this.inflights.length = 0;
    this.pendingSnapshot = 0;
  }

  /** An InstallSnapshot for the snapshot at `index` was sent: wait for it (etcd's BecomeSnapshot). */
  becomeSnapshot(index: number): void {
    this.state = 'snapshot';
    this.pendingSnapshot = index;
    this.probeSent = false;
    this.inflights.length = 0;
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.nextIndex = this.matchIndex + 1;
    this.probeSent = false;
    this.inflights.length = 0;
    this.pendingSnapshot = 0;
  }

  /**
   * §4.2.1 catch-up rounds, on every answer from the follower at tick `now`
   * while the leader's log ends at `lastIndex`: a round ends once the
   * follower holds what the leader had when it began; it counts as caught up
   * when that took at most `roundTicksMax`. A new round starts at once.
   */
  observeRound(now: number, lastIndex: number, roundTicksMax: number): void {
    if (this.matchIndex < this.roundEndIndex) return;
    this.caughtUp = now - this.roundStartTick <= roundTicksMax;
    this.roundEndIndex = lastIndex;
    this.roundStartTick = now;
  }

  /**
   * No round completed for `roundTicksMax` while the follower lacks entries
   * the leader has (`lastIndex`): it is not keeping up (or not answering).
   */
  expireRound(now: number, lastIndex: number, roundTicksMax: number): void {
    if (this.matchIndex < lastIndex && now - this.roundStartTick > roundTicksMax) this.caughtUp = false;
  }

  /**
   * A success response says the follower matches up to `index`; `sentSeq`
   * is the leader's newest AppendEntries seq when the answer arrived. Returns
   * whether matchIndex grew.
   */
  maybeUpdate(index: number, sentSeq: number): boolean {
    const updated = index > this.matchIndex;
    if (updated) {
      this.matchIndex = index;
      this.matchKnownAtSeq = sentSeq;
    }
    if (this.nextIndex < index + 1) this.nextIndex = index + 1;
    return updated;
  }

  /**
   * Whether the rejection of request `seq` at prevLogIndex `rejected` proves
   * the follower lost entries it acknowledged. Every request with a seq above
   * `matchKnownAtSeq` left after the acknowledgement of matchIndex arrived, so
   * the follower handled it after it held matchIndex entries; in our term no
   * one else may remove them (Leader Append-Only, §5.3). Reordering cannot
   * fake this: a request sent before the ack arrived has a lower seq.
   */
  lostAcknowledgedEntries(rejected: number, seq: number): boolean {
    return this.matchIndex > 0 && rejected <= this.matchIndex && seq > this.matchKnownAtSeq;
  }

  /**
   * After {@link lostAcknowledgedEntries}: forget what the follower was known
   * to hold (nothing is proven any more; matchIndex 0 also keeps its copy out
   * of commit counting until a new ack) and probe from what it says it still
   * has (`hintNextIndex`: its log length + 1, or its conflict hint).
   */
  resetAfterLoss(hintNextIndex: number): void {
    const nextIndex = Math.max(1, Math.min(hintNextIndex, this.matchIndex + 1));
    this.matchIndex = 0;
    this.matchKnownAtSeq = 0;
    this.commitSent = 0;
    this.matchAtLastHeartbeat = 0;
    this.becomeProbe();
    this.nextIndex = nextIndex;
  }

  /** Record an AppendEntries that carried entries up to `lastIndex` (inclusive). */
  onEntriesSent(lastIndex: number): void {
    if (this.state === 'replicate') {
      this.inflights.push(lastIndex);
      this.nextIndex = lastIndex + 1;
    } else {
      this.probeSent = true;
    }
  }

  /** Acknowledged up to `index`: every AppendEntries ending at or before it is no longer in flight. */
  freeUpTo(index: number): void {
    let drop = 0;
    while (drop < this.inflights.length && (this.inflights[drop] ?? 0) <= index) drop++;
    this.inflights.splice(0, drop);
  }

  /**
   * A rejection of the AppendEntries whose prevLogIndex was `rejected`;
   * `hintNextIndex` is where the fast-backtracking hint says to probe next.
   * Returns false for a stale rejection (an older message answered late),
   * which must not move nextIndex backwards past what a newer ack proved.
   */
  maybeDecreaseTo(rejected: number, hintNextIndex: number): boolean {
    // A snapshot is on its way: only its answer (or the driver's report) moves us on.
    if (this.state === 'snapshot') return false;
    if (this.state === 'replicate') {
      // The follower matches up to matchIndex: a rejection at or below it is stale.
      if (rejected <= this.matchIndex) return false;
      this.becomeProbe();
      this.nextIndex = clamp(hintNextIndex, this.matchIndex + 1, rejected);
      return true;
    }
    // Probe state sends at nextIndex - 1 only; any other rejection is from an older probe.
    if (rejected !== this.nextIndex - 1) return false;
    const nextIndex = clamp(hintNextIndex, this.matchIndex + 1, rejected);
    // No way back: the follower rejected an index at or below what it had
    // acknowledged (it lost data it had promised to keep). Stay paused rather
    // than flood it with the same probe (only possible after a safety break).
    if (nextIndex === this.nextIndex) return false;
    this.nextIndex = nextIndex;
    this.probeSent = false;
    return true;
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.max(min, Math.min(value, Math.max(min, max)));
}
