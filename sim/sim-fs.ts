/**
 * A simulated file system with a page cache: the `StorageFs`
 * (node/storage/storage-fs.ts) the simulator runs the real
 * `openFileStorage`/`FileRaftStorage` on. One instance is one machine's disk.
 *
 * Model (POSIX's durability contract, with the crash behaviour of
 * TigerBeetle's `testing/storage.zig` and FoundationDB's
 * `AsyncFileNonDurable`):
 * - every file has a volatile image (the page cache: what reads return)
 *   and a durable image (what survives a crash). Writes and truncations
 *   change the volatile image only;
 * - `datasync`/`sync` take a simulated latency (one at a time, in call
 *   order, like one disk queue) and then make the volatile image as it was
 *   at the call durable. The storage awaits them, so other simulated events
 *   interleave with every fsync, and a crash can land in the middle;
 * - directory entries (create, remove, rename) likewise have a volatile and
 *   a durable set; `fsyncDir` makes the changes made before it durable. A
 *   rename is therefore durable only after its directory's fsync;
 * - a crash (`crash()`) gives each file's unsynced range one fate: `lost`
 *   (the durable image stays), `whole` (everything written reaches the
 *   disk), `torn` (a prefix of the range does) or `garbled` (pages persisted
 *   out of order: the range is written except for some sectors (512 bytes unless the options say),
 *   which read back as what the disk held before, zeros past its old end).
 *   A directory keeps a prefix of its unsynced changes, in order (a
 *   metadata journal commits in order). Synced data always survives;
 * - after a crash, every handle and every pending operation of the previous
 *   boot is dead: its fsyncs never complete, its writes do nothing (the
 *   process that made them is gone). A new boot gets a fresh `process()`.
 *
 * Deterministic: the only randomness is the stream given (latencies and
 * crash fates), time is the event queue's, and files and directory entries
 * are visited in creation order.
 */
import path from 'node:path';
import type { OpenMode, StorageFile, StorageFs } from '../node/storage/storage-fs.js';
import { SECTOR_BYTES } from '../node/storage/replay.js';
import { assert } from '../node/util/assert.js';
import type { EventQueue, SimEvent } from './event-queue.js';
import type { Stream } from './streams.js';
import type { IoErrorOp } from './scenario.js';

/** An `io_error` fault that fired (failNext): which call failed, on which file, with which code. */
export interface FiredIoFailure {
  readonly op: IoErrorOp;
  readonly code: string;
  readonly file: string;
  /** The call reported success and did nothing (SimOptions.diskErrorsSilent). */
  readonly silent: boolean;
}

export type CrashFate = 'lost' | 'whole' | 'torn' | 'garbled';

export interface SimFsOptions {
  /** Latency of an fsync (datasync, sync, fsyncDir), drawn uniformly from [min, max] ms. */
  readonly syncMsMin: number;
  readonly syncMsMax: number;
  /** Called when an fsync completes, before its caller resumes. */
  readonly onSyncComplete?: () => void;
  /** The disk's sector (StorageFs `sectorBytes`): what a garbled crash loses a whole of. Default SECTOR_BYTES. */
  readonly sectorBytes?: number;
  /** Called when an armed failure (failNext) fires, before the failing call returns or rejects. */
  readonly onIoFailure?: (failure: FiredIoFailure) => void;
}

/** A growable byte array: a file image. */
export class Bytes {
  private buf: Buffer;
  length = 0;

  constructor(initial?: Uint8Array) {
    this.buf = Buffer.alloc(Math.max(64, initial?.length ?? 0));
    if (initial !== undefined) {
      this.buf.set(initial);
      this.length = initial.length;
    }
  }

  /** The bytes (a view: copy before keeping it across changes). */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** Writes `src` at `position`; a gap past the end reads as zeros. */
  writeAt(position: number, src: Uint8Array): void {
    this.resize(Math.max(this.length, position + src.length));
    this.buf.set(src, position);
  }

