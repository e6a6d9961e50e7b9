/**
 * The on-disk format of the Raft log file.
 *
 * File   = header(8: "RIFTLOG" 0x01) frame*
 * Frame  = length(u32 LE, payload bytes) crc(u32 LE) type(u8 = 1, batch) payload
 *   crc = CRC-32 over the length bytes, the type byte and the payload, so a
 *   flipped bit anywhere in a frame (the crc field included) is caught.
 * Batch payload = record*, each: type(u8) length(u32 LE) body
 *
 * One persist call is one frame (split only if it exceeds MAX_PAYLOAD_BYTES),
 * written with one write and one fsync. The single checksum makes the call
 * all-or-nothing on recovery, and damage anywhere inside the last write --
 * including a hole when the disk persisted its pages out of order before a
 * power failure -- is one damaged frame at the tail: a torn append, not
 * corruption. Records inside a frame carry no checksum of their own, so they
 * never look like frames to the torn-tail scan (`replay.ts`).
 *
 * Record bodies (numbers are float64 LE holding non-negative safe integers,
 * so terms and indices are never truncated to 32 bits):
 *   entry (1):      term f64, index f64, entryType u8 (0 command, 1 noop, 2 config),
 *                   dataEncoding u8 (0 UTF-8, 1 UTF-16LE), data bytes
 *   hard_state (2): currentTerm f64, hasVote u8 (0/1), votedFor UTF-8 bytes
 *   truncate (3):   fromIndex f64 (entries with index >= fromIndex are gone)
 *   compact (4):    firstIndex f64, prevTerm f64: a snapshot now covers every
 *                   entry before firstIndex, the last of which had term
 *                   prevTerm (issue 18). If the log holds that entry with that
 *                   term, the entries from firstIndex on stay; otherwise
 *                   (an installed snapshot past or against the log, §7) the
 *                   whole log is gone and the next entry is firstIndex.
 *
 * Entry data is a JS string. UTF-8 cannot carry a lone surrogate (it would
 * silently become U+FFFD), so such a string is stored as UTF-16LE: the round
 * trip is exact for every string.
 */
import type { Entry, HardState } from '../raft/types.js';
import { assert, assertNever, assertionFailed } from '../util/assert.js';
import { crc32Update } from './crc32.js';

export const FILE_MAGIC: Buffer = Buffer.from([0x52, 0x49, 0x46, 0x54, 0x4c, 0x4f, 0x47, 0x01]); // "RIFTLOG" v1
export const FRAME_HEADER_BYTES = 9;
export const RECORD_HEADER_BYTES = 5;
/**
 * Bound on one frame's payload, checked on write and on read: a huge bogus
 * length is damage, not an allocation. 8 MiB holds any Ready the core makes
 * (its entries are bounded by maxUncommittedBytes and the datagram size).
 */
export const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;

export type LogRecord =
  | { readonly type: 'entry'; readonly entry: Entry }
  | { readonly type: 'hard_state'; readonly hardState: HardState }
  | { readonly type: 'truncate'; readonly fromIndex: number }
  | { readonly type: 'compact'; readonly firstIndex: number; readonly prevTerm: number };

const FRAME_TYPE_BATCH = 1;
const TYPE_ENTRY = 1;
const TYPE_HARD_STATE = 2;
const TYPE_TRUNCATE = 3;
const TYPE_COMPACT = 4;
const ENCODING_UTF8 = 0;
const ENCODING_UTF16LE = 1;

// Lone surrogates: a high one not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function isStorableNumber(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/**
 * Encode one record with its 5-byte record header (not a frame). Throws an
 * AssertionError for a record the format cannot hold (programmer error).
 */
/**
 * The records one persist call writes, in order: hard state, then a truncate
 * when the entries overwrite a conflicting suffix (§5.3), then the entries.
 * Shared by the file storage and the simulator's disk so both lay out the log
 * identically.
 */
