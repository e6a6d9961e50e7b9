/**
 * The client retry policy, pure: what a client does after each attempt of
 * one operation. The real client (node/client.ts, over UDP and wall-clock
 * timers) and the simulated one (sim/client.ts, over the event queue) both
 * follow it, so the simulator tests the policy the harness runs.
 *
 * - Every attempt of one operation carries the same (clientId, seq), so a
 *   retried write is applied at most once (dissertation §6.3); retrying is
 *   always safe, and only a definite answer ends the operation.
 * - `not_leader` with a hint naming another known node: follow it at once
 *   (§5.1/§8: a follower redirects clients to the leader it knows).
 *   Without a useful hint, or no reply within the attempt timeout: try the
 *   next node in order, after a backoff.
 * - A node that let an attempt time out is suspected (`Suspicion`) for the
 *   cluster's longest election timeout: hints naming it are not followed
 *   meanwhile, and the rotation skips it. Until the followers notice a dead
 *   leader (one election timeout, 150-300 ms by default) they all still name
 *   it; following them cost a whole attempt timeout per hint, and the client
 *   was often inside one on the dead node when the new leader was elected
 *   (the bench's failover stages: 31-52 ms from the election to the client's
 *   first write). Meanwhile it now polls the others (with backoff) and
 *   follows the first hint to the new leader. The suspicion ends when the
 *   node answers or when it runs out, so a live leader whose datagram was
 *   lost is avoided at most one election timeout (never a livelock).
 * - While a node is suspected, an attempt elsewhere asks the node to wait for
 *   a leader other than the suspect (`awaitLeaderFor`, node/held-requests.ts)
 *   for most of the attempt's wait, instead of answering `not_leader` naming
 *   the suspect at once: the answer comes as soon as that node learns the
 *   new leader, not one poll later. A held answer already waited, so the
 *   backoff after it counts that wait (`backoffAfterMs`).
 * - `unavailable` (no quorum yet, overloaded, leadership lost): back off and
 *   retry the same node.
 * - Backoff is capped exponential with full jitter: after the k-th failure,
 *   uniform in [0, min(backoffMsMax, backoffMsMin * 2^min(k, 10))], never past
 *   the deadline. Jitter spreads clients that failed together so they do not
 *   retry together.
 * - Past the deadline the operation is indeterminate: a read had no effect,
 *   so it is a definite `fail`; a write or cas may still take effect later,
 *   so it is `info` (Jepsen/Knossos).
 * - A session refusal (`rejected`) ends the operation: `session_conflict`
 *   and `op_mismatch` prove the op was not and will not be applied, so they
 *   are a `fail`; `stale_seq` only says it will not be applied from now on
 *   (it may have been before), so the operation is indeterminate, like a
 *   timeout, and is recorded as one.
 *
 * Randomness is injected (`RandomInt`): the real client draws from its own
 * seeded PRNG, the simulator from one of its named seeded streams, so a
 * simulation stays a pure function of its seed.
 */
import { defaultTimings } from './config-types.js';
import type { NodeId } from './raft/types.js';
import type { ClientOutcome, ClientRequest } from './protocol.js';
import { MAX_AWAIT_LEADER_MS } from './held-requests.js';
import { assert, assertNever } from './util/assert.js';

export interface RetryPolicy {
  /** How long one attempt waits for a reply before the client tries the next node. */
  readonly attemptTimeoutMs: number;
  /** The backoff cap after the first failure is 2 × this. */
  readonly backoffMsMin: number;
  /** The backoff cap never exceeds this. */
  readonly backoffMsMax: number;
  /** How long a node that let an attempt time out is passed over (see the file comment); 0: never. */
  readonly suspicionMs: number;
  /**
   * The share of an attempt's wait a node may hold it for a leader while
   * another node is suspected; 0: never ask. The rest is room for the way
   * there and back on a busy machine: a held answer that arrives after the
   * attempt timed out would make the client suspect the node that held it
   * (measured with 50 ms attempts on 2 loaded cores: answers reached the
   * client 5-10 ms after the node's hold began or ended).
   */
  readonly awaitLeaderShare: number;
}

