/**
 * The replicated key-value state machine. Every replica applies the same
 * committed entries in the same order (§5.3, State Machine Safety) and must
 * reach the same state, so `apply` is a pure function of (state, entry): no
 * clocks, no randomness, no configuration that could differ between nodes.
 * In particular the size limits are checked by the leader before proposing
 * (`limits.ts`), not here: the log is the authority on what happened. The
 * one bound applied here is a constant, the same on every replica: the
 * state's stored form (MAX_STATE_BYTES).
 */
import type { KvOp, KvResult, SessionMode } from '../protocol.js';
import type { Entry } from '../raft/types.js';
import { assert, assertNever } from '../util/assert.js';
import { isRecord } from '../transport/validate.js';
import { decodeCommand } from './command.js';
import { DEFAULT_MAX_SESSIONS, LazyDigest, SessionTable, sessionFromSnapshot, sessionToSnapshot } from './sessions.js';
import { KvSnapshotWriter, type Preimages } from './snapshot-writer.js';
import { pairBytes, sessionBytes } from './stored-size.js';
import type { DigestOf, Session, SessionCheck } from './sessions.js';

/** The snapshot form's name and version (its first two fields), so a reader can tell what it holds. */
export const KV_SNAPSHOT_FORMAT = 'rift-kv-snapshot';
export const KV_SNAPSHOT_VERSION = 1;

export type RestoreResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

/**
 * The bound on the state machine's stored form (its snapshot: one JSON
 * text, saved as UTF-8), in bytes, counted from above (stored-size.ts). V8
 * cannot build a string longer than 536,870,888 UTF-16 units, and a snapshot
 * file holds at most 1 GiB (snapshot-store.ts MAX_SNAPSHOT_BYTES); a byte
 * count bounds both. A state whose snapshot outgrew the string threw at
 * every snapshot, and the node stopped; restarted, it replayed its log to
 * the same point and stopped again, every replica alike (12,000 keys of
 * 8,192 bytes of U+0001, about 100 MB of values within the limits, written
 * as six characters each; found by a probe, 2026-12-07). An op that would
 * grow the state past it is refused (`state_full`) when applied, on every
 * replica alike (a constant, not configuration: apply must not depend on
 * anything a node could have differently). Deletes are always applied. The
 * margin below both limits holds what refused and deleting ops still add:
 * one small session record per client, at most maxSessions of them.
 */
export const MAX_STATE_BYTES = 480 * 1024 * 1024;

/** The snapshot's fields other than data and sessions, bounded above. */
const SNAPSHOT_FIXED_BYTES = 200;

export type ApplyResult =
  /** The command took effect now. */
  | { readonly kind: 'applied'; readonly index: number; readonly clientId: string; readonly seq: number; readonly result: KvResult }
  /** A retry of the client's last command: not applied again; `result` is the cached one (§6.3). */
  | { readonly kind: 'duplicate'; readonly index: number; readonly clientId: string; readonly seq: number; readonly result: KvResult }
  /** Older than the client's last command: not applied now (it may have been before). */
  | { readonly kind: 'stale'; readonly index: number; readonly clientId: string; readonly seq: number; readonly lastSeq: number }
  /** An `existing` command whose session is gone: not applied now or later, perhaps before the eviction (sessions.ts). */
  | { readonly kind: 'expired'; readonly index: number; readonly clientId: string; readonly instance: number; readonly seq: number }
  /** Another instance's session, or the client's last seq with another op: not applied, and never will be (sessions.ts). */
  | {
      readonly kind: 'conflict';
      readonly index: number;
      readonly clientId: string;
      readonly instance: number;
      readonly seq: number;
      readonly code: 'session_conflict' | 'op_mismatch';
      readonly lastSeq: number;
    };

export interface KvSnapshot {
  readonly lastApplied: number;
  /** Keys in sorted order. */
  readonly data: Readonly<Record<string, string>>;
  /** Least recently used first (the eviction order). */
  readonly sessions: readonly Session[];
  /** Entries whose command could not be decoded (applied as no-ops). */
  readonly undecodable: number;
}

export interface KvStateMachineOptions {
  readonly maxSessions?: number;
  readonly log?: (line: string) => void;
  /** Tests only: a smaller bound than MAX_STATE_BYTES. Every replica must use the same. */
  readonly maxStateBytes?: number;
  /** `--unsafe-ignore-session-expiry`: every command opens its session implicitly, whatever its mode says. */
  readonly ignoreSessionMode?: boolean;
}

