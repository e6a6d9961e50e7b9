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
import { checkKvResult, isRecord } from '../transport/validate.js';
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

  /** Sessions from least to most recently used: the eviction order, identical on every replica. */
  list(): Session[] {
    return [...this.sessions.values()];
  }

  /**
   * Replace the whole table with `sessions` (least recently used first), as
   * read back from a snapshot (§7: the session table is part of the state
   * machine, dissertation §6.3). All or nothing: a table that breaks an
   * invariant (duplicate client, eviction order not increasing by log index,
   * over the bound) is refused and the current one kept.
   */
  replaceAll(sessions: readonly Session[]): string | null {
    if (sessions.length > this.maxSessions) return `${sessions.length} sessions; this table holds at most ${this.maxSessions}`;
    const seen = new Set<string>();
    let previousIndex = 0;
    for (const session of sessions) {
      if (seen.has(session.clientId)) return `session ${JSON.stringify(session.clientId)} appears twice`;
      seen.add(session.clientId);
      if (session.lastUsedIndex <= previousIndex) return `sessions are not in eviction order (index ${session.lastUsedIndex} after ${previousIndex})`;
      previousIndex = session.lastUsedIndex;
    }
    this.sessions.clear();
    for (const session of sessions) this.sessions.set(session.clientId, session);
    return null;
  }
}

// ---------------------------------------------------------------- snapshot form

/**
 * How each field of a {@link Session} is checked when it is read back from a
 * snapshot. The type demands one check per field of Session, so a field
 * added to Session (another change adds a digest of the op, for instance)
 * does not compile until it has a check here, and from then on it is
 * written and read back with the rest: the snapshot form is every field of
 * the record, in this table's order.
 */
const sessionFieldChecks: { readonly [K in keyof Session]-?: (value: unknown) => string | null } = {
  clientId: (v) => (typeof v === 'string' && v.length > 0 ? null : 'expected a non-empty string'),
  lastSeq: (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? null : 'expected a non-negative safe integer'),
  result: (v) => checkKvResult(v, ''),
  lastUsedIndex: (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? null : 'expected a positive safe integer'),
};

const sessionFields = Object.keys(sessionFieldChecks) as (keyof Session)[];

/** A session as a plain JSON-ready record: every field, in a fixed order (identical bytes on every replica). */
export function sessionToSnapshot(session: Session): Record<string, unknown> {
  return Object.fromEntries(sessionFields.map((field) => [field, session[field]]));
}

/** A session read back from its snapshot form; total: any value gives a typed result. */
export function sessionFromSnapshot(value: unknown): { readonly ok: true; readonly session: Session } | { readonly ok: false; readonly error: string } {
  if (!isRecord(value)) return { ok: false, error: 'session: expected an object' };
  const keys = Object.keys(value);
  if (keys.length !== sessionFields.length || !sessionFields.every((field) => Object.hasOwn(value, field))) {
    return { ok: false, error: `session: fields ${JSON.stringify(keys.slice(0, 8))}; expected ${sessionFields.join(', ')}` };
  }
  for (const field of sessionFields) {
    const problem = sessionFieldChecks[field](value[field]);
    if (problem !== null) return { ok: false, error: `session.${field}: ${problem}` };
  }
  return { ok: true, session: value as unknown as Session };
}