/**
 * Attempts wait at most 250 ms (several attempts fit in an op timeout, so a
 * dead node costs one of them); backoff caps grow from 20 ms up to 200 ms; a
 * node that let an attempt time out is passed over for the cluster's longest
 * election timeout, the time its followers take to replace it if it is dead.
 */
export function defaultRetryPolicy(opTimeoutMs: number, electionTimeoutMsMax: number = defaultTimings.electionTimeoutMsMax): RetryPolicy {
  return {
    attemptTimeoutMs: Math.min(250, opTimeoutMs),
    backoffMsMin: 10,
    backoffMsMax: 200,
    suspicionMs: electionTimeoutMsMax,
    awaitLeaderShare: 0.6,
  };
}

/**
 * What an attempt at `target` asks of it while `suspect` is suspected: to
 * hold the request up to `awaitLeaderShare` of the attempt's `waitMs` until
 * it knows a leader other than the suspect (the answer then comes before
 * the attempt times out). Undefined: answer at once.
 */
export function awaitLeaderFor(policy: RetryPolicy, suspect: NodeId | null, target: NodeId, waitMs: number): ClientRequest['awaitLeader'] {
  if (suspect === null || suspect === target || !(policy.awaitLeaderShare > 0)) return undefined;
  const maxMs = Math.min(MAX_AWAIT_LEADER_MS, Math.floor(waitMs * policy.awaitLeaderShare));
  return maxMs >= 1 ? { otherThan: suspect, maxMs } : undefined;
}

/** The sleep still due after an answer that took `waitedMs` (a held request already waited that long). */
export function backoffAfterMs(sleepMs: number, waitedMs: number): number {
  return Math.max(0, sleepMs - waitedMs);
}

/** A uniform integer in [min, max], both inclusive. */
export type RandomInt = (min: number, max: number) => number;

/** The doubling stops here (2^10 × backoffMsMin), long before the cap would overflow. */
const maxDoublings = 10;

/** What the client does after one attempt. */
export type AttemptVerdict =
  /** The operation happened: done. */
  | { readonly kind: 'ok'; readonly value: string | null }
  /** The operation definitely did not happen (a cas whose precondition was false, an invalid op, a session conflict): done. */
  | { readonly kind: 'fail'; readonly error: string }
  /** A definite answer that does not say whether the operation happened (stale_seq): done, indeterminate, as a timeout is. */
  | { readonly kind: 'indeterminate'; readonly error: string }
  /** Try again at `target`, at once or after a backoff; `lastError` explains a timeout should the deadline pass. */
  | { readonly kind: 'retry'; readonly target: NodeId; readonly backoff: boolean; readonly lastError: string };

/** A node that let an attempt time out, and until when (the client's clock, ms) hints naming it are not followed. */
export interface Suspicion {
  readonly node: NodeId;
  readonly untilMs: number;
}

/**
 * The suspicion after an attempt at `target` ended at `nowMs` with `outcome`
 * (null: no reply within the attempt timeout): the target is suspected for
 * `policy.suspicionMs`; an answer from the suspect clears it.
 */
export function nextSuspicion(
  previous: Suspicion | null,
  outcome: ClientOutcome | null,
  target: NodeId,
  nowMs: number,
  policy: RetryPolicy,
): Suspicion | null {
  if (outcome === null) return policy.suspicionMs > 0 ? { node: target, untilMs: nowMs + policy.suspicionMs } : null;
  return previous !== null && previous.node === target ? null : previous;
}

/** The node under suspicion at `nowMs`, or null. */
export function suspectAt(suspicion: Suspicion | null, nowMs: number): NodeId | null {
  return suspicion !== null && nowMs < suspicion.untilMs ? suspicion.node : null;
}