  /** Shrinks, or extends with zeros. */
  resize(length: number): void {
    if (length > this.buf.length) {
      const grown = Buffer.alloc(Math.max(length, this.buf.length * 2));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    } else if (length > this.length) {
      this.buf.fill(0, this.length, length);
    }
    this.length = length;
  }
}

class FileNode {
  readonly kind = 'file';
  readonly volatile = new Bytes();
  durable = new Bytes();
  /** Lowest offset changed since the last sync call (null: nothing). */
  dirtyFrom: number | null = null;
  /** Lowest offset each in-flight sync covers (they are not durable until they complete). */
  readonly inflight = new Set<{ readonly from: number }>();
  /**
   * Lowest offset a silently failed fsync (SimOptions.diskErrorsSilent) reported durable and dropped: the pages
   * are clean in the cache but never reached the disk (Linux after a failed write-back), so a crash loses them
   * whatever else it keeps. Null: none.
   */
  lostFrom: number | null = null;

  constructor(readonly id: number) {}

  markDirty(from: number): void {
    this.dirtyFrom = this.dirtyFrom === null ? from : Math.min(this.dirtyFrom, from);
  }

  /** Start of the range a crash can lose, or null when everything is durable. */
  unsyncedFrom(): number | null {
    let from = this.lostFrom === null ? this.dirtyFrom : Math.min(this.dirtyFrom ?? this.lostFrom, this.lostFrom);
    for (const s of this.inflight) from = from === null ? s.from : Math.min(from, s.from);
    return from;
  }
}

type DirOp =
  | { readonly seq: number; readonly kind: 'link'; readonly name: string; readonly node: Node }
  | { readonly seq: number; readonly kind: 'unlink'; readonly name: string }
  | { readonly seq: number; readonly kind: 'rename'; readonly from: string; readonly to: string; readonly node: Node };

class DirNode {
  readonly kind = 'dir';
  /** What lookups see. */
  entries = new Map<string, Node>();
  /** What survives a crash. */
  durable = new Map<string, Node>();
  /** Changes not yet durable, oldest first. */
  journal: DirOp[] = [];

  constructor(readonly id: number) {}
}

type Node = FileNode | DirNode;

function applyOp(entries: Map<string, Node>, op: DirOp): void {
  switch (op.kind) {
    case 'link':
      entries.set(op.name, op.node);
      return;
    case 'unlink':
      entries.delete(op.name);
      return;
    case 'rename':
      entries.delete(op.from);
      entries.set(op.to, op.node);
      return;
  }
}

