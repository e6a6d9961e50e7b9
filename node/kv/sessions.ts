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
 * Eviction is detected as the dissertation's registration does it: a client
 * opens its session explicitly (a logged no-op, ClientRequest.session
 * `open`) and sends its writes as `existing`; an `existing` command whose
 * session the table no longer holds is refused as `session_expired` (and
 * opens nothing), so a retry that arrives after its session was evicted is
 * never applied a second time. Commands without a mode open their session
 * implicitly, as every command did before modes existed; for them the
 * limit remains: once the session is evicted, a late retry of its last
 * command would be applied again (the simulator's `--max-sessions` finds
 * it), and an op its owner instance had applied could be refused as a
 * `session_conflict` after another instance opened the session anew. With
 * the default bound that needs more than 10,000 other clients to write in
 * between; a replayed datagram cannot do it (the transport refuses replays,
 * node/transport/).
 */
import type { KvOp, KvResult, SessionMode } from '../protocol.js';
import { checkKvResult, isRecord } from '../transport/validate.js';
import { assert, assertionFailed } from '../util/assert.js';
import { opDigest } from './command.js';
import { sessionBytes } from './stored-size.js';

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
  | { readonly kind: 'conflict'; readonly code: 'session_conflict' | 'op_mismatch'; readonly lastSeq: number }
  /** An `existing` command whose session is gone (evicted): not applied now or later, but perhaps applied before the eviction. */
  | { readonly kind: 'expired' };

/**
 * An op's digest, computed only if it is ever needed. The table compares
 * digests only when a command repeats the last applied seq (a retry) and
 * writes them only into snapshots, while almost every session is
 * overwritten by its client's next command first; hashing every applied op
 * on every replica cost more than the rest of applying it. The value, once
 * computed, is `opDigest(op)`, so replicas and snapshots are unchanged.
 */
export class LazyDigest {
  private op: KvOp | null;
  private digest: string | null = null;

  constructor(op: KvOp) {
    this.op = op;
  }

  /** Ops longer than this are digested when recorded, so a session never holds a large value only for its digest. */
  static readonly MAX_HELD_CHARS = 256;

  get value(): string {
    if (this.digest === null) {
      this.digest = opDigest(this.op!);
      this.op = null;
    }
    return this.digest;
  }

  /** Whether the op is short enough to keep undigested (see MAX_HELD_CHARS). */
  get small(): boolean {
    const op = this.op;
    if (op === null) return true;
    const chars =
      op.key.length + (op.type === 'put' || op.type === 'cas' ? op.value.length : 0) + (op.type === 'cas' ? (op.expected?.length ?? 0) : 0);
    return chars <= LazyDigest.MAX_HELD_CHARS;
  }
}

/** A digest as callers give it: computed (snapshots, tests) or lazy (the apply path). */
export type DigestOf = string | LazyDigest;

function digestValue(digest: DigestOf): string {
  return typeof digest === 'string' ? digest : digest.value;
}

export interface SessionUpdate {
  readonly instance: number;
  readonly seq: number;
  readonly digest: DigestOf;
  readonly result: KvResult;
}

/** A session as the table keeps it: the digest may not be computed yet. */
interface SessionRecord extends Omit<Session, 'digest'> {
  readonly digest: DigestOf;
}

export class SessionTable {
  private readonly sessions = new Map<string, SessionRecord>();
  /** sessionBytes of each session (counted once, when its result is recorded). */
  private readonly bytesByClient = new Map<string, number>();
  /** Their sum: the table's share of the snapshot, bounded above. */
  private bytes = 0;

