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
import type { RaftMessage } from '../../node/raft/types.js';
import { assertNever } from '../../node/util/assert.js';

export interface NetworkRules {
  /** The model checker's bound on messages in flight, 0 for none (for the record; a replay does not enforce it). */
  readonly maxInFlight: number;
  readonly dropDeadMessages: boolean;
}

export function isDeadMessage(message: RaftMessage, receiverDurableTerm: number): boolean {
  switch (message.type) {
    case 'request_vote_response':
    case 'append_entries_response':
    case 'timeout_now':
      return message.term < receiverDurableTerm;
    case 'request_vote':
    case 'append_entries':
      return false;
    default:
      return assertNever(message, 'raft message');
  }
}
