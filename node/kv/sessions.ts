/**
 * The client session table (Raft dissertation §6.3): for each client, the
 * last `seq` the state machine applied and its result. A retried command
 * (same `seq`) gets the cached result instead of being applied again, which
 * turns at-least-once retries into exactly-once effects.
 *
 * The table is bounded. Eviction must be identical on every replica, so it is
 * driven by the log only: the session least recently used *by log index* is
 * evicted (never by wall-clock time, which differs between replicas). A Map
 * keeps insertion order; re-inserting a session on every use makes the first
 * key the least recently used one.
 *
 * Known limit (as in the dissertation): once a client's session is evicted, a
 * very late retry of its last command would be applied again. With the
 * default bound this needs more than 10,000 other clients to write in
 * between.
 */
import type { KvResult } from '../protocol.js';
import { assert, assertionFailed } from '../util/assert.js';

export const DEFAULT_MAX_SESSIONS = 10_000;

export interface Session {
  readonly clientId: string;
  readonly lastSeq: number;
  readonly result: KvResult;
  /** Log index of the entry that last touched this session (the eviction order). */
  readonly lastUsedIndex: number;
}

export type SessionCheck =
  | { readonly kind: 'new' }
  /** seq == lastSeq: a retry of the last applied command; answer with its result, do not apply again. */
  | { readonly kind: 'duplicate'; readonly result: KvResult }
  /** seq < lastSeq: the client has moved on; nobody is waiting for this answer. */
  | { readonly kind: 'stale'; readonly lastSeq: number };

export class SessionTable {
  private readonly sessions = new Map<string, Session>();

  constructor(readonly maxSessions: number = DEFAULT_MAX_SESSIONS) {
    assert(Number.isSafeInteger(maxSessions) && maxSessions >= 1, `maxSessions must be a positive integer, got ${maxSessions}`);
  }

  get size(): number {
    return this.sessions.size;
  }

  check(clientId: string, seq: number): SessionCheck {
    const s = this.sessions.get(clientId);
    if (s === undefined || seq > s.lastSeq) return { kind: 'new' };
    if (seq === s.lastSeq) return { kind: 'duplicate', result: s.result };
    return { kind: 'stale', lastSeq: s.lastSeq };
  }

  /**
   * Records the result of applying `(clientId, seq)` at log `index` (also
   * called for duplicates and stale commands, so "recently used" means
   * "recently seen in the log"). Evicts the least recently used session when
   * the table is over its bound.
   */
  touch(clientId: string, index: number, update: { readonly seq: number; readonly result: KvResult } | null): void {
    const prev = this.sessions.get(clientId);
    if (prev !== undefined && index <= prev.lastUsedIndex) assertionFailed(`session ${clientId} touched at index ${index} <= ${prev?.lastUsedIndex}`);
    let next: Session;
    if (update !== null) {
      if (prev !== undefined && update.seq <= prev.lastSeq) assertionFailed(`session ${clientId}: seq ${update.seq} does not advance`);
      next = { clientId, lastSeq: update.seq, result: update.result, lastUsedIndex: index };
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

  /**
   * A table holding exactly `sessions`, least recently used first (the
   * order `list()` gives): the inverse of `list()`, for restoring a
   * state machine from its snapshot.
   */
  static fromList(sessions: readonly Session[], maxSessions: number = DEFAULT_MAX_SESSIONS): SessionTable {
    const table = new SessionTable(maxSessions);
    assert(sessions.length <= maxSessions, `${sessions.length} sessions exceed the bound ${maxSessions}`);
    let lastUsed = 0;
    for (const session of sessions) {
      assert(session.lastUsedIndex > lastUsed, 'sessions must be listed least recently used first');
      assert(!table.sessions.has(session.clientId), `session ${session.clientId} listed twice`);
      lastUsed = session.lastUsedIndex;
      table.sessions.set(session.clientId, session);
    }
    return table;
  }

  /** Sessions from least to most recently used: the eviction order, identical on every replica. */
  list(): Session[] {
    return [...this.sessions.values()];
  }
}
