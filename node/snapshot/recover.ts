/**
 * What a node starts from: its log (file-storage.ts) and its newest usable
 * snapshot (snapshot-store.ts), made to agree. Shared by the binary and the
 * simulator, so both run the same recovery.
 *
 * - The snapshot store picks the newest usable snapshot, falling back to the
 *   previous one only when the log still reaches back to it, and refuses
 *   (SnapshotUnusableError, exit 3) when no usable snapshot covers the
 *   entries the log lacks: never a silent loss of committed state.
 * - If the log does not hold the snapshot's last entry (same index and
 *   term), what it holds is either entirely covered by the snapshot or the
 *   remains of an interrupted install (a crash between saving an installed
 *   snapshot and compacting the log, Ready step 1a): the log is compacted to
 *   the snapshot, so the next append (the entry after the snapshot) lands
 *   where the core expects it. A log that holds it keeps everything (the
 *   older snapshot's fallback needs it).
 */
import path from 'node:path';
import { openFileStorage, type FileStorageOptions } from '../storage/file-storage.js';
import { nodeFs } from '../storage/node-fs.js';
import { SnapshotStore } from '../storage/snapshot-store.js';
import type { RaftStorage, RecoveryReport } from '../storage/storage.js';
import type { StoredState } from '../raft/types.js';
import type { SnapshotStart } from './local-snapshots.js';

export interface RecoveredNode {
  readonly storage: RaftStorage;
  /** The core's starting state, its `snapshot` set to the restored snapshot's metadata (absent without one). */
  readonly stored: StoredState;
  readonly recovery: RecoveryReport;
  readonly snapshots: SnapshotStart;
  /** Lines for the node's log (a damaged snapshot skipped, a log compacted to its snapshot). */
  readonly notes: readonly string[];
}

/** Opens the log and the snapshots in `dir`. Throws StorageCorruptionError or SnapshotUnusableError when the node must refuse to start. */
export async function recoverNodeState(dir: string, opts: FileStorageOptions = {}): Promise<RecoveredNode> {
  const fs = opts.fs ?? nodeFs;
  const opened = await openFileStorage(dir, opts);
  try {
    const { store, notes: openNotes } = await SnapshotStore.open(fs, path.resolve(dir));
    const notes = [...openNotes];
    const compactedThrough = opened.recovery.compactedThrough;
    let entries = opened.stored.entries;
    const firstIndex = compactedThrough !== null ? compactedThrough.index + 1 : (entries[0]?.index ?? 1);
    const load = await store.load(firstIndex);
    notes.push(...load.notes);
    const snapshot = load.snapshot;
    let logFirstIndex = firstIndex;
    if (snapshot !== null) {
      const { index, term } = snapshot.meta;
      const termAt = (i: number): number | null => {
        if (compactedThrough !== null && i === compactedThrough.index) return compactedThrough.term;
        const e = entries[i - firstIndex];
        return e === undefined ? null : e.term;
      };
      if (termAt(index) !== term) {
        await opened.storage.compact(index + 1, term);
        notes.push(
          `the log (entries ${firstIndex}-${firstIndex + entries.length - 1}) does not hold snapshot ${index}@${term}'s last entry: compacted to it`,
        );
        entries = [];
        logFirstIndex = index + 1;
      }
    }
    const fromNewest = load.fromSlot === 'newest';
    return {
      storage: opened.storage,
      // `snapshot` only when there is one: without it, exactly what the log storage recovered.
      stored: snapshot === null ? { ...opened.stored, entries } : { ...opened.stored, entries, snapshot: snapshot.meta },
      recovery: opened.recovery,
      snapshots: {
        persistence: store,
        restored: snapshot,
        newestSlot: fromNewest ? snapshot!.meta : null,
        previousSlot: fromNewest ? (load.previous?.meta ?? null) : load.fromSlot === 'previous' ? snapshot!.meta : null,
        logFirstIndex,
      },
      notes,
    };
  } catch (error) {
    await opened.storage.close().catch(() => undefined);
    throw error;
  }
}
