/**
 * The follower's side of InstallSnapshot over UDP (see `streamer.ts` for the
 * leader's): stages the chunks of one stream apart from the node's current
 * snapshot, acknowledges each, and only when every byte is there and the
 * SHA-256 of the whole matches the stream's checksum hands the snapshot to
 * the host, which checks that it decodes and steps the InstallSnapshot into
 * its core (node/raft/types.ts: "the receiver stages the bytes apart from
 * its current snapshot and, once all `totalBytes` are there and the
 * checksum matches, steps this message into its core").
 *
 * Assume an adversary below the MAC: a chunk that is authenticated (the
 * codec checked its MAC and the peer replay window refused byte copies) can
 * still be late, duplicated by a retransmission, reordered, from a deposed
 * leader's stream, or, from a buggy or compromised peer, inconsistent. None
 * of that may install a wrong snapshot or crash the node; each is dropped,
 * counted by reason and logged (rate-limited):
 *
 * - `old_term`: the chunk's term is below this node's currentTerm (a deposed
 *   leader's stream, or one delayed across an election): never staged;
 * - `oversize`: the snapshot exceeds `maxSnapshotBytes`: refused (the stream
 *   is told `rejected`), nothing allocated;
 * - `superseded` / `conflicting_leader`: a chunk of an older stream than the
 *   one staged (lower term, or the same leader's earlier seq), or of another
 *   leader in the staged stream's term (there is at most one per term,
 *   §5.2: the first one staged wins);
 * - `inconsistent`: a chunk whose shape (snapshot, sizes, checksum)
 *   disagrees with the chunks of its stream already staged: the staging is
 *   discarded and the stream rejected;
 * - `bad_checksum`: every byte arrived but the whole does not match: the
 *   staging is discarded and the stream rejected (the leader starts over
 *   after its next heartbeat round);
 * - `refused`: the host found the snapshot unusable (it does not decode as
 *   the state machine's, or says another index): rejected.
 * - `invalid`: a chunk outside its own geometry (the codec refuses these first).
 * Duplicates are acknowledged again and change nothing.
 *
 * Bounded: one stream staged at a time (a newer stream replaces it), in
 * memory, at most `maxSnapshotBytes`.
 */
import type { SnapshotAck, SnapshotAckStatus, SnapshotChunk } from '../protocol.js';
import type { NodeId, SnapshotMeta } from '../raft/types.js';
import { sameConfiguration } from '../raft/configuration.js';
import { worthLogging } from '../util/worth-logging.js';
import { chunkProblem } from '../transport/snapshot-binary.js';
import { snapshotChecksum } from './snapshot-bytes.js';

export type AssemblerDropReason =
  'invalid' | 'old_term' | 'oversize' | 'superseded' | 'conflicting_leader' | 'inconsistent' | 'bad_checksum' | 'refused';

/** A whole snapshot, checksum verified: what the host steps into its core as InstallSnapshot. */
export interface AssembledSnapshot {
  readonly from: NodeId;
  readonly term: number;
  readonly seq: number;
  readonly meta: SnapshotMeta;
  readonly data: Buffer;
}

export interface AssemblerIo {
  /** This node's currentTerm (chunks of older terms are refused). */
  currentTerm(): number;
  sendAck(to: NodeId, ack: SnapshotAck): void;
  /** Hands over a whole, verified snapshot; returns null when the host takes it, or why it refuses it. */
  onAssembled(snapshot: AssembledSnapshot): string | null;
  log(line: string): void;
}

export interface AssemblerOptions {
  /** The largest snapshot this node stages (bytes). */
  readonly maxSnapshotBytes: number;
}

/** The snapshot file's own bound (node/storage/snapshot-store.ts MAX_SNAPSHOT_BYTES). */
export const defaultAssemblerOptions: AssemblerOptions = Object.freeze({ maxSnapshotBytes: 1024 * 1024 * 1024 });

interface Staging {
  readonly from: NodeId;
  readonly term: number;
  readonly seq: number;
  readonly meta: SnapshotMeta;
  readonly totalBytes: number;
  readonly chunkBytes: number;
  readonly checksum: string;
  readonly buffer: Buffer;
  readonly received: Uint8Array;
  count: number;
}

/**
 * The assembler as data (`exportState`, `restored`): the staged stream (its
 * bytes so far) and the last stream that ended; the drop counts are left
 * out (they only count). For a host whose state is a value
 * (sim/stepped/node.ts, which the model checker explores).
 */
