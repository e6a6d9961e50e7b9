/**
 * The client side of a stepped cluster: what a client operation sends, what
 * a node's answer means for it, and how it enters the history the
 * linearizability checker reads (the `cas-register` model, per key, as the
 * simulator records it: `write v`, `cas [expected, new]`, `read`; values
 * are integers, every written value unique).
 *
 * An answer is final (`ok`, or a definite failure: `cas_mismatch`,
 * `invalid`) or says "try again" (`not_leader`, `unavailable`: a write may
 * still take effect, so its retry carries the same session `(clientId,
 * seq)`, dissertation §6.3). An operation that never gets a final answer
 * stays open in the history: the checker lets it take effect or not.
 */
import type { HistoryOp } from '../../checker/types.js';
import type { ClientOutcome, ClientRequest } from '../../node/protocol.js';
import { assertNever } from '../../node/util/assert.js';
import type { ClientOpSpec } from './trace.js';

export type ReplyVerdict =
  | { readonly kind: 'ok'; readonly value: string | null }
  | { readonly kind: 'fail' }
  | { readonly kind: 'retry' };

export function requestOf(spec: ClientOpSpec): ClientRequest {
  return { type: 'client_request', clientId: spec.clientId, seq: spec.seq, op: spec.op };
}

export function judgeReply(outcome: ClientOutcome): ReplyVerdict {
  switch (outcome.status) {
    case 'ok':
      return { kind: 'ok', value: outcome.value };
    case 'cas_mismatch':
    case 'invalid':
      return { kind: 'fail' };
    case 'not_leader':
    case 'unavailable':
      return { kind: 'retry' };
    default:
      return assertNever(outcome, 'client outcome');
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

/** The completion line for a final verdict. */
export function completeOp(spec: ClientOpSpec, op: number, verdict: Exclude<ReplyVerdict, { kind: 'retry' }>): Omit<HistoryOp, 'index'> {
  const invoke = invokeOp(spec, op);
  if (verdict.kind === 'fail') return { ...invoke, type: 'fail' };
  return { ...invoke, type: 'ok', value: spec.op.type === 'get' ? num(verdict.value) : invoke.value };
}
