/**
 * The simulated disk of one node: a `RaftStorage` over a byte image in the
 * real log-file format (`node/storage/record.ts`: CRC-32 framed batches), so
 * recovery is the real `replayLog`, torn tails are cut by the real scanner
 * and corruption is detected by the real checksums.
 *
 * Fault model (TigerBeetle `testing/storage.zig`, FoundationDB
 * `AsyncFileNonDurable`):
 * - a persist call's frame is *pending* (in the page cache) until its fsync
 *   completes after a simulated latency; only then does persist resolve;
 * - a crash applies one of four fates to the pending bytes: lost, written
 *   whole, torn (a prefix survives) or garbled (the last pending frame
 *   written whole but for a sector of zeros: pages persisted out of order).
 *   Synced bytes always survive;
 * - `corruptDurable` flips a byte of synced data (bit rot): replay must
 *   refuse to start, wherever it lands (the last frame included).
 *
 * Unsafe storage modes (UnsafeFlags) are modelled here, since they are
 * storage behaviours:
 * - `ackBeforeFsync`: persist resolves at once; a background flush syncs the
 *   pending bytes every `lazyFlushMs` (like the file storage's lazy mode), so
 *   a crash loses acknowledged writes;
 * - `memoryLog`: nothing is kept; a restart starts empty.
 */
import type { Entry, HardState, StoredState } from '../node/raft/types.js';
import { AssertionError, assert } from '../node/util/assert.js';
import { LogIndex } from '../node/storage/log-index.js';
import { FILE_MAGIC, encodeFrames, encodeRecord, persistRecords } from '../node/storage/record.js';
import { SECTOR_BYTES, replayLog } from '../node/storage/replay.js';
import { StorageCorruptionError, type RaftStorage } from '../node/storage/storage.js';
import type { EventQueue, SimEvent } from './event-queue.js';
import type { Stream } from './streams.js';

export type DiskMode = 'fsync' | 'ack_before_fsync' | 'memory';

export interface DiskOptions {
  readonly mode: DiskMode;
  /** fsync latency is drawn uniformly from [min, max] ms. */
  readonly syncMsMin: number;
  readonly syncMsMax: number;
  /** ack_before_fsync: period of the background flush. */
  readonly lazyFlushMs: number;
  /** `--unsafe-torn-tail-dropped`: recovery drops a damaged last frame without evidence of a torn write. */
  readonly tornTailAlwaysDropped?: boolean;
}

export const defaultDiskOptions: DiskOptions = { mode: 'fsync', syncMsMin: 1, syncMsMax: 6, lazyFlushMs: 1000 };

export type CrashFate = 'lost' | 'whole' | 'torn' | 'garbled';

export type RecoverResult =
  | { readonly ok: true; readonly stored: StoredState; readonly tornBytes: number }
  | { readonly ok: false; readonly error: StorageCorruptionError };

interface PendingWrite {
  readonly bytes: Buffer;
  resolve: (() => void) | null;
}

export class SimDisk {
  /** Synced bytes: header + frames. */
  private durable: Buffer[] = [Buffer.from(FILE_MAGIC)];
  private durableBytes = FILE_MAGIC.length;
  private pending: PendingWrite[] = [];
  private index = new LogIndex();
  /** Bumped on every crash: events of an earlier incarnation do nothing. */
  private incarnation = 0;
  private syncEvent: SimEvent | null = null;
  private flushEvent: SimEvent | null = null;
  private lastSyncDoneMs = 0;
  /** A persist promise handed out and not yet resolved (the host is waiting on the disk). */
  private waiting = 0;
  syncs = 0;

  constructor(
    readonly nodeId: string,
    private readonly queue: EventQueue,
    private readonly stream: Stream,
    private readonly options: DiskOptions,
  ) {}

  /** True while the current host waits for a persist to resolve. */
  get hostWaiting(): boolean {
    return this.waiting > 0;
  }

  /** The storage a new host incarnation uses. */
  storage(): RaftStorage {
    const incarnation = this.incarnation;
    return {
      persist: (hardState, entries) => this.persist(incarnation, hardState, entries),
      close: () => Promise.resolve(),
    };
  }

  /** What a restarted node reads back: the real replay over the durable image. */
  recover(): RecoverResult {
    assert(this.pending.length === 0, 'recover after crash() only');
    if (this.options.mode === 'memory') {
      this.index = new LogIndex();
      return { ok: true, stored: { hardState: { currentTerm: 0, votedFor: null }, entries: [] }, tornBytes: 0 };
    }
    const image = Buffer.concat(this.durable, this.durableBytes);
    try {
      const replay = replayLog(image, `sim/${this.nodeId}/raft.log`, { tornTailAlwaysDropped: this.options.tornTailAlwaysDropped === true });
      let tornBytes = 0;
      if (replay.tornTail !== null) {
        // As openFileStorage does: cut the torn tail off before appending again.
        tornBytes = replay.tornTail.bytesDropped;
        const kept = image.subarray(0, replay.validEnd);
        this.durable = [Buffer.from(kept)];
        this.durableBytes = kept.length;
      }
      this.index = replay.index;
      return { ok: true, stored: replay.stored, tornBytes };
    } catch (error) {
      if (error instanceof StorageCorruptionError) return { ok: false, error };
      throw error;
    }
  }

