/**
 * The real file system behind the storage (`storage-fs.ts`): each operation
 * is the node:fs call the storage made directly before the seam existed, so
 * a node's behaviour (and its cost: one method call more per write and per
 * fdatasync) is unchanged.
 */
import { constants as fsConstants, fdatasync, fdatasyncSync, writeSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { SECTOR_BYTES } from './replay.js';
import type { OpenMode, StorageFile, StorageFs } from './storage-fs.js';

class NodeFile implements StorageFile {
  private readonly fd: number;

  constructor(private readonly fh: FileHandle) {
    this.fd = fh.fd;
  }

  writeSync(buffer: Uint8Array, offset: number, length: number, position: number): number {
    return writeSync(this.fd, buffer, offset, length, position);
  }

  async write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return (await this.fh.write(buffer, offset, length, position)).bytesWritten;
  }

  datasync(): null {
    fdatasyncSync(this.fd);
    return null;
  }

  datasyncInBackground(): Promise<void> {
    return new Promise((resolve, reject) => fdatasync(this.fd, (error) => (error === null ? resolve() : reject(error))));
  }

  sync(): Promise<void> {
    return this.fh.sync();
  }

  truncate(length: number): Promise<void> {
    return this.fh.truncate(length);
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

export const nodeFs: StorageFs = {
  sectorBytes: SECTOR_BYTES,
  mkdirp: (dir) => mkdir(dir, { recursive: true }),
  readFile: (file) => readFile(file),
  removeFile: (file) => rm(file, { force: true }),
  rename: (from, to) => rename(from, to),
  async fsyncDir(dir) {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  async open(file: string, mode: OpenMode) {
    return new NodeFile(await open(file, mode === 'create' ? 'w' : fsConstants.O_RDWR));
  },
};
