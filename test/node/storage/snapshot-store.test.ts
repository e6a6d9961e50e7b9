/**
 * Durable snapshots (node/storage/snapshot-store.ts): the format finds every
 * flipped bit, a save interrupted at any step leaves a complete snapshot
 * (the old or the new one) even when unsynced writes die with the process
 * (the page-cache crash model), a damaged newest snapshot falls back to the
 * previous one only when the log still reaches back to it, and otherwise the
 * store refuses rather than start with less state.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfiguration } from '../../../node/raft/configuration.js';
import type { SnapshotMeta } from '../../../node/raft/types.js';
import { nodeFs, pageCacheFs } from '../../../node/storage/index.js';
import {
  compactableIndex,
  decodeSnapshot,
  encodeSnapshot,
  PREVIOUS_SNAPSHOT_FILE,
  SNAPSHOT_FILE,
  SnapshotStore,
  SnapshotUnusableError,
  TEMP_SNAPSHOT_FILE,
  type StoredSnapshot,
} from '../../../node/storage/snapshot-store.js';
import type { StorageFs } from '../../../node/storage/storage-fs.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

const meta = (index: number, term: number): SnapshotMeta => ({ index, term, configuration: makeConfiguration(['n1', 'n2', 'n3'], ['n4']) });
const snap = (index: number, term: number, data = `state-at-${index}`): StoredSnapshot => ({
  meta: meta(index, term),
  data: Buffer.from(data, 'utf8'),
});

/** A file system that fails (as a crash would stop the process) once `budget` operations have run. */
class CrashAfter extends Error {}
function crashingFs(inner: StorageFs, budget: number): StorageFs {
  let left = budget;
  const step = (): void => {
    if (left-- <= 0) throw new CrashAfter(`crash after ${budget} operations`);
  };
  return {
    sectorBytes: inner.sectorBytes,
    mkdirp: async (dir) => (step(), inner.mkdirp(dir)),
    readFile: async (file) => (step(), inner.readFile(file)),
    removeFile: async (file) => (step(), inner.removeFile(file)),
    rename: async (from, to) => (step(), inner.rename(from, to)),
    fsyncDir: async (dir) => (step(), inner.fsyncDir(dir)),
    async open(file, mode) {
      step();
      const f = await inner.open(file, mode);
      return {
        writeSync: (b, o, l, p) => (step(), f.writeSync(b, o, l, p)),
        write: async (b, o, l, p) => (step(), f.write(b, o, l, p)),
        datasync: () => (step(), f.datasync()),
        datasyncInBackground: async () => (step(), f.datasyncInBackground()),
        sync: async () => (step(), f.sync()),
        truncate: async (n) => (step(), f.truncate(n)),
        // A crash does not close files cleanly: the page cache's unsynced data must not reach the kernel.
        close: async () => (step(), f.close()),
      };
    },
  };
}

/**
 * Watches the durability contract (storage-fs.ts): which files hold writes
 * not yet fsynced, and whether a directory change happened after the last
 * directory fsync. Either, when a save has resolved, is data a power failure
 * could take back after the caller was told it was safe.
 */
function durabilityWatch(inner: StorageFs): { fs: StorageFs; dirty: Set<string>; dirChangedSinceFsync: () => boolean } {
  const dirty = new Set<string>();
  let dirChanged = false;
  const fs: StorageFs = {
    sectorBytes: inner.sectorBytes,
    mkdirp: (dir) => inner.mkdirp(dir),
    readFile: (file) => inner.readFile(file),
    removeFile: async (file) => {
      dirty.delete(file);
      dirChanged = true;
      return inner.removeFile(file);
    },
    rename: async (from, to) => {
      if (dirty.delete(from)) dirty.add(to);
      dirChanged = true;
      return inner.rename(from, to);
    },
    fsyncDir: async (dir) => {
      dirChanged = false;
      return inner.fsyncDir(dir);
    },
    async open(file, mode) {
      const f = await inner.open(file, mode);
      if (mode === 'create') dirChanged = true;
      let path = file;
      return {
        writeSync: (b, o, l, p) => {
          dirty.add(path);
          return f.writeSync(b, o, l, p);
        },
        write: async (b, o, l, p) => {
          dirty.add(path);
          return f.write(b, o, l, p);
        },
        datasync: () => {
          dirty.delete(path);
          return f.datasync();
        },
        datasyncInBackground: async () => {
          dirty.delete(path);
          return f.datasyncInBackground();
        },
        sync: async () => {
          dirty.delete(path);
          path = file;
          return f.sync();
        },
        truncate: async (n) => {
          dirty.add(path);
          return f.truncate(n);
        },
        close: () => f.close(),
      };
    },
  };
  return { fs, dirty, dirChangedSinceFsync: () => dirChanged };
}

