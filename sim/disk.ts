/**
 * The disk of one simulated node: the node's REAL storage code
 * (`openFileStorage`/`FileRaftStorage`, node/storage/file-storage.ts) over a
 * simulated file system with a page cache (sim-fs.ts). Recovery is the real
 * `openFileStorage` (real replay, torn-tail truncation, compaction through
 * temp file + fsync + rename + directory fsync), every persist is the real
 * positioned write + fdatasync, and only the file system underneath is
 * simulated, so a storage bug (a missing fsync, a rename not made durable)
 * shows in the simulator as it would after a power failure.
 *
 * Fault model (sim-fs.ts has the details; TigerBeetle `testing/storage.zig`,
 * FoundationDB `AsyncFileNonDurable`):
 * - an fsync takes a simulated latency; persist resolves only after it, so
 *   other events interleave with every write;
 * - `crash()` is a power failure: each unsynced range is lost, written
 *   whole, torn (a prefix survives) or garbled (sectors persisted out of
 *   order read back as zeros); synced data always survives;
 * - `corruptDurable` flips a bit of synced log data (bit rot) anywhere,
 *   `corruptLastFrame` flips one in the last durable frame of a node that is
 *   down (issue 15 defect 3: the node must refuse to start; with
 *   `--unsafe-torn-tail-dropped` it drops the frame and what it held);
 * - `loseTail` cuts the last entries of a down node's log while its term and
 *   vote survive: a disk that lost an acknowledged tail. That is outside
 *   Raft's fault model (it can break safety even for a correct node; the
 *   simulator only cuts entries every other disk holds), so it is only for
 *   the `--unsafe-ignore-lost-follower-log` preset, never a default fault;
 * - `repair` undoes the bit flips of a node that refused to start and has
 *   written nothing since: restoring "this node's own data from a backup
 *   taken after its last write", the safe way back the refusal names.
 *
 * Unsafe storage modes (UnsafeFlags) are the real storage's:
 * - `ack_before_fsync`: the real `lazyFsync` option (persist resolves at
 *   once; a background flush, timed by the event queue, syncs every
 *   `lazyFlushMs`), so a crash loses acknowledged writes;
 * - `memory`: the real memory storage (`openMemoryStorage`): a restart
 *   starts empty.
 */
import path from 'node:path';
import type { Entry, HardState, StoredState } from '../node/raft/types.js';
import { LOG_FILE_NAME } from '../node/storage/file-storage.js';
import { SnapshotUnusableError } from '../node/storage/snapshot-store.js';
import { recoverNodeState } from '../node/snapshot/recover.js';
import { emptySnapshotStart, type SnapshotPersistence, type SnapshotStart } from '../node/snapshot/local-snapshots.js';
import { openMemoryStorage } from '../node/storage/memory-storage.js';
import { FILE_MAGIC, FRAME_HEADER_BYTES, encodeFrames, encodeRecord, type LogRecord } from '../node/storage/record.js';
import { replayLog, scanLog, SECTOR_BYTES } from '../node/storage/replay.js';
import { StorageCorruptionError, type RaftStorage, type RecoveryReport } from '../node/storage/storage.js';
import type { EventQueue, SimEvent } from './event-queue.js';
import { SimFs, type CrashFate, type FiredIoFailure } from './sim-fs.js';
import type { IoErrorOp } from './scenario.js';
import type { Stream } from './streams.js';

export type { CrashFate } from './sim-fs.js';

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
  /** `--unsafe-ignore-disk-errors`: the storage logs a failed log write or fsync and carries on. */
  readonly ignoreWriteErrors?: boolean;
  /**
   * The storage's compaction threshold. Far below the node's 8 MiB, so that
   * restarts in a short run do compact (temp file, fsync, rename, directory
   * fsync) and crashes land in the middle of it.
   */
  readonly compactMinGarbageBytes: number;
  /** The disk's sector (StorageFs `sectorBytes`, sim-fs.ts). */
  readonly sectorBytes: number;
}

export const defaultDiskOptions: DiskOptions = {
  mode: 'fsync',
  syncMsMin: 1,
  syncMsMax: 6,
  lazyFlushMs: 1000,
  compactMinGarbageBytes: 4096,
  sectorBytes: SECTOR_BYTES,
};

export type OpenResult =
  | {
      readonly ok: true;
      readonly storage: RaftStorage;
      readonly stored: StoredState;
      readonly recovery: RecoveryReport | null;
      /** The snapshot the node restores from and where it saves new ones (node/snapshot/recover.ts). */
      readonly snapshots: SnapshotStart;
    }
  /** The node refuses to start: a corrupt log, or no usable snapshot covers what the log lacks. */
  | { readonly ok: false; readonly error: StorageCorruptionError | SnapshotUnusableError };

