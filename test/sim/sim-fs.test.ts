/**
 * The simulated file system's page cache and crash fates (sim/sim-fs.ts):
 * what is durable when, and what a power failure leaves of the rest.
 * Seeds are the loop counters, printed in every message.
 */
import { describe, expect, it } from 'vitest';
import { SimFs, type CrashFate } from '../../sim/sim-fs.js';
import { EventQueue } from '../../sim/event-queue.js';
import { Stream } from '../../sim/streams.js';
import { SECTOR_BYTES } from '../../node/storage/replay.js';
import type { StorageFs } from '../../node/storage/storage-fs.js';
import { drive, turn } from './disk-driver.js';

function setup(seed = 1, sectorBytes?: number) {
  const queue = new EventQueue();
  const fs = new SimFs(queue, new Stream(seed, 'fs'), {
    syncMsMin: 1,
    syncMsMax: 6,
    ...(sectorBytes === undefined ? {} : { sectorBytes }),
  });
  return { queue, fs };
}

/** `mkdir /d` made durable (its entry in / synced), as the storage does for the directories it creates. */
async function durableDir(queue: EventQueue, p: StorageFs): Promise<void> {
  await p.mkdirp('/d');
  await drive(queue, p.fsyncDir('/'));
  await drive(queue, p.fsyncDir('/'));
}

/** Bytes 1..n (never zero, so a zeroed sector shows). */
function pattern(n: number, salt = 0): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => ((i + salt) % 251) + 1));
}

