/**
 * What an answer to an AppendEntries or InstallSnapshot may say (issues 16
 * and 18), judged with the request it answers in hand: the model checker at
 * the step that delivers the request (mc/model.ts, property founded-acks),
 * the stepped replay at each delivery for the echo. The wire monitor and the
 * simulator judge the acknowledgement part from datagrams alone
 * (checker/ack-bound.ts), with a bound on the follower's commit index where
 * these have it exactly.
 *
 * - An answer echoes the request's seq only in the request's term. seq
 *   restarts each term, so an older term's seq in a newer term's answer is
 *   taken, by a sender leading that newer term, for an answer to its own
 *   request of that number: a ReadIndex round confirmed by a node that never
 *   heard it (§6.4; `--unsafe stale-read-acks`). The correct node answers a
 *   stale request with seq 0, never issued.
 * - A success vouches for no index past what the request carried
 *   (prevLogIndex + entries, or the snapshot's index) unless the node has
 *   committed it (§5.3; Figure 13; `--unsafe keep-log-on-install`).
 */
import type { SteppedMessage } from './network.js';

/** Null when `answer` (from the request's receiver) keeps both rules for `request`; else what is wrong. */
export function answerProblem(request: SteppedMessage, answer: SteppedMessage, commitIndex: number | null): string | null {
  let reach: number;
  if (request.type === 'append_entries') reach = request.prevLogIndex + request.entries.length;
  else if (request.type === 'install_snapshot' || request.type === 'snapshot_chunk') reach = request.snapshot.index;
  else return null;
  if (answer.type !== 'append_entries_response' || answer.to !== request.from || answer.seq !== request.seq) return null;
  if (answer.term !== request.term && answer.seq !== 0) {
    return (
      `${answer.from} answers ${request.from}'s ${request.type} of term ${request.term} (seq ${request.seq}) in term ${answer.term} ` +
      `echoing its seq: ${request.from}, if it leads term ${answer.term}, takes it for an answer to its own seq ${answer.seq} (§6.4)`
    );
  }
  if (commitIndex === null || !answer.success || answer.matchIndex <= reach || answer.matchIndex <= commitIndex) return null;
  return (
    `${answer.from} answers ${request.from}'s ${request.type} (term ${request.term}, seq ${request.seq}, reaching index ${reach}) ` +
    `with matchIndex ${answer.matchIndex}, past it and past its commit index ${commitIndex} (§5.3, Figure 13)`
  );
}
