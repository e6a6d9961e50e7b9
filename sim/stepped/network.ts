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

/** What travels between stepped nodes: the datagrams and whole snapshots. */
export type SteppedMessage = RaftMessage | SnapshotMessage;

/**
 * The one-line text that names a message in flight (traces, listings): the
 * core's transcript text, and for a snapshot a checksum of its bytes
 * (FNV-1a), so two snapshots with the same metadata and other contents (an
 * unsafe flag's) are different messages.
 */
export function describeSteppedMessage(message: SteppedMessage): string {
  const text = describeMessage(message);
  if (message.type !== 'install_snapshot') return text;
  let h = 0x811c9dc5;
  for (let i = 0; i < message.data.length; i++) h = Math.imul(h ^ message.data.charCodeAt(i), 0x01000193);
  return `${text} data=#${(h >>> 0).toString(16).padStart(8, '0')}`;
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
    case 'request_vote':
    case 'append_entries':
    case 'install_snapshot':
      return false;
    default:
      return assertNever(message, 'raft message');
  }
}
