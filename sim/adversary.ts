/**
 * The adversary below the transport: an on-path recorder that captures the
 * peer datagrams nodes send and, on a `replay` fault, puts old ones back on
 * the wire byte for byte, straight to their receiver. It holds no key, so
 * the receiver's real endpoint (node/transport/node-endpoint.ts) judges each
 * copy: its MAC verifies, and the peer replay window (peer-replay.ts) must
 * refuse a datagram it already accepted, one from before either side
 * restarted, or one below its window. A copy whose original the network
 * lost is new to the window and reaches the core late, as a held datagram
 * does (network.ts `hold`): the core must then not act on an old message,
 * an old answer, as if it were new (issue 15 defect 1: an old-term
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
  /** The core's message object (the core never mutates a message it emitted), for the trace. */
  readonly message: RaftMessage;
  /** The sealed datagram as it went on the wire. */
  readonly datagram: Buffer;
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

  record(atMs: number, from: NodeId, to: NodeId, message: RaftMessage, datagram: Buffer): void {
    this.ring[this.next] = { atMs, from, to, message, datagram };
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