function fsError(code: string, what: string, file: string): Error {
  // ENOENT without a stack: the storage expects it (it probes for files at every start), and capturing a stack
  // trace cost more than the rest of the lookup (profiled). The others, never expected, keep theirs for debugging.
  const limit = Error.stackTraceLimit;
  if (code === 'ENOENT') Error.stackTraceLimit = 0;
  try {
    return Object.assign(new Error(`${code}: ${what}, '${file}'`), { code });
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The message Node gives each code (`ENOSPC: no space left on device, write`), for the errors a failure raises. */
function ioErrorText(code: string): string {
  return code === 'ENOSPC' ? 'no space left on device' : code === 'EROFS' ? 'read-only file system' : code === 'EIO' ? 'i/o error' : code;
}

/** A promise that never settles: what a dead process's operation amounts to. */
function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

export interface CrashOutcome {
  readonly file: string;
  readonly fate: CrashFate;
  /** Bytes of the file that were not durable. */
  readonly unsyncedBytes: number;
}

export class SimFs {
  private readonly root = new DirNode(0);
  private nextId = 1;
  private nextSeq = 1;
  /** Every file, in creation order (crash fates are drawn in this order). */
  private files = new Map<number, FileNode>();
  /** Bumped by every crash: handles and operations of an older boot are dead. */
  private boot = 0;
  private readonly events = new Set<SimEvent>();
  private readonly splitCache = new Map<string, readonly string[]>();
  private lastCompletionMs = 0;
  /** Fsyncs completed (all boots). */
  syncs = 0;
  readonly sectorBytes: number;
  /** The armed failure (failNext), or null. A disk's property, not a process's: it survives crashes until it fires. */
  private armed: { readonly op: IoErrorOp; readonly code: string; left: number; readonly silent: boolean } | null = null;

  constructor(
    private readonly queue: EventQueue,
    private readonly stream: Stream,
    private readonly options: SimFsOptions,
  ) {
    this.sectorBytes = options.sectorBytes ?? SECTOR_BYTES;
    assert(Number.isInteger(this.sectorBytes) && this.sectorBytes >= 1, `sector size must be a positive integer, got ${this.sectorBytes}`);
  }

  /** True while an fsync of the current boot is in flight (its caller waits on simulated time). */
  get waiting(): boolean {
    return this.events.size > 0;
  }

  /** The file system as the current boot's process sees it. */
  process(): StorageFs {
    const boot = this.boot;
    const alive = (): boolean => boot === this.boot;
    return {
      sectorBytes: this.sectorBytes,
      mkdirp: (dir) => (alive() ? Promise.resolve(this.mkdirp(dir)) : never()),
      readFile: (file) => (alive() ? this.attempt(() => Buffer.from(this.lookupFile(file).volatile.view())) : never()),
      removeFile: (file) => (alive() ? this.attempt(() => this.removeFile(file)) : never()),
      rename: (from, to) =>
        alive()
          ? this.attempt(() => {
              const failure = this.trip('rename', from);
              if (failure === null) this.rename(from, to);
              else if (!failure.silent) throw fsError(failure.code, ioErrorText(failure.code), from);
            })
          : never(),
      fsyncDir: (dir) => {
        if (!alive()) return never();
        let node: DirNode;
        try {
          node = this.lookupDir(dir);
        } catch (error) {
          return Promise.reject(error);
        }
        const failure = this.trip('fsync_dir', dir);
        if (failure !== null) return this.failAfterLatency(failure, dir); // the journal stays as it is: not durable
        const upTo = this.nextSeq - 1;
        return this.afterLatency(() => {
          const durableNow = node.journal.filter((op) => op.seq <= upTo);
          node.journal = node.journal.filter((op) => op.seq > upTo);
          for (const op of durableNow) applyOp(node.durable, op);
        });
      },
      open: (file, mode) =>
        alive()
          ? this.attempt(() => {
              const failure = this.trip('open', file);
              if (failure === null) return this.openFile(file, mode, boot);
              if (failure.silent) return this.handle(new FileNode(this.nextId++), boot, file); // a file no entry names
              throw fsError(failure.code, ioErrorText(failure.code), file);
            })
          : never(),
    };
  }

  /**
   * Arms a failure (an `io_error` fault): the call of kind `op` after the
   * next `skip` such calls, by whichever boot makes them, fails with `code`
   * (or, `silent`, reports success and does nothing). Replaces one armed
   * before that has not fired.
   */
  failNext(op: IoErrorOp, code: string, skip: number, silent = false): void {
    this.armed = { op, code, left: skip, silent };
  }

  /** Disarms a failure that has not fired (the heal: the disk is fixed). */
  disarm(): void {
    this.armed = null;
  }

  /** Whether a failure is armed and has not fired. */
  get failureArmed(): boolean {
    return this.armed !== null;
  }

  /**
   * The armed failure, if this call (`op` on `file`) is the one it fails; it then fires (and is disarmed). A call
   * that fails at once is reported (onIoFailure) now; an fsync, when it completes (failAfterLatency).
   */
  private trip(op: IoErrorOp, file: string): { readonly op: IoErrorOp; readonly code: string; readonly silent: boolean } | null {
    const armed = this.armed;
    if (armed === null || armed.op !== op) return null;
    if (armed.left > 0) {
      armed.left--;
      return null;
    }
    this.armed = null;
    if (op !== 'fsync' && op !== 'fsync_dir') this.options.onIoFailure?.({ op, code: armed.code, file, silent: armed.silent });
    return armed;
  }

  /** An fsync that fails: it takes its latency, then rejects with `failure.code` (or, silent, resolves), making nothing durable. */
  private failAfterLatency(
    failure: { readonly op: IoErrorOp; readonly code: string; readonly silent: boolean },
    file: string,
  ): Promise<void> {
    const done = this.afterLatency(() => this.options.onIoFailure?.({ op: failure.op, code: failure.code, file, silent: failure.silent }));
    return failure.silent ? done : done.then(() => Promise.reject(fsError(failure.code, ioErrorText(failure.code), file)));
  }

  /**
   * Power failure: every unsynced file range meets a fate, every directory
   * keeps a prefix of its unsynced changes; pending fsyncs are cancelled and
   * the current boot's handles die. Returns the fate of each file that had
   * unsynced data (by its durable path, or `(unlinked)`).
   */
  crash(): CrashOutcome[] {
    this.boot++;
    for (const event of this.events) event.cancelled = true;
    this.events.clear();
    const outcomes: CrashOutcome[] = [];
    const names = this.durablePaths();
    for (const file of this.files.values()) {
      const from = file.unsyncedFrom();
      const dropped = file.lostFrom !== null;
      file.inflight.clear();
      file.dirtyFrom = null;
      file.lostFrom = null;
      if (from === null) continue;
      const unsyncedBytes = Math.max(0, file.volatile.length - from, file.durable.length - from);
      const fate = this.applyFate(file, from, dropped);
      outcomes.push({ file: names.get(file.id) ?? '(unlinked)', fate, unsyncedBytes });
    }
    this.crashDirectory(this.root);
    // Files no durable entry reaches are gone for good.
    const reachable = this.durablePaths();
    this.files = new Map([...this.files].filter(([id]) => reachable.has(id)));
    return outcomes;
  }

  /**
   * The process exits (it stopped on a failed call) while the machine runs on: its handles and pending calls die,
   * but the page cache keeps what it wrote (unsynced data stays unsynced, for a later power failure to decide) and
   * the directory changes it made stay as they are.
   */
  processExit(): void {
    this.boot++;
    for (const event of this.events) event.cancelled = true;
    this.events.clear();
    for (const file of this.files.values()) {
      // An fsync in flight that never completes leaves its range dirty.
      for (const s of file.inflight) file.markDirty(s.from);
      file.inflight.clear();
    }
  }

  // ---------------------------------------------------------------- disk access for faults and tests
  // These act on the disk itself (a machine that is off, or bit rot), not through a process.

  /** The durable bytes of `file` (a copy), or null when no durable entry names it. */
  readDurable(file: string): Buffer | null {
    const node = this.durableLookup(file);
    return node === null ? null : Buffer.from(node.durable.view());
  }

  /**
   * Flips the bits of `mask` in the byte at `offset` on the disk (bit rot).
   * The cached copy changes too where it is clean: a page not written since
   * it was read back is the disk's. Where the cache holds newer, unsynced
   * data, that data overwrites the damage when it is synced (a rewritten
   * sector). Returns false when no durable entry names the file or it is
   * shorter than `offset`.
   */
  flipDurable(file: string, offset: number, mask: number): boolean {
    const node = this.durableLookup(file);
    if (node === null || offset >= node.durable.length) return false;
    const durable = node.durable.view();
    durable[offset] = durable[offset]! ^ mask;
    const unsynced = node.unsyncedFrom();
    if ((unsynced === null || offset < unsynced) && offset < node.volatile.length) {
      const cached = node.volatile.view();
      cached[offset] = durable[offset]!;
    }
    return true;
  }

  /**
   * Replaces the whole content of `file` on the disk, as an edit made while
   * the machine is off (after `crash()`; nothing of it may be unsynced).
   * Returns false when no durable entry names it.
   */
  replaceDurable(file: string, bytes: Uint8Array): boolean {
    const node = this.durableLookup(file);
    if (node === null) return false;
    assert(node.unsyncedFrom() === null, 'sim fs: replaceDurable on a file with unsynced data (crash first)');
    node.durable = new Bytes(bytes);
    node.volatile.resize(0);
    node.volatile.writeAt(0, bytes);
    return true;
  }

  /** Whether the volatile and durable views agree everywhere (nothing unsynced). For tests. */
  isQuiescent(): boolean {
    for (const file of this.files.values()) if (file.unsyncedFrom() !== null) return false;
    const dirs: DirNode[] = [this.root];
    while (dirs.length > 0) {
      const dir = dirs.pop()!;
      if (dir.journal.length > 0) return false;
      for (const child of dir.entries.values()) if (child.kind === 'dir') dirs.push(child);
    }
    return true;
  }

  // ---------------------------------------------------------------- operations

  private attempt<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Completes `complete` after a simulated fsync latency, in call order; a crash first means never. */
  private afterLatency(complete: () => void): Promise<void> {
    const boot = this.boot;
    const at = Math.max(this.queue.now, this.lastCompletionMs) + this.stream.int(this.options.syncMsMin, this.options.syncMsMax);
    this.lastCompletionMs = at;
    return new Promise<void>((resolve) => {
      const event = this.queue.schedule(at - this.queue.now, () => {
        this.events.delete(event);
        if (boot !== this.boot) return;
        this.syncs++;
        complete();
        this.options.onSyncComplete?.();
        resolve();
      });
      this.events.add(event);
    });
  }

  /** A path's components (a fresh array: callers may change it), resolved once per distinct path (a disk has a few). */
  private split(file: string): string[] {
    let parts = this.splitCache.get(file);
    if (parts === undefined) {
      const normal = path.posix.resolve('/', file);
      parts = normal === '/' ? [] : normal.slice(1).split('/');
      if (this.splitCache.size < 1024) this.splitCache.set(file, parts);
    }
    return parts.slice();
  }

  private lookup(file: string): Node | null {
    let node: Node = this.root;
    for (const part of this.split(file)) {
      if (node.kind !== 'dir') return null;
      const next: Node | undefined = node.entries.get(part);
      if (next === undefined) return null;
      node = next;
    }
    return node;
  }

  private parentOf(file: string): { dir: DirNode; name: string } {
    const parts = this.split(file);
    const name = parts.pop();
    if (name === undefined) throw fsError('EISDIR', 'is the root directory', file);
    const dir = this.lookup('/' + parts.join('/'));
    if (dir === null) throw fsError('ENOENT', 'no such file or directory', file);
    if (dir.kind !== 'dir') throw fsError('ENOTDIR', 'not a directory', file);
    return { dir, name };
  }

  private lookupFile(file: string): FileNode {
    const node = this.lookup(file);
    if (node === null) throw fsError('ENOENT', 'no such file or directory', file);
    if (node.kind !== 'file') throw fsError('EISDIR', 'illegal operation on a directory', file);
    return node;
  }

  private lookupDir(dir: string): DirNode {
    const node = this.lookup(dir);
    if (node === null) throw fsError('ENOENT', 'no such file or directory', dir);
    if (node.kind !== 'dir') throw fsError('ENOTDIR', 'not a directory', dir);
    return node;
  }

  private change(dir: DirNode, op: DirOp): void {
    dir.journal.push(op);
    applyOp(dir.entries, op);
  }

  private mkdirp(dir: string): string | undefined {
    let node: DirNode = this.root;
    let first: string | undefined;
    const parts = this.split(dir);
    parts.forEach((part, i) => {
      const next = node.entries.get(part);
      if (next === undefined) {
        const created = new DirNode(this.nextId++);
        this.change(node, { seq: this.nextSeq++, kind: 'link', name: part, node: created });
        first ??= '/' + parts.slice(0, i + 1).join('/');
        node = created;
      } else {
        if (next.kind !== 'dir') throw fsError('ENOTDIR', 'not a directory', dir);
        node = next;
      }
    });
    return first;
  }

  private removeFile(file: string): void {
    const { dir, name } = this.parentOf(file);
    const node = dir.entries.get(name);
    if (node === undefined) return;
    if (node.kind !== 'file') throw fsError('EISDIR', 'is a directory', file);
    this.change(dir, { seq: this.nextSeq++, kind: 'unlink', name });
  }

  private rename(from: string, to: string): void {
    const a = this.parentOf(from);
    const b = this.parentOf(to);
    assert(a.dir === b.dir, 'sim fs: rename stays within one directory');
    const node = a.dir.entries.get(a.name);
    if (node === undefined) throw fsError('ENOENT', 'no such file or directory', from);
    this.change(a.dir, { seq: this.nextSeq++, kind: 'rename', from: a.name, to: b.name, node });
  }

  private openFile(file: string, mode: OpenMode, boot: number): StorageFile {
    let node = this.lookup(file);
    if (node === null) {
      if (mode !== 'create') throw fsError('ENOENT', 'no such file or directory', file);
      const { dir, name } = this.parentOf(file);
      node = new FileNode(this.nextId++);
      this.files.set(node.id, node);
      this.change(dir, { seq: this.nextSeq++, kind: 'link', name, node });
    } else if (node.kind !== 'file') {
      throw fsError('EISDIR', 'illegal operation on a directory', file);
    } else if (mode === 'create' && node.volatile.length > 0) {
      node.volatile.resize(0);
      node.markDirty(0);
    }
    return this.handle(node, boot, file);
  }

  private handle(node: FileNode, boot: number, file: string): StorageFile {
    const alive = (): boolean => boot === this.boot;
    const writeSync = (buffer: Uint8Array, offset: number, length: number, position: number): number => {
      if (!alive()) return length; // the process is gone: nothing happens
      const failure = this.trip('write', file);
      if (failure !== null) {
        if (failure.silent) return length; // reported written, never written
        throw fsError(failure.code, ioErrorText(failure.code), file);
      }
      node.markDirty(Math.min(position, node.volatile.length));
      node.volatile.writeAt(position, buffer.subarray(offset, offset + length));
      return length;
    };
    const sync = (): Promise<void> => {
      if (!alive()) return never();
      // A failed fsync (and a silent one, which reports success) drops what it covered: Linux marks the pages clean
      // after a failed write-back, so reads still see them while the disk never gets them, and a later fsync does not
      // write them again (lostFrom). A power failure loses them; a process that exits does not see them go.
      const failure = this.trip('fsync', file);
      if (failure !== null) {
        if (node.dirtyFrom !== null) {
          node.lostFrom = node.lostFrom === null ? node.dirtyFrom : Math.min(node.lostFrom, node.dirtyFrom);
          node.dirtyFrom = null;
        }
        return this.failAfterLatency(failure, file);
      }
      // What the call covers: the volatile image now. Later writes stay dirty.
      const from = node.dirtyFrom;
      node.dirtyFrom = null;
      const length = node.volatile.length;
      const bytes = from === null ? null : Buffer.from(node.volatile.view().subarray(from));
      const covered = { from: from ?? length };
      if (from !== null) node.inflight.add(covered);
      return this.afterLatency(() => {
        node.inflight.delete(covered);
        if (from === null) return;
        // Syncs complete in call order, so the durable image matches the volatile one up to `from`.
        node.durable.resize(from);
        node.durable.writeAt(from, bytes!);
        node.durable.resize(length);
      });
    };
    return {
      writeSync,
      write: (buffer, offset, length, position) => (alive() ? this.attempt(() => writeSync(buffer, offset, length, position)) : never()),
      datasync: sync,
      datasyncInBackground: sync,
      sync,
      truncate: (length) => {
        if (!alive()) return never();
        node.markDirty(Math.min(length, node.volatile.length));
        node.volatile.resize(length);
        if (node.lostFrom !== null && node.lostFrom >= length) node.lostFrom = null; // the dropped pages are cut off
        return Promise.resolve();
      },
      close: () => (alive() ? Promise.resolve() : never()),
    };
  }

  // ---------------------------------------------------------------- crash

  private applyFate(file: FileNode, from: number, dropped = false): CrashFate {
    const volatile = file.volatile.view();
    const durable = file.durable.view();
    // Pages a silently failed fsync dropped never reach the disk: the disk keeps what it holds (no draw: such a
    // failure is injected only in its own runs, so every other run draws as before).
    const draw = dropped ? 0 : this.stream.int(0, 3);
    const fate: CrashFate = draw === 0 ? 'lost' : draw === 1 ? 'whole' : draw === 2 ? 'torn' : 'garbled';
    let result: Buffer;
    switch (fate) {
      case 'lost':
        result = Buffer.from(durable);
        break;
      case 'whole':
        result = Buffer.from(volatile);
        break;
      case 'torn': {
        // A prefix of the unsynced range reached the disk; past it, the disk holds what it held.
        const cut = from + (volatile.length > from ? this.stream.int(0, volatile.length - from - 1) : 0);
        result = Buffer.alloc(Math.max(cut, durable.length));
        durable.copy(result, 0);
        volatile.copy(result, 0, 0, cut);
        break;
      }
      case 'garbled': {
        // Pages written back out of order: some sectors of the range never made it.
        result = Buffer.from(volatile);
        const sector = this.sectorBytes;
        const first = Math.floor(from / sector);
        const last = Math.floor(Math.max(from, volatile.length - 1) / sector);
        const lost: number[] = [];
        for (let s = first; s <= last; s++) if (this.stream.chance(0.5)) lost.push(s);
        if (lost.length === 0) lost.push(this.stream.int(first, last));
        for (const s of lost) {
          for (let p = Math.max(from, s * sector); p < Math.min(result.length, (s + 1) * sector); p++) {
            result[p] = p < durable.length ? durable[p]! : 0;
          }
        }
        break;
      }
    }
    file.durable = new Bytes(result);
    file.volatile.resize(0);
    file.volatile.writeAt(0, result);
    return fate;
  }

  private crashDirectory(dir: DirNode): void {
    if (dir.journal.length > 0) {
      const kept = this.stream.int(0, dir.journal.length);
      for (const op of dir.journal.slice(0, kept)) applyOp(dir.durable, op);
      dir.journal = [];
    }
    dir.entries = new Map(dir.durable);
    for (const child of dir.entries.values()) if (child.kind === 'dir') this.crashDirectory(child);
  }

  /** File id -> its path through durable entries. */
  private durablePaths(): Map<number, string> {
    const out = new Map<number, string>();
    const walk = (dir: DirNode, prefix: string): void => {
      for (const [name, child] of dir.durable) {
        if (child.kind === 'file') out.set(child.id, `${prefix}/${name}`);
        else walk(child, `${prefix}/${name}`);
      }
    };
    walk(this.root, '');
    return out;
  }

  private durableLookup(file: string): FileNode | null {
    let node: Node = this.root;
    for (const part of this.split(file)) {
      if (node.kind !== 'dir') return null;
      const next: Node | undefined = node.durable.get(part);
      if (next === undefined) return null;
      node = next;
    }
    return node.kind === 'file' ? node : null;
  }
}
