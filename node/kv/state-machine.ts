/**
 * The replicated key-value state machine. Every replica applies the same
 * committed entries in the same order (§5.3, State Machine Safety) and must
 * reach the same state, so `apply` is a pure function of (state, entry): no
 * clocks, no randomness, no configuration that could differ between nodes.
 * In particular the size limits are checked by the leader before proposing
 * (`limits.ts`), not here: the log is the authority on what happened.
 */
import type { KvOp, KvResult } from '../protocol.js';
import type { Entry } from '../raft/types.js';
import { assert, assertNever } from '../util/assert.js';
import { decodeCommand } from './command.js';
import { DEFAULT_MAX_SESSIONS, SessionTable } from './sessions.js';
import type { Session, SessionCheck } from './sessions.js';

export type ApplyResult =
  /** The command took effect now. */
  | { readonly kind: 'applied'; readonly index: number; readonly clientId: string; readonly seq: number; readonly result: KvResult }
  /** A retry of the client's last command: not applied again; `result` is the cached one (§6.3). */
  | { readonly kind: 'duplicate'; readonly index: number; readonly clientId: string; readonly seq: number; readonly result: KvResult }
  /** Older than the client's last command: ignored; nobody waits for it. */
  | { readonly kind: 'stale'; readonly index: number; readonly clientId: string; readonly seq: number; readonly lastSeq: number };

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
}

export class KvStateMachine {
  private readonly data = new Map<string, string>();
  private sessions: SessionTable;
  private readonly log: (line: string) => void;
  private lastAppliedIndex = 0;
  private undecodable = 0;

  constructor(opts: KvStateMachineOptions = {}) {
    this.sessions = new SessionTable(opts.maxSessions ?? DEFAULT_MAX_SESSIONS);
    this.log = opts.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  get lastApplied(): number {
    return this.lastAppliedIndex;
  }

  /**
   * Applies the next committed entry. Returns null for entries that carry no
   * client command (a leader's no-op, §8; or an undecodable command).
   */
  apply(entry: Entry): ApplyResult | null {
    assert(
      entry.index === this.lastAppliedIndex + 1,
      `entries must be applied in order: got index ${entry.index}, lastApplied is ${this.lastAppliedIndex}`,
    );
    this.lastAppliedIndex = entry.index;
    switch (entry.type) {
      case 'noop':
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
  sessionCheck(clientId: string, seq: number): SessionCheck {
    return this.sessions.check(clientId, seq);
  }

  snapshotState(): KvSnapshot {
    const keys = [...this.data.keys()].sort();
    const data: Record<string, string> = {};
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
    for (const key of Object.keys(snapshot.data)) machine.data.set(key, snapshot.data[key] as string);
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
    const { clientId, seq, op } = decoded.cmd;
    const index = entry.index;
    const check = this.sessions.check(clientId, seq);
    switch (check.kind) {
      case 'duplicate':
        this.sessions.touch(clientId, index, null);
        return { kind: 'duplicate', index, clientId, seq, result: check.result };
      case 'stale':
        this.sessions.touch(clientId, index, null);
        return { kind: 'stale', index, clientId, seq, lastSeq: check.lastSeq };
      case 'new': {
        const result = this.execute(op);
        this.sessions.touch(clientId, index, { seq, result });
        return { kind: 'applied', index, clientId, seq, result };
      }
      default:
        return assertNever(check, 'session check');
    }
  }

  private execute(op: KvOp): KvResult {
    switch (op.type) {
      case 'get':
        return { status: 'ok', value: this.read(op.key) };
      case 'put':
        this.data.set(op.key, op.value);
        return { status: 'ok', value: op.value };
      case 'delete':
        this.data.delete(op.key);
        return { status: 'ok', value: null };
      case 'cas': {
        const actual = this.read(op.key);
        if (actual !== op.expected) return { status: 'cas_mismatch', actual };
        this.data.set(op.key, op.value);
        return { status: 'ok', value: op.value };
      }
      default:
        return assertNever(op, 'op');
    }
  }
}
