/**
 * The file-system operations the durable storage performs, and nothing
 * more: the seam through which the same `openFileStorage`/`FileRaftStorage`
 * code runs on the real disk (`node-fs.ts`), on the harness's page-cache
 * layer that makes a SIGKILL lose unsynced writes (`page-cache-fs.ts`), and
 * on the simulator's disk model (`sim/sim-fs.ts`), where fsync takes
 * simulated time and a crash decides the fate of what was not synced
 * (TigerBeetle's `ReplicaType(..., Storage, ...)`, FoundationDB's
 * `AsyncFileNonDurable`: the same code, a swapped IO layer).
 *
 * The durability contract the storage relies on is POSIX's, stated here so
 * that every implementation models the same thing:
 * - a write is durable only once a later `datasync`/`sync` of its file has
 *   completed; until then a crash may lose it, keep it, or keep part of it;
 * - creating, removing or renaming a directory entry is durable only once a
 *   later `fsyncDir` of its directory has completed.
 */

/** An open regular file. Offsets and lengths are in bytes. */
export interface StorageFile {
  /**
   * Positioned write on the calling thread; returns the bytes written
   * (possibly fewer than asked: the caller loops). Used on the
   * acknowledgement path, where a thread-pool round trip costs more than
   * the write (file-storage.ts, `writeAt`).
   */
  writeSync(buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** Positioned write through the thread pool; resolves to the bytes written. */
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /**
   * fdatasync: makes the file's data (and its size) durable. The real file
   * system does it on the calling thread and returns null (synchronous, like
   * `writeSync`); the simulated one returns a promise that settles after a
   * simulated latency, so that other events interleave with the fsync. A
   * failure throws (or rejects): what reached the disk is then unknown.
   */
  datasync(): Promise<void> | null;
  /**
   * fdatasync without holding the calling thread: the real file system runs
   * it in the thread pool, so the event loop goes on while the disk flushes
   * (the leader's own log writes, which nothing waits for but its own count
   * towards a commit quorum: thesis §10.2.1). The same durability as `datasync`.
   */
  datasyncInBackground(): Promise<void>;
  /** fsync: data and metadata durable. */
  sync(): Promise<void>;
  /** Sets the file's length (a volatile change until the next sync). */
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * How `open` opens a file: `create` creates it or empties it (`'w'`),
 * `existing` opens an existing file for reading and writing (`O_RDWR`;
 * a missing file is an ENOENT error).
 */
export type OpenMode = 'create' | 'existing';

/** Paths are absolute. Errors carry Node's `code` (`ENOENT`, ...), as node:fs errors do. */
export interface StorageFs {
  /**
   * The disk's sector: the unit it writes atomically, so the grain at which
   * a write lost in a power failure leaves what the disk held before (zeros
   * past a file's old end). Recovery reads a sector's share of the last
   * frame that is all zeros as such a loss (replay.ts). Real disks: 512
   * (`SECTOR_BYTES`) or 4096; the simulator can give a disk much smaller
   * sectors, which makes shares that are zero by nature common and so puts
   * that rule under test (sim-fs.ts).
   */
  readonly sectorBytes: number;
  /** `mkdir -p`: resolves to the first directory it created, or undefined when `dir` existed. */
  mkdirp(dir: string): Promise<string | undefined>;
  /** The whole file, as the process sees it (page cache included). */
  readFile(file: string): Promise<Buffer>;
  /** Removes `file` if it exists (`rm -f`). */
  removeFile(file: string): Promise<void>;
  /** Atomically replaces `to` with `from` (same directory). */
  rename(from: string, to: string): Promise<void>;
  /** fsync of a directory: makes its entries (creations, removals, renames) durable. */
  fsyncDir(dir: string): Promise<void>;
  open(file: string, mode: OpenMode): Promise<StorageFile>;
}