export interface AssemblerState {
  readonly staging:
    | (Omit<Staging, 'buffer' | 'received' | 'count'> & {
        /** The bytes staged so far (zeros where no chunk arrived yet), base64. */
        readonly bytes: string;
        /** Chunk numbers received, ascending. */
        readonly received: readonly number[];
      })
    | null;
  readonly finished: (StreamId & { readonly status: SnapshotAckStatus; readonly reason: string }) | null;
}

interface StreamId {
  readonly from: NodeId;
  readonly term: number;
  readonly seq: number;
}

export class SnapshotAssembler {
  private staging: Staging | null = null;
  /** The last stream that completed or was rejected: its late chunks get the same answer again. */
  private finished: (StreamId & { readonly status: SnapshotAckStatus; readonly reason: string }) | null = null;
  private readonly drops = new Map<AssemblerDropReason, number>();
  completed = 0;

  constructor(
    private readonly self: NodeId,
    private readonly io: AssemblerIo,
    private readonly options: AssemblerOptions = defaultAssemblerOptions,
  ) {}

  /** Drop counts by reason (status, tests). */
  dropCounts(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.drops);
  }

  /** Bytes held in staging now (the bound's witness). */
  stagedBytes(): number {
    return this.staging?.buffer.length ?? 0;
  }

  exportState(): AssemblerState {
    const s = this.staging;
    if (s === null) return { staging: null, finished: this.finished };
    const { buffer, received, count: _count, ...stream } = s;
    return {
      staging: { ...stream, bytes: buffer.toString('base64'), received: [...received.keys()].filter((k) => received[k] === 1) },
      finished: this.finished,
    };
  }

  /** An assembler in `state` (from {@link exportState}). */
  static restored(self: NodeId, io: AssemblerIo, options: AssemblerOptions, state: AssemblerState): SnapshotAssembler {
    const assembler = new SnapshotAssembler(self, io, options);
    if (state.staging !== null) {
      const { bytes, received: chunks, ...stream } = state.staging;
      const received = new Uint8Array(Math.ceil(stream.totalBytes / stream.chunkBytes));
      for (const k of chunks) received[k] = 1;
      assembler.staging = { ...stream, buffer: Buffer.from(bytes, 'base64'), received, count: chunks.length };
    }
    assembler.finished = state.finished;
    return assembler;
  }

  /** The node's term moved on: a stream staged from an older term can no longer be installed. */
  onTerm(currentTerm: number): void {
    if (this.staging !== null && this.staging.term < currentTerm) this.staging = null;
  }

  onChunk(chunk: SnapshotChunk): void {
    if (chunk.to !== this.self) return; // the endpoint checked the destination; kept for direct callers
    // The codec checked this already; checked again so no caller can hand in a chunk outside its own geometry.
    const invalid = chunkProblem(chunk);
    if (invalid !== null) {
      this.drop('invalid', `chunk from ${chunk.from}: ${invalid}`);
      return;
    }
    if (chunk.term < this.io.currentTerm()) {
      this.drop(
        'old_term',
        `chunk of ${chunk.from}'s term-${chunk.term} stream (seq ${chunk.seq}); this node is in term ${this.io.currentTerm()}`,
      );
      return;
    }
    const finished = this.finished;
    if (finished !== null && sameStream(finished, chunk)) {
      this.ack(chunk, finished.status, finished.reason); // a duplicate or a retransmission after the end
      return;
    }
    if (chunk.totalBytes > this.options.maxSnapshotBytes) {
      this.drop(
        'oversize',
        `a ${chunk.totalBytes}-byte snapshot from ${chunk.from}; this node stages at most ${this.options.maxSnapshotBytes}`,
      );
      this.reject(chunk, `snapshot of ${chunk.totalBytes} bytes exceeds the receiver's bound of ${this.options.maxSnapshotBytes}`);
      return;
    }
    let staging = this.staging;
    if (staging !== null && !sameStream(staging, chunk)) {
      const verdict = compareStreams(chunk, staging);
      if (verdict !== 'newer') {
        this.drop(
          verdict,
          `chunk of ${chunk.from}'s stream (term ${chunk.term}, seq ${chunk.seq}) while ${staging.from}'s (term ${staging.term}, seq ${staging.seq}) is staged`,
        );
        return;
      }
      staging = null;
    }
    if (staging === null) {
      staging = {
        from: chunk.from,
        term: chunk.term,
        seq: chunk.seq,
        meta: chunk.snapshot,
        totalBytes: chunk.totalBytes,
        chunkBytes: chunk.chunkBytes,
        checksum: chunk.checksum,
        buffer: Buffer.alloc(chunk.totalBytes),
        received: new Uint8Array(Math.ceil(chunk.totalBytes / chunk.chunkBytes)),
        count: 0,
      };
      this.staging = staging;
    } else if (!sameShape(staging, chunk)) {
      this.staging = null;
      this.drop(
        'inconsistent',
        `chunk at ${chunk.offset} of ${chunk.from}'s stream (term ${chunk.term}, seq ${chunk.seq}) disagrees with the chunks staged before it`,
      );
      this.reject(chunk, 'a chunk disagrees with the rest of its stream (snapshot, sizes or checksum)');
      return;
    }
    const k = chunk.offset / chunk.chunkBytes;
    if (staging.received[k] !== 1) {
      chunk.data.copy(staging.buffer, chunk.offset);
      staging.received[k] = 1;
      staging.count++;
    }
    if (staging.count < staging.received.length) {
      this.ack(chunk, 'ok', '');
      return;
    }
    // Every byte is here: the whole must match before anything sees it.
    this.staging = null;
    const actual = snapshotChecksum(staging.buffer);
    if (actual !== staging.checksum) {
      this.drop(
        'bad_checksum',
        `snapshot ${staging.meta.index}@${staging.meta.term} from ${staging.from}: SHA-256 ${actual}, the stream says ${staging.checksum}`,
      );
      this.reject(chunk, 'checksum mismatch over the whole snapshot');
      return;
    }
    const refusal = this.io.onAssembled({
      from: staging.from,
      term: staging.term,
      seq: staging.seq,
      meta: staging.meta,
      data: staging.buffer,
    });
    if (refusal !== null) {
      this.drop('refused', `snapshot ${staging.meta.index}@${staging.meta.term} from ${staging.from}: ${refusal}`);
      this.reject(chunk, refusal);
      return;
    }
    this.completed++;
    this.finished = { from: chunk.from, term: chunk.term, seq: chunk.seq, status: 'complete', reason: '' };
    this.ack(chunk, 'complete', '');
  }

  private reject(chunk: SnapshotChunk, reason: string): void {
    this.finished = { from: chunk.from, term: chunk.term, seq: chunk.seq, status: 'rejected', reason };
    this.ack(chunk, 'rejected', reason);
  }

  private ack(chunk: SnapshotChunk, status: SnapshotAckStatus, reason: string): void {
    this.io.sendAck(chunk.from, {
      type: 'snapshot_ack',
      term: chunk.term,
      from: this.self,
      to: chunk.from,
      seq: chunk.seq,
      offset: chunk.offset,
      status,
      reason: reason.slice(0, 1024),
    });
  }

  private drop(reason: AssemblerDropReason, detail: string): void {
    const n = (this.drops.get(reason) ?? 0) + 1;
    this.drops.set(reason, n);
    if (worthLogging(n)) this.io.log(`snapshot transfer: dropped a chunk (${reason} #${n}): ${detail}`);
  }
}

function sameStream(a: StreamId, b: StreamId): boolean {
  return a.from === b.from && a.term === b.term && a.seq === b.seq;
}

/** Whether `chunk`'s stream is newer than the staged one, or why not. */
function compareStreams(chunk: SnapshotChunk, staged: Staging): 'newer' | 'superseded' | 'conflicting_leader' {
  if (chunk.term !== staged.term) return chunk.term > staged.term ? 'newer' : 'superseded';
  if (chunk.from !== staged.from) return 'conflicting_leader';
  return chunk.seq > staged.seq ? 'newer' : 'superseded';
}

function sameShape(staged: Staging, chunk: SnapshotChunk): boolean {
  return (
    staged.meta.index === chunk.snapshot.index &&
    staged.meta.term === chunk.snapshot.term &&
    sameConfiguration(staged.meta.configuration, chunk.snapshot.configuration) &&
    staged.totalBytes === chunk.totalBytes &&
    staged.chunkBytes === chunk.chunkBytes &&
    staged.checksum === chunk.checksum
  );
}