export function persistRecords(hardState: HardState | null, entries: readonly Entry[], lastIndex: number): LogRecord[] {
  const records: LogRecord[] = [];
  if (hardState !== null) records.push({ type: 'hard_state', hardState });
  const first = entries[0];
  if (first !== undefined && first.index <= lastIndex) records.push({ type: 'truncate', fromIndex: first.index });
  for (const entry of entries) records.push({ type: 'entry', entry });
  return records;
}

export function encodeRecord(record: LogRecord): Buffer {
  switch (record.type) {
    case 'entry': {
      const { entry } = record;
      if (!(isStorableNumber(entry.term) && isStorableNumber(entry.index)))
        assertionFailed(`entry term/index must be non-negative safe integers (term ${entry.term}, index ${entry.index})`);
      const utf8 = !LONE_SURROGATE.test(entry.data);
      const bodyBytes = 18 + (utf8 ? Buffer.byteLength(entry.data, 'utf8') : entry.data.length * 2);
      if (RECORD_HEADER_BYTES + bodyBytes > MAX_PAYLOAD_BYTES)
        assertionFailed(`entry ${entry.index} is ${bodyBytes} bytes, over the ${MAX_PAYLOAD_BYTES}-byte frame limit`);
      const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + bodyBytes);
      let o = RECORD_HEADER_BYTES;
      o = buf.writeDoubleLE(entry.term, o);
      o = buf.writeDoubleLE(entry.index, o);
      o = buf.writeUInt8(entryTypeCode(entry.type), o);
      o = buf.writeUInt8(utf8 ? ENCODING_UTF8 : ENCODING_UTF16LE, o);
      o += buf.write(entry.data, o, utf8 ? 'utf8' : 'utf16le');
      assert(o === buf.length, 'entry encoding filled the buffer exactly');
      return withRecordHeader(buf, TYPE_ENTRY);
    }
    case 'hard_state': {
      const { currentTerm, votedFor } = record.hardState;
      if (!isStorableNumber(currentTerm)) assertionFailed(`currentTerm must be a non-negative safe integer (got ${currentTerm})`);
      assert(votedFor === null || !LONE_SURROGATE.test(votedFor), 'votedFor must be a well-formed string');
      const bodyBytes = 9 + (votedFor === null ? 0 : Buffer.byteLength(votedFor, 'utf8'));
      assert(RECORD_HEADER_BYTES + bodyBytes <= MAX_PAYLOAD_BYTES, 'votedFor is absurdly long');
      const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + bodyBytes);
      let o = RECORD_HEADER_BYTES;
      o = buf.writeDoubleLE(currentTerm, o);
      o = buf.writeUInt8(votedFor === null ? 0 : 1, o);
      if (votedFor !== null) o += buf.write(votedFor, o, 'utf8');
      assert(o === buf.length, 'hard state encoding filled the buffer exactly');
      return withRecordHeader(buf, TYPE_HARD_STATE);
    }
    case 'truncate': {
      if (!isStorableNumber(record.fromIndex))
        assertionFailed(`truncate index must be a non-negative safe integer (got ${record.fromIndex})`);
      const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + 8);
      buf.writeDoubleLE(record.fromIndex, RECORD_HEADER_BYTES);
      return withRecordHeader(buf, TYPE_TRUNCATE);
    }
    case 'compact': {
      if (!isStorableNumber(record.firstIndex) || record.firstIndex < 1 || !isStorableNumber(record.prevTerm)) {
        assertionFailed(`compact point must be index >= 1 and term >= 0 (got ${record.firstIndex}, ${record.prevTerm})`);
      }
      const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + 16);
      buf.writeDoubleLE(record.firstIndex, RECORD_HEADER_BYTES);
      buf.writeDoubleLE(record.prevTerm, RECORD_HEADER_BYTES + 8);
      return withRecordHeader(buf, TYPE_COMPACT);
    }
    default:
      return assertNever(record, 'record');
  }
}

function entryTypeCode(t: Entry['type']): number {
  switch (t) {
    case 'command':
      return 0;
    case 'noop':
      return 1;
    case 'config':
      return 2;
    default:
      return assertNever(t, 'entry type');
  }
}

