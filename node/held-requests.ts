/**
 * Client requests a follower holds instead of redirecting them at once.
 *
 * After a leader dies its followers keep naming it until their election
 * timers fire (150-300 ms by default), so a client that let an attempt time
 * out on it learns nothing from them until a new leader is elected: it used
 * to poll them with a backoff and follow the first hint to the new leader,
 * arriving up to one backoff after the election (the bench's failover
 * stages: 14-20 ms of a ~186 ms failover went there). A request may
 * therefore ask to wait for a leader (`ClientRequest.awaitLeader`): a node
 * that is not the leader and knows no leader, or only the one the client
 * named, holds the request up to `maxMs` instead of answering. When the node
 * learns another leader (or becomes it) the request is dispatched again (a
 * redirect to the new leader, or served here); when the time runs out it is
 * answered as it would have been at once. A long poll: no extra datagram.
 *
 * Bounded: at most `capacity` requests are held (beyond that the node
 * answers at once, as before), each at most `maxMs` (which the wire caps at
 * `MAX_AWAIT_LEADER_MS`, below any client's attempt timeout it was derived from).
 * Pure: the host supplies the clock and dispatches what this hands back.
 */
import type { NodeId } from './raft/types.js';
import type { ClientRequest } from './protocol.js';
import { assert } from './util/assert.js';

/** The wire's bound on `awaitLeader.maxMs` (node/transport/validate.ts). */
export const MAX_AWAIT_LEADER_MS = 1000;

/** Held at once by one node; a full node answers at once, as without the field. */
export const MAX_HELD_REQUESTS = 256;

export interface Held<R> {
  readonly request: ClientRequest;
  readonly replyTo: R;
  /** The host's monotonic clock, ms: answered as without a leader from then on. */
  readonly releaseAtMs: number;
}

/**
 * Whether a node in `role` that knows `leaderId` would hold `request`: it
 * asked to wait, and this node could only redirect it to no leader or to the
 * leader the client asked to avoid.
 */
export function wantsHold(request: ClientRequest, role: string, leaderId: NodeId | null): boolean {
  const wait = request.awaitLeader;
  if (wait === undefined || role === 'leader') return false;
  return leaderId === null || leaderId === wait.otherThan;
}

export class HeldRequests<R> {
  private held: Held<R>[] = [];

  constructor(private readonly capacity: number = MAX_HELD_REQUESTS) {
    assert(capacity >= 0, 'held-request capacity is not negative');
  }

  get size(): number {
    return this.held.length;
  }

  /** Holds `request` until `nowMs + awaitLeader.maxMs`; false when full (answer at once). */
  hold(request: ClientRequest, replyTo: R, nowMs: number): boolean {
    const wait = request.awaitLeader;
    assert(wait !== undefined, 'only a request that asked to wait is held');
    if (this.held.length >= this.capacity) return false;
    this.held.push({ request, replyTo, releaseAtMs: nowMs + Math.min(wait.maxMs, MAX_AWAIT_LEADER_MS) });
    return true;
  }

  /** The earliest release time, or null when nothing is held. */
  nextReleaseAtMs(): number | null {
    let next: number | null = null;
    for (const h of this.held) if (next === null || h.releaseAtMs < next) next = h.releaseAtMs;
    return next;
  }

  /** Removes and returns the requests whose time ran out by `nowMs`, oldest first. */
  expired(nowMs: number): Held<R>[] {
    const out = this.held.filter((h) => h.releaseAtMs <= nowMs);
    if (out.length > 0) this.held = this.held.filter((h) => h.releaseAtMs > nowMs);
    return out;
  }

  /**
   * Removes and returns the held requests that do not avoid `leaderId` (all
   * of them when `leaderId` is this node, which now leads), each with what is
   * left of its wait (at least 1 ms), to be dispatched again: the node
   * learned a leader they may be sent to.
   */
  takeFor(leaderId: NodeId, nowMs: number): { readonly request: ClientRequest; readonly replyTo: R }[] {
    const out: { readonly request: ClientRequest; readonly replyTo: R }[] = [];
    const kept: Held<R>[] = [];
    for (const h of this.held) {
      const wait = h.request.awaitLeader!;
      if (wait.otherThan === leaderId) kept.push(h);
      else
        out.push({
          request: { ...h.request, awaitLeader: { ...wait, maxMs: Math.max(1, Math.ceil(h.releaseAtMs - nowMs)) } },
          replyTo: h.replyTo,
        });
    }
    this.held = kept;
    return out;
  }

  /** Drops everything held (the node stops); returns how many. */
  clear(): number {
    const n = this.held.length;
    this.held = [];
    return n;
  }
}
