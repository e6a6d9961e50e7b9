/**
 * This node's own durable snapshots, as the host sees them: where they are
 * saved (the snapshot store, or nowhere under `--unsafe-memory-log`), the
 * newest one's bytes (what an InstallSnapshot stream sends), and how far
 * the log on disk may be compacted after each save.
 *
 * Saves are queued one at a time (the store's contract) and only ever move
 * forward: a save that is not newer than one already saved or queued is
 * skipped. Without that, an own snapshot requested before an InstallSnapshot
 * and saved after it would rotate the installed one into the previous slot
 * behind an older newest, and the next start would find the log beginning
 * after the newest snapshot's index and refuse.
 *
 * Compaction (node/storage/snapshot-store.ts): after an own snapshot, the
 * log is compacted only up to the OLDER of the two slots, so a damaged
 * newest file falls back to the previous one plus the log. After an
 * installed snapshot the whole log goes (§7: the follower's log conflicts
 * with, or is older than, what the leader sent), so until the next own
 * snapshot only the installed one covers it.
 */
import type { SnapshotMeta } from '../raft/types.js';
import type { StoredSnapshot } from '../storage/snapshot-store.js';
import { assert } from '../util/assert.js';
import { snapshotBytes, type SnapshotBytes } from './snapshot-bytes.js';

/** Where snapshots are made durable: `SnapshotStore` (temp, fsync, rename, fsync the directory). */
export interface SnapshotPersistence {
  save(snapshot: StoredSnapshot): Promise<void>;
}

/** `--unsafe-memory-log`: nothing survives a restart, snapshots included. */
export const volatileSnapshots: SnapshotPersistence = Object.freeze({ save: () => Promise.resolve() });

/** What a node starts from, snapshot-wise (`recover.ts` reads it from disk). */
export interface SnapshotStart {
  readonly persistence: SnapshotPersistence;
  /** The snapshot the state machine is restored from, or null (then the log starts at index 1). */
  readonly restored: StoredSnapshot | null;
  /** The usable snapshot in the newest slot (`snapshot`), or null when it is missing or damaged. */
  readonly newestSlot: SnapshotMeta | null;
  /** The usable snapshot in the previous slot (`snapshot.prev`), or null when unknown. */
  readonly previousSlot: SnapshotMeta | null;
  /** The first index the log on disk holds (entries before it are compacted away). */
  readonly logFirstIndex: number;
}

/** A start with nothing on disk (a fresh node, tests, `--unsafe-memory-log`). */
export function emptySnapshotStart(persistence: SnapshotPersistence = volatileSnapshots): SnapshotStart {
  return { persistence, restored: null, newestSlot: null, previousSlot: null, logFirstIndex: 1 };
}

/** A storage compaction: drop the log before `firstIndex` (`RaftStorage.compact`). */
export interface Compaction {
  readonly firstIndex: number;
  readonly prevTerm: number;
}

export class LocalSnapshots {
  private readonly persistence: SnapshotPersistence;
  private newestSlot: SnapshotMeta | null;
  private previousSlot: SnapshotMeta | null;
  private current: SnapshotBytes | null;
  /** The first index the log on disk holds, as far as compactions asked so far. */
  private logFirstIndex: number;
  /** Highest index saved or queued. */
  private queuedIndex: number;
  private queue: Promise<unknown> = Promise.resolve();
  saves = 0;

  constructor(start: SnapshotStart) {
    this.persistence = start.persistence;
    this.newestSlot = start.newestSlot;
    this.previousSlot = start.previousSlot;
    this.current = start.restored === null ? null : snapshotBytes(start.restored.meta, start.restored.data);
    this.logFirstIndex = start.logFirstIndex;
    this.queuedIndex = start.restored?.meta.index ?? 0;
  }

  /** The newest durable snapshot (what a stream sends), or null. */
  latest(): SnapshotBytes | null {
    return this.current;
  }

  /**
   * Makes `snapshot` durable after every save queued before it; resolves
   * true once it is, false at once when it is not newer than a snapshot
   * already saved or queued (nothing is written). A failed save rejects:
   * what reached the disk is unknown, the node must stop.
   */
  save(snapshot: SnapshotBytes): Promise<boolean> {
    if (snapshot.meta.index <= this.queuedIndex) return Promise.resolve(false);
    this.queuedIndex = snapshot.meta.index;
    const saved = this.queue
      .then(() => this.persistence.save({ meta: snapshot.meta, data: snapshot.data }))
      .catch((error: unknown) => {
        // Say which save failed: a bare errno message ("ENOSPC: no space left on device, write") names no file.
        // The cause keeps the errno code (node/main.ts exits with NODE_EXIT.diskFailed on it).
        throw new Error(
          `saving snapshot ${snapshot.meta.index}@${snapshot.meta.term} failed: ${(error as Error).message}; the node must stop ` +
            '(a snapshot.tmp left behind is removed on the next start; the snapshots saved before stay)',
          { cause: error },
        );
      });
    this.queue = saved.catch(() => undefined);
    return saved.then(() => {
      this.previousSlot = this.newestSlot;
      this.newestSlot = snapshot.meta;
      this.current = snapshot;
      this.saves++;
      return true;
    });
  }

  /** After an own snapshot was saved: compact up to the older slot, if that moves the log's start. */
  ownCompaction(): Compaction | null {
    const older = this.previousSlot;
    if (older === null || older.index + 1 <= this.logFirstIndex) return null;
    return { firstIndex: older.index + 1, prevTerm: older.term };
  }

  /** After an installed snapshot was saved: the whole log before and at it goes. */
  installCompaction(meta: SnapshotMeta): Compaction {
    assert(meta.index + 1 >= this.logFirstIndex, `an installed snapshot at ${meta.index} is behind the log's start ${this.logFirstIndex}`);
    return { firstIndex: meta.index + 1, prevTerm: meta.term };
  }

  /** The storage completed `compaction`. */
  compacted(compaction: Compaction): void {
    this.logFirstIndex = Math.max(this.logFirstIndex, compaction.firstIndex);
  }
}