export class KvStateMachine {
  private readonly data = new Map<string, string>();
  private sessions: SessionTable;
  private readonly ignoreSessionMode: boolean;
  private readonly log: (line: string) => void;
  private lastAppliedIndex = 0;
  private undecodable = 0;
  /** Sum of pairBytes over the data. */
  private dataBytes = 0;
  private readonly maxStateBytes: number;
  /** The open snapshot writer's preimages (snapshot-writer.ts), or null when none is open: at most one at a time. */
  private preimages: Preimages | null = null;
  private writer: KvSnapshotWriter | null = null;

  constructor(opts: KvStateMachineOptions = {}) {
    this.sessions = new SessionTable(opts.maxSessions ?? DEFAULT_MAX_SESSIONS);
    this.log = opts.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.maxStateBytes = opts.maxStateBytes ?? MAX_STATE_BYTES;
    this.ignoreSessionMode = opts.ignoreSessionMode === true;
  }

  get lastApplied(): number {
    return this.lastAppliedIndex;
  }

  /** An upper bound on the UTF-8 bytes of encodeSnapshot()'s text (and so on its length). */
  get storedBytes(): number {
    return SNAPSHOT_FIXED_BYTES + this.dataBytes + this.sessions.storedBytes;
  }

  /**
   * Applies the next committed entry. Returns null for entries that carry no
   * client command (a leader's no-op, §8; a configuration change, which only
   * advances lastApplied here; or an undecodable command).
   */
  apply(entry: Entry): ApplyResult | null {
    assert(
      entry.index === this.lastAppliedIndex + 1,
      `entries must be applied in order: got index ${entry.index}, lastApplied is ${this.lastAppliedIndex}`,
    );
    this.lastAppliedIndex = entry.index;
    switch (entry.type) {
      case 'noop':
      case 'config':
        // No client command: a leader's noop (§8) or a membership change
        // (dissertation ch. 4), which the Raft core itself acts on.
        return null;
      case 'command':
        return this.applyCommand(entry);
      default:
        return assertNever(entry.type, 'entry type');
    }
  }

