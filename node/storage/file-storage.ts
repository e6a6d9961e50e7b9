/**
 * Durable Raft storage in one append-only file, `<dir>/raft.log`
 * (format: `record.ts`).
 *
 * Why one file for both hard state and entries: a Ready usually carries both
 * (a new term and the entries of that term), and Figure 2 requires both on
 * stable storage before the node answers. With hard-state records in the
 * same file, one write + one fdatasync makes the whole Ready durable (group
 * commit), and the call's records share one checksummed frame, so the call
 * is atomic: after a crash, replay keeps exactly the calls whose frames are
 * whole. A separate hard-state file (write temp, fsync, rename, fsync dir)
 * would cost three more syncs on every term change and an ordering question
 * between the two files.
 *
 * Durability: the file is created as temp + fsync + rename + fsync(dir), so
 * it always starts with a complete header; every persist is one positioned
 * write of its frame followed by `datasync()` (fdatasync also makes
 * the new file size durable, which is what an append needs). persist
 * resolves only after that.
 *
 * `lazyFsync` (`--unsafe-ack-before-fsync`): persist resolves at once and its
 * bytes wait IN THIS PROCESS's memory; a background flush writes and fsyncs
 * them every `flushIntervalMs` (1000 ms). A SIGKILL therefore loses up to a
 * second of acknowledged appends and votes, exactly as a power failure loses
 * the page cache. (Writing to the file at once without fsync would not show
 * the bug: the kernel keeps written bytes across a process kill.)
 *
 * Compaction: truncated suffixes, superseded hard states and entries a
 * snapshot covers (`compact`, one small record) stay in the file as garbage.
 * When the garbage exceeds both `compactMinGarbageBytes` and the live bytes
 * (on open, and after each `compact`), the file is rewritten with only the
 * live records (temp + fsync + rename + fsync dir), so the file stays within
 * about twice the live log. After a `compact` the rewrite runs in the
 * background while persists go on (`rewriteInBackground`): the caller's
 * effect loop never waits for it.
 *
 * All file-system access goes through a `StorageFs` (storage-fs.ts): the
 * real one by default, the harness's page-cache layer, or the simulator's
 * disk model, so the code under test in the simulator is this code.
 *
 * Not done: no lock against two processes opening the same directory (the
 * harness gives each node its own), and the whole file is read into memory
 * on open (no snapshots yet, so the log is whole in memory anyway).
 */
import path from 'node:path';
import type { Entry, HardState, StoredState } from '../raft/types.js';
import { AssertionError, assert } from '../util/assert.js';
import { diskErrorCode } from './io-error.js';
import { LogIndex } from './log-index.js';
import { nodeFs } from './node-fs.js';
import { FILE_MAGIC, encodeFrames, encodeRecord, persistRecords, rawEntryRecords, type LogRecord } from './record.js';
import { replayLog } from './replay.js';
import type { StorageFile, StorageFs } from './storage-fs.js';
import type { PersistOptions, RaftStorage, RecoveryReport } from './storage.js';

export const LOG_FILE_NAME = 'raft.log';
const TEMP_SUFFIX = '.tmp';

export interface FileStorageOptions {
  /** Receives one line per notable recovery event (torn tail cut off, file compacted, background flush failure). */
  readonly log?: (line: string) => void;
  /** `--unsafe-ack-before-fsync`: see the file comment. Default false. */
  readonly lazyFsync?: boolean;
  /**
   * Drop a damaged last frame as torn without evidence of an interrupted
   * write (`--unsafe-torn-tail-dropped`, the defect of issue 15 item 3).
   */
  readonly tornTailAlwaysDropped?: boolean;
  /**
   * `--unsafe-ignore-disk-errors`: a failed write or fsync of the log is
   * logged and treated as done (the storage never fails): what the caller
   * then acknowledges never reached the disk. Default false.
   */
  readonly ignoreWriteErrors?: boolean;
  /** Background flush period in lazy mode. Default 1000 ms. */
  readonly flushIntervalMs?: number;
  /** Bound on bytes buffered in lazy mode; past it persist waits for a flush. Default 64 MiB. */
  readonly maxLazyBufferBytes?: number;
  /** Compact on open when garbage exceeds this and the live bytes. Default 8 MiB. */
  readonly compactMinGarbageBytes?: number;
  /** The file system (storage-fs.ts). Default: the real one (node-fs.ts). */
  readonly fs?: StorageFs;
  /**
   * Runs `fn` every `periodMs` (lazy mode's background flush) and returns
   * what stops it. Default: an unref'd setInterval. The simulator passes
   * its event queue: no real timers there.
   */
  readonly periodic?: (periodMs: number, fn: () => void) => () => void;
}