/**
 * Judges one attempt at `target`: its outcome, or null when no reply came
 * within the attempt timeout. `nodeIds` are the nodes the client knows, in
 * the order it tries them; `suspect` is the node under suspicion (see
 * {@link suspectAt}), whose name in a hint is not followed.
 */
export function judgeAttempt(
  outcome: ClientOutcome | null,
  target: NodeId,
  nodeIds: readonly NodeId[],
  suspect: NodeId | null = null,
): AttemptVerdict {
  if (outcome === null) return { kind: 'retry', target: nextNode(nodeIds, target), backoff: true, lastError: `no reply from ${target}` };
  switch (outcome.status) {
    case 'ok':
      return { kind: 'ok', value: outcome.value };
    case 'cas_mismatch':
      return { kind: 'fail', error: 'cas_mismatch' };
    case 'invalid':
      return { kind: 'fail', error: `${outcome.code}: ${outcome.message}` };
    case 'not_leader': {
      const lastError = `not_leader (hint ${outcome.leaderHint ?? 'none'})`;
      const hint = outcome.leaderHint;
      // A fresh hint is worth following at once, unless it names the node that just let an attempt time out.
      if (hint !== null && hint !== target && hint !== suspect && nodeIds.includes(hint))
        return { kind: 'retry', target: hint, backoff: false, lastError };
      return { kind: 'retry', target: nextNode(nodeIds, target, suspect), backoff: true, lastError };
    }
    case 'unavailable':
      return { kind: 'retry', target, backoff: true, lastError: `unavailable: ${outcome.reason}` };
    case 'rejected': {
      const code = outcome.code;
      switch (code) {
        case 'session_conflict':
        case 'op_mismatch':
          return { kind: 'fail', error: `${code}: ${outcome.message}` };
        case 'stale_seq':
        case 'session_expired':
          return { kind: 'indeterminate', error: `${code}: ${outcome.message}` };
        default:
          return assertNever(code, 'session rejection');
      }
    }
    default:
      return assertNever(outcome, 'client outcome');
  }
}

/**
 * The sleep before the next attempt after the `failures`-th failure (1 for
 * the first), capped by what is left of the deadline; null when nothing is
 * left (the operation times out; nothing is drawn from `random`).
 */
export function backoffMs(policy: RetryPolicy, failures: number, remainingMs: number, random: RandomInt): number | null {
  if (remainingMs <= 0) return null;
  const capMs = Math.min(policy.backoffMsMax, policy.backoffMsMin * 2 ** Math.min(failures, maxDoublings));
  return Math.min(random(0, Math.max(0, Math.floor(capMs))), remainingMs);
}

/** How long the next attempt may wait for its reply; null when the deadline has passed (the operation times out). */
export function attemptWaitMs(policy: RetryPolicy, remainingMs: number): number | null {
  return remainingMs <= 0 ? null : Math.min(policy.attemptTimeoutMs, remainingMs);
}

/** How a history records an operation that timed out: a read had no effect (fail); a write or cas may still happen (info). */
export function timedOutOpType(f: 'read' | 'write' | 'cas'): 'fail' | 'info' {
  return f === 'read' ? 'fail' : 'info';
}

/**
 * The node after `current` in `nodeIds`, wrapping around (the first one if
 * `current` is unknown), passing over `skip` unless it is the only choice.
 */
export function nextNode(nodeIds: readonly NodeId[], current: NodeId, skip: NodeId | null = null): NodeId {
  assert(nodeIds.length > 0, 'a client knows at least one node');
  const at = nodeIds.indexOf(current);
  for (let k = 1; k <= nodeIds.length; k++) {
    const candidate = nodeIds[(at + k) % nodeIds.length]!;
    if (candidate !== skip) return candidate;
  }
  return nodeIds[(at + 1) % nodeIds.length]!;
}