/** A bit flipped on purpose, so that `repair` can undo it. */
interface Damage {
  readonly offset: number;
  readonly mask: number;
}

export class SimDisk {
  readonly fs: SimFs;
  /** The node's data directory on its simulated disk. */
  readonly dataDir: string;
  readonly logFile: string;
  /** Bumped on every crash: storages and timers of an older boot are dead. */
  private boot = 0;
  /** Persist calls of the current boot not yet resolved. */
  private outstanding = 0;
  /**
   * Set when lazy mode's background flush fired or one of its fsyncs
   * completed: the storage's write queue starts the next write and fsync a
   * few microtasks later, so the simulator lets those run before the next
   * event, and clears the flag.
   */
  kicked = false;
  private damage: Damage[] = [];
  /** Where `corruptLastFrame` flips a bit (its own stream: see there). */
  private readonly rot: Stream;
  /** The injected failure (an `io_error` fault) that fired in the current boot, or null. */
  private firedThisBoot: FiredIoFailure | null = null;
  /** Injected failures that fired (all boots). */
  ioFailures = 0;
  /**
   * Called when a persist issued after an injected failure the node must stop on
   * (mustStopOn) resolves: the node carried on after a failed call (the simulator
   * reports a violation).
   */
  onFailureIgnored: ((failure: FiredIoFailure) => void) | null = null;

  constructor(
    readonly nodeId: string,
    private readonly queue: EventQueue,
    private readonly stream: Stream,
    private readonly options: DiskOptions,
  ) {
    this.rot = stream.sibling(`${stream.name}:rot`);
    this.fs = new SimFs(queue, stream, {
      syncMsMin: options.syncMsMin,
      syncMsMax: options.syncMsMax,
      sectorBytes: options.sectorBytes,
      onIoFailure: (failure) => {
        this.firedThisBoot = failure;
        this.ioFailures++;
        // The failure travels to the host through a few promise continuations (a snapshot save's, beside the
        // effect loop, would otherwise wait for some later event): let them run before the next event, as a real
        // process handles the rejection before its next input.
        this.kicked = true;
      },
      // Lazy mode: a flush queued behind this fsync starts when it completes, with no host waiting to drive it.
      ...(options.mode === 'ack_before_fsync'
        ? {
            onSyncComplete: () => {
              this.kicked = true;
            },
          }
        : {}),
    });
    this.dataDir = `/var/lib/rift/${nodeId}`;
    this.logFile = path.posix.join(this.dataDir, LOG_FILE_NAME);
  }

  /**
   * True while the current host waits for a persist that waits for a
   * simulated fsync (the simulator lets simulated time pass then).
   */
  get hostWaiting(): boolean {
    return this.outstanding > 0 && this.fs.waiting;
  }

  /** True while an fsync is in flight (an opening storage waits on simulated time). */
  get ioWaiting(): boolean {
    return this.fs.waiting;
  }

  get syncs(): number {
    return this.fs.syncs;
  }

  /**
   * What a (re)starting node does: open its storage with the real
   * `openFileStorage` on this disk (or the real memory storage). Resolves
   * to a refusal on storage corruption; other errors reject. After a crash
   * before it settles, it never settles.
   */
  async open(log: (line: string) => void): Promise<OpenResult> {
    const boot = this.boot;
    if (this.options.mode === 'memory') {
      const opened = openMemoryStorage();
      return {
        ok: true,
        storage: this.counted(opened.storage, boot),
        stored: opened.stored,
        recovery: null,
        snapshots: emptySnapshotStart(),
      };
    }
    try {
      // The binary's recovery: the log and the newest usable snapshot, made to agree.
      const opened = await recoverNodeState(this.dataDir, {
        fs: this.fs.process(),
        log,
        lazyFsync: this.options.mode === 'ack_before_fsync',
        flushIntervalMs: this.options.lazyFlushMs,
        periodic: (periodMs, fn) => this.periodic(boot, periodMs, fn),
        tornTailAlwaysDropped: this.options.tornTailAlwaysDropped === true,
        ignoreWriteErrors: this.options.ignoreWriteErrors === true,
        compactMinGarbageBytes: this.options.compactMinGarbageBytes,
      });
      // It started: nothing injected before can be undone any more (the node may write over it).
      this.damage = [];
      for (const note of opened.notes) log(`snapshots: ${note}`);
      return {
        ok: true,
        storage: this.counted(opened.storage, boot),
        stored: opened.stored,
        recovery: opened.recovery,
        snapshots: { ...opened.snapshots, persistence: this.countedSnapshots(opened.snapshots.persistence, boot) },
      };
    } catch (error) {
      if (error instanceof StorageCorruptionError || error instanceof SnapshotUnusableError) return { ok: false, error };
      throw error;
    }
  }