function withRecordHeader(buf: Buffer, typeCode: number): Buffer {
  buf.writeUInt8(typeCode, 0);
  buf.writeUInt32LE(buf.length - RECORD_HEADER_BYTES, 1);
  return buf;
}

/**
 * Pack encoded records (from {@link encodeRecord}) into frames, as few as
 * the size limit allows (one, for any Ready the core produces). Returns the
 * frames and, for each record, the index of the frame that holds it.
 */
export function encodeFrames(encodedRecords: readonly Buffer[]): { frames: Buffer[]; frameOf: number[] } {
  const frames: Buffer[] = [];
  const frameOf: number[] = [];
  let group: Buffer[] = [];
  let groupBytes = 0;
  const close = (): void => {
    if (group.length === 0) return;
    const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + groupBytes);
    let o = FRAME_HEADER_BYTES;
    for (const r of group) o += r.copy(buf, o);
    buf.writeUInt32LE(groupBytes, 0);
    buf.writeUInt8(FRAME_TYPE_BATCH, 8);
    buf.writeUInt32LE(frameCrc(buf, 0, buf.length), 4);
    frames.push(buf);
    group = [];
    groupBytes = 0;
  };
  for (const r of encodedRecords) {
    assert(r.length <= MAX_PAYLOAD_BYTES, 'a record fits in a frame');
    if (groupBytes + r.length > MAX_PAYLOAD_BYTES) close();
    group.push(r);
    groupBytes += r.length;
    frameOf.push(frames.length);
  }
  close();
  return { frames, frameOf };
}

/** A frame's checksum: CRC-32 over its length field, type and payload (not the checksum field), the frame at [start, end). */
export function frameCrc(buf: Uint8Array, start: number, end: number): number {
  return crc32Update(crc32Update(0, buf, start, start + 4), buf, start + 8, end);
}

/**
 * Reading one frame at `offset`:
 * - `ok`: a frame with a good checksum whose records all decode; `end` is where the next frame starts.
 * - `damaged`: the bytes are not a complete, checksummed frame (too short, a length over the
 *   limit or past the end of the file, a checksum mismatch). At the tail this is a torn write;
 *   elsewhere it is corruption (the caller decides).
 * - `invalid`: the checksum matches but the content is not valid. No crash produces that, so
 *   it is always corruption.
 */
export type FrameResult =
  | { readonly kind: 'ok'; readonly records: readonly LogRecord[]; readonly recordBytes: readonly number[]; readonly end: number }
  | { readonly kind: 'damaged'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly reason: string };

export function readFrame(buf: Uint8Array, offset: number): FrameResult {
  const available = buf.length - offset;
  if (available < FRAME_HEADER_BYTES)
    return { kind: 'damaged', reason: `incomplete frame header (${available} of ${FRAME_HEADER_BYTES} bytes)` };
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const length = view.getUint32(offset, true);
  if (length > MAX_PAYLOAD_BYTES) return { kind: 'damaged', reason: `frame length ${length} exceeds the ${MAX_PAYLOAD_BYTES}-byte limit` };
  const end = offset + FRAME_HEADER_BYTES + length;
  if (end > buf.length)
    return {
      kind: 'damaged',
      reason: `frame of ${length} payload bytes runs past the end of the file (${available - FRAME_HEADER_BYTES} present)`,
    };
  const storedCrc = view.getUint32(offset + 4, true);
  const actualCrc = frameCrc(buf, offset, end);
  if (storedCrc !== actualCrc)
    return { kind: 'damaged', reason: `checksum mismatch (stored 0x${storedCrc.toString(16)}, computed 0x${actualCrc.toString(16)})` };
  const frameType = buf[offset + 8]!;
  if (frameType !== FRAME_TYPE_BATCH) return { kind: 'invalid', reason: `unknown frame type ${frameType}` };
  if (length === 0) return { kind: 'invalid', reason: 'empty frame' };
  const records: LogRecord[] = [];
  const recordBytes: number[] = [];
  let o = offset + FRAME_HEADER_BYTES;
  while (o < end) {
    if (end - o < RECORD_HEADER_BYTES) return { kind: 'invalid', reason: `record ${records.length} has an incomplete header` };
    const typeCode = buf[o]!;
    const bodyBytes = view.getUint32(o + 1, true);
    const bodyStart = o + RECORD_HEADER_BYTES;
    if (bodyBytes > end - bodyStart) return { kind: 'invalid', reason: `record ${records.length} runs past the end of its frame` };
    const decoded = decodeBody(typeCode, view, buf, bodyStart, bodyStart + bodyBytes);
    if (typeof decoded === 'string') return { kind: 'invalid', reason: `record ${records.length}: ${decoded}` };
    records.push(decoded);
    recordBytes.push(RECORD_HEADER_BYTES + bodyBytes);
    o = bodyStart + bodyBytes;
  }
  return { kind: 'ok', records, recordBytes, end };
}

