/**
 * The client side of a stepped cluster: what a client operation sends, what
 * a node's answer means for it, and how it enters the history the
 * linearizability checker reads (the `cas-register` model, per key, as the
 * simulator records it: `write v`, `cas [expected, new]`, `read`; values
 * are integers, every written value unique).
 *
 * An answer is final (`ok`, or a definite failure: `cas_mismatch`,
 * `invalid`, a session's `session_conflict` or `op_mismatch`), final but
 * indeterminate (`stale_seq`: the op may have taken effect before), or says
 * "try again" (`not_leader`, `unavailable`: a write may still take effect,
 * so its retry carries the same session `(clientId, seq)`, dissertation
 * §6.3). Which is which is the shared client policy's call
 * (node/client-retry.ts `judgeAttempt`). An operation that never gets a
 * final determinate answer stays open in the history: the checker lets it
 * take effect or not.
 */
import type { HistoryOp } from '../../checker/types.js';
import { judgeAttempt } from '../../node/client-retry.js';
import type { ClientOutcome, ClientRequest } from '../../node/protocol.js';
import { assertNever } from '../../node/util/assert.js';
import type { ClientOpSpec } from './trace.js';

export type ReplyVerdict =
  | { readonly kind: 'ok'; readonly value: string | null }
  | { readonly kind: 'fail' }
  /** Done, but whether it took effect is unknown (stale_seq): the op stays open in the history. */
  | { readonly kind: 'indeterminate' }
  | { readonly kind: 'retry' };

/**
 * The client instance of every stepped operation: each operation is a client
 * of its own (its own clientId), in its first incarnation (instance =
 * generation + 1, as node/client.ts numbers them).
 */
export const STEPPED_CLIENT_INSTANCE = 1;

export function requestOf(spec: ClientOpSpec): ClientRequest {
  return { type: 'client_request', clientId: spec.clientId, instance: STEPPED_CLIENT_INSTANCE, seq: spec.seq, op: spec.op };
}

/** Where the op goes next is the schedule's choice here, not the client's: only the kind of `judgeAttempt`'s verdict counts. */
const judgedAt = 'n1';

export function judgeReply(outcome: ClientOutcome): ReplyVerdict {
  const verdict = judgeAttempt(outcome, judgedAt, [judgedAt]);
  switch (verdict.kind) {
    case 'ok':
      return { kind: 'ok', value: verdict.value };
    case 'fail':
      return { kind: 'fail' };
    case 'indeterminate':
      return { kind: 'indeterminate' };
    case 'retry':
      return { kind: 'retry' };
    default:
      return assertNever(verdict, 'attempt verdict');
  }
}

function num(value: string | null): number | null {
  return value === null ? null : Number(value);
}

/** The history's invoke line of operation `op` (process = op index: one client per operation). */
export function invokeOp(spec: ClientOpSpec, op: number): Omit<HistoryOp, 'index'> {
  const o = spec.op;
  switch (o.type) {
    case 'get':
      return { process: op, type: 'invoke', f: 'read', key: o.key, value: null };
    case 'put':
      return { process: op, type: 'invoke', f: 'write', key: o.key, value: num(o.value) };
    case 'cas':
      return { process: op, type: 'invoke', f: 'cas', key: o.key, value: [num(o.expected), num(o.value)] };
    case 'delete':
      return { process: op, type: 'invoke', f: 'write', key: o.key, value: null };
    default:
      return assertNever(o, 'kv op');
  }
}

/** The completion line for a final verdict (`info` for an indeterminate one: it may or may not have happened). */
export function completeOp(spec: ClientOpSpec, op: number, verdict: Exclude<ReplyVerdict, { kind: 'retry' }>): Omit<HistoryOp, 'index'> {
  const invoke = invokeOp(spec, op);
  if (verdict.kind === 'fail') return { ...invoke, type: 'fail' };
  if (verdict.kind === 'indeterminate') return { ...invoke, type: 'info' };
  return { ...invoke, type: 'ok', value: spec.op.type === 'get' ? num(verdict.value) : invoke.value };
}
