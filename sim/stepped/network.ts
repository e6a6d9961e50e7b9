/**
 * The stepped cluster's network rules, shared by the model checker and the
 * replay so both hold exactly the same messages in flight.
 *
 * - Any message in flight may be delivered next, dropped, or duplicated: the
 *   network reorders, loses and repeats at will, and a message may wait any
 *   number of events (across terms) before it is delivered.
 * - The model checker explores only states with at most `maxInFlight`
 *   messages in flight (a bound on the state space, not a lossy buffer:
 *   messages are lost only by explicit drops); a replay holds any number.
 * - A dead message is removed as soon as it is dead: an answer (vote
 *   answer, AppendEntries answer, TimeoutNow) of a term older than the term
 *   on its receiver's disk. Its receiver's term can only be at least that
 *   from now on (the durable term never decreases and a restart starts from
 *   it), so delivering it can only ever reach `answerStaleTerm`, which
 *   ignores it without any change (node/raft/raft.ts step, §5.1). Removing
 *   it merges states that differ only in such messages (a state-merging
 *   reduction the model checker measures; `dropDeadMessages: false` keeps
 *   them). Requests of an old term are not dead: they are answered with the
 *   newer term.
 */
import type { SnapshotAck, SnapshotChunk } from '../../node/protocol.js';
import { describeMessage } from '../../node/raft/describe.js';
import type { InstallSnapshot, RaftMessage } from '../../node/raft/types.js';
import { assertNever } from '../../node/util/assert.js';

/**
 * An InstallSnapshot with the snapshot's bytes (SnapshotData.data): the
 * host streams it in chunks (node/snapshot/streamer.ts, assembler.ts); the
 * stepped cluster carries it as one message, delivered, lost, duplicated or
 * delayed like any other. Its receiver's host decodes it and steps the
 * InstallSnapshot into its core.
 */
export type SnapshotMessage = InstallSnapshot & { readonly data: string };

/**
 * With chunked snapshots (SteppedParams.snapshotChunkBytes): one chunk of
 * the host's stream (node/snapshot/streamer.ts), its bytes in base64 so the
 * message is plain data (the model checker interns messages by text).
 */
export type ChunkMessage = Omit<SnapshotChunk, 'data'> & { readonly data: string };

/** What travels between stepped nodes: the datagrams, whole snapshots, or a stream's chunks and their acknowledgements. */
export type SteppedMessage = RaftMessage | SnapshotMessage | ChunkMessage | SnapshotAck;

/** A chunk as the stream sent it (the host's SnapshotChunk). */
export function chunkOf(message: ChunkMessage): SnapshotChunk {
  return { ...message, data: Buffer.from(message.data, 'base64') };
}

/** A chunk as a stepped message. */
export function chunkMessage(chunk: SnapshotChunk): ChunkMessage {
  return { ...chunk, data: Buffer.from(chunk.data).toString('base64') };
}

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * The one-line text that names a message in flight (traces, listings): the
 * core's transcript text, and for a snapshot a checksum of its bytes
 * (FNV-1a), so two snapshots with the same metadata and other contents (an
 * unsafe flag's) are different messages.
 */
export function describeSteppedMessage(message: SteppedMessage): string {
  switch (message.type) {
    case 'snapshot_chunk': {
      const s = message.snapshot;
      return (
        `${message.from}->${message.to} MsgSnapChunk term=${message.term} seq=${message.seq} snap=${s.index}@${s.term} ` +
        `voters=${s.configuration.voters.join(',')} learners=${s.configuration.learners.join(',')} ` +
        `at=${message.offset}/${message.totalBytes} by=${message.chunkBytes} sum=${message.checksum.slice(0, 16)} data=#${fnv1a(message.data)}`
      );
    }
    case 'snapshot_ack':
      return (
        `${message.from}->${message.to} MsgSnapAck term=${message.term} seq=${message.seq} at=${message.offset} ${message.status}` +
        (message.reason === '' ? '' : ` reason=#${fnv1a(message.reason)}`)
      );
    case 'install_snapshot':
      return `${describeMessage(message)} data=#${fnv1a(message.data)}`;
    default:
      return describeMessage(message);
  }
}

export interface NetworkRules {
  /** The model checker's bound on messages in flight, 0 for none (for the record; a replay does not enforce it). */
  readonly maxInFlight: number;
  readonly dropDeadMessages: boolean;
}

export function isDeadMessage(message: SteppedMessage, receiverDurableTerm: number): boolean {
  switch (message.type) {
    case 'request_vote_response':
    case 'append_entries_response':
    case 'timeout_now':
      return message.term < receiverDurableTerm;
    // A chunk of an older term than its receiver's is refused unstaged (assembler.ts `old_term`); an ack of an
    // older term than its leader's belongs to a stream that ended when that leader's term did (host.ts abortAll).
    case 'snapshot_chunk':
    case 'snapshot_ack':
      return message.term < receiverDurableTerm;
    case 'request_vote':
    case 'append_entries':
    case 'install_snapshot':
      return false;
    default:
      return assertNever(message, 'raft message');
  }
}
