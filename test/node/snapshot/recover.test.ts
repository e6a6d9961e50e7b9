/**
 * What a node starts from (node/snapshot/recover.ts) and how its own
 * snapshots move forward (node/snapshot/local-snapshots.ts), on real files
 * in a temp directory: the newest usable snapshot and the log after it; a
 * damaged newest snapshot falls back to the previous one because the log was
 * compacted only up to it; no usable snapshot covering the log's gap is a
 * refusal; the remains of an interrupted install are compacted away.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { SnapshotMeta } from '../../../node/raft/types.js';
import { LocalSnapshots, emptySnapshotStart, type SnapshotPersistence } from '../../../node/snapshot/local-snapshots.js';
import { recoverNodeState } from '../../../node/snapshot/recover.js';
import { snapshotBytes } from '../../../node/snapshot/snapshot-bytes.js';
import { openFileStorage } from '../../../node/storage/file-storage.js';
import { nodeFs } from '../../../node/storage/node-fs.js';
import { SnapshotStore, SnapshotUnusableError, type StoredSnapshot } from '../../../node/storage/snapshot-store.js';
import { cleanupTempDirs, entries, tempDir } from '../storage/helpers.js';

const CONFIG = { voters: ['n1', 'n2', 'n3'], learners: [] };
const meta = (index: number, term: number): SnapshotMeta => ({ index, term, configuration: CONFIG });
const snap = (index: number, term: number): StoredSnapshot => ({ meta: meta(index, term), data: Buffer.from(`state at ${index}`) });

afterEach(cleanupTempDirs);

/** A data directory with entries 1..30 of term 1, own snapshots at 10 and 20, and the log compacted up to the older (10). */
async function nodeWithTwoSnapshots(): Promise<string> {
  const dir = await tempDir();
  const { storage } = await openFileStorage(dir);
  await storage.persist({ currentTerm: 1, votedFor: 'n1' }, entries(1, 30, 1));
  const { store } = await SnapshotStore.open(nodeFs, dir);
  const local = new LocalSnapshots({ ...emptySnapshotStart(store) });
  expect(await local.save(snapshotBytes(meta(10, 1), Buffer.from('state at 10')))).toBe(true);
  expect(local.ownCompaction()).toBeNull(); // one snapshot: nothing older to keep the fallback
  expect(await local.save(snapshotBytes(meta(20, 1), Buffer.from('state at 20')))).toBe(true);
  const compaction = local.ownCompaction();
  expect(compaction).toEqual({ firstIndex: 11, prevTerm: 1 });
  await storage.compact(compaction!.firstIndex, compaction!.prevTerm);
  local.compacted(compaction!);
  expect(local.ownCompaction()).toBeNull();
  await storage.close();
  return dir;
}

function flipByte(file: string, at: number): void {
  const bytes = readFileSync(file);
  bytes[at] = bytes[at]! ^ 0x10;
  writeFileSync(file, bytes);
}