  /** Local read of the applied state (the host serves it only after ReadIndex confirms, thesis §6.4). */
  read(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  /**
   * What the session table says of `(clientId, seq)` right now, so the host
   * can answer a retry of an already-applied write from the cache instead of
   * proposing it again (dissertation §6.3). Read-only.
   */
  sessionCheck(clientId: string, instance: number, seq: number, digest: DigestOf, mode?: SessionMode): SessionCheck {
    return this.sessions.check(clientId, instance, seq, digest, this.ignoreSessionMode ? undefined : mode);
  }

  /**
   * The state machine as a snapshot (§7; dissertation ch. 5) at lastApplied:
   * the data, the client session table (dissertation §6.3: without it a
   * retried command would apply twice on a node restored from a snapshot),
   * and the count of undecodable entries. JSON text with keys sorted and
   * sessions in eviction order, so two replicas at the same index produce
   * the same bytes (their checksums can be compared). The Raft metadata
   * (index, term, configuration) travels beside it, not in it.
   */
  encodeSnapshot(): string {
    // In one call nothing is applied meanwhile: no preimages, and an open writer (a snapshot being built) is left alone
    // (the host's state digest asks for this text while one may be open).
    const writer = this.writerNow(null);
    const parts: string[] = [];
    for (let part = writer.next(Infinity); part !== null; part = writer.next(Infinity)) parts.push(part);
    return parts.join('');
  }

  /**
   * {@link encodeSnapshot}'s text as it stands now, to be read a piece at a
   * time while entries go on being applied (snapshot-writer.ts: the state
   * machine keeps each written key's old value until the writer is done).
   * One writer at a time; `restoreSnapshot` abandons an open one. Costs now:
   * sorting the keys and the session table's text (about 20 ms for 400,000
   * keys); the data's text is built by the writer.
   */
  beginSnapshot(): KvSnapshotWriter {
    assert(this.writer === null, 'a snapshot writer is already open');
    const preimages: Preimages = new Map();
    const writer = this.writerNow(preimages);
    this.writer = writer;
    this.preimages = preimages;
    return writer;
  }

  /** A writer of the state as it is now; `preimages` null: read at once, nothing kept (encodeSnapshot). */
  private writerNow(preimages: Preimages | null): KvSnapshotWriter {
    const head =
      `{"format":${JSON.stringify(KV_SNAPSHOT_FORMAT)},"version":${JSON.stringify(KV_SNAPSHOT_VERSION)},` +
      `"lastApplied":${this.lastAppliedIndex},"undecodable":${this.undecodable},"data":[`;
    const tail = `],"sessions":${JSON.stringify(this.sessions.list().map(sessionToSnapshot))}}`;
    const writer: KvSnapshotWriter = new KvSnapshotWriter(
      head,
      [...this.data.keys()].sort(),
      this.data,
      preimages ?? new Map(),
      tail,
      () => {
        if (this.writer === writer) {
          this.writer = null;
          this.preimages = null;
        }
      },
    );
    return writer;
  }

  /**
   * Replace the whole state with a snapshot from {@link encodeSnapshot} (a
   * restart, or Ready.snapshotToInstall). All or nothing: the text is
   * checked completely first, and on any problem the state is left as it
   * was and the problem returned (the caller decides: a corrupt snapshot
   * must never silently become the state).
   */
  restoreSnapshot(text: string): RestoreResult {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { ok: false, error: 'kv snapshot is not JSON' };
    }
    if (!isRecord(value)) return { ok: false, error: 'kv snapshot: expected an object' };
    const keys = Object.keys(value).sort().join(',');
    if (keys !== 'data,format,lastApplied,sessions,undecodable,version') return { ok: false, error: `kv snapshot: fields ${keys}` };
    if (value['format'] !== KV_SNAPSHOT_FORMAT || value['version'] !== KV_SNAPSHOT_VERSION) {
      return { ok: false, error: `kv snapshot: format ${JSON.stringify(value['format'])} version ${JSON.stringify(value['version'])}` };
    }
    const lastApplied = value['lastApplied'];
    const undecodable = value['undecodable'];
    if (!isCount(lastApplied) || !isCount(undecodable))
      return { ok: false, error: 'kv snapshot: lastApplied and undecodable must be non-negative integers' };
    const pairs = value['data'];
    if (!Array.isArray(pairs)) return { ok: false, error: 'kv snapshot: data must be a list of [key, value]' };
    const data = new Map<string, string>();
    let previous: string | null = null;
    for (const pair of pairs) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        return { ok: false, error: 'kv snapshot: data must be a list of [key, value] strings' };
      }
      const [key, stored] = pair as [string, string];
      if (previous !== null && previous >= key) return { ok: false, error: 'kv snapshot: keys must be sorted and unique' };
      previous = key;
      data.set(key, stored);
    }
    const rawSessions = value['sessions'];
    if (!Array.isArray(rawSessions)) return { ok: false, error: 'kv snapshot: sessions must be a list' };
    const sessions: Session[] = [];
    for (const raw of rawSessions) {
      const read = sessionFromSnapshot(raw);
      if (!read.ok) return { ok: false, error: `kv snapshot: ${read.error}` };
      if (read.session.lastUsedIndex > lastApplied)
        return { ok: false, error: `kv snapshot: a session used at ${read.session.lastUsedIndex}, after lastApplied ${lastApplied}` };
      sessions.push(read.session);
    }
    const replaced = this.sessions.replaceAll(sessions);
    if (replaced !== null) return { ok: false, error: `kv snapshot: ${replaced}` };
    // The state a writer was reading is gone (its snapshot is older than this one anyway).
    this.writer?.abandon();
    this.data.clear();
    this.dataBytes = 0;
    for (const [key, stored] of data) this.setValue(key, stored);
    this.lastAppliedIndex = lastApplied;
    this.undecodable = undecodable;
    return { ok: true };
  }

  snapshotState(): KvSnapshot {
    const keys = [...this.data.keys()].sort();
    const data = Object.create(null) as Record<string, string>; // keys are client input: `__proto__` must stay a key
    for (const k of keys) data[k] = this.data.get(k) as string;
    return { lastApplied: this.lastAppliedIndex, data, sessions: this.sessions.list(), undecodable: this.undecodable };
  }

  /**
   * A state machine in exactly the state `snapshot` describes (the inverse
   * of {@link snapshotState}): the model checker restores replicas this way,
   * and it is the shape a log-compaction snapshot will take (§7).
   */
  static fromSnapshot(snapshot: KvSnapshot, opts: KvStateMachineOptions = {}): KvStateMachine {
    const machine = new KvStateMachine(opts);
    for (const key of Object.keys(snapshot.data)) machine.setValue(key, snapshot.data[key] as string);
    machine.sessions = SessionTable.fromList(snapshot.sessions, opts.maxSessions ?? DEFAULT_MAX_SESSIONS);
    machine.lastAppliedIndex = snapshot.lastApplied;
    machine.undecodable = snapshot.undecodable;
    return machine;
  }

  private applyCommand(entry: Entry): ApplyResult | null {
    const decoded = decodeCommand(entry.data);
    if (!decoded.ok) {
      // Only a bug or corruption can put this in the log. Every replica sees
      // the same bytes and skips it the same way, so state stays identical.
      this.undecodable++;
      this.log(`kv: entry ${entry.index} (term ${entry.term}) holds an undecodable command, applied as a no-op: ${decoded.error}`);
      return null;
    }
    const { clientId, instance, seq, op, session } = decoded.cmd;
    const index = entry.index;
    const digest = new LazyDigest(op);
    const check = this.sessions.check(clientId, instance, seq, digest, this.ignoreSessionMode ? undefined : session);
    switch (check.kind) {
      case 'duplicate':
        this.sessions.touch(clientId, index, null);
        return { kind: 'duplicate', index, clientId, seq, result: check.result };
      case 'stale':
        this.sessions.touch(clientId, index, null);
        return { kind: 'stale', index, clientId, seq, lastSeq: check.lastSeq };
      case 'conflict':
        this.sessions.touch(clientId, index, null);
        return { kind: 'conflict', index, clientId, instance, seq, code: check.code, lastSeq: check.lastSeq };
      case 'expired':
        // Nothing to touch: the session is gone, and this command must not open one (a later retry would then apply).
        return { kind: 'expired', index, clientId, instance, seq };
      case 'new': {
        // An open is a no-op: its answer carries no value, so the session never holds a copy of one for it.
        const result = session === 'open' ? this.withinBound(clientId, { status: 'ok', value: null }, null) : this.execute(op, clientId);
        this.sessions.touch(clientId, index, { instance, seq, digest, result });
        return { kind: 'applied', index, clientId, seq, result };
      }
      default:
        return assertNever(check, 'session check');
    }
  }

  /** Runs `op` for `clientId`, or refuses it (state_full) when it would grow the stored form past the bound. */
  private execute(op: KvOp, clientId: string): KvResult {
    switch (op.type) {
      case 'get':
        return this.withinBound(clientId, { status: 'ok', value: this.read(op.key) }, null);
      case 'put': {
        const result = this.withinBound(clientId, { status: 'ok', value: op.value }, op);
        if (result.status === 'ok') this.setValue(op.key, op.value);
        return result;
      }
      case 'delete':
        // Always: it is how a full state makes room (what its session record adds is within the margin).
        this.deleteValue(op.key);
        return { status: 'ok', value: null };
      case 'cas': {
        const actual = this.read(op.key);
        if (actual !== op.expected) return this.withinBound(clientId, { status: 'cas_mismatch', actual }, null);
        const result = this.withinBound(clientId, { status: 'ok', value: op.value }, op);
        if (result.status === 'ok') this.setValue(op.key, op.value);
        return result;
      }
      default:
        return assertNever(op, 'op');
    }
  }

  /**
   * `result`, or a state_full refusal when caching it in the client's
   * session and storing `write`'s value would grow the state's stored form
   * past the bound (MAX_STATE_BYTES). An op that does not grow it passes.
   */
  private withinBound(clientId: string, result: KvResult, write: { readonly key: string; readonly value: string } | null): KvResult {
    const before = write === null ? undefined : this.data.get(write.key);
    const dataGrowth = write === null ? 0 : pairBytes(write.key, write.value) - (before === undefined ? 0 : pairBytes(write.key, before));
    const growth = dataGrowth + sessionBytes(clientId, result) - this.sessions.bytesOf(clientId);
    const after = this.storedBytes + growth;
    if (growth <= 0 || after <= this.maxStateBytes) return result;
    return {
      status: 'invalid',
      code: 'state_full',
      message: `the state's stored form would be ${after} bytes; it holds at most ${this.maxStateBytes} (delete keys to make room)`,
    };
  }

  /**
   * Copy-on-write for an open snapshot writer: the key's value at the writer's start, kept once. A key absent now
   * (`before` undefined) either was absent at the start (not in the writer's list) or was deleted since, which kept its
   * value then: nothing to keep, so a build's preimages grow only with the keys it would read.
   */
  private beforeWrite(key: string, before: string | undefined): void {
    if (before !== undefined && this.preimages !== null && !this.preimages.has(key)) this.preimages.set(key, before);
  }

  private setValue(key: string, value: string): void {
    const before = this.data.get(key);
    this.beforeWrite(key, before);
    if (before !== undefined) this.dataBytes -= pairBytes(key, before);
    this.data.set(key, value);
    this.dataBytes += pairBytes(key, value);
  }

  private deleteValue(key: string): void {
    const before = this.data.get(key);
    if (before === undefined) return;
    this.beforeWrite(key, before);
    this.dataBytes -= pairBytes(key, before);
    this.data.delete(key);
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