/**
 * Whether `length` payload bytes at `offset` have the shape of a frame this
 * module writes: the batch type, at least one record, and record headers
 * that tile the payload exactly. Cheap (one step per record, no checksum):
 * the torn-tail scan (replay.ts) asks it before spending a CRC on a
 * candidate frame start. A frame that fails it but has a matching checksum
 * would read as `invalid`, which only a forged checksum can produce.
 */
export function frameShapeFits(buf: Uint8Array, offset: number, length: number): boolean {
  const end = offset + FRAME_HEADER_BYTES + length;
  if (length === 0 || end > buf.length || buf[offset + 8] !== FRAME_TYPE_BATCH) return false;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let o = offset + FRAME_HEADER_BYTES;
  while (o < end) {
    if (end - o < RECORD_HEADER_BYTES) return false;
    const typeCode = buf[o]!;
    if (typeCode < TYPE_ENTRY || typeCode > TYPE_COMPACT) return false;
    const bodyBytes = view.getUint32(o + 1, true);
    if (bodyBytes > end - o - RECORD_HEADER_BYTES) return false;
    o += RECORD_HEADER_BYTES + bodyBytes;
  }
  return true;
}

/** A record, or a string saying why its body is invalid. */
function decodeBody(typeCode: number, view: DataView, buf: Uint8Array, start: number, end: number): LogRecord | string {
  const length = end - start;
  switch (typeCode) {
    case TYPE_ENTRY: {
      if (length < 18) return `entry body too short (${length} bytes)`;
      const term = view.getFloat64(start, true);
      const index = view.getFloat64(start + 8, true);
      if (!isStorableNumber(term) || !isStorableNumber(index)) return `entry term/index not non-negative integers (${term}, ${index})`;
      const typeByte = buf[start + 16]!;
      const type = typeByte === 0 ? 'command' : typeByte === 1 ? 'noop' : typeByte === 2 ? 'config' : null;
      if (type === null) return `unknown entry type ${typeByte}`;
      const encoding = buf[start + 17]!;
      const dataBytes = buf.subarray(start + 18, end);
      let data: string;
      if (encoding === ENCODING_UTF8) {
        try {
          data = utf8Strict.decode(dataBytes);
        } catch {
          return 'entry data is not valid UTF-8';
        }
      } else if (encoding === ENCODING_UTF16LE) {
        if (dataBytes.length % 2 !== 0) return 'UTF-16 entry data has an odd length';
        data = Buffer.from(dataBytes.buffer, dataBytes.byteOffset, dataBytes.byteLength).toString('utf16le');
      } else {
        return `unknown entry data encoding ${encoding}`;
      }
      return { type: 'entry', entry: { term, index, type, data } };
    }
    case TYPE_HARD_STATE: {
      if (length < 9) return `hard state body too short (${length} bytes)`;
      const currentTerm = view.getFloat64(start, true);
      if (!isStorableNumber(currentTerm)) return `currentTerm not a non-negative integer (${currentTerm})`;
      const hasVote = buf[start + 8]!;
      if (hasVote === 0) {
        if (length !== 9) return 'hard state without a vote has trailing bytes';
        return { type: 'hard_state', hardState: { currentTerm, votedFor: null } };
      }
      if (hasVote !== 1) return `bad votedFor flag ${hasVote}`;
      let votedFor: string;
      try {
        votedFor = utf8Strict.decode(buf.subarray(start + 9, end));
      } catch {
        return 'votedFor is not valid UTF-8';
      }
      return { type: 'hard_state', hardState: { currentTerm, votedFor } };
    }
    case TYPE_TRUNCATE: {
      if (length !== 8) return `truncate body must be 8 bytes (got ${length})`;
      const fromIndex = view.getFloat64(start, true);
      if (!isStorableNumber(fromIndex)) return `truncate index not a non-negative integer (${fromIndex})`;
      return { type: 'truncate', fromIndex };
    }
    case TYPE_COMPACT: {
      if (length !== 16) return `compact body must be 16 bytes (got ${length})`;
      const firstIndex = view.getFloat64(start, true);
      const prevTerm = view.getFloat64(start + 8, true);
      if (!isStorableNumber(firstIndex) || firstIndex < 1 || !isStorableNumber(prevTerm))
        return `compact point not an index >= 1 and a term (${firstIndex}, ${prevTerm})`;
      return { type: 'compact', firstIndex, prevTerm };
    }
    default:
      return `unknown record type ${typeCode}`;
  }
}