describe('recovering a node from its log and snapshots', () => {
  test('a fresh directory: no snapshot, an empty log, and the stored state exactly as the log storage recovered it', async () => {
    const dir = await tempDir();
    const recovered = await recoverNodeState(dir);
    expect(recovered.snapshots.restored).toBeNull();
    expect(recovered.stored).toEqual({ hardState: { currentTerm: 0, votedFor: null }, entries: [] });
    await recovered.storage.close();
  });

  test('restores the newest snapshot and replays the log after the older one (kept for the fallback)', async () => {
    const dir = await nodeWithTwoSnapshots();
    const recovered = await recoverNodeState(dir);
    expect(recovered.snapshots.restored?.meta).toEqual(meta(20, 1));
    expect(recovered.snapshots.restored?.data.toString()).toBe('state at 20');
    expect(recovered.stored.snapshot).toEqual(meta(20, 1));
    expect(recovered.stored.entries.map((e) => e.index)).toEqual(entries(11, 20, 1).map((e) => e.index));
    expect(recovered.snapshots.newestSlot).toEqual(meta(20, 1));
    expect(recovered.snapshots.previousSlot).toEqual(meta(10, 1));
    expect(recovered.snapshots.logFirstIndex).toBe(11);
    await recovered.storage.close();
  });

  test('a damaged newest snapshot falls back to the previous one, which the log still reaches; nothing committed is lost', async () => {
    const dir = await nodeWithTwoSnapshots();
    flipByte(join(dir, 'snapshot'), 40);
    const recovered = await recoverNodeState(dir);
    expect(recovered.snapshots.restored?.meta).toEqual(meta(10, 1));
    expect(recovered.stored.entries[0]?.index).toBe(11);
    expect(recovered.stored.entries.at(-1)?.index).toBe(30);
    expect(recovered.notes.join('\n')).toMatch(/damaged/);
    // The damaged file is still the newest slot: the next save rotates it into the previous slot, so no
    // compaction may rely on it.
    expect(recovered.snapshots.newestSlot).toBeNull();
    await recovered.storage.close();
  });

  test('both snapshots damaged while the log starts after them: refuses to start (SnapshotUnusableError)', async () => {
    const dir = await nodeWithTwoSnapshots();
    flipByte(join(dir, 'snapshot'), 40);
    flipByte(join(dir, 'snapshot.prev'), 40);
    await expect(recoverNodeState(dir)).rejects.toBeInstanceOf(SnapshotUnusableError);
  });

  test('an install interrupted after its snapshot was saved (the log still the old one): the log is compacted to the snapshot, and the next entry appends after it', async () => {
    const dir = await tempDir();
    const { storage } = await openFileStorage(dir);
    await storage.persist({ currentTerm: 2, votedFor: null }, entries(1, 30, 1));
    await storage.close();
    const { store } = await SnapshotStore.open(nodeFs, dir);
    await store.save(snap(40, 2)); // crash here: the compaction never ran
    const recovered = await recoverNodeState(dir);
    expect(recovered.snapshots.restored?.meta).toEqual(meta(40, 2));
    expect(recovered.stored.entries).toEqual([]);
    expect(recovered.snapshots.logFirstIndex).toBe(41);
    await recovered.storage.persist(null, entries(41, 2, 2));
    await recovered.storage.close();
    const again = await recoverNodeState(dir);
    expect(again.stored.entries.map((e) => e.index)).toEqual([41, 42]);
    await again.storage.close();
  });

  test('a snapshot that disagrees with the log at its index (another history): the conflicting log goes', async () => {
    const dir = await tempDir();
    const { storage } = await openFileStorage(dir);
    await storage.persist({ currentTerm: 3, votedFor: null }, entries(1, 30, 1));
    await storage.close();
    const { store } = await SnapshotStore.open(nodeFs, dir);
    await store.save(snap(25, 2));
    const recovered = await recoverNodeState(dir);
    expect(recovered.stored.entries).toEqual([]);
    expect(recovered.snapshots.logFirstIndex).toBe(26);
    await recovered.storage.close();
  });
});

describe('own snapshots move only forward', () => {
  test('a save not newer than one saved or queued is skipped; saves complete in order', async () => {
    const saved: number[] = [];
    const persistence: SnapshotPersistence = {
      save: (s) => new Promise<void>((resolve) => setImmediate(() => (saved.push(s.meta.index), resolve()))),
    };
    const local = new LocalSnapshots(emptySnapshotStart(persistence));
    const a = local.save(snapshotBytes(meta(20, 1), Buffer.from('a')));
    const b = local.save(snapshotBytes(meta(15, 1), Buffer.from('b')));
    const c = local.save(snapshotBytes(meta(30, 2), Buffer.from('c')));
    expect(await Promise.all([a, b, c])).toEqual([true, false, true]);
    expect(saved).toEqual([20, 30]);
    expect(local.latest()?.meta).toEqual(meta(30, 2));
    // After an install of 30, the own compaction would go up to 20 only; the install's goes past 30.
    expect(local.installCompaction(meta(30, 2))).toEqual({ firstIndex: 31, prevTerm: 2 });
    local.compacted({ firstIndex: 31, prevTerm: 2 });
    expect(local.ownCompaction()).toBeNull();
  });
});