/** The default `periodic`: unref, so an unsafe mode never keeps a finished process alive; close() flushes. */
function realPeriodic(periodMs: number, fn: () => void): () => void {
  const timer = setInterval(fn, periodMs);
  timer.unref();
  return () => clearInterval(timer);
}

export interface OpenedFileStorage {
  readonly storage: RaftStorage;
  readonly stored: StoredState;
  readonly recovery: RecoveryReport;
}

/**
 * Open (or create) the log in `dir`, recover it and return the storage and
 * what the core must start from. Throws StorageCorruptionError when the file
 * holds damage a crash cannot explain: the node must refuse to start.
 */
/** A log file is rewritten with only its live records once its garbage exceeds this (and its live bytes): FileStorageOptions.compactMinGarbageBytes's default. */
export const DEFAULT_COMPACT_MIN_GARBAGE_BYTES = 8 * 1024 * 1024;

export async function openFileStorage(dir: string, opts: FileStorageOptions = {}): Promise<OpenedFileStorage> {
  const log = opts.log ?? (() => {});
  const fs = opts.fs ?? nodeFs;
  const absDir = path.resolve(dir);
  const file = path.join(absDir, LOG_FILE_NAME);
  const createdDir = await fs.mkdirp(absDir);
  if (createdDir !== undefined) {
    // Make every newly created directory's entry durable in its parent (the file's own entry is synced below).
    for (let d = absDir; ; d = path.dirname(d)) {
      await fs.fsyncDir(path.dirname(d));
      if (d === createdDir || path.dirname(d) === d) break;
    }
  }
  // A temp file is the remains of a creation or compaction that did not reach its rename: the old file (if any) is intact.
  await fs.removeFile(file + TEMP_SUFFIX);

  let buf: Buffer;
  let created = false;
  try {
    buf = await fs.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await writeFileDurably(fs, file, [FILE_MAGIC]);
    buf = Buffer.from(FILE_MAGIC);
    created = true;
  }

  const replay = replayLog(buf, file, { tornTailAlwaysDropped: opts.tornTailAlwaysDropped === true, sectorBytes: fs.sectorBytes });
  const compactedThrough = replay.compactedThrough;
  let index = replay.index;
  let fileBytes = replay.validEnd;
  if (replay.tornTail !== null) {
    const t = replay.tornTail;
    log(`storage: torn tail in ${file} at offset ${t.offset}: dropped ${t.bytesDropped} bytes (${t.reason})`);
    const fh = await fs.open(file, 'existing');
    try {
      await fh.truncate(t.offset);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  let compacted: RecoveryReport['compacted'] = null;
  const garbage = fileBytes - index.liveBytes;
  if (garbage > (opts.compactMinGarbageBytes ?? DEFAULT_COMPACT_MIN_GARBAGE_BYTES) && garbage > index.liveBytes) {
    const rewritten = await rewriteLive(fs, file, replay.stored, index.hardStateRecordBytes > 0, compactedThrough, log);
    if (rewritten !== null) {
      compacted = { bytesBefore: fileBytes, bytesAfter: rewritten.fileBytes };
      log(`storage: compacted ${file} from ${fileBytes} to ${rewritten.fileBytes} bytes`);
      index = rewritten.index;
      fileBytes = rewritten.fileBytes;
    }
  }

  const fh = await fs.open(file, 'existing');
  const storage = new FileRaftStorage(fh, file, index, fileBytes, opts, log);
  return {
    storage,
    stored: replay.stored,
    recovery: {
      file,
      created,
      frames: replay.frames.length,
      fileBytes: buf.length,
      tornTail: replay.tornTail && { offset: replay.tornTail.offset, bytesDropped: replay.tornTail.bytesDropped },
      compactedThrough,
      compacted,
    },
  };
}

/**
 * Rewrite the log with only live records: the hard state, where the log starts, the live entries. Null when the disk
 * refused the copy (ENOSPC, EIO... while the temporary file was written): the old file is untouched and the node runs on
 * it. The rewrite only saves space, and a disk with too little room for a copy of the live log (it needs its size free
 * beside the old file) may well have room for the appends that follow; refusing to start for it (exit 7 on every
 * restart, until an operator frees more than the node needs to run) would keep a healthy node down. A later compaction
 * tries again in the background (rewriteInBackground), which gives up the same way. A failure at the rename or after
 * it still stops the node: which file the name then holds is unknown.
 */
async function rewriteLive(
  fs: StorageFs,
  file: string,
  stored: StoredState,
  writeHardState: boolean,
  compactedThrough: { readonly index: number; readonly term: number } | null,
  log: (line: string) => void,
): Promise<{ index: LogIndex; fileBytes: number } | null> {
  const records: LogRecord[] = [];
  if (writeHardState) records.push({ type: 'hard_state', hardState: stored.hardState });
  if (compactedThrough !== null) records.push({ type: 'compact', firstIndex: compactedThrough.index + 1, prevTerm: compactedThrough.term });
  for (const entry of stored.entries) records.push({ type: 'entry', entry });
  const encoded = records.map(encodeRecord);
  const { frames, frameOf } = encodeFrames(encoded);
  const frameOffsets: number[] = [];
  let end = FILE_MAGIC.length;
  for (const f of frames) {
    frameOffsets.push(end);
    end += f.length;
  }
  const index = new LogIndex();
  records.forEach((record, i) => index.apply(record, frameOffsets[frameOf[i]!]!, encoded[i]!.length));
  const tmp = file + TEMP_SUFFIX;
  try {
    await writeTempFile(fs, tmp, [FILE_MAGIC, ...frames]);
  } catch (e) {
    const code = diskErrorCode(e);
    if (code === null) throw e;
    log(
      `storage: compaction of ${file} on open skipped, running on the old file (${end} bytes would be written): the disk refused the copy (${code}): ${(e as Error).message}`,
    );
    try {
      await fs.removeFile(tmp);
    } catch {
      // Removed at the next open.
    }
    return null;
  }
  await renameDurably(fs, tmp, file);
  return { index, fileBytes: end };
}

/** Replace `file` atomically with `chunks`: write temp, fsync it, rename over, fsync the directory. */
async function writeFileDurably(fs: StorageFs, file: string, chunks: readonly Buffer[]): Promise<void> {
  const tmp = file + TEMP_SUFFIX;
  await writeTempFile(fs, tmp, chunks);
  await renameDurably(fs, tmp, file);
}

/** Rename the durable `tmp` over `file` and fsync the directory, so the new name survives a power failure. */
async function renameDurably(fs: StorageFs, tmp: string, file: string): Promise<void> {
  await fs.rename(tmp, file);
  await fs.fsyncDir(path.dirname(file));
}

/** Create (or empty) `tmp` and make `chunks` its durable contents. */
async function writeTempFile(fs: StorageFs, tmp: string, chunks: readonly Buffer[]): Promise<void> {
  const fh = await fs.open(tmp, 'create');
  try {
    await writeFully(fh, Buffer.concat(chunks), 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeFully(fh: StorageFile, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const bytesWritten = await fh.write(buf, done, buf.length - done, position + done);
    assert(bytesWritten > 0, 'write made progress');
    done += bytesWritten;
  }
}

class FileRaftStorage implements RaftStorage {
  /** Every write+fsync runs on this chain, so they reach the disk in call order. */
  private queue: Promise<void> = Promise.resolve();
  /** Set by the first failed write or fsync; from then on every call fails (see RaftStorage.persist). */
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;
  /**
   * End of the file as written so far. A write takes its position when it
   * runs on the queue, not when it is queued, so a rewrite that swaps the
   * file in between moves every later write with it.
   */
  private fileEnd: number;
  /** End of the file including bytes still buffered in lazy mode (offsets of new records start here). */
  private logicalEnd: number;
  private readonly lazy: boolean;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly maxLazyBufferBytes: number;
  /** Stops lazy mode's background flush; null in fsync mode. */
  private readonly stopFlushTimer: (() => void) | null;
  /** A `compact` is in progress: persist must wait for it (the caller's contract). */
  private compacting = false;
  /** The background rewrite in progress (at most one; it never rejects), or null. */
  private rewriting: Promise<void> | null = null;
  /** While a rewrite copies the file: every buffer written since its cut, in file order (null: none running, or it gave up). */
  private writtenSinceCut: Buffer[] | null = null;
  private writtenSinceCutBytes = 0;
  private readonly fs: StorageFs;
  private readonly compactMinGarbageBytes: number;
  private readonly ignoreWriteErrors: boolean;

  constructor(
    private fh: StorageFile,
    private readonly file: string,
    private index: LogIndex,
    fileBytes: number,
    opts: FileStorageOptions,
    private readonly log: (line: string) => void,
  ) {
    this.fs = opts.fs ?? nodeFs;
    this.compactMinGarbageBytes = opts.compactMinGarbageBytes ?? DEFAULT_COMPACT_MIN_GARBAGE_BYTES;
    this.ignoreWriteErrors = opts.ignoreWriteErrors === true;
    this.fileEnd = fileBytes;
    this.logicalEnd = fileBytes;
    this.lazy = opts.lazyFsync ?? false;
    this.maxLazyBufferBytes = opts.maxLazyBufferBytes ?? 64 * 1024 * 1024;
    if (this.lazy) {
      this.stopFlushTimer = (opts.periodic ?? realPeriodic)(opts.flushIntervalMs ?? 1000, () => {
        if (this.pendingBytes > 0) this.flush().catch(() => {}); // the failure is recorded and logged in writeAt
      });
    } else {
      this.stopFlushTimer = null;
    }
  }

  persist(hardState: HardState | null, entries: readonly Entry[], options?: PersistOptions): Promise<void> {
    if (this.closing !== null) return Promise.reject(new Error(`storage ${this.file} is closed`));
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.compacting) return Promise.reject(new AssertionError('assertion failed: persist called while compact is in progress'));
    // Validate, encode and index synchronously: the index must reflect calls in call order.
    const problem = this.index.checkPersist(hardState, entries);
    if (problem !== null) return Promise.reject(new AssertionError(`assertion failed: invalid persist: ${problem}`));
    return this.append(persistRecords(hardState, entries, this.index.lastIndex), options?.inBackground === true);
  }

  compact(firstIndex: number, prevTerm: number): Promise<void> {
    if (this.closing !== null) return Promise.reject(new Error(`storage ${this.file} is closed`));
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.compacting) return Promise.reject(new AssertionError('assertion failed: compact called while another is in progress'));
    const record: LogRecord = { type: 'compact', firstIndex, prevTerm };
    const problem = this.index.check(record);
    if (problem !== null) return Promise.reject(new AssertionError(`assertion failed: invalid compact: ${problem}`));
    this.compacting = true;
    const appended = this.lazy ? this.append([record]).then(() => this.flush()) : this.append([record]);
    return appended
      .then(() => this.maybeStartRewrite())
      .finally(() => {
        this.compacting = false;
      });
  }

  /**
   * After a compaction: when garbage dominates the file (see the file
   * comment), start rewriting it with only its live records, in the
   * background. The caller's effect loop must not wait for it: copying a
   * 10 MB log took ~0.5 s with the loop blocked for 0.4 s of it, longer than
   * an election timeout, so a loaded leader lost its leadership at every
   * rewrite. Persists go on meanwhile; the swap at the end runs on the write
   * queue and appends what they wrote to the new file first.
   */
  private maybeStartRewrite(): void {
    if (this.rewriting !== null) return;
    const garbage = this.logicalEnd - this.index.liveBytes;
    if (!(garbage > this.compactMinGarbageBytes && garbage > this.index.liveBytes)) return;
    // compact() holds the caller (no persist in flight) and has just written and flushed its record.
    assert(this.pendingBytes === 0 && this.fileEnd === this.logicalEnd, 'a rewrite starts with everything written');
    this.writtenSinceCut = [];
    this.writtenSinceCutBytes = 0;
    this.rewriting = this.rewriteInBackground().finally(() => {
      this.writtenSinceCut = null;
      this.writtenSinceCutBytes = 0;
      this.rewriting = null;
    });
  }

  /** Bound on the bytes persisted while a rewrite copies the file; past it the rewrite gives up (and a later compaction retries). */
  static readonly MAX_WRITTEN_DURING_REWRITE_BYTES = 64 * 1024 * 1024;

  /**
   * The rewrite: the live records as of now (the cut) go to a temp file,
   * copied as they are on disk (each source frame's checksum checked, no
   * entry decoded) under a hard state and compact record from the index;
   * then, on the write queue, what was written since the cut is appended
   * verbatim (whole frames, in order, so replay reads the same history),
   * the temp file replaces the log (rename, fsync dir) and later writes go
   * to it. A failure before the rename keeps the old file, which is
   * complete, and the node goes on; one during the swap stops the node.
   */
  private async rewriteInBackground(): Promise<void> {
    const cut = this.fileEnd;
    const index = this.index;
    const firstIndex = index.firstIndex;
    const offsets = index.offsets.slice();
    const head: Buffer[] = [];
    if (index.hardStateRecordBytes > 0) head.push(encodeRecord({ type: 'hard_state', hardState: index.hardState }));
    if (index.compactRecordBytes > 0) head.push(encodeRecord({ type: 'compact', firstIndex, prevTerm: index.prevTerm }));
    const tmp = this.file + TEMP_SUFFIX;
    let tmpFh: StorageFile | null = null;
    let prefixEnd: number;
    let newOffsets: number[];
    try {
      const raw = rawEntryRecords((await this.fs.readFile(this.file)).subarray(0, cut), firstIndex, offsets);
      if (!raw.ok) throw new Error(`the live records do not read back: ${raw.reason}`);
      const { frames, frameOf } = encodeFrames(head.concat(raw.records));
      const frameStarts: number[] = [];
      prefixEnd = FILE_MAGIC.length;
      for (const f of frames) {
        frameStarts.push(prefixEnd);
        prefixEnd += f.length;
      }
      newOffsets = raw.records.map((_, i) => frameStarts[frameOf[head.length + i]!]!);
      tmpFh = await this.fs.open(tmp, 'create');
      await writeFully(tmpFh, Buffer.concat([FILE_MAGIC, ...frames]), 0);
      await tmpFh.sync();
    } catch (e) {
      await this.abandonRewrite(tmp, tmpFh, `rewrite of ${this.file} abandoned, the old file stays: ${(e as Error).message}`);
      return;
    }
    const fh = tmpFh;
    const swapped = this.queue.then(async () => {
      if (this.failure !== null || this.writtenSinceCut === null) {
        const why = this.failure !== null ? 'the storage failed' : 'too much was written meanwhile';
        await this.abandonRewrite(tmp, fh, `rewrite of ${this.file} abandoned (${why}), the old file stays`);
        return;
      }
      const tail = Buffer.concat(this.writtenSinceCut);
      assert(cut + tail.length === this.fileEnd, 'the rewrite saw every write since its cut');
      try {
        await writeFully(fh, tail, prefixEnd);
        await fh.sync();
        await fh.close();
      } catch (e) {
        await this.abandonRewrite(tmp, null, `rewrite of ${this.file} abandoned, the old file stays: ${(e as Error).message}`);
        return;
      }
      const before = this.fileEnd;
      try {
        await this.fs.rename(tmp, this.file);
        await this.fs.fsyncDir(path.dirname(this.file));
        await this.fh.close();
        this.fh = await this.fs.open(this.file, 'existing');
      } catch (e) {
        // Either file is a complete log (the rename is atomic), but which one this handle points at is unknown: stop.
        this.failure = new Error(`storage rewrite of ${this.file} failed: ${(e as Error).message}; the node must stop`, { cause: e });
        this.log(`storage: ${this.failure.message}`);
        return;
      }
      const delta = prefixEnd - cut;
      this.fileEnd += delta;
      this.logicalEnd += delta;
      this.index.relocate(cut, (i) => newOffsets[i - firstIndex]!, delta);
      this.log(
        `storage: rewrote ${this.file} after compaction to index ${firstIndex - 1}: ${before} -> ${this.fileEnd} bytes ` +
          `(${tail.length} bytes written meanwhile)`,
      );
    });
    this.queue = swapped.catch((e: unknown) => {
      // A broken invariant of the swap (an assertion): the file's state is unknown, so stop.
      this.failure ??= new Error(`storage rewrite of ${this.file} failed: ${(e as Error).message}; the node must stop`, { cause: e });
      this.log(`storage: ${this.failure.message}`);
    });
    await this.queue;
  }

  private async abandonRewrite(tmp: string, fh: StorageFile | null, why: string): Promise<void> {
    this.log(`storage: ${why}`);
    try {
      if (fh !== null) await fh.close();
      await this.fs.removeFile(tmp);
    } catch {
      // A temp file left behind is removed when the log is next opened.
    }
  }

  /** Encode, index and write `records` as one frame (one persist call): durable when the promise resolves (lazy mode: buffered). */
  private append(records: readonly LogRecord[], inBackground = false): Promise<void> {
    let encoded: Buffer[];
    try {
      encoded = records.map(encodeRecord);
    } catch (e) {
      return Promise.reject(e);
    }
    // One frame per call (see record.ts): all-or-nothing on recovery.
    const { frames, frameOf } = encodeFrames(encoded);
    const frameOffsets: number[] = [];
    let end = this.logicalEnd;
    for (const f of frames) {
      frameOffsets.push(end);
      end += f.length;
    }
    records.forEach((record, i) => {
      assert(this.index.check(record) === null, 'checkPersist covers every record');
      this.index.apply(record, frameOffsets[frameOf[i]!]!, encoded[i]!.length);
    });
    const buf = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
    this.logicalEnd = end;

    if (this.lazy) {
      if (buf.length > 0) {
        this.pending.push(buf);
        this.pendingBytes += buf.length;
      }
      // Bounded memory: past the limit the caller waits for a real flush.
      return this.pendingBytes > this.maxLazyBufferBytes ? this.flush() : Promise.resolve();
    }
    return this.enqueue(buf, inBackground);
  }

  /** Write `buf` at the end of what is queued and fsync; resolves when durable. An empty buffer just waits for the queue. */
  private enqueue(buf: Buffer, inBackground = false): Promise<void> {
    const done = this.queue.then(() => {
      if (buf.length === 0) return this.failIfFailed();
      const position = this.fileEnd;
      this.fileEnd += buf.length;
      const since = this.writtenSinceCut;
      if (since !== null) {
        // The running rewrite appends these to its copy; past the bound it gives up rather than hold them.
        this.writtenSinceCutBytes += buf.length;
        if (this.writtenSinceCutBytes > FileRaftStorage.MAX_WRITTEN_DURING_REWRITE_BYTES) this.writtenSinceCut = null;
        else since.push(buf);
      }
      return this.writeAt(buf, position, inBackground);
    });
    this.queue = done.catch(() => {});
    return done;
  }

  private failIfFailed(): void {
    if (this.failure !== null) throw this.failure;
  }

  private async writeAt(buf: Buffer, position: number, inBackground: boolean): Promise<void> {
    this.failIfFailed();
    try {
      // Synchronous on purpose: the write + fdatasync is on the critical path
      // of every acknowledgement, and a libuv threadpool round trip per call
      // costs more than it saves. Inputs that arrive meanwhile wait in the
      // socket buffer and are batched into the next Ready (group commit).
      let done = 0;
      while (done < buf.length) {
        const written = this.fh.writeSync(buf, done, buf.length - done, position + done);
        assert(written > 0, 'write made progress');
        done += written;
      }
      // fdatasync: synchronous on the real disk (null) unless the caller works on
      // meanwhile (PersistOptions.inBackground); a simulated disk's takes simulated time.
      const syncing = inBackground ? this.fh.datasyncInBackground() : this.fh.datasync();
      if (syncing !== null) await syncing;
    } catch (e) {
      if (this.ignoreWriteErrors) {
        // The unsafe behaviour: as if the call had worked. The frame's offsets stay taken, so the next write lands
        // past whatever this one did not store (a hole, or a torn frame, in the middle of the log).
        this.log(
          `storage: IGNORED (--unsafe-ignore-disk-errors) a failed write to ${this.file} at offset ${position}: ${(e as Error).message}`,
        );
        return;
      }
      // After a failed write or fsync the file's contents are unknown (a retried fsync can report success for lost pages), so never try again.
      this.failure = new Error(`storage write to ${this.file} at offset ${position} failed: ${(e as Error).message}; the node must stop`, {
        cause: e,
      });
      this.log(`storage: ${this.failure.message}`);
      // Cut the failed frame off before stopping. Linux marks the pages of a failed write-back clean: they stay
      // readable in the page cache though the disk never got them, and no later fsync writes them. A node restarted
      // without a power failure in between would read this frame back as durable, acknowledge what it holds, and
      // write after it; a later power failure would then leave a hole of old bytes or zeros where it was (the node
      // refuses to start) or drop what it acknowledged. Everything before `position` is durable: each write starts
      // only after the one before it was fsynced. Best effort: if this fails too, the disk is in worse trouble.
      try {
        await this.fh.truncate(position);
      } catch (t) {
        this.log(`storage: could not cut the failed write off ${this.file} at offset ${position}: ${(t as Error).message}`);
      }
      throw this.failure;
    }
  }

  /** Lazy mode: hand everything buffered to the write queue. */
  private flush(): Promise<void> {
    const buf = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    return this.enqueue(buf);
  }

  close(): Promise<void> {
    if (this.closing === null) this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (this.stopFlushTimer !== null) this.stopFlushTimer();
    // A rewrite in progress finishes first (bounded: one copy of the live log); a crash instead would leave the old file, complete.
    if (this.rewriting !== null) await this.rewriting;
    try {
      if (this.lazy) await this.flush();
      else await this.enqueue(Buffer.alloc(0));
    } finally {
      await this.fh.close();
    }
  }
}
