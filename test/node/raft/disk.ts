/**
 * The in-memory "disk" and "state machine" the core tests' drivers (the unit
 * test Network and the transcript interpreter) keep per node, and the Ready
 * contract's storage steps on them (node/raft/types.ts `Ready`): what
 * survives a crash is exactly what a Ready made durable.
 *
 * The state machine is the list of applied entries (entry i at position
 * i - 1), so a snapshot's "bytes" are that list's prefix and two nodes'
 * states compare entry by entry (State Machine Safety, §5.4.3).
 */
import type { Entry, HardState, Ready, SnapshotMeta, StoredState } from '../../../node/raft/types.js';

export interface Disk {
  hardState: HardState;
  /** Contiguous; starts at 1, or at or before snapshot.index + 1. */
  entries: Entry[];
  snapshot: SnapshotMeta | null;
  /** The snapshot's contents: the state machine (applied entries 1..snapshot.index). */
  snapshotData: Entry[];
}

export function emptyDisk(): Disk {
  return { hardState: { currentTerm: 0, votedFor: null }, entries: [], snapshot: null, snapshotData: [] };
}

/** What a restarted core reads back. */
export function storedState(disk: Disk): StoredState {
  return { hardState: disk.hardState, entries: [...disk.entries], snapshot: disk.snapshot };
}

/**
 * Ready step 1: install the snapshot (with the bytes the driver staged for
 * it) and empty the log; then the hard state and the entries, truncating a
 * conflicting suffix first.
 */
export function persistReady(disk: Disk, ready: Ready, staged: readonly Entry[] | null): void {
  if (ready.snapshotToInstall !== null) {
    if (staged === null || staged.length !== ready.snapshotToInstall.index) {
      throw new Error(`driver: no staged data for snapshot ${ready.snapshotToInstall.index} (have ${staged?.length ?? 'none'})`);
    }
    disk.snapshot = ready.snapshotToInstall;
    disk.snapshotData = [...staged];
    disk.entries = [];
  }
  if (ready.hardState !== null) disk.hardState = ready.hardState;
  const first = ready.entriesToAppend[0];
  if (first === undefined) return;
  const diskFirst = disk.entries[0]?.index ?? (disk.snapshot?.index ?? 0) + 1;
  const diskLast = diskFirst + disk.entries.length - 1;
  if (first.index > diskLast + 1) throw new Error(`entriesToAppend starts at ${first.index}, after a disk log ending at ${diskLast}`);
  if (first.index < diskFirst && disk.entries.length > 0)
    throw new Error(`entriesToAppend starts at ${first.index}, before the disk log's ${diskFirst}`);
  disk.entries = disk.entries.filter((entry) => entry.index < first.index);
  disk.entries.push(...ready.entriesToAppend);
}

/** Ready step 6: storage may drop entries the core discarded (a durable snapshot covers them). */
export function discardEntries(disk: Disk, before: number): void {
  if (disk.snapshot === null || disk.snapshot.index < before - 1)
    throw new Error(`discard before ${before} without a snapshot covering it`);
  disk.entries = disk.entries.filter((entry) => entry.index >= before);
}

/** Ready step 5: the state machine (applied entries) is durable as the snapshot `meta`. */
export function saveSnapshot(disk: Disk, meta: SnapshotMeta, applied: readonly Entry[]): void {
  if (applied.length < meta.index) throw new Error(`snapshot at ${meta.index} but only ${applied.length} entries applied`);
  disk.snapshot = meta;
  disk.snapshotData = applied.slice(0, meta.index);
}

/** Ready step 3 on the entry-list state machine: restore from the snapshot, then apply in order. */
export function applyReady(applied: Entry[], ready: Ready, staged: readonly Entry[] | null, who: string): void {
  if (ready.snapshotToInstall !== null) {
    if (staged === null) throw new Error(`${who}: nothing staged for snapshot ${ready.snapshotToInstall.index}`);
    applied.length = 0;
    applied.push(...staged);
  }
  for (const entry of ready.committedEntries) {
    if (entry.index !== applied.length + 1) throw new Error(`${who} applies index ${entry.index} after ${applied.length}`);
    applied.push(entry);
  }
}
