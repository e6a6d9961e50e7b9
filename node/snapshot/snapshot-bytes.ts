/**
 * A snapshot as the drivers hand it around: its Raft metadata, the state
 * machine's serialised bytes, and their SHA-256, computed once (the
 * InstallSnapshot stream carries it in every chunk, and the follower checks
 * the whole against it before anything is staged for its core).
 *
 * SHA-256 rather than the snapshot file's CRC-32: the checksum guards a
 * transfer of up to a gigabyte assembled from tens of thousands of
 * datagrams, where a CRC's 2^-32 chance per mixed-up stream is not small
 * enough, and the cost (~2 ms per MiB) is paid once per snapshot.
 */
import { createHash } from 'node:crypto';
import type { SnapshotMeta } from '../raft/types.js';

export interface SnapshotBytes {
  readonly meta: SnapshotMeta;
  readonly data: Buffer;
  /** SHA-256 of `data`, 64 lowercase hex digits. */
  readonly checksum: string;
}

export function snapshotChecksum(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `checksum`: the data's snapshotChecksum when the caller computed it as the data was built (host.ts takeSnapshot). */
export function snapshotBytes(meta: SnapshotMeta, data: Buffer, checksum: string = snapshotChecksum(data)): SnapshotBytes {
  return { meta, data, checksum };
}
