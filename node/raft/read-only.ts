/**
 * Reads waiting for the leader to confirm its leadership (ReadIndex, thesis
 * §6.4). Two bounded FIFO queues:
 *
 * 1. `awaitingCommit`: a new leader does not know the commit index until it
 *    has committed an entry of its own term (its noop, §8); reads wait here.
 * 2. `confirming`: reads with a recorded readIndex (= commitIndex at the time)
 *    waiting for a quorum to answer an AppendEntries with `seq >= roundSeq`,
 *    i.e. one sent after the read was recorded. Many reads share one round.
 *
 * `roundSeq` never decreases along `confirming`, so confirmation is a prefix.
 */
import { assertionFailed } from '../util/assert.js';

export interface ConfirmingRead {
  readonly requestId: string;
  readonly readIndex: number;
  readonly roundSeq: number;
}

export class PendingReads {
  private awaiting: string[] = [];
  private confirming: ConfirmingRead[] = [];

  size(): number {
    return this.awaiting.length + this.confirming.length;
  }

  awaitCommit(requestId: string): void {
    this.awaiting.push(requestId);
  }

  /** Hand out (and forget) the reads that waited for a current-term commit. */
  takeAwaitingCommit(): string[] {
    const taken = this.awaiting;
    this.awaiting = [];
    return taken;
  }

  addConfirming(read: ConfirmingRead): void {
    const last = this.confirming[this.confirming.length - 1];
    if (last !== undefined && last.roundSeq > read.roundSeq)
      assertionFailed(`read rounds out of order: ${read.roundSeq} after ${last?.roundSeq}`);
    this.confirming.push(read);
  }

  /** Remove and return the prefix of reads whose round `isConfirmed` accepts. */
  takeConfirmed(isConfirmed: (roundSeq: number) => boolean): ConfirmingRead[] {
    let count = 0;
    while (count < this.confirming.length) {
      const read = this.confirming[count];
      if (read === undefined || !isConfirmed(read.roundSeq)) break;
      count++;
    }
    return this.confirming.splice(0, count);
  }

  /** Reads waiting for a current-term commit, oldest first (a copy; RaftNode.snapshotState). */
  awaitingList(): string[] {
    return this.awaiting.slice();
  }

  /** Reads waiting for their round's quorum, oldest first (a copy; RaftNode.snapshotState). */
  confirmingList(): ConfirmingRead[] {
    return this.confirming.slice();
  }

  /** Replace everything pending (RaftNode.fromState); `confirming` must be in round order. */
  restore(awaiting: readonly string[], confirming: readonly ConfirmingRead[]): void {
    this.awaiting = awaiting.slice();
    this.confirming = [];
    for (const read of confirming) this.addConfirming(read);
  }

  /** Everything pending, oldest first (used to reject all reads when leadership is lost). */
  takeAll(): string[] {
    const ids = [...this.awaiting, ...this.confirming.map((read) => read.requestId)];
    this.awaiting = [];
    this.confirming = [];
    return ids;
  }
}