  /**
   * Arms an `io_error` fault (sim-fs.ts failNext): the call of kind `op` after `skip` more fails with `code`
   * (`silent`: reports success and does nothing).
   */
  failNext(op: IoErrorOp, code: string, skip: number, silent: boolean): void {
    this.fs.failNext(op, code, skip, silent);
  }

  /** The heal: a failure armed and not fired is dropped (the disk was fixed). */
  disarm(): void {
    this.fs.disarm();
  }

  /** The injected failure that fired in the current boot, or null. */
  get failureThisBoot(): FiredIoFailure | null {
    return this.firedThisBoot;
  }

  /**
   * Whether the node must stop on `failure` (storage.ts: a failed call is fatal): every call but those on the
   * log rewrite's temp file, which the storage abandons and carries on (file-storage.ts rewriteInBackground;
   * its rename into place is fatal), and a silent one, which the node cannot know of.
   */
  static mustStopOn(failure: FiredIoFailure): boolean {
    if (failure.silent) return false;
    return !(failure.file.endsWith(`${LOG_FILE_NAME}.tmp`) && failure.op !== 'rename');
  }

  /** The node's process exits (it stopped on a failed call): the boot's storage dies, the page cache stays (sim-fs.ts processExit). */
  processExit(): void {
    this.boot++;
    this.outstanding = 0;
    this.firedThisBoot = null;
    this.fs.processExit();
  }

  /** Power failure: unsynced data meets its fate (the log file's is returned); the boot's storage dies. */
  crash(): CrashFate | null {
    this.boot++;
    this.firedThisBoot = null;
    this.outstanding = 0;
    const outcomes = this.fs.crash();
    return outcomes.find((o) => o.file === this.logFile)?.fate ?? outcomes[0]?.fate ?? null;
  }

  /** Bit rot in synced log data, anywhere past the header. Returns the byte offset damaged, or null when nothing past the header is stored. */
  corruptDurable(): number | null {
    const image = this.fs.readDurable(this.logFile);
    if (image === null || image.length <= FILE_MAGIC.length) return null;
    return this.flip(this.stream.int(FILE_MAGIC.length, image.length - 1));
  }

  /**
   * Flips one bit of the last complete frame of the log of a node that is
   * down (call `crash()` first). Returns the byte offset, or null when the
   * log has no frame or is already corrupt.
   */
  corruptLastFrame(headerHalfTheTime = false): number | null {
    const image = this.fs.readDurable(this.logFile);
    if (image === null) return null;
    const last = this.frames(image)?.at(-1);
    if (last === undefined) return null;
    const anywhere = this.stream.int(last.offset, last.offset + last.bytes - 1);
    // `headerHalfTheTime`: half the time the flip lands in the frame's header (length, checksum, type), where
    // recovery must tell a frame damaged after it was durable from one torn while it was written; drawn over the
    // whole frame it lands there 9 times in the frame's size. A flipped length bit after a power failure that also
    // tore the next append made recovery drop a durable vote (node/storage/replay.ts wholeFrameLength; found once
    // in 2,000 runs of `--faults-of torn-tail-dropped` before this). The extra draws come from a stream of their
    // own, so every other draw of a run is as it was.
    const inHeader = headerHalfTheTime && this.rot.int(0, 1) === 0 ? this.rot.int(last.offset, last.offset + FRAME_HEADER_BYTES - 1) : null;
    return this.flip(inHeader ?? anywhere);
  }

  /** What the disk holds now (what a restart would recover), or null when it holds nothing readable. */
  durableState(): StoredState | null {
    const image = this.fs.readDurable(this.logFile);
    if (image === null) return null;
    try {
      return replayLog(image, this.logFile, { sectorBytes: this.fs.sectorBytes }).stored;
    } catch (error) {
      if (error instanceof StorageCorruptionError) return null;
      throw error;
    }
  }

  /**
   * A down node's disk loses the last `count` entries of its log (synced,
   * possibly acknowledged); its term and vote survive. Outside Raft's fault
   * model: see the file comment. Returns the entries lost (0 when the log
   * has none or is corrupt).
   */
  loseTail(count: number): number {
    const image = this.fs.readDurable(this.logFile);
    if (image === null) return 0;
    let replayed;
    try {
      replayed = replayLog(image, this.logFile, { sectorBytes: this.fs.sectorBytes });
    } catch (error) {
      if (error instanceof StorageCorruptionError) return 0;
      throw error;
    }
    const stored = replayed.stored;
    const lost = Math.min(count, stored.entries.length);
    if (lost === 0) return 0;
    const records: LogRecord[] = [{ type: 'hard_state', hardState: stored.hardState }];
    // Where a compacted log starts (a snapshot covers what is before it).
    const through = replayed.compactedThrough;
    if (through !== null) records.push({ type: 'compact', firstIndex: through.index + 1, prevTerm: through.term });
    for (const entry of stored.entries.slice(0, stored.entries.length - lost)) records.push({ type: 'entry', entry });
    const { frames } = encodeFrames(records.map(encodeRecord));
    this.fs.replaceDurable(this.logFile, Buffer.concat([FILE_MAGIC, ...frames]));
    this.damage = [];
    return lost;
  }

