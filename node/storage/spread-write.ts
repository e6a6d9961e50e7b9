/**
 * Writing a big file (a snapshot, a log rewrite) beside a log that fsyncs on
 * the event loop.
 *
 * The log's writes fdatasync synchronously (file-storage.ts writeAt: on the
 * critical path of every acknowledgement). On ext4 (data=ordered) that
 * fdatasync commits the journal, which first writes out every file's dirty
 * data allocated in the transaction: with 80 MB of a snapshot still in the
 * page cache it waited for all of it. Five nodes snapshotting together held
 * their event loops up to 1.5-2 s (a CPU profile: fdatasync 31% of the
 * nodes' samples), heartbeats stopped, and the cluster changed leaders at
 * every snapshot. Flushing a big write every `SPREAD_PIECE_BYTES` (in the
 * thread pool, so the event loop goes on) keeps what one log fsync can find
 * dirty to one piece per file.
 */
import type { StorageFile } from './storage-fs.js';
import { assert } from '../util/assert.js';

/** Bytes written between background flushes: 4 MiB, about 7-15 ms of this machine's disk (dd, conv=fdatasync). */
export const SPREAD_PIECE_BYTES = 4 * 1024 * 1024;

/** Whether a write loop that has written `written` bytes must flush before its next write (at each piece boundary). */
export function spreadFlushDue(written: number, pieceBytes = SPREAD_PIECE_BYTES): boolean {
  return written > 0 && written % pieceBytes === 0;
}

/** How much the next write of a loop over `total` bytes may ask for: never past the next piece boundary. */
export function spreadWriteLength(total: number, written: number, pieceBytes = SPREAD_PIECE_BYTES): number {
  return Math.min(total - written, pieceBytes - (written % pieceBytes));
}

/**
 * Writes `buf` at `position`, fdatasyncing in the background after every
 * piece but the last (the caller syncs at the end, as before). A write of
 * one piece or less makes exactly the calls a plain write loop made (the
 * simulator's runs depend on that: a kept scenario replays the same calls).
 */
export async function writeSpread(fh: StorageFile, buf: Uint8Array, position: number, pieceBytes = SPREAD_PIECE_BYTES): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    if (spreadFlushDue(done, pieceBytes)) await fh.datasyncInBackground();
    const written = await fh.write(buf, done, spreadWriteLength(buf.length, done, pieceBytes), position + done);
    assert(written > 0, 'write made progress');
    done += written;
  }
}