  constructor(readonly maxSessions: number = DEFAULT_MAX_SESSIONS) {
    assert(Number.isSafeInteger(maxSessions) && maxSessions >= 1, `maxSessions must be a positive integer, got ${maxSessions}`);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** An upper bound on the bytes the table adds to a snapshot (sessionBytes summed). */
  get storedBytes(): number {
    return this.bytes;
  }

  /** sessionBytes of `clientId`'s session as it stands, 0 when it has none. */
  bytesOf(clientId: string): number {
    return this.bytesByClient.get(clientId) ?? 0;
  }

  /**
   * Classifies command `(clientId, seq)` from client `instance` with op digest `digest` (computed only for a retry of
   * the last seq) and session mode `mode` (ClientRequest.session; undefined: the session opens implicitly).
   */
  check(clientId: string, instance: number, seq: number, digest: DigestOf, mode?: SessionMode): SessionCheck {
    const s = this.sessions.get(clientId);
    if (s === undefined) return mode === 'existing' ? { kind: 'expired' } : { kind: 'new' };
    // An `existing` command's instance opened this clientId's session earlier; another instance holding it now
    // means that session was evicted and opened anew (not a second client on the id): expired, not definite.
    if (s.instance !== instance)
      return mode === 'existing' ? { kind: 'expired' } : { kind: 'conflict', code: 'session_conflict', lastSeq: s.lastSeq };
    if (seq > s.lastSeq) return { kind: 'new' };
    if (seq === s.lastSeq)
      return digestValue(s.digest) === digestValue(digest)
        ? { kind: 'duplicate', result: s.result }
        : { kind: 'conflict', code: 'op_mismatch', lastSeq: s.lastSeq };
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
    if (prev !== undefined && index <= prev.lastUsedIndex)
      assertionFailed(`session ${clientId} touched at index ${index} <= ${prev?.lastUsedIndex}`);
    let next: SessionRecord;
    if (update !== null) {
      if (prev !== undefined && update.seq <= prev.lastSeq) assertionFailed(`session ${clientId}: seq ${update.seq} does not advance`);
      if (prev !== undefined && update.instance !== prev.instance)
        assertionFailed(`session ${clientId}: instance ${update.instance} updates the session of instance ${prev.instance}`);
      next = {
        clientId,
        instance: update.instance,
        lastSeq: update.seq,
        // A large op is digested now rather than held (the table's memory stays bounded by small ops).
        digest: typeof update.digest === 'string' || update.digest.small ? update.digest : update.digest.value,
        result: update.result,
        lastUsedIndex: index,
      };
    } else {
      if (prev === undefined) assertionFailed(`session ${clientId}: touch without update on an unknown session`);
      next = { ...prev, lastUsedIndex: index };
    }
    if (update !== null) this.count(clientId, sessionBytes(clientId, next.result));
    this.sessions.delete(clientId);
    this.sessions.set(clientId, next);
    while (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.keys().next();
      assert(oldest.done !== true, 'session table over bound but empty');
      this.sessions.delete(oldest.value);
      this.count(oldest.value, 0);
    }
  }

  /** Sets `clientId`'s share (0: gone) and the sum. */
  private count(clientId: string, bytes: number): void {
    this.bytes += bytes - (this.bytesByClient.get(clientId) ?? 0);
    if (bytes === 0) this.bytesByClient.delete(clientId);
    else this.bytesByClient.set(clientId, bytes);
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
      table.count(session.clientId, sessionBytes(session.clientId, session.result));
    }
    return table;
  }

  /** Sessions from least to most recently used: the eviction order, identical on every replica. */
  list(): Session[] {
    return [...this.sessions.values()].map((s) => (typeof s.digest === 'string' ? (s as Session) : { ...s, digest: s.digest.value }));
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
      if (session.lastUsedIndex <= previousIndex)
        return `sessions are not in eviction order (index ${session.lastUsedIndex} after ${previousIndex})`;
      previousIndex = session.lastUsedIndex;
    }
    this.sessions.clear();
    this.bytesByClient.clear();
    this.bytes = 0;
    for (const session of sessions) {
      this.sessions.set(session.clientId, session);
      this.count(session.clientId, sessionBytes(session.clientId, session.result));
    }
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
  instance: (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? null : 'expected a non-negative safe integer'),
  lastSeq: (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? null : 'expected a non-negative safe integer'),
  digest: (v) => (typeof v === 'string' && /^[0-9a-f]{32}$/.test(v) ? null : 'expected an op digest (32 hex digits)'),
  result: (v) => checkKvResult(v, ''),
  lastUsedIndex: (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? null : 'expected a positive safe integer'),
};

const sessionFields = Object.keys(sessionFieldChecks) as (keyof Session)[];

/** A session as a plain JSON-ready record: every field, in a fixed order (identical bytes on every replica). */
export function sessionToSnapshot(session: Session): Record<string, unknown> {
  return Object.fromEntries(sessionFields.map((field) => [field, session[field]]));
}

/** A session read back from its snapshot form; total: any value gives a typed result. */
export function sessionFromSnapshot(
  value: unknown,
): { readonly ok: true; readonly session: Session } | { readonly ok: false; readonly error: string } {
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
