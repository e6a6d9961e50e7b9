/**
 * The durable-storage contract between a Raft driver (the node host in
 * `node/host.ts`, or the deterministic simulator's simulated disk) and the
 * bytes that survive a crash.
 *
 * Figure 2, "Persistent state on all servers": currentTerm, votedFor and
 * log[] must be "updated on stable storage before responding to RPCs". The
 * driver honours the `Ready` contract (`node/raft/types.ts`): it calls
 * {@link RaftStorage.persist} with the Ready's hardState and entriesToAppend,
 * waits for the promise, and only then sends messages. So `persist` must not
 * resolve before everything it was given is durable (fsync done).
 *
 * The interface is deliberately small and async so that a simulated disk can
 * implement it (delaying, reordering or losing unsynced writes).
 */
import type { Entry, HardState, StoredState } from '../raft/types.js';

export interface RaftStorage {
  /**
   * Persist `hardState` (if non-null) and `entries`. When `entries[0].index`
   * is <= the stored lastIndex, the stored log is truncated from that index
   * first (§5.3: "If an existing entry conflicts with a new one (same index
   * but different terms), delete the existing entry and all that follow it").
   * Resolves only when everything is durable (one fsync per call: the driver
   * hands over a whole Ready, so this is group commit).
   *
   * Calls are serialized by the caller, but an implementation queues them
   * anyway: they take effect and resolve in call order.
   *
   * Preconditions (violations are programmer errors; the promise rejects with
   * an AssertionError and nothing is written): entries are contiguous,
   * `entries[0].index` is in [1, lastIndex + 1], entry terms never decrease
   * along the resulting log, currentTerm never decreases, every term and index
   * is a non-negative safe integer.
   *
   * A rejection for any other reason (EIO, ENOSPC, a failed fsync) is fatal:
   * what reached the disk is unknown, so the driver must stop the process;
   * reopening recovers a consistent prefix. Every later call rejects too.
   */
  persist(hardState: HardState | null, entries: readonly Entry[], options?: PersistOptions): Promise<void>;
  /**
   * A snapshot that covers every entry before `firstIndex` is durable (the
   * snapshot store, `snapshot-store.ts`): the log may drop them. If the log
   * holds the entry at `firstIndex - 1` with term `prevTerm`, the entries from
   * `firstIndex` on stay; otherwise (a snapshot installed past or against
   * the log, §7) the whole log goes and the next entry appended is
   * `firstIndex`. Resolves once that is durable; the file may then be
   * rewritten to reclaim the space, in the background (it never holds up the
   * caller's persists). The caller issues no `persist` until it resolves.
   * Precondition: `firstIndex` is not below an earlier compaction's.
   */
  compact(firstIndex: number, prevTerm: number): Promise<void>;
  /** Finish queued work (and, in lazy mode, flush and fsync the buffer), then release the file. Idempotent. */
  close(): Promise<void>;
}

/** How a persist runs; the durability is the same either way. */
export interface PersistOptions {
  /**
   * The caller goes on working while the write is made durable (the
   * leader's own log writes, thesis §10.2.1: node/host.ts's pipeline), so
   * the fsync must not hold the calling thread. Without it the real disk's
   * fdatasync runs on the calling thread: cheaper when the caller has
   * nothing to do but wait (a follower's acknowledgement waits for it).
   */
  readonly inBackground?: boolean;
}

/** What `openFileStorage` found and repaired on disk. */
export interface RecoveryReport {
  /** Absolute path of the log file. */
  readonly file: string;
  /** True when the log file did not exist and was created (a fresh node). */
  readonly created: boolean;
  /** Valid frames (persist calls) replayed. */
  readonly frames: number;
  /** File size before recovery, in bytes. */
  readonly fileBytes: number;
  /** A torn final record (crash in the middle of an append) that was cut off, or null (the log line says what proved it torn). */
  readonly tornTail: { readonly offset: number; readonly bytesDropped: number } | null;
  /** The last index a snapshot covers according to the log (its latest `compact` record), or null. */
  readonly compactedThrough: { readonly index: number; readonly term: number } | null;
  /** Non-null when recovery rewrote the file without truncated and superseded records. */
  readonly compacted: { readonly bytesBefore: number; readonly bytesAfter: number } | null;
}

/**
 * The log file holds bytes that cannot have been produced by a crash in the
 * middle of an append: a damaged record followed by valid ones, a bad file
 * header, or records that break the log's invariants (entries contiguous from
 * index 1, terms non-decreasing, currentTerm non-decreasing). The node must
 * refuse to start: silently dropping the damaged part could drop committed
 * entries or a vote (§5.4 safety depends on them). Deleting the data
 * directory is NOT a safe repair for a voter: a node that restarts empty has
 * forgotten its vote and can vote twice in one term (two leaders). The
 * message says only what is safe.
 */
export class StorageCorruptionError extends Error {
  override readonly name = 'StorageCorruptionError';
  readonly file: string;
  /** Byte offset in `file` of the first damaged record (or of the header). */
  readonly offset: number;
  readonly reason: string;

  constructor(file: string, offset: number, reason: string) {
    super(
      `storage corruption in ${file} at byte offset ${offset}: ${reason}; ` +
        'refusing to start: committed entries or a vote may be at stake. The cluster keeps working without this node ' +
        'while a majority is up. Keep this file for inspection. Do NOT delete the data directory and restart under the same ' +
        "node id: a voter that forgets its vote can vote twice in one term. Safe ways back: restore this node's own data " +
        'from a backup taken after its last write, or replace it with a new member (see the README, "Replacing a node")',
    );
    this.file = file;
    this.offset = offset;
    this.reason = reason;
  }
}

/** The state of a node that has never persisted anything. */
export function emptyStoredState(): StoredState {
  return { hardState: { currentTerm: 0, votedFor: null }, entries: [] };
}