  /** True while bits flipped on purpose are on the disk (not yet written over by a start, nor repaired). */
  get damaged(): boolean {
    return this.damage.length > 0;
  }

  /**
   * What the disk held before the bit flips injected since the node last
   * started (its durable state with them undone, on a copy: the disk keeps
   * them). The checks that ask whether an entry was durably held by a
   * majority when it committed use it: the flips are the test's own damage,
   * after the fact, and a node that refuses them is right to.
   */
  undamagedState(): StoredState | null {
    if (this.damage.length === 0) return this.durableState();
    const durable = this.fs.readDurable(this.logFile);
    if (durable === null) return null;
    const image = Buffer.from(durable);
    for (const d of this.damage) if (d.offset < image.length) image[d.offset] = image[d.offset]! ^ d.mask;
    try {
      return replayLog(image, this.logFile, { sectorBytes: this.fs.sectorBytes }).stored;
    } catch (error) {
      if (error instanceof StorageCorruptionError) return null;
      throw error;
    }
  }

  /**
   * Undoes the bit flips injected since the node last started (it refused
   * to start and wrote nothing since). Returns false when there was none.
   */
  repair(): boolean {
    if (this.damage.length === 0) return false;
    for (const d of this.damage.reverse()) this.fs.flipDurable(this.logFile, d.offset, d.mask);
    this.damage = [];
    return true;
  }

  /** The log's whole frames, or null when it is corrupt. */
  private frames(image: Buffer): readonly { readonly offset: number; readonly bytes: number }[] | null {
    try {
      return scanLog(image, this.logFile, { sectorBytes: this.fs.sectorBytes }).frames;
    } catch (error) {
      if (error instanceof StorageCorruptionError) return null;
      throw error;
    }
  }

  private flip(offset: number): number {
    const mask = 1 << this.stream.int(0, 7);
    this.fs.flipDurable(this.logFile, offset, mask);
    this.damage.push({ offset, mask });
    return offset;
  }

  /** Counts the boot's outstanding persists (hostWaiting); a dead boot's calls never resolve. */
  private counted(inner: RaftStorage, boot: number): RaftStorage {
    return {
      persist: (hardState: HardState | null, entries: readonly Entry[]) => {
        if (boot !== this.boot) return new Promise<void>(() => undefined);
        this.outstanding++;
        const done = (): void => {
          if (boot === this.boot) this.outstanding--;
        };
        // A persist asked for after a failure the node must stop on: it must not succeed (storage.ts: fatal).
        const failedBefore = this.firedThisBoot !== null && SimDisk.mustStopOn(this.firedThisBoot) ? this.firedThisBoot : null;
        const persisted = inner.persist(hardState, entries);
        persisted.then(() => {
          done();
          if (failedBefore !== null && boot === this.boot) this.onFailureIgnored?.(failedBefore);
        }, done);
        return persisted;
      },
      compact: (firstIndex: number, prevTerm: number) => {
        if (boot !== this.boot) return new Promise<void>(() => undefined);
        this.outstanding++;
        const done = (): void => {
          if (boot === this.boot) this.outstanding--;
        };
        const compacted = inner.compact(firstIndex, prevTerm);
        compacted.then(done, done);
        return compacted;
      },
      close: () => inner.close(),
    };
  }

  /** Snapshot saves count as outstanding writes too: the host waits on their fsyncs like on a persist's. */
  private countedSnapshots(inner: SnapshotPersistence, boot: number): SnapshotPersistence {
    return {
      save: (snapshot) => {
        if (boot !== this.boot) return new Promise<void>(() => undefined);
        this.outstanding++;
        const done = (): void => {
          if (boot === this.boot) this.outstanding--;
        };
        const saved = inner.save(snapshot);
        saved.then(done, done);
        return saved;
      },
    };
  }

  /** The storage's `periodic` on the event queue; it stops at the next crash. */
  private periodic(boot: number, periodMs: number, fn: () => void): () => void {
    let event: SimEvent | null = null;
    const arm = (): void => {
      event = this.queue.schedule(periodMs, () => {
        if (boot !== this.boot) return;
        fn();
        this.kicked = true;
        arm();
      });
    };
    arm();
    return () => {
      if (event !== null) event.cancelled = true;
    };
  }
}