describe('snapshot format', () => {
  it('round-trips metadata and data', () => {
    const s = snap(1234, 7, 'x'.repeat(10_000));
    const decoded = decodeSnapshot(encodeSnapshot(s));
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.snapshot.meta).toEqual(s.meta);
    expect(decoded.snapshot.data.equals(s.data)).toBe(true);
  });

  it('finds every single flipped bit and every truncation', () => {
    const bytes = encodeSnapshot(snap(42, 3, 'some state machine bytes'));
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const damaged = Buffer.from(bytes);
      damaged[bit >> 3]! ^= 1 << (bit & 7);
      expect(decodeSnapshot(damaged).ok, `bit ${bit}`).toBe(false);
    }
    for (let length = 0; length < bytes.length; length++) {
      expect(decodeSnapshot(bytes.subarray(0, length)).ok, `length ${length}`).toBe(false);
    }
  });

  it('refuses well-checksummed but meaningless metadata', () => {
    const bad = encodeSnapshot({ meta: { index: 0, term: 1, configuration: makeConfiguration(['n1']) }, data: Buffer.alloc(0) });
    const decoded = decodeSnapshot(bad);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.reason).toMatch(/index 0/);
  });
});

describe('SnapshotStore', () => {
  it('keeps the newest and the previous snapshot; the log may be compacted only up to the older one', async () => {
    const dir = await tempDir();
    const { store } = await SnapshotStore.open(nodeFs, dir);
    expect((await store.load(1)).snapshot).toBeNull();
    await store.save(snap(100, 2));
    await store.save(snap(200, 3));
    await store.save(snap(300, 3));
    const loaded = await store.load(201);
    expect(loaded.snapshot?.meta.index).toBe(300);
    expect(loaded.previous?.meta.index).toBe(200);
    expect(compactableIndex(loaded.snapshot!.meta, loaded.previous!.meta)).toBe(200);
    expect(compactableIndex(meta(100, 1), null)).toBe(0);
  });

  it('a damaged newest snapshot falls back to the previous one when the log reaches back to it, and refuses when it does not', async () => {
    const dir = await tempDir();
    const { store } = await SnapshotStore.open(nodeFs, dir);
    await store.save(snap(100, 2));
    await store.save(snap(200, 3));
    const file = path.join(dir, SNAPSHOT_FILE);
    const bytes = await readFile(file);
    bytes[bytes.length - 1]! ^= 0x10;
    await writeFile(file, bytes);
    const loaded = await store.load(101); // the log holds 101.. (compacted up to the older snapshot)
    expect(loaded.snapshot?.meta.index).toBe(100);
    expect(loaded.notes.join(' ')).toMatch(/damaged.*checksum/);
    await expect(store.load(150)).rejects.toBeInstanceOf(SnapshotUnusableError);
    await expect(store.load(150)).rejects.toThrow(/entries 101-149 would be lost/);
  });

  it('refuses when both snapshots are damaged and the log does not start at 1, or when the log has a gap after the snapshot', async () => {
    const dir = await tempDir();
    const { store } = await SnapshotStore.open(nodeFs, dir);
    await store.save(snap(100, 2));
    await expect(store.load(102)).rejects.toThrow(/entries 101-101 are missing/);
    await store.save(snap(200, 3));
    for (const name of [SNAPSHOT_FILE, PREVIOUS_SNAPSHOT_FILE]) {
      const bytes = await readFile(path.join(dir, name));
      bytes[20]! ^= 1;
      await writeFile(path.join(dir, name), bytes);
    }
    await expect(store.load(101)).rejects.toThrow(/no usable snapshot/);
    expect((await store.load(1)).snapshot).toBeNull(); // a log from index 1 needs no snapshot
  });

  it('a save that resolved is durable: no unsynced file data, no directory change after the last directory fsync', async () => {
    const dir = await tempDir();
    const watch = durabilityWatch(nodeFs);
    const { store } = await SnapshotStore.open(watch.fs, dir);
    for (const index of [100, 200, 300]) {
      await store.save(snap(index, 2));
      expect([...watch.dirty], `after saving ${index}`).toEqual([]);
      expect(watch.dirChangedSinceFsync(), `after saving ${index}`).toBe(false);
    }
  });

  it('a save interrupted at every step, with unsynced writes lost, leaves the old or the new snapshot whole', async () => {
    let sawOld = 0;
    let sawNew = 0;
    for (let budget = 0; ; budget++) {
      const dir = await tempDir();
      {
        const { store } = await SnapshotStore.open(nodeFs, dir);
        await store.save(snap(100, 2, 'old'));
        await store.save(snap(200, 3, 'older-than-new'));
      }
      let completed = false;
      try {
        // The page cache lives in this fs object: dropping it after the "crash" loses what was not synced.
        const { store } = await SnapshotStore.open(crashingFs(pageCacheFs(nodeFs), budget), dir);
        await store.save(snap(300, 4, 'new'));
        completed = true;
      } catch (error) {
        if (!(error instanceof CrashAfter)) throw error;
      }
      const { store, notes } = await SnapshotStore.open(nodeFs, dir);
      const loaded = await store.load(101);
      const index = loaded.snapshot?.meta.index;
      expect([200, 300], `budget ${budget}: ${notes.join('; ')}`).toContain(index);
      expect(loaded.snapshot!.data.toString('utf8')).toBe(index === 300 ? 'new' : 'older-than-new');
      if (index === 300) sawNew++;
      else sawOld++;
      await expect(readFile(path.join(dir, TEMP_SNAPSHOT_FILE))).rejects.toThrow(/ENOENT/);
      if (completed) {
        expect(index).toBe(300);
        break;
      }
      expect(budget).toBeLessThan(50);
    }
    expect(sawOld).toBeGreaterThan(0);
    expect(sawNew).toBeGreaterThan(0);
  });
});