  /** Power failure: decide the fate of unsynced bytes; unresolved persists never resolve. */
  crash(): CrashFate | null {
    this.incarnation++;
    this.waiting = 0;
    if (this.syncEvent !== null) this.syncEvent.cancelled = true;
    if (this.flushEvent !== null) this.flushEvent.cancelled = true;
    this.syncEvent = null;
    this.flushEvent = null;
    const pending = this.pending;
    this.pending = [];
    if (pending.length === 0 || this.options.mode === 'memory') return null;
    const all = Buffer.concat(pending.map((p) => p.bytes));
    const lastStart = all.length - pending[pending.length - 1]!.bytes.length;
    const draw = this.stream.int(0, 3);
    const fate: CrashFate = draw === 0 ? 'lost' : draw === 1 ? 'whole' : draw === 2 ? 'torn' : 'garbled';
    switch (fate) {
      case 'lost':
        break;
      case 'whole':
        this.appendDurable(all);
        break;
      case 'torn':
        this.appendDurable(all.subarray(0, this.stream.int(0, all.length - 1)));
        break;
      case 'garbled': {
        // Pages persisted out of order: the last pending frame is written
        // whole except one sector, which reads back as zeros (a file extended
        // by a write that never reached the disk). Only the last frame: an
        // earlier damaged frame followed by whole ones cannot come out of one
        // sequential write (see replay.ts). A flipped bit is not a crash
        // outcome; it is bit rot (corruptDurable), and replay refuses it.
        const copy = Buffer.from(all);
        const fileOffset = this.durableBytes; // where `all` starts in the file
        const at = this.stream.int(lastStart, copy.length - 1);
        const sectorStart = Math.floor((fileOffset + at) / SECTOR_BYTES) * SECTOR_BYTES - fileOffset;
        copy.fill(0, Math.max(lastStart, sectorStart), Math.min(copy.length, sectorStart + SECTOR_BYTES));
        this.appendDurable(copy);
        break;
      }
    }
    return fate;
  }

  /** Bit rot in synced data. Returns the byte offset damaged, or null when nothing past the header is stored. */
  corruptDurable(): number | null {
    if (this.durableBytes <= FILE_MAGIC.length) return null;
    const image = Buffer.concat(this.durable, this.durableBytes);
    const at = this.stream.int(FILE_MAGIC.length, image.length - 1);
    image[at] = image[at]! ^ (1 << this.stream.int(0, 7));
    this.durable = [image];
    return at;
  }

  get durableSize(): number {
    return this.durableBytes;
  }

  private appendDurable(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.durable.push(Buffer.from(bytes));
    this.durableBytes += bytes.length;
  }

  private persist(incarnation: number, hardState: HardState | null, entries: readonly Entry[]): Promise<void> {
    if (incarnation !== this.incarnation) return new Promise(() => undefined); // a dead host's late call: never resolves
    if (this.options.mode === 'memory') return Promise.resolve();
    // The same validation and record layout as FileRaftStorage.persist.
    const problem = this.index.checkPersist(hardState, entries);
    if (problem !== null) return Promise.reject(new AssertionError(`assertion failed: invalid persist: ${problem}`));
    const records = persistRecords(hardState, entries, this.index.lastIndex);
    if (records.length === 0) return Promise.resolve();
    const encoded = records.map(encodeRecord);
    const { frames } = encodeFrames(encoded);
    for (const record of records) this.index.apply(record, 0, 0);
    const bytes = frames.length === 1 ? frames[0]! : Buffer.concat(frames);

    if (this.options.mode === 'ack_before_fsync') {
      this.pending.push({ bytes, resolve: null });
      if (this.flushEvent === null) {
        this.flushEvent = this.queue.schedule(this.options.lazyFlushMs, () => {
          this.flushEvent = null;
          if (incarnation === this.incarnation) this.syncAll();
        });
      }
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.waiting++;
      this.pending.push({ bytes, resolve });
      this.scheduleSync(incarnation);
    });
  }

  /** One fsync at a time, in call order (FileRaftStorage's queue). */
  private scheduleSync(incarnation: number): void {
    if (this.syncEvent !== null) return;
    const latency = this.stream.int(this.options.syncMsMin, this.options.syncMsMax);
    const at = Math.max(this.queue.now, this.lastSyncDoneMs) + latency;
    this.syncEvent = this.queue.schedule(at - this.queue.now, () => {
      this.syncEvent = null;
      if (incarnation !== this.incarnation) return;
      this.lastSyncDoneMs = this.queue.now;
      this.syncAll();
    });
  }

  private syncAll(): void {
    const pending = this.pending;
    this.pending = [];
    this.syncs++;
    for (const write of pending) {
      this.appendDurable(write.bytes);
      if (write.resolve !== null) {
        this.waiting--;
        write.resolve();
      }
    }
  }
}
