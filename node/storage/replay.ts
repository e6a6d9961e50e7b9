/**
 * Reading a log file back after a restart: split it into records, decide
 * whether damage at the end is a torn append (cut it off) or corruption
 * (refuse to start), and rebuild the stored state.
 *
 * The rule for a damaged frame (short header, impossible length, payload
 * past the end of the file, checksum mismatch) at offset p:
 * - if no valid frame starts anywhere after p, it is the tail an interrupted
 *   append left behind. Each persist call is one frame written by one write
 *   and resolved only after its fsync, so the damaged frame was never
 *   acknowledged and nothing after it exists: it is dropped;
 * - if a valid frame starts after p, the damage is in the middle of data
 *   that was durable (bit rot, a misdirected write, a bad edit): refuse with
 *   {@link StorageCorruptionError}. Searching every byte position after p
 *   (not just where p's possibly-damaged length points) keeps a flipped bit
 *   in a length field from hiding the frames that follow.
 *
 * Known limits: (1) damage confined to the very last frame that was durable
 * is indistinguishable from a torn append and is dropped too; Raft tolerates
 * it like the loss of a follower's latest append, if it happens on a minority
 * of nodes. (2) Entry data that itself contains the bytes of a well-formed
 * frame (only a client that crafts one, CRC included, could do that), torn at
 * the tail, makes recovery refuse rather than truncate: a false alarm, never
 * a silent loss.
 */
import type { Entry, StoredState } from '../raft/types.js';
import { assertNever } from '../util/assert.js';
import { LogIndex } from './log-index.js';
import { FILE_MAGIC, FRAME_HEADER_BYTES, MAX_PAYLOAD_BYTES, readFrame, type LogRecord } from './record.js';
import { StorageCorruptionError } from './storage.js';

/** One frame (one persist call) as found in the file. */
export interface LocatedFrame {
  /** Byte offset of the frame in the file. */
  readonly offset: number;
  /** Size of the whole frame in bytes. */
  readonly bytes: number;
  readonly records: readonly LogRecord[];
  /** Encoded size of each record, in bytes (for the live/garbage accounting). */
  readonly recordBytes: readonly number[];
}

export interface TornTail {
  readonly offset: number;
  readonly bytesDropped: number;
  readonly reason: string;
}

export interface ScanResult {
  readonly frames: readonly LocatedFrame[];
  /** End of the last valid frame: the file length once a torn tail is cut off. */
  readonly validEnd: number;
  readonly tornTail: TornTail | null;
}

/** Split a log file's bytes into frames. Throws StorageCorruptionError (`file` names the file in the message). */
export function scanLog(buf: Uint8Array, file: string): ScanResult {
  if (buf.length < FILE_MAGIC.length || !FILE_MAGIC.equals(buf.subarray(0, FILE_MAGIC.length))) {
    throw new StorageCorruptionError(file, 0, `not a rift log file (bad or missing ${FILE_MAGIC.length}-byte header "RIFTLOG\\x01"; file has ${buf.length} bytes)`);
  }
  const frames: LocatedFrame[] = [];
  let offset = FILE_MAGIC.length;
  while (offset < buf.length) {
    const r = readFrame(buf, offset);
    switch (r.kind) {
      case 'ok':
        frames.push({ offset, bytes: r.end - offset, records: r.records, recordBytes: r.recordBytes });
        offset = r.end;
        break;
      case 'invalid':
        throw new StorageCorruptionError(file, offset, `frame has a valid checksum but ${r.reason}`);
      case 'damaged': {
        const next = findFrameAfter(buf, offset + 1);
        if (next !== null) throw new StorageCorruptionError(file, offset, `damaged frame (${r.reason}) followed by a valid frame at offset ${next}`);
        return { frames, validEnd: offset, tornTail: { offset, bytesDropped: buf.length - offset, reason: r.reason } };
      }
      default:
        assertNever(r, 'frame result');
    }
  }
  return { frames, validEnd: offset, tornTail: null };
}

/**
 * The first offset >= `from` where a frame with a matching checksum starts,
 * or null. The cheap length test rejects most positions before any CRC work.
 */
function findFrameAfter(buf: Uint8Array, from: number): number | null {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let q = from; q + FRAME_HEADER_BYTES <= buf.length; q++) {
    const length = view.getUint32(q, true);
    if (length > MAX_PAYLOAD_BYTES || q + FRAME_HEADER_BYTES + length > buf.length) continue;
    if (readFrame(buf, q).kind !== 'damaged') return q;
  }
  return null;
}

export interface ReplayResult extends ScanResult {
  readonly stored: StoredState;
  readonly index: LogIndex;
}

/** Scan and then apply every record, checking the log's invariants. Throws StorageCorruptionError. */
export function replayLog(buf: Uint8Array, file: string): ReplayResult {
  const scan = scanLog(buf, file);
  const index = new LogIndex();
  const entries: Entry[] = [];
  for (const frame of scan.frames) {
    frame.records.forEach((record, i) => {
      const err = index.check(record);
      if (err !== null) throw new StorageCorruptionError(file, frame.offset, `record ${i} of the frame: ${err}`);
      index.apply(record, frame.offset, frame.recordBytes[i]!);
      if (record.type === 'entry') entries.push(record.entry);
      else if (record.type === 'truncate') entries.length = record.fromIndex - 1;
    });
  }
  return { ...scan, index, stored: { hardState: index.hardState, entries } };
}
