/**
 * Durable Raft storage: the interface drivers use, the file implementation,
 * the no-op memory implementation for `--unsafe-memory-log`, and a
 * diagnostic reader. See `storage.ts` for the contract and
 * `file-storage.ts` for the durability argument.
 */
export { StorageCorruptionError, emptyStoredState } from './storage.js';
export type { RaftStorage, RecoveryReport } from './storage.js';
export { openFileStorage, LOG_FILE_NAME } from './file-storage.js';
export type { FileStorageOptions, OpenedFileStorage } from './file-storage.js';
export { openMemoryStorage } from './memory-storage.js';
export { readLogFile } from './read-log-file.js';
export type { LogFileContents } from './read-log-file.js';
export type { LocatedFrame, TornTail } from './replay.js';
export type { LogRecord } from './record.js';
export { MAX_PAYLOAD_BYTES } from './record.js';
export { crc32 } from './crc32.js';
export { diskErrorCode } from './io-error.js';
export type { OpenMode, StorageFile, StorageFs } from './storage-fs.js';
export { nodeFs } from './node-fs.js';
export { pageCacheFs } from './page-cache-fs.js';
export type { PageCacheOptions } from './page-cache-fs.js';
export { SnapshotStore, SnapshotUnusableError, compactableIndex, encodeSnapshot, decodeSnapshot } from './snapshot-store.js';
export type { StoredSnapshot, SnapshotLoad } from './snapshot-store.js';
