/**
 * The adversary below the transport: it records the peer messages nodes
 * send and, on a `replay` fault, puts old ones back on the wire, re-sealed
 * (wire.ts), straight to their receiver. Unlike a hold (the network delaying
 * a datagram, network.ts), a replay is not something a correct network does:
 * the transport's own defences (a MAC, a per-sender replay window) would stop
 * a byte-for-byte copy, so the adversary is modelled as one that holds the
 * keys and seals again. What it tests is the core's defence in depth: a
 * message from an older term, an old answer, a duplicate, must never make a
 * node act on it as if it were new (issue 15 defect 1: an old-term
 * AppendEntries whose answer confirmed a later term's reads).
 *
 * Bounded: a ring of the last `capacity` messages (at the default timings a
 * 5-node cluster sends about 200 peer messages per simulated second, so the
 * ring reaches back several seconds: many election timeouts, across terms).
 * The simulator records only in runs whose schedule has a `replay` fault.
 */
import type { NodeId, RaftMessage } from '../node/raft/types.js';
import { assert } from '../node/util/assert.js';
import type { Stream } from './streams.js';

export interface RecordedMessage {
  readonly atMs: number;
  readonly from: NodeId;
  readonly to: NodeId;
  /** The core's message object (the core never mutates a message it emitted). */
  readonly message: RaftMessage;
}

export const defaultRecorderCapacity = 2048;

export class MessageRecorder {
  private readonly ring: (RecordedMessage | undefined)[];
  private next = 0;
  recorded = 0;

  constructor(private readonly capacity = defaultRecorderCapacity) {
    assert(Number.isSafeInteger(capacity) && capacity > 0, `recorder capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array<RecordedMessage | undefined>(capacity);
  }

  record(atMs: number, from: NodeId, to: NodeId, message: RaftMessage): void {
    this.ring[this.next] = { atMs, from, to, message };
    this.next = (this.next + 1) % this.capacity;
    this.recorded++;
  }

  /**
   * Up to `count` distinct recorded messages sent at or before `sentByMs`
   * (by `from` only, unless null), drawn uniformly with `stream`, in the
   * order they were first sent (an attacker replaying a capture).
   */
  pick(count: number, sentByMs: number, stream: Stream, from: NodeId | null = null): RecordedMessage[] {
    const eligible: RecordedMessage[] = [];
    const held = Math.min(this.recorded, this.capacity);
    // Oldest first: the slot after the newest is the oldest once the ring has wrapped.
    const start = this.recorded > this.capacity ? this.next : 0;
    for (let k = 0; k < held; k++) {
      const r = this.ring[(start + k) % this.capacity];
      if (r !== undefined && r.atMs <= sentByMs && (from === null || r.from === from)) eligible.push(r);
    }
    const take = Math.min(count, eligible.length);
    // A partial Fisher-Yates shuffle of the indices, then back in send order.
    const idx = eligible.map((_, i) => i);
    for (let i = 0; i < take; i++) {
      const j = stream.int(i, idx.length - 1);
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    return idx
      .slice(0, take)
      .sort((a, b) => a - b)
      .map((i) => eligible[i]!);
  }
}
