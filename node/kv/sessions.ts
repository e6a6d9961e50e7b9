/**
 * The client session table (Raft dissertation §6.3): for each client, the
 * last `seq` the state machine applied, a digest of that op, and its result.
 * A retried command (same `seq`, same op) gets the cached result instead of
 * being applied again, which turns at-least-once retries into exactly-once
 * effects.
 *
 * A session belongs to the client instance that opened it. A command is
 * refused with a definite error, never answered from the cache, when:
 * - it comes from another instance with the same clientId
 *   (`session_conflict`): none of that instance's ops were applied under
 *   this session, and none will be while it lives;
 * - its seq is the last one applied but its op differs (`op_mismatch`):
 *   this op was not applied as that seq, and never will be.
 * Before these checks a reused clientId got another client's cached result
 * as if its own op had been applied, and its lower seqs no answer at all.
 * A seq below the last one (`stale`) will not be applied from now on, but
 * may have been applied earlier: refused, and reported as not definite.
 *
 * The table is bounded. Eviction must be identical on every replica, so it is
 * driven by the log only: the session least recently used *by log index* is
 * evicted (never by wall-clock time, which differs between replicas). A Map
 * keeps insertion order; re-inserting a session on every use makes the first
 * key the least recently used one.
 *
 * Known limit (as in the dissertation): once a client's session is evicted, a
 * very late retry of its last command would be applied again, and an op
 * its owner instance had applied could be refused as a `session_conflict`
 * after another instance opened the session anew. With the default bound
 * this needs more than 10,000 other clients to write in between; a replayed
 * datagram cannot do it (the transport refuses replays, node/transport/).
 */
import type { KvResult } from '../protocol.js';
import { assert, assertionFailed } from '../util/assert.js';

export const DEFAULT_MAX_SESSIONS = 10_000;

export interface Session {
  readonly clientId: string;
  /** The client instance the session belongs to. */
  readonly instance: number;
  readonly lastSeq: number;
  /** opDigest of the op applied as lastSeq. */
  readonly digest: string;
  readonly result: KvResult;
  /** Log index of the entry that last touched this session (the eviction order). */
  readonly lastUsedIndex: number;
}

export type SessionCheck =
  | { readonly kind: 'new' }
  /** seq == lastSeq with the same op: a retry of the last applied command; answer with its result, do not apply again. */
  | { readonly kind: 'duplicate'; readonly result: KvResult }
  /** seq < lastSeq: the client has moved on; not applied now (but perhaps earlier). */
  | { readonly kind: 'stale'; readonly lastSeq: number }
  /** Another instance's session, or the last seq with another op: not applied, and never will be. */
  | { readonly kind: 'conflict'; readonly code: 'session_conflict' | 'op_mismatch'; readonly lastSeq: number };

export interface SessionUpdate {
  readonly instance: number;
  readonly seq: number;
  readonly digest: string;
  readonly result: KvResult;
}

export class SessionTable {
  private readonly sessions = new Map<string, Session>();

  constructor(readonly maxSessions: number = DEFAULT_MAX_SESSIONS) {
    assert(Number.isSafeInteger(maxSessions) && maxSessions >= 1, `maxSessions must be a positive integer, got ${maxSessions}`);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Classifies command `(clientId, seq)` from client `instance` with op digest `digest`. */
  check(clientId: string, instance: number, seq: number, digest: string): SessionCheck {
    const s = this.sessions.get(clientId);
    if (s === undefined) return { kind: 'new' };
    if (s.instance !== instance) return { kind: 'conflict', code: 'session_conflict', lastSeq: s.lastSeq };
    if (seq > s.lastSeq) return { kind: 'new' };
    if (seq === s.lastSeq) return s.digest === digest ? { kind: 'duplicate', result: s.result } : { kind: 'conflict', code: 'op_mismatch', lastSeq: s.lastSeq };
    return { kind: 'stale', lastSeq: s.lastSeq };
  }

  /**
   * Records the result of applying `(clientId, seq)` at log `index` (also
   * called for duplicates and stale commands, so "recently used" means
   * "recently seen in the log"). Evicts the least recently used session when
   * the table is over its bound.
   */
  touch(clientId: string, index: number, update: SessionUpdate | null): void {
    const prev = this.sessions.get(clientId);
    if (prev !== undefined && index <= prev.lastUsedIndex) assertionFailed(`session ${clientId} touched at index ${index} <= ${prev?.lastUsedIndex}`);
    let next: Session;
    if (update !== null) {
      if (prev !== undefined && update.seq <= prev.lastSeq) assertionFailed(`session ${clientId}: seq ${update.seq} does not advance`);
      if (prev !== undefined && update.instance !== prev.instance) assertionFailed(`session ${clientId}: instance ${update.instance} updates the session of instance ${prev.instance}`);
      next = { clientId, instance: update.instance, lastSeq: update.seq, digest: update.digest, result: update.result, lastUsedIndex: index };
    } else {
      if (prev === undefined) assertionFailed(`session ${clientId}: touch without update on an unknown session`);
      next = { ...prev, lastUsedIndex: index };
    }
    this.sessions.delete(clientId);
    this.sessions.set(clientId, next);
    while (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.keys().next();
      assert(oldest.done !== true, 'session table over bound but empty');
      this.sessions.delete(oldest.value);
    }
  }

  /** Sessions from least to most recently used: the eviction order, identical on every replica. */
  list(): Session[] {
    return [...this.sessions.values()];
  }
}
