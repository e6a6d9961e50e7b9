/**
 * A page cache in the node's own memory, beneath the storage: the crash
 * model the test harness switches on (`rift-node --page-cache-crash-model`)
 * so that killing a node is a power failure for its disk.
 *
 * Why: a SIGKILL loses nothing that a process wrote to a file, because the
 * kernel's page cache survives the process; only a power failure loses
 * written-but-not-fsynced data. So a node that acknowledged before its
 * fsync (or never fsynced at all) passes every kill test. Jepsen closes the
 * gap with LazyFS, a FUSE file system that keeps unsynced writes in its own
 * memory and drops them on command ("lose unfsynced writes"). LazyFS is not
 * available here, so this layer does the same one level up: writes through
 * it stay in this process's memory until the storage's `datasync`/`sync`,
 * which writes them to the real file and then fsyncs it. A SIGKILL of the
 * node then loses exactly what was never synced, as a power failure would,
 * and nothing a correct node acknowledged (it fsyncs before it answers).
 *
 * What it models and what it does not:
 * - unsynced data is lost whole (no torn or reordered pages: the harness's
 *   disk nemesis writes torn tails itself, harness/nemesis/kinds/disk.ts);
 * - creating, renaming and removing files and directories, and truncation,
 *   go straight to the kernel (they survive a kill). The storage fsyncs
 *   each of them right away (file-storage.ts), and the simulator models
 *   their durability fully (sim/sim-fs.ts);
 * - a clean close hands cached data to the kernel (a process that exits is
 *   not a power failure);
 * - past `maxDirtyBytes` of cached data the cache writes it to the kernel
 *   without an fsync, as the kernel's own writeback would: bounded memory,
 *   and data that old survives a kill as it survives most power failures.
 *
 * A correct node behaves identically with or without it; the cost is one
 * copy of each write.
 */
import type { OpenMode, StorageFile, StorageFs } from './storage-fs.js';

export interface PageCacheOptions {
  /** Cached bytes (all files) past which they are written to the kernel unsynced. Default 64 MiB. */
  readonly maxDirtyBytes?: number;
}

interface PendingWrite {
  readonly position: number;
  readonly bytes: Buffer;
}

class CachedFile implements StorageFile {
  private pending: PendingWrite[] = [];

  constructor(
    readonly cache: PageCache,
    private readonly inner: StorageFile,
    public file: string,
  ) {}

  get pendingWrites(): readonly PendingWrite[] {
    return this.pending;
  }

  writeSync(buffer: Uint8Array, offset: number, length: number, position: number): number {
    // A copy: the caller may reuse its buffer once the write returns.
    this.pending.push({ position, bytes: Buffer.from(buffer.subarray(offset, offset + length)) });
    this.cache.dirtied(length);
    return length;
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return Promise.resolve(this.writeSync(buffer, offset, length, position));
  }

  datasync(): Promise<void> | null {
    this.writeBack();
    return this.inner.datasync();
  }

  datasyncInBackground(): Promise<void> {
    this.writeBack();
    return this.inner.datasyncInBackground();
  }

  sync(): Promise<void> {
    this.writeBack();
    return this.inner.sync();
  }

  async truncate(length: number): Promise<void> {
    this.writeBack();
    await this.inner.truncate(length);
  }

  async close(): Promise<void> {
    this.writeBack();
    this.cache.closed(this);
    await this.inner.close();
  }

  /** Hands every cached write to the kernel, in order (no fsync): a datasync or sync follows, or a clean close. */
  writeBack(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    let bytes = 0;
    for (const w of pending) {
      let done = 0;
      while (done < w.bytes.length) {
        const n = this.inner.writeSync(w.bytes, done, w.bytes.length - done, w.position + done);
        if (n <= 0) throw new Error(`page cache: write-back to ${this.file} made no progress`);
        done += n;
      }
      bytes += w.bytes.length;
    }
    this.cache.cleaned(bytes);
  }
}

class PageCache implements StorageFs {
  private readonly files = new Set<CachedFile>();
  private dirtyBytes = 0;
  private readonly maxDirtyBytes: number;

  constructor(
    private readonly inner: StorageFs,
    opts: PageCacheOptions,
  ) {
    this.maxDirtyBytes = opts.maxDirtyBytes ?? 64 * 1024 * 1024;
  }

  get sectorBytes(): number {
    return this.inner.sectorBytes;
  }

  dirtied(bytes: number): void {
    this.dirtyBytes += bytes;
    if (this.dirtyBytes > this.maxDirtyBytes) for (const f of this.files) f.writeBack();
  }

  cleaned(bytes: number): void {
    this.dirtyBytes -= bytes;
  }

  closed(file: CachedFile): void {
    this.files.delete(file);
  }

  mkdirp(dir: string): Promise<string | undefined> {
    return this.inner.mkdirp(dir);
  }

  /** The kernel's copy with this process's cached writes on top (what a read through a page cache returns). */
  async readFile(file: string): Promise<Buffer> {
    let buf = await this.inner.readFile(file);
    for (const f of this.files) {
      if (f.file !== file) continue;
      for (const w of f.pendingWrites) {
        if (w.position + w.bytes.length > buf.length) {
          const grown = Buffer.alloc(w.position + w.bytes.length);
          buf.copy(grown);
          buf = grown;
        }
        w.bytes.copy(buf, w.position);
      }
    }
    return buf;
  }

  removeFile(file: string): Promise<void> {
    return this.inner.removeFile(file);
  }

  async rename(from: string, to: string): Promise<void> {
    await this.inner.rename(from, to);
    for (const f of this.files) if (f.file === from) f.file = to;
  }

  fsyncDir(dir: string): Promise<void> {
    return this.inner.fsyncDir(dir);
  }

  async open(file: string, mode: OpenMode): Promise<StorageFile> {
    const cached = new CachedFile(this, await this.inner.open(file, mode), file);
    this.files.add(cached);
    return cached;
  }
}

/** `inner` (the real file system) with a page cache in this process's memory on top: see the file comment. */
export function pageCacheFs(inner: StorageFs, opts: PageCacheOptions = {}): StorageFs {
  return new PageCache(inner, opts);
}