describe('SimFs', () => {
  it('reads see writes at once; the disk sees them only when a datasync completes, after a simulated latency', async () => {
    const { queue, fs } = setup();
    const p = fs.process();
    await durableDir(queue, p);
    const f = await p.open('/d/a', 'create');
    await drive(queue, p.fsyncDir('/d'));
    f.writeSync(pattern(10), 0, 10, 0);
    expect(await p.readFile('/d/a')).toEqual(pattern(10));
    expect(fs.readDurable('/d/a')).toEqual(Buffer.alloc(0));
    const syncing = f.datasync();
    expect(syncing).not.toBeNull();
    expect(fs.waiting).toBe(true);
    const t0 = queue.now;
    await drive(queue, syncing!);
    expect(queue.now - t0).toBeGreaterThanOrEqual(1);
    expect(fs.waiting).toBe(false);
    expect(fs.readDurable('/d/a')).toEqual(pattern(10));
    expect(fs.isQuiescent()).toBe(true);
  });

  it('fsyncs complete one at a time, in call order', async () => {
    const { queue, fs } = setup(7);
    const p = fs.process();
    await durableDir(queue, p);
    const order: number[] = [];
    const files = await Promise.all([0, 1, 2, 3].map((i) => p.open(`/d/f${i}`, 'create')));
    const syncs = files.map((f, i) => f.sync().then(() => order.push(i)));
    await drive(queue, Promise.all(syncs));
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it.each([SECTOR_BYTES, 16])(
    'a crash gives unsynced data one of four fates, each as defined, and never touches synced data (%i-byte sectors)',
    async (sector) => {
      const seen = new Set<CrashFate>();
      const synced = pattern(700, 3);
      for (let seed = 1; seed <= 60; seed++) {
        const { queue, fs } = setup(seed, sector);
        expect(fs.process().sectorBytes).toBe(sector);
        const p = fs.process();
        await durableDir(queue, p);
        const f = await p.open('/d/a', 'create');
        f.writeSync(synced, 0, synced.length, 0);
        await drive(queue, f.datasync()!);
        await drive(queue, p.fsyncDir('/d'));
        const unsynced = pattern(1500, 11);
        f.writeSync(unsynced, 0, unsynced.length, synced.length);
        const outcomes = fs.crash();
        expect(outcomes.length, `seed ${seed}`).toBe(1);
        const { fate, file, unsyncedBytes } = outcomes[0]!;
        expect(file).toBe('/d/a');
        expect(unsyncedBytes).toBe(1500);
        seen.add(fate);
        const after = fs.readDurable('/d/a')!;
        expect(after.subarray(0, synced.length), `seed ${seed} ${fate}: synced bytes intact`).toEqual(synced);
        const tail = after.subarray(synced.length);
        switch (fate) {
          case 'lost':
            expect(tail.length, `seed ${seed}`).toBe(0);
            break;
          case 'whole':
            expect(tail, `seed ${seed}`).toEqual(unsynced);
            break;
          case 'torn':
            expect(tail.length, `seed ${seed}`).toBeLessThan(unsynced.length);
            expect(tail, `seed ${seed}`).toEqual(unsynced.subarray(0, tail.length));
            break;
          case 'garbled': {
            expect(tail.length, `seed ${seed}`).toBe(unsynced.length);
            // Byte by byte, the new data or zero; zeros come in whole sectors' shares (file offsets), at least one.
            let zeroedSectors = 0;
            for (let s = Math.floor(synced.length / sector); s * sector < after.length; s++) {
              const lo = Math.max(synced.length, s * sector);
              const hi = Math.min(after.length, (s + 1) * sector);
              const share = after.subarray(lo, hi);
              const expected = unsynced.subarray(lo - synced.length, hi - synced.length);
              const zero = share.every((b) => b === 0);
              expect(zero || share.equals(expected), `seed ${seed} sector ${s}`).toBe(true);
              if (zero) zeroedSectors++;
            }
            expect(zeroedSectors, `seed ${seed}`).toBeGreaterThan(0);
            break;
          }
        }
        // After the crash the cache is the disk.
        expect(await fs.process().readFile('/d/a')).toEqual(after);
      }
      expect([...seen].sort()).toEqual(['garbled', 'lost', 'torn', 'whole']);
    },
  );

  it('an fsync in flight when the power fails does not make its data durable', async () => {
    let kept = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const { queue, fs } = setup(seed);
      const p = fs.process();
      await durableDir(queue, p);
      const f = await p.open('/d/a', 'create');
      await drive(queue, p.fsyncDir('/d'));
      f.writeSync(pattern(100), 0, 100, 0);
      void f.datasync();
      const [outcome] = fs.crash();
      expect(outcome?.unsyncedBytes, `seed ${seed}`).toBe(100);
      if (outcome!.fate === 'whole') kept++;
    }
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(30);
  });

  it('a rename is durable only after its directory is fsynced', async () => {
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 40; seed++) {
      const { queue, fs } = setup(seed);
      const p = fs.process();
      await durableDir(queue, p);
      const old = await p.open('/d/log', 'create');
      old.writeSync(Buffer.from('old'), 0, 3, 0);
      await drive(queue, old.sync());
      await drive(queue, p.fsyncDir('/d'));
      const tmp = await p.open('/d/log.tmp', 'create');
      tmp.writeSync(Buffer.from('new'), 0, 3, 0);
      await drive(queue, tmp.sync());
      await p.rename('/d/log.tmp', '/d/log');
      expect((await p.readFile('/d/log')).toString()).toBe('new');
      fs.crash();
      const log = fs.readDurable('/d/log')?.toString();
      const tmpAfter = fs.readDurable('/d/log.tmp')?.toString() ?? 'absent';
      outcomes.add(`${log}/${tmpAfter}`);
      // Before the rename: both files (the temp's data was synced) or just the old one; after it: the new file.
      expect(['old/new', 'old/absent', 'new/absent'], `seed ${seed}`).toContain(`${log}/${tmpAfter}`);

      const again = setup(seed);
      const q = again.fs.process();
      await durableDir(again.queue, q);
      const t = await q.open('/d/log.tmp', 'create');
      t.writeSync(Buffer.from('new'), 0, 3, 0);
      await drive(again.queue, t.sync());
      await q.rename('/d/log.tmp', '/d/log');
      await drive(again.queue, q.fsyncDir('/d'));
      again.fs.crash();
      expect(again.fs.readDurable('/d/log')?.toString(), `seed ${seed}`).toBe('new');
    }
    expect(outcomes.has('new/absent') && (outcomes.has('old/new') || outcomes.has('old/absent'))).toBe(true);
  });

  it('a file whose directory entry never became durable may be gone after a crash, data and all', async () => {
    let gone = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const { queue, fs } = setup(seed);
      const p = fs.process();
      await durableDir(queue, p);
      const f = await p.open('/d/a', 'create');
      f.writeSync(pattern(10), 0, 10, 0);
      await drive(queue, f.sync()); // the data is synced, its directory entry is not
      fs.crash();
      const after = fs.readDurable('/d/a');
      expect(after === null || after.equals(pattern(10)), `seed ${seed}`).toBe(true);
      if (after === null) gone++;
    }
    expect(gone).toBeGreaterThan(0);
    expect(gone).toBeLessThan(20);
  });

  it('after a crash the old boot is dead: its writes do nothing and its fsyncs never complete', async () => {
    const { queue, fs } = setup(5);
    const p = fs.process();
    await durableDir(queue, p);
    const f = await p.open('/d/a', 'create');
    await drive(queue, f.sync());
    await drive(queue, p.fsyncDir('/d'));
    fs.crash();
    expect(f.writeSync(pattern(5), 0, 5, 0)).toBe(5);
    let completed = false;
    void f.sync().then(() => {
      completed = true;
    });
    void p.readFile('/d/a').then(() => {
      completed = true;
    });
    while (queue.next() !== null) await turn();
    await turn();
    expect(completed).toBe(false);
    expect(await fs.process().readFile('/d/a')).toEqual(Buffer.alloc(0));
  });

  it('bit rot changes the disk, and the cache where it is clean; missing files are ENOENT', async () => {
    const { queue, fs } = setup(2);
    const p = fs.process();
    await durableDir(queue, p);
    const f = await p.open('/d/a', 'create');
    f.writeSync(pattern(20), 0, 20, 0);
    await drive(queue, f.sync());
    await drive(queue, p.fsyncDir('/d'));
    expect(fs.flipDurable('/d/a', 4, 0x10)).toBe(true);
    const expected = pattern(20);
    expected[4] = expected[4]! ^ 0x10;
    expect(fs.readDurable('/d/a')).toEqual(expected);
    expect(await p.readFile('/d/a')).toEqual(expected);
    expect(fs.flipDurable('/d/a', 20, 1)).toBe(false);
    await expect(p.readFile('/d/missing')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(p.open('/d/missing', 'existing')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