export type RawEntryRecords = { readonly ok: true; readonly records: readonly Buffer[] } | { readonly ok: false; readonly reason: string };

/**
 * The encoded records (record header included, bytes as on disk) of the
 * entries `firstIndex`, `firstIndex + 1`, ... whose frames start at
 * `frameOffsets[i]` in `buf`: what a log rewrite copies, without decoding
 * any entry's data. Every frame it copies from has its checksum checked
 * first, so a record damaged on disk is never given a fresh checksum in the
 * rewritten file. A frame whose checksum fails, or that does not hold the
 * entry the index places in it, is a failure (the caller keeps the old file).
 */
export function rawEntryRecords(buf: Uint8Array, firstIndex: number, frameOffsets: readonly number[]): RawEntryRecords {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const records: Buffer[] = [];
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let frameStart = -1;
  let frameEnd = 0;
  let cursor = 0;
  for (let i = 0; i < frameOffsets.length; i++) {
    const index = firstIndex + i;
    const offset = frameOffsets[i]!;
    if (offset !== frameStart) {
      // Entries of one frame are contiguous and in order (one persist call), so each frame is checked once.
      if (offset + FRAME_HEADER_BYTES > buf.length) return { ok: false, reason: `entry ${index}: frame at ${offset} is past the end` };
      const length = view.getUint32(offset, true);
      const end = offset + FRAME_HEADER_BYTES + length;
      if (length > MAX_PAYLOAD_BYTES || end > buf.length)
        return { ok: false, reason: `entry ${index}: frame at ${offset} has a bad length ${length}` };
      if (view.getUint32(offset + 4, true) !== frameCrc(buf, offset, end))
        return { ok: false, reason: `entry ${index}: frame at ${offset} fails its checksum` };
      frameStart = offset;
      frameEnd = end;
      cursor = offset + FRAME_HEADER_BYTES;
    }
    let found = false;
    while (cursor + RECORD_HEADER_BYTES <= frameEnd) {
      const typeCode = buf[cursor]!;
      const recordEnd = cursor + RECORD_HEADER_BYTES + view.getUint32(cursor + 1, true);
      if (recordEnd > frameEnd) break;
      const start = cursor;
      cursor = recordEnd;
      if (typeCode === TYPE_ENTRY && recordEnd - start >= RECORD_HEADER_BYTES + 18) {
        if (view.getFloat64(start + RECORD_HEADER_BYTES + 8, true) === index) {
          records.push(bytes.subarray(start, recordEnd));
          found = true;
          break;
        }
      }
    }
    if (!found) return { ok: false, reason: `entry ${index}: not in its frame at ${offset}` };
  }
  return { ok: true, records };
}
